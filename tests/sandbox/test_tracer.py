"""The in-execution tracer: block splitting, bounded reprs and summaries in-process; whole traces in the sandbox."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict, deque
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox import AsyncSandbox, Limits, Sandbox, Trace, TraceBlock, render_trace, trace_program, trace_program_async
from sandbox.tracer import Keeper, bounded_repr, cut, run, split_blocks, summarise

# ---------------------------------------------------------------- programs traced below

LOOP = """\
def helper(x):
    return x * 2

def total_above(nums, k):
    total = 0
    for n in nums:
        if n > k:
            total += helper(n)
        else:
            total -= 1
    return total
"""

RECURSION = """\
def fact(n):
    if n <= 1:
        return 1
    return n * fact(n - 1)
"""

EXCEPTIONS = """\
def safe_div(a, b):
    try:
        q = a // b
    except ZeroDivisionError:
        q = None
    if q is None:
        raise ValueError("b must not be zero")
    return q
"""

EARLY_RETURN = """\
def find(xs, target):
    for i, x in enumerate(xs):
        if x == target:
            return i
    return -1
"""

GENERATOR = """\
def squares(n):
    for i in range(n):
        yield i * i

def sum_squares(n):
    s = 0
    for v in squares(n):
        s += v
    return s
"""

COMPREHENSION = """\
def evens(xs):
    picked = [x for x in xs if x % 2 == 0]
    lookup = {x: x * x for x in picked}
    return picked, sum(v for v in lookup.values())
"""

RUNAWAY = """\
def spin(n):
    i = 0
    while i >= 0:
        i += n
    return i
"""

HUGE = """\
def big(n):
    xs = list(range(n))
    s = "ab" * n
    return xs, s
