"""Parsing self-generated tests: realistic messy answers, and properties over generated ones."""

from __future__ import annotations

import ast
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from selfdebug.selftests import DEFAULT_TEST_COUNT, ParsedTests, TestCase, parse_tests, render_stdio


def summary(parsed: ParsedTests) -> list[tuple[str, str | None, str]]:
    return [(case.input, case.expected, case.check) for case in parsed.cases]


def reasons(parsed: ParsedTests) -> list[str]:
    return [reason for _, reason in parsed.dropped]


# ------------------------------------------------------------------------------------------ function tests


def test_a_clean_list_of_asserts() -> None:
    parsed = parse_tests("assert add(1, 2) == 3\nassert add(-1, 1) == 0\n", entry_point="add")
    assert summary(parsed) == [("1, 2", "3", "eq"), ("-1, 1", "0", "eq")]
    assert parsed.asserts() == ["assert add(1, 2) == 3", "assert add(-1, 1) == 0"]
    assert parsed.inputs() == ["1, 2", "-1, 1"]
    assert parsed.usable == 2 and parsed.dropped == [] and parsed.found == 2
    assert parsed.cases[0].call == "add(1, 2)"


def test_a_messy_answer_from_a_small_model() -> None:
    answer = """Sure! Here are some test cases for the `add` function:

```python
# Test case 1: positive numbers
1. assert add(1, 2) == 3
2) assert add(-1, 1) == 0, "should be zero"
- assert add( 2,3 )==5   # spaces are normalised
* `assert add(10, 20) == 30`
Test 5: assert add(0, 0) == 0
```

These tests cover positive, negative and zero inputs. For example, `assert add(4, 4) == 8` checks doubling.
<|im_end|>"""
    parsed = parse_tests(answer, entry_point="add")
    assert summary(parsed) == [
        ("1, 2", "3", "eq"),
        ("-1, 1", "0", "eq"),
        ("2, 3", "5", "eq"),
        ("10, 20", "30", "eq"),
        ("0, 0", "0", "eq"),
        ("4, 4", "8", "eq"),
    ]
    assert parsed.cases[1].source == "assert add(-1, 1) == 0"  # the message is not part of the test
    assert parsed.cases[1].original == 'assert add(-1, 1) == 0, "should be zero"'


@pytest.mark.parametrize(
    ("line", "expected", "check", "source"),
    [
        ("assert 5 == add(2, 3)", "5", "eq", "assert add(2, 3) == 5"),
        ("assert add(1, 1) is True", "True", "is", "assert add(1, 1) is True"),
        ("assert add(0, 0) is None", "None", "is", "assert add(0, 0) is None"),
        ("assert add(1, 1)", "True", "truthy", "assert add(1, 1)"),
        ("assert not add(0, 0)", "False", "falsy", "assert not add(0, 0)"),
        ("assert abs(add(0.1, 0.2) - 0.3) < 1e-6", "0.3", "approx", "assert abs(add(0.1, 0.2) - 0.3) < 1e-06"),
        ("assert abs(0.3 - add(0.1, 0.2)) <= 1e-9", "0.3", "approx", "assert abs(0.3 - add(0.1, 0.2)) <= 1e-09"),
        ("assert math.isclose(add(0.1, 0.2), 0.3)", "0.3", "approx", "assert math.isclose(add(0.1, 0.2), 0.3)"),
        ("assert len(add('a', 'b')) == 2", None, "other", "assert len(add('a', 'b')) == 2"),
        ("assert add(1, 2) in (3, 4)", None, "other", "assert add(1, 2) in (3, 4)"),
        ("assert add(x=1, y=2) == 3", "3", "eq", "assert add(x=1, y=2) == 3"),
        ("assert(add(1, 2) == 3)", "3", "eq", "assert add(1, 2) == 3"),
    ],
)
def test_assert_shapes(line: str, expected: str | None, check: str, source: str) -> None:
    parsed = parse_tests(line, entry_point="add")
    assert [(case.expected, case.check, case.source) for case in parsed.cases] == [(expected, check, source)]


