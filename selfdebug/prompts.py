"""Every prompt the engine sends, in one place, as plain readable templates.

Each function returns chat messages. The wording follows the papers' setups: the model writes a program, writes
its own tests as ``assert`` lines (or Input/Output pairs for stdin programs), and repairs from either test
failures (post-execution: ``label`` says which tests failed, ``detail`` adds input, expected and actual) or block
traces of intermediate states (in-execution), where no expected output is shown.

What the code under test printed, returned or raised is data, never structure: every value in the feedback goes
through ``sandbox.quoting.quoted`` (one line of printable characters as it is, anything else as one quoted string
literal), so no value can write a line that looks like the prompt's own ("It passes these tests:", ``[block N]``).
"""

from __future__ import annotations

from collections.abc import Sequence
from string import Template
from typing import TypedDict

from sandbox.quoting import quoted
from selfdebug.llm import Message

__all__ = [
    "SYSTEM",
    "FailedTest",
    "block_verdict_prompt",
    "generation_prompt",
    "repair_prompt",
    "selftest_prompt",
]

SYSTEM = "You are an expert Python programmer. You answer with code in a single ```python block."


class FailedTest(TypedDict, total=False):
    """What post-execution feedback may say about one failed test (``detail`` shows all of it); the values as they
    came (a stdio case's texts, reprs, an exception), quoted when rendered."""

    assertion: str
    input: str
    expected: str
    actual: str
    error: str


_GENERATE_FUNCTION = Template("""\
Complete the following Python function. Return the whole function, with any imports it needs, in one ```python block.

```python
$prompt
```""")

_GENERATE_STDIO = Template("""\
Write a Python program that solves the problem below. It reads the input from standard input and prints the
answer to standard output. Return the whole program in one ```python block.

$prompt""")

_TESTS_FUNCTION = Template("""\
Write $n different test cases for the function `$entry_point` described below. Write each test as one line
`assert $entry_point(...) == ...` with concrete arguments and the exact expected result. Do not implement the
function. Return only the asserts in one ```python block.

```python
$prompt
```""")

_TESTS_STDIO = Template("""\
Write $n different test cases for the program described below. Write each test as
Input:
<the exact text on standard input>
Output:
<the exact expected standard output>
Do not write the program.

$prompt""")

_REPAIR = Template("""\
The task:
```python
$prompt
```

Your program:
```python
$program
```

$feedback

Fix the program so that it solves the task. Return the whole corrected program in one ```python block.""")

_TRACE = Template("""\
The task:
```python
$prompt
```

Your program:
```python
$program
```

$traces

The program was run on the inputs above and split into basic blocks; each block shows the variable values
before and after it ran. For each block, decide whether it does what the task requires. Answer one line per
block, `[block N] correct: reason` or `[block N] wrong: reason`. Then return the whole corrected program in one
```python block (the same program if every block is correct).""")


def _chat(user: str) -> list[Message]:
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": user}]


def generation_prompt(prompt: str, *, stdio: bool = False) -> list[Message]:
    """Ask for the first program."""
    template = _GENERATE_STDIO if stdio else _GENERATE_FUNCTION
    return _chat(template.substitute(prompt=prompt.strip("\n")))


def selftest_prompt(prompt: str, entry_point: str | None, n: int, *, stdio: bool = False) -> list[Message]:
    """Ask for ``n`` self-generated tests."""
    if stdio or not entry_point:
        return _chat(_TESTS_STDIO.substitute(prompt=prompt.strip("\n"), n=n))
    return _chat(_TESTS_FUNCTION.substitute(prompt=prompt.strip("\n"), n=n, entry_point=entry_point))


def _render_failure(test: FailedTest, detail: bool) -> str:
    assertion = test.get("assertion")
    line = quoted(assertion) if assertion else f"input {quoted(test.get('input', '?'))}"
    if not detail:
        return f"- {line}"
    parts = []
    if test.get("input"):
        parts.append(f"input: {quoted(test['input'])}")
    if test.get("expected"):
        parts.append(f"expected: {quoted(test['expected'])}")
    if test.get("error"):
        parts.append(f"raised: {quoted(test['error'])}")
    elif test.get("actual") is not None:
        parts.append(f"actual: {quoted(test['actual'])}")
    return f"- {line}\n  " + "; ".join(parts) if parts else f"- {line}"


def repair_prompt(prompt: str, program: str, failed: Sequence[FailedTest], passed: Sequence[str], *,
                  detail: bool) -> list[Message]:
    """Post-execution repair: ``label`` lists the failed tests; ``detail`` adds input, expected and actual."""
    lines = ["It fails these tests:", *(_render_failure(test, detail) for test in failed)]
    if passed:
        lines += ["", "It passes these tests:", *(f"- {quoted(assertion)}" for assertion in passed)]
    return _chat(_REPAIR.substitute(prompt=prompt.strip("\n"), program=program.strip("\n"),
                                    feedback="\n".join(lines)))


def block_verdict_prompt(prompt: str, program: str, traces: Sequence[str]) -> list[Message]:
    """In-execution repair: rendered block traces (inputs and intermediate states only, no expected output)."""
    rendered = "\n\n".join(f"Execution trace {i + 1}:\n{trace}" for i, trace in enumerate(traces))
    return _chat(_TRACE.substitute(prompt=prompt.strip("\n"), program=program.strip("\n"), traces=rendered))