"""


def trace_here(program: str, entry_point: str, *inputs: str, **options: Any) -> list[dict[str, Any]]:
    """Run the tracer in this process, as the harness would inside the sandbox."""
    result = run(program, {"entry_point": entry_point, "inputs": list(inputs), **options})
    assert "error" not in result, result
    traces: list[dict[str, Any]] = result["traces"]
    return traces


def codes(trace: dict[str, Any] | Trace) -> list[str]:
    blocks = trace["blocks"] if isinstance(trace, dict) else [b.model_dump() for b in trace.blocks]
    return [b["code"] for b in blocks]


# ---------------------------------------------------------------- basic blocks


def blocks_of(source: str, name: str) -> list[list[int]]:
    (functions,) = [blocks for (fname, _), blocks in split_blocks(source).items() if fname == name]
    return list(functions.blocks().values())


def test_loop_headers_branches_and_joins_start_blocks() -> None:
    assert blocks_of(LOOP, "total_above") == [[5], [6], [7], [8], [10], [11]]


def test_if_test_ends_the_block_it_is_in() -> None:
    source = "def f(x):\n    y = x + 1\n    if y > 2:\n        y = 0\n    elif y < 0:\n        y = 1\n    return y\n"
    assert blocks_of(source, "f") == [[2, 3], [4], [5], [6], [7]]


def test_handlers_finally_and_match_cases_are_entries() -> None:
    source = (
        "def f(x):\n    try:\n        y = 1 // x\n    except ZeroDivisionError:\n        y = 0\n"
        "    finally:\n        z = 1\n    match y:\n        case 0:\n            return z\n"
        "        case _:\n            return y\n"
    )
    assert blocks_of(source, "f") == [[2, 3], [4, 5], [7], [8], [9, 10], [11, 12]]


def test_return_break_continue_end_blocks_and_multiline_statements_stay_whole() -> None:
    source = (
        "def f(xs):\n    for x in xs:\n        if x:\n            continue\n"
        "        y = max(\n            x,\n            1)\n        break\n    return 0\n"
    )
    assert blocks_of(source, "f") == [[2], [3], [4], [5, 6, 7, 8], [9]]


def test_functions_are_keyed_like_their_code_objects() -> None:
    source = (
        "import functools\n\n@functools.cache\ndef f(x):\n    return x\n\n"
        "class A:\n    def m(self):\n        def inner():\n            return 1\n        return inner()\n"
    )
    keys = set(split_blocks(source))
    assert keys == {("f", 3), ("m", 8), ("inner", 9)}
    namespace: dict[str, Any] = {}
    exec(compile(source, "<solution>", "exec"), namespace)
    assert namespace["f"].__wrapped__.__code__.co_firstlineno == 3


def test_yield_lines_and_comprehension_lines_are_known() -> None:
    functions = split_blocks(GENERATOR + COMPREHENSION)
    assert functions[("squares", 1)].yield_lines == {3}
    assert functions[("evens", 10)].comprehension_lines == {11, 12, 13}


# ---------------------------------------------------------------- bounded reprs and summaries


def test_short_values_keep_their_whole_repr() -> None:
    for value in [1, "it's", b"\x00'\"", [1, (2,)], {"a": {1, 2}}, frozenset({3}), None, 1.5]:
        assert bounded_repr(value, 100) == repr(value)


def test_long_values_keep_their_first_and_last_halves() -> None:
    value = list(range(100_000))
    text = bounded_repr(value, 20)
    assert text == "[0, 1, 2, ...98, 99999]" == cut(repr(value), 20)


def test_huge_values_cost_little() -> None:
    value = {"k": list(range(1_000_000)), "s": "x" * 10_000_000}
    started = time.perf_counter()
    for _ in range(100):
        bounded_repr(value, 100)
    assert time.perf_counter() - started < 0.5


def test_recursive_containers_and_containers_of_the_collections_module() -> None:
    xs: list[Any] = [1]
    xs.append(xs)
    d: dict[str, Any] = {}
    d["self"] = d
    counts: defaultdict[str, list[int]] = defaultdict(list, {"a": [1]})
    for value in [xs, d, counts, deque([1, 2], maxlen=5), deque("ab")]:
        assert bounded_repr(value, 100) == repr(value)
        assert bounded_repr(value, 9) == cut(repr(value), 9)


def test_a_failing_repr_is_described_not_raised() -> None:
    class Bad:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert bounded_repr([Bad(), 1], 100) == "[<repr failed: RuntimeError>, 1]"
    assert bounded_repr(10**20000, 100).startswith("<int of about 20001 digits>")


scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40)
           | st.binary(max_size=40))
hashables = st.recursive(scalars, lambda inner: st.tuples(inner) | st.frozensets(inner, max_size=4), max_leaves=6)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=8) | st.tuples(inner, inner) | st.tuples(inner)
    | st.dictionaries(hashables, inner, max_size=5) | st.sets(hashables, max_size=5),
    max_leaves=40,
)


@given(values, st.integers(min_value=1, max_value=300))
def test_bounded_repr_is_the_cut_repr(value: Any, limit: int) -> None:
    text = bounded_repr(value, limit)
    assert text == cut(repr(value), limit)
    assert len(text) <= limit + 3


@given(st.text(alphabet=st.sampled_from("ab'\"\\\n\x00é\U0001f600"), max_size=300), st.integers(1, 60))
def test_bounded_repr_of_strings_keeps_the_quote_and_escapes(value: str, limit: int) -> None:
    assert bounded_repr(value, limit) == cut(repr(value), limit)
    assert bounded_repr(value.encode(), limit) == cut(repr(value.encode()), limit)


@given(st.integers(0, 200), st.integers(1, 30), st.integers(0, 15))
def test_summary_keeps_all_or_first_and_last(n: int, max_items: int, keep: int) -> None:
    keep = min(keep, max_items // 2)
    kept, dropped = summarise(range(n), max_items, keep)
    expected = list(range(n)) if n <= max_items else [*range(keep), *range(n - keep, n)]
    assert kept == expected
    assert dropped == n - len(expected)


@given(st.integers(0, 500), st.integers(1, 20), st.integers(0, 10))
def test_the_keeper_holds_a_bounded_number_of_items(n: int, max_items: int, keep: int) -> None:
    keeper = Keeper(max_items, keep)
    for i in range(n):
        keeper.add(i)
        assert len(keeper.first) + len(keeper.last) <= max_items + keeper.keep
    assert keeper.total == n


# ---------------------------------------------------------------- whole traces, in this process


def test_loop_blocks_show_states_before_and_after() -> None:
    (trace,) = trace_here(LOOP, "total_above", "[1, 5], 3")
    assert trace["return"] == "9" and trace["total_blocks"] == 10 and trace["dropped"] == 0
    first, header = trace["blocks"][:2]
    assert first == {"index": 0, "block": first["block"], "function": "total_above", "depth": 0, "lines": [5],
                     "code": "total = 0", "before": {"nums": "[1, 5]", "k": "3"},
                     "after": {"nums": "[1, 5]", "k": "3", "total": "0"}}
    assert header["code"] == "for n in nums:" and header["after"]["n"] == "1"
    helper = next(b for b in trace["blocks"] if b["function"] == "helper")
    assert helper["depth"] == 1 and helper["before"] == {"x": "5"} and helper["returned"] == "10"


def test_long_runs_keep_the_first_and_last_blocks() -> None:
    (trace,) = trace_here(LOOP, "total_above", "list(range(100)), 50", max_blocks=6, keep=3)
    indices = [b["index"] for b in trace["blocks"]]
    total = trace["total_blocks"]
    assert indices == [0, 1, 2, total - 3, total - 2, total - 1]
    assert trace["dropped"] == total - 6
    assert trace["blocks"][-1]["returned"] == trace["return"] == str(sum(2 * n for n in range(51, 100)) - 51)


def test_one_line_loops_get_a_block_per_iteration() -> None:
    program = "def double(xs):\n    out = []\n    for x in xs: out.append(2 * x)\n    return out\n"
    (trace,) = trace_here(program, "double", "[1, 2]")
    loop = [b for b in trace["blocks"] if b["lines"] == [3]]
    assert [b["after"]["out"] for b in loop] == ["[2]", "[2, 4]", "[2, 4]"]


def test_nothing_is_traced_before_the_call_and_output_is_captured() -> None:
    program = "print('loading')\n\ndef f(x):\n    print('got', x)\n    return x\n"
    (trace,) = trace_here(program, "f", "'a'")
    assert trace["output"] == "got a\n" and trace["return"] == "'a'"


def test_keyword_arguments_and_bad_inputs() -> None:
    program = "def f(a, *, b=2):\n    return a + b\n"
    good, bad = trace_here(program, "f", "1, b=5", "1, nope")
    assert good["return"] == "6"
    assert bad["error"].startswith("the input does not evaluate: NameError") and bad["blocks"] == []


@pytest.mark.parametrize(("program", "message"), [
    ("def f(:\n", "the program does not compile: SyntaxError"),
    ("raise KeyError('x')\n", "the program failed to load: KeyError"),
    ("g = 1\n", "the program defines no function named 'f'"),
])
def test_programs_that_cannot_be_traced_say_why(program: str, message: str) -> None:
    result = run(program, {"entry_point": "f", "inputs": ["1"]})
    assert result["error"].startswith(message) and result["traces"] == []


def test_recursion_past_the_limit_is_reported_not_fatal() -> None:
    (trace,) = trace_here("def down(n):\n    return down(n + 1)\n", "down", "0")
    assert trace["exception"]["type"] == "RecursionError"
    assert trace["blocks"][0]["depth"] == 0 and max(b["depth"] for b in trace["blocks"]) > 100


def test_except_exception_does_not_swallow_the_stop() -> None:
    program = ("def f():\n    while True:\n        try:\n"
               "            x = 1\n        except Exception:\n            x = 0\n")
    (trace,) = trace_here(program, "f", "", max_events=100)
    assert trace["truncated"] and trace["exception"] is None and trace["total_blocks"] > 10


# ---------------------------------------------------------------- rendering


def test_render_shows_blocks_gaps_changes_and_the_outcome() -> None:
    block = TraceBlock(index=0, block=3, function="f", lines=[2, 3], code="y = x\nx += 1",
                       before={"x": "1"}, after={"x": "2", "y": "1"})
    last = TraceBlock(index=7, block=4, function="g", depth=1, lines=[9], code="return x", before={"x": "2"},
                      after={"x": "2"}, returned="2")
    trace = Trace(input="1", blocks=[block, last], dropped=6, total_blocks=8, return_value="2", output="hi\n")
    assert render_trace(trace) == (
        "Input: 1\n"
        "[block 0] f, lines 2-3\n  before: x=1\n    y = x\n    x += 1\n  after: x=2, y=1\n"
        "... 6 blocks omitted ...\n"
        "[block 7] g (call depth 1), line 9\n  before: x=2\n    return x\n  after: (no change)\n  returns 2\n"
        "Returned: 2\nPrinted: hi"
    )
    assert render_trace(Trace(input="x", error="timeout: wall time")) == (
        "Input: x\nCould not trace this input: timeout: wall time")


def test_the_json_shape_uses_return_as_the_key() -> None:
    trace = Trace.model_validate({"input": "1", "return": "2"})
    assert trace.return_value == "2" and trace.model_dump(by_alias=True)["return"] == "2"


# ---------------------------------------------------------------- through the sandbox


def test_loops_and_helpers_in_the_sandbox(sandbox: Sandbox) -> None:
    first, empty = trace_program(sandbox, LOOP, "total_above", ["[1, 5, 7], 3", "[], 0"])
    assert first.error is None and first.return_value == "23"
    assert first.total_blocks == 14 and first.dropped == 4 and len(first.blocks) == 10
    assert {b.function for b in first.blocks} == {"total_above", "helper"}
    assert codes(empty) == ["total = 0", "for n in nums:", "return total"]
    text = render_trace(first)
    assert "[block 0] total_above, line 5" in text and "... 4 blocks omitted ..." in text
    assert "[block 11] helper (call depth 1), line 2" in text and text.endswith("Returned: 23")


def test_recursion_shows_each_frame_with_its_depth(sandbox: Sandbox) -> None:
    (trace,) = trace_program(sandbox, RECURSION, "fact", ["4"], max_blocks=20)
    assert [(b.depth, b.before["n"]) for b in trace.blocks if b.code == "if n <= 1:"] == [
        (0, "4"), (1, "3"), (2, "2"), (3, "1")]
    assert [b.returned for b in trace.blocks if b.returned] == ["24", "6", "2", "1"]


def test_exceptions_caught_and_uncaught(sandbox: Sandbox) -> None:
    zero, fine = trace_program(sandbox, EXCEPTIONS, "safe_div", ["1, 0", "7, 2"])
    assert zero.blocks[0].raised == "ZeroDivisionError: integer division or modulo by zero"
    assert zero.blocks[1].code == "except ZeroDivisionError:\n    q = None"
    assert zero.blocks[-1].raised == "ValueError: b must not be zero"
    assert zero.exception is not None and (zero.exception.type, zero.exception.line) == ("ValueError", 7)
    assert zero.return_value is None
    assert "Raised: ValueError: b must not be zero (line 7 in safe_div)" in render_trace(zero)
    assert fine.exception is None and fine.return_value == "3"


def test_early_returns_end_the_trace_where_they_happen(sandbox: Sandbox) -> None:
    found, missing = trace_program(sandbox, EARLY_RETURN, "find", ["[4, 5, 6], 5", "[], 1"])
    assert found.return_value == "1" and found.blocks[-1].code == "return i"
    assert found.blocks[-1].returned == "1" and found.blocks[-1].before["x"] == "5"
    assert missing.return_value == "-1" and codes(missing) == ["for i, x in enumerate(xs):", "return -1"]


def test_generators_yield_between_their_consumers_blocks(sandbox: Sandbox) -> None:
    consumed, drained = [*trace_program(sandbox, GENERATOR, "sum_squares", ["3"], max_blocks=30),
                         *trace_program(sandbox, GENERATOR, "squares", ["3"])]
    assert consumed.return_value == "5"
    assert [b.yielded for b in consumed.blocks if b.yielded] == ["0", "1", "4"]
    assert all(b.depth == 1 for b in consumed.blocks if b.function == "squares")
    assert drained.return_value == "[0, 1, 4]" and drained.blocks[-1].returned == "None"


def test_comprehensions_are_part_of_their_line(sandbox: Sandbox) -> None:
    (trace,) = trace_program(sandbox, COMPREHENSION, "evens", ["[1, 2, 3, 4]"])
    assert [b.lines for b in trace.blocks] == [[2, 3, 4]]
    assert trace.blocks[0].after == {"xs": "[1, 2, 3, 4]", "picked": "[2, 4]", "lookup": "{2: 4, 4: 16}"}
    assert trace.return_value == "([2, 4], 20)"


def test_a_runaway_loop_is_stopped_and_the_other_inputs_are_traced(sandbox: Sandbox) -> None:
    started = time.perf_counter()
    runaway, done = trace_program(sandbox, RUNAWAY, "spin", ["1", "-1"], max_events=5000)
    assert time.perf_counter() - started < 5
    assert runaway.truncated and runaway.stop_reason == "stopped after 5000 traced events"
    assert runaway.return_value is None and runaway.total_blocks == len(runaway.blocks) + runaway.dropped
    assert len(runaway.blocks) == 10 and runaway.blocks[-1].after is not None
    assert not done.truncated and done.return_value == "-1"


def test_a_runaway_loop_stops_at_its_share_of_the_time_limit(sandbox: Sandbox) -> None:
    (trace,) = trace_program(sandbox, RUNAWAY, "spin", ["1"], max_events=10**9, limits=Limits(test_timeout=2))
    assert trace.truncated and trace.stop_reason == "stopped at the time limit"


def test_huge_values_are_bounded_reprs(sandbox: Sandbox) -> None:
    (trace,) = trace_program(sandbox, HUGE, "big", ["10**6"], repr_limit=40)
    after = trace.blocks[0].after
    assert after is not None
    assert after["xs"] == cut(repr(list(range(10**6))), 40) and after["xs"].endswith("999998, 999999]")
    assert after["s"] == cut(repr("ab" * 10**6), 40)
    assert trace.return_value is not None and len(trace.return_value) == 43


def test_one_input_that_hangs_does_not_hide_the_others(sandbox: Sandbox) -> None:
    program = "import time\n\ndef f(x):\n    if x:\n        time.sleep(60)\n    return x\n"
    ok, hangs, also_ok = trace_program(sandbox, program, "f", ["0", "1", "''"], limits=Limits(test_timeout=1.5))
    assert ok.return_value == "0" and also_ok.return_value == "''"
    assert hangs.error is not None and hangs.error.startswith("timeout")


def test_a_program_that_hangs_while_loading_fails_every_input(sandbox: Sandbox) -> None:
    program = "while True:\n    pass\n\ndef f(x):\n    return x\n"
    traces = trace_program(sandbox, program, "f", ["1", "2"], limits=Limits(test_timeout=1))
    assert [t.error is not None and t.error.endswith("(while loading the program)") for t in traces] == [True, True]


def test_untraceable_programs_give_an_error_per_input(sandbox: Sandbox) -> None:
    for program in ["def f(:\n", "def g():\n    return 1\n"]:
        traces = trace_program(sandbox, program, "f", ["1", "2"])
        assert [t.input for t in traces] == ["1", "2"] and all(t.error for t in traces)
    assert trace_program(sandbox, LOOP, "total_above", []) == []
    with pytest.raises(ValueError, match="keep"):
        trace_program(sandbox, LOOP, "total_above", ["[], 1"], max_blocks=4, keep=3)


def test_the_async_variant(sandbox: Sandbox) -> None:
    async def main() -> list[Trace]:
        return await trace_program_async(AsyncSandbox(sandbox=sandbox), RECURSION, "fact", ["3", "0"])

    three, zero = asyncio.run(main())
    assert three.return_value == "6" and zero.return_value == "1" and zero.blocks[-1].code == "return 1"