def test_multi_line_asserts() -> None:
    answer = (
        "assert sort_list(\n    [3, 1, 2]\n) == [1, 2, 3]\n"
        "assert sort_list([5, 4]) == \\\n    [4, 5]\n"
        "    assert sort_list([\n        'b',\n        'a',\n    ]) == ['a', 'b']\n"
    )
    parsed = parse_tests(answer, entry_point="sort_list")
    assert summary(parsed) == [
        ("[3, 1, 2]", "[1, 2, 3]", "eq"),
        ("[5, 4]", "[4, 5]", "eq"),
        ("['b', 'a']", "['a', 'b']", "eq"),
    ]


def test_two_asserts_on_one_line() -> None:
    parsed = parse_tests("assert f(1) == 1; assert f(2) == 4", entry_point="f")
    assert parsed.inputs() == ["1", "2"]


def test_asserts_inside_a_test_function_and_a_humaneval_check() -> None:
    answer = """def test_f():
    assert f(1) == 2
    assert f(2) == 3

def check(candidate):
    assert candidate(3) == 4
    assert candidate(4) == 5

test_f()
check(f)
"""
    parsed = parse_tests(answer, entry_point="f")
    assert parsed.asserts() == ["assert f(1) == 2", "assert f(2) == 3", "assert f(3) == 4", "assert f(4) == 5"]
    assert parsed.dropped == []  # test_f() and check(f) run tests, they are not tests


def test_variables_assigned_once_are_replaced_by_their_values() -> None:
    answer = "nums = [1, 2, 3]\nexpected = 6\nresult = total(nums)\nassert result == expected\nassert total([]) == 0\n"
    parsed = parse_tests(answer, entry_point="total")
    assert parsed.asserts() == ["assert total([1, 2, 3]) == 6", "assert total([]) == 0"]


def test_variables_the_assert_cannot_run_without_are_dropped() -> None:
    answer = "for i in range(3):\n    assert f(i) == i + 1\nx = 1\nx = 2\nassert f(x) == 3\n"
    parsed = parse_tests(answer, entry_point="f")
    assert parsed.cases == []
    assert reasons(parsed) == ["uses i, set outside the assert", "uses x, set outside the assert"]


def test_names_bound_inside_the_assert_are_its_own() -> None:
    parsed = parse_tests(
        "x = 5\nassert f([i * i for i in range(3)]) == 5\nassert f(lambda x: x + 1) == 6", entry_point="f"
    )
    assert parsed.inputs() == ["[i * i for i in range(3)]", "lambda x: x + 1"]  # x is the lambda's, not 5


def test_doctest_examples_become_asserts() -> None:
    parsed = parse_tests(">>> f(2)\n4\n>>> f(3)\n>>> f(0)\n0\n", entry_point="f")
    assert parsed.asserts() == ["assert f(2) == 4", "assert f(0) == 0"]
    assert reasons(parsed) == ["a doctest example without an expected value"]


def test_what_is_dropped_and_why() -> None:
    answer = """assert f(1) == 2
assert f(1 2) == 3
assert g(1) == 2
assert f(f(1)) == 3
assert (f(1) == 2, "always true")
print(f(5))
f(6) == 7
assert f(1) == 2
assert f(1) == 5
"""
    parsed = parse_tests(answer, entry_point="f")
    assert parsed.asserts() == ["assert f(1) == 2"]
    assert reasons(parsed) == [
        "does not parse as one assert statement",
        "does not call f",
        "calls f more than once",
        "asserts a tuple, which is always true",
        "not an assert",
        "not an assert",
        "repeats an earlier test",
        "contradicts an earlier test: assert f(1) == 2",
    ]
    assert parsed.conflicts == ["1"]
    assert parsed.usable == 1 and parsed.found == 9


def test_spellings_of_one_value_are_duplicates_not_contradictions() -> None:
    answer = "assert f(1) == 2\nassert f(1) == 2.0\nassert f( 1 ) == (2)\nassert f(2) == True\nassert f(2)\n"
    parsed = parse_tests(answer, entry_point="f")
    # "== True" is stricter than truthiness: both stay.
    assert parsed.asserts() == ["assert f(1) == 2", "assert f(2) == True", "assert f(2)"]
    assert parsed.conflicts == []


