"""Every prompt renders, carries what its strategy needs, and nothing it must not (expected values in traces)."""

from __future__ import annotations

from selfdebug.prompts import (
    SYSTEM,
    block_verdict_prompt,
    generation_prompt,
    repair_prompt,
    selftest_prompt,
)

PROMPT = 'def add(a, b):\n    """Sum."""\n'
PROGRAM = "def add(a, b):\n    return a - b\n"


def user(messages: list[dict[str, str]] | list) -> str:  # type: ignore[type-arg]
    assert messages[0] == {"role": "system", "content": SYSTEM}
    assert messages[-1]["role"] == "user"
    return str(messages[-1]["content"])


def selftest_prompts() -> None:
    function = user(generation_prompt(PROMPT))
    assert "```python\ndef add(a, b):" in function and "Complete the following Python function" in function
    stdio = user(generation_prompt("Read n, print n squared.", stdio=True))
    assert "standard input" in stdio and "Read n, print n squared." in stdio


def test_selftest_prompts() -> None:
    function = user(selftest_prompt(PROMPT, "add", 7))
    assert "Write 7 different test cases" in function and "`assert add(...) == ...`" in function
    stdio = user(selftest_prompt("Read n.", None, 3, stdio=True))
    assert "Input:" in stdio and "Output:" in stdio and "Write 3" in stdio


def test_repair_prompt_label_and_detail() -> None:
    failed = [{"assertion": "assert add(1, 2) == 3", "input": "1, 2", "expected": "3", "actual": "-1"},
              {"assertion": "assert add(0, 'x') == 0", "input": "0, 'x'", "expected": "0", "error": "TypeError: x"}]
    label = user(repair_prompt(PROMPT, PROGRAM, failed, ["assert add(0, 0) == 0"], detail=False))  # type: ignore[arg-type]
    assert "- assert add(1, 2) == 3" in label and "It passes these tests:\n- assert add(0, 0) == 0" in label
    assert "expected:" not in label and "actual:" not in label and PROGRAM.strip() in label
    detail = user(repair_prompt(PROMPT, PROGRAM, failed, [], detail=True))  # type: ignore[arg-type]
    assert "input: 1, 2; expected: 3; actual: -1" in detail
    assert "raised: TypeError: x" in detail and "It passes" not in detail


def test_block_verdict_prompt_shows_traces_only() -> None:
    text = user(block_verdict_prompt(PROMPT, PROGRAM, ["[block 0] add, lines 2-2\n  return a - b", "[block 0] ..."]))
    assert "Execution trace 1:\n[block 0] add" in text and "Execution trace 2:" in text
    assert "`[block N] correct: reason`" in text and "expected" not in text.lower()
