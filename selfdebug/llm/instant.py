"""An instant scripted model, for the service's tests and benchmarks: it answers every engine prompt from the
prompt itself (so it follows the wording of ``selfdebug.prompts``), so any number of concurrent jobs can share one
scripted OpenAI-compatible server.

Problems are made with ``problem()``; markers in the prompt steer the model: ``(wrong first)`` makes the first
program wrong (so the loop repairs it), ``(slow S)`` delays every answer by S seconds.
"""

from __future__ import annotations

import re
from typing import Any

from selfdebug.llm.scripted_server import RecordedRequest, ScriptedOpenAIServer, Step

__all__ = ["PROGRAMS", "problem", "respond", "scripted_model_server", "stdio_problem"]

# entry point -> (wrong program, right program, self-tests)
PROGRAMS = {
    "add": ("def add(a, b):\n    return a - b\n", "def add(a, b):\n    return a + b\n",
            "assert add(1, 2) == 3\nassert add(0, 0) == 0\nassert add(2, 5) == 7\n"),
    "double": ("def double(x):\n    return x + 2\n", "def double(x):\n    return 2 * x\n",
               "assert double(2) == 4\nassert double(0) == 0\nassert double(5) == 10\n"),
    # Sleeps in the sandbox: for cancelling a job while its program runs.
    "nap": ("def nap(x):\n    import time\n    time.sleep(30)\n    return x\n",
            "def nap(x):\n    import time\n    time.sleep(30)\n    return x\n",
            "assert nap(1) == 1\nassert nap(2) == 2\n"),
}
STDIO_PROGRAM = "print(sum(map(int, input().split())))\n"
STDIO_TESTS = "Input:\n1 2\nOutput:\n3\n\nInput:\n5 5\nOutput:\n10\n"
_ENTRY = re.compile(r"def (\w+)\(")
_SLOW = re.compile(r"\(slow ([0-9.]+)\)")


def problem(task_id: str = "demo/add", entry_point: str = "add", *, wrong_first: bool = False,
            slow: float = 0.0, hidden: bool = True, llm_error: bool = False) -> dict[str, Any]:
    """A problem as the API takes it."""
    notes = (" (wrong first)" if wrong_first else "") + (f" (slow {slow:g})" if slow else "")
    notes += " (llm 500)" if llm_error else ""
    args = "a, b" if entry_point == "add" else "x"
    body: dict[str, Any] = {
        "task_id": task_id,
        "prompt": f'def {entry_point}({args}):\n    """Solve it.{notes}"""\n',
        "entry_point": entry_point,
        "given_tests": [PROGRAMS[entry_point][2].splitlines()[0]],
    }
    if hidden:
        body["tests"] = PROGRAMS[entry_point][2].splitlines()[1:]
    return body


def stdio_problem(task_id: str = "demo/sum") -> dict[str, Any]:
    return {"task_id": task_id, "kind": "stdio", "prompt": "Read two integers on one line; print their sum.",
            "io_tests": [{"stdin": "1 2\n", "stdout": "3\n"}, {"stdin": "-4 4\n", "stdout": "0\n"}]}


def _fenced(code: str) -> str:
    return f"```python\n{code}```"


def respond(request: RecordedRequest) -> Step:
    text = request.messages[-1]["content"] if request.messages else ""
    slow = _SLOW.search(text)
    delay = float(slow.group(1)) if slow else 0.0
    if "(llm 500)" in text:
        return Step(status=500, body=b'{"error": {"message": "scripted outage"}}', delay=delay)
    if "print their sum" in text:
        return Step(text=STDIO_TESTS if "different test cases" in text else _fenced(STDIO_PROGRAM), delay=delay)
    entry = next((name for name in _ENTRY.findall(text) if name in PROGRAMS), None)
    if entry is None:
        return Step(text=_fenced("def solution(*args):\n    return None\n"), delay=delay)
    wrong, right, tests = PROGRAMS[entry]
    if "different test cases" in text:
        return Step(text=_fenced(tests), delay=delay)
    if "Fix the program" in text or "For each block" in text:
        return Step(text="[block 0] wrong: fix it\n" + _fenced(right), delay=delay)
    return Step(text=_fenced(wrong if "(wrong first)" in text else right), delay=delay)


def scripted_model_server(host: str = "127.0.0.1") -> ScriptedOpenAIServer:
    """A scripted server whose default answer comes from ``respond`` (scripted steps still go first)."""
    return ScriptedOpenAIServer(default=respond, host=host)