def test_truthiness_contradicts_only_a_boolean() -> None:
    answer = "assert f(1) == False\nassert f(1)\nassert f(2) == [1]\nassert f(2)\nassert not f(2)\n"
    parsed = parse_tests(answer, entry_point="f")
    assert parsed.asserts() == ["assert f(1) == False", "assert f(2) == [1]", "assert f(2)"]
    assert parsed.conflicts == ["1", "2"]


def test_expressions_that_may_be_equal_are_not_contradictions() -> None:
    parsed = parse_tests("assert f(1) == float('inf')\nassert f(1) == math.inf\n", entry_point="f")
    assert parsed.usable == 2 and parsed.conflicts == []


def test_the_limit() -> None:
    answer = "\n".join(f"assert f({n}) == {n + 1}" for n in range(15))
    parsed = parse_tests(answer, entry_point="f")
    assert parsed.usable == DEFAULT_TEST_COUNT == 10
    assert reasons(parsed) == ["over the limit of 10 tests"] * 5
    assert parse_tests(answer, entry_point="f", limit=3).inputs() == ["0", "1", "2"]


def test_the_entry_point_is_guessed_when_not_given() -> None:
    parsed = parse_tests(
        "assert len(solve([1])) == 1\nassert solve([2]) == [2]\nassert helper(1) == 1", entry_point=None
    )
    assert parsed.entry_point == "solve"
    assert parsed.asserts() == ["assert len(solve([1])) == 1", "assert solve([2]) == [2]"]


def test_nothing_usable() -> None:
    for answer in ("", "I cannot write tests for this.", "```python\n```", "def f(x):\n    return x\n"):
        parsed = parse_tests(answer, entry_point="f")
        assert parsed.usable == 0 and parsed.asserts() == [] and parsed.inputs() == []


def test_a_testcase_is_not_collected_by_pytest() -> None:
    assert TestCase.__test__ is False


def test_results_claimed_in_comments_become_asserts() -> None:
    answer = """truncate_number(3.5)
# Returns 0.5
print(truncate_number(2.25))  # Output: 0.25
truncate_number(1.0)  # => 0.0
print(truncate_number(4.5))  # prints the fractional part
print(truncate_number("# Returns 1"))
"""
    parsed = parse_tests(answer, entry_point="truncate_number")
    assert parsed.asserts() == [
        "assert truncate_number(3.5) == 0.5",
        "assert truncate_number(2.25) == 0.25",
        "assert truncate_number(1.0) == 0.0",
    ]
    assert parsed.cases[0].original == "truncate_number(3.5)\n# Returns 0.5"
    assert reasons(parsed) == ["not an assert", "not an assert"]  # no claim; a "#" inside a string is no comment


# Answers SmolLM2-135M-Instruct gave (llama.cpp, the project's test prompt, HumanEval/2, /3, /7), verbatim.
SMOL_CLAIMS = (
    'def truncate_number(number: float) -> float:\n    """\n    Returns the integer part of the given number '
    '(removing decimals).\n    """\n    return round(number * 10) + 1\n```\n\n```python\ntruncate_number(3.5)\n'
    "# Returns 0.5\n```\n\n```python\ntruncate_number(3.5)\n# Returns 0.5\n```\n\n```python\n"
    "truncate_number(3.5)\n# Returns 0.5\n```"
)
SMOL_CALLS_ONLY = (
    "def above_zero(operations: List[int]) -> bool:\n    if len(operations) == 0:\n        return True\n"
    "    return below_zero(operations[:2]) == 0\n```\n\n```python\nbelow_zero([1, 2, 3])\n```\n\n```python\n"
    "above_zero([1, 2, -4, 5])\n```\n\n```python\nabove_zero([1, 2, 0, 4])\n```"
)
SMOL_CONTRADICTIONS = (
    "Here are 10 test cases to your requirement:\n```python\n"
    "assert filter_by_substring([], 'a') == ['abc', 'bacd', 'cde']\n"
    "assert filter_by_substring([], 'a') == ['abc', 'bacd']\nassert filter_by_substring([], 'a') == ['abc', 'bacd']\n"
    "assert filter_by_substring([], 'a') == []\n"
    "assert filter_by_substring(['abc', 'bacd', 'cde', 'array'], 'a') == []\n```"
)


def test_smollm2_claimed_results_in_separate_blocks() -> None:
    parsed = parse_tests(SMOL_CLAIMS, entry_point="truncate_number")
    assert parsed.asserts() == ["assert truncate_number(3.5) == 0.5"]
    assert reasons(parsed) == ["repeats an earlier test"] * 2


def test_smollm2_bare_calls_are_not_tests() -> None:
    parsed = parse_tests(SMOL_CALLS_ONLY, entry_point="below_zero")
    assert parsed.usable == 0 and reasons(parsed) == ["not an assert"]


def test_smollm2_contradicting_expectations() -> None:
    parsed = parse_tests(SMOL_CONTRADICTIONS, entry_point="filter_by_substring")
    assert parsed.inputs() == ["[], 'a'", "['abc', 'bacd', 'cde', 'array'], 'a'"]
    assert parsed.conflicts == ["[], 'a'"]
    assert reasons(parsed) == [f"contradicts an earlier test: {parsed.cases[0].source}"] * 3


# --------------------------------------------------------------------------------------------- stdio tests


def test_stdio_pairs_in_the_documented_format() -> None:
    answer = """Here are the tests.

Input:
3
1 2 3
Output:
6

**Input 2:** `2 5`
**Output 2:** `7`

### Sample Input
```
1

2
```
### Expected Output
```
3
```
Explanation: 1 + 2 = 3.

stdin: 10
stdout: 10
"""
    parsed = parse_tests(answer, entry_point=None, kind="stdio")
    assert summary(parsed) == [
        ("3\n1 2 3\n", "6\n", "stdout"),
        ("2 5\n", "7\n", "stdout"),
        ("1\n\n2\n", "3\n", "stdout"),
        ("10\n", "10\n", "stdout"),
    ]
    assert parsed.inputs() == ["3\n1 2 3\n", "2 5\n", "1\n\n2\n", "10\n"]
    with pytest.raises(ValueError, match="not asserts"):
        parsed.asserts()


def test_stdio_unpaired_duplicate_and_contradicting_parts() -> None:
    answer = "Input: 9\nInput: 4\nOutput: 8\nOutput: 0\nInput: 4\nOutput: 8 \nInput: 4\nOutput: 9\nInput: 5"
    parsed = parse_tests(answer, entry_point=None, kind="stdio")
    assert summary(parsed) == [("4\n", "8\n", "stdout")]
    assert [reason.split(":")[0] for reason in reasons(parsed)] == [
        "an input with no expected output",
        "an expected output with no input",
        "an input with no expected output",
        "repeats an earlier test",  # trailing whitespace does not count
        "contradicts an earlier test",
    ]
    assert parsed.conflicts == ["4\n"]


def test_stdio_prose_that_only_looks_like_a_label() -> None:
    parsed = parse_tests("Input the numbers and output their sum.\nOutputs vary.", entry_point=None, kind="stdio")
    assert parsed.found == 0


def test_render_stdio_fences_around_backticks() -> None:
    rendered = render_stdio("```\n", "a\n")
    assert rendered.startswith("Input:\n````\n```\n````\n")
    parsed = parse_tests(rendered, entry_point=None, kind="stdio")
    assert summary(parsed) == [("```\n", "a\n", "stdout")]


# ---------------------------------------------------------------------------------------------- properties

PROPERTY = settings(
    max_examples=int(os.environ.get("SELFDEBUG_EXAMPLES", "300")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
LITERALS = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-1000, 1000)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.tuples(inner, inner) | st.dictionaries(st.text(max_size=3), inner, max_size=2)
    ),
    max_leaves=6,
)
DECORATIONS = st.sampled_from(["{}", "1. {}", "- {}", "* `{}`", "Test 3: {}", "    {}", "{}  # a comment", '{}, "msg"'])


def normalised(value: object) -> str:
    return ast.unparse(ast.parse(repr(value), mode="eval").body)


@st.composite
def assert_lines(draw: st.DrawFn) -> tuple[str, str, str]:
    """(a decorated assert line, its normalised input, its normalised expected value)."""
    args = draw(st.lists(LITERALS, min_size=1, max_size=3))
    expected = draw(LITERALS)
    arg_source = ", ".join(repr(arg) for arg in args)
    line = f"assert f({arg_source}) == {expected!r}"
    if draw(st.booleans()):
        line = f"assert {expected!r} == f({arg_source})"
    line = draw(DECORATIONS).format(line)
    return line, ", ".join(normalised(arg) for arg in args), normalised(expected)


@PROPERTY
@given(text=st.text(), entry_point=st.sampled_from([None, "f", "add"]), kind=st.sampled_from(["function", "stdio"]))
def test_parsing_never_raises(text: str, entry_point: str | None, kind: str) -> None:
    parsed = parse_tests(text, entry_point=entry_point, kind="stdio" if kind == "stdio" else "function")
    assert parsed.usable <= parsed.limit
    assert len(parsed.inputs()) == parsed.usable


@PROPERTY
@given(lines=st.lists(assert_lines(), max_size=12), fence=st.booleans(), prose=st.booleans())
def test_asserts_are_parsed_and_round_trip(lines: list[tuple[str, str, str]], fence: bool, prose: bool) -> None:
    body = "\n".join(line for line, _, _ in lines)
    text = f"```python\n{body}\n```" if fence else body
    if prose:
        text = f"Here are the tests:\n\n{text}\n\nThese cover the edge cases."
    parsed = parse_tests(text, entry_point="f", limit=100)
    assert parsed.found == len(lines)
    first: dict[str, str] = {}
    for _, arguments, expected in lines:
        first.setdefault(arguments, expected)
    assert {case.input for case in parsed.cases} == set(first)
    for case in parsed.cases:
        assert case.source == f"assert f({case.input}) == {case.expected}"
    again = parse_tests("\n".join(parsed.asserts()), entry_point="f", limit=100)
    assert [case.model_dump(exclude={"original"}) for case in again.cases] == [
        case.model_dump(exclude={"original"}) for case in parsed.cases
    ]
    assert again.dropped == []


@PROPERTY
@given(lines=st.lists(assert_lines(), min_size=1, max_size=5), copies=st.integers(2, 4), limit=st.integers(1, 12))
def test_duplicates_are_dropped_and_the_limit_holds(lines: list[tuple[str, str, str]], copies: int, limit: int) -> None:
    distinct = parse_tests("\n".join(line for line, _, _ in lines), entry_point="f", limit=100)
    repeated = parse_tests("\n".join(line for line, _, _ in lines * copies), entry_point="f", limit=limit)
    assert repeated.usable == min(distinct.usable, limit)
    assert repeated.found == len(lines) * copies
    assert len(set(repeated.inputs())) == repeated.usable


STDIO_TEXT = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"], exclude_characters="\r"), max_size=30
).filter(lambda text: "<" not in text)


@PROPERTY
@given(pairs=st.lists(st.tuples(STDIO_TEXT, STDIO_TEXT), max_size=6))
def test_stdio_cases_round_trip(pairs: list[tuple[str, str]]) -> None:
    def ended(text: str) -> str:
        return text if not text or text.endswith("\n") else text + "\n"

    text = "\n\n".join(render_stdio(ended(stdin), ended(stdout)) for stdin, stdout in pairs)
    parsed = parse_tests(text, entry_point=None, kind="stdio", limit=100)
    assert parsed.found == len(pairs)
    expected: dict[str, str] = {}
    for stdin, stdout in pairs:
        expected.setdefault(ended(stdin), ended(stdout))
    assert set(parsed.inputs()) == set(expected)
    again = parse_tests("\n\n".join(case.source for case in parsed.cases), entry_point=None, kind="stdio", limit=100)
    assert summary(again) == summary(parsed)
