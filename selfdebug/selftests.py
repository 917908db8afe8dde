"""Parse the tests a model wrote for its own program into structured cases.

**Function problems.** The model is asked for asserts, one per line: ``assert f(args) == expected``. What comes back
is messier: fences, numbering ("1."), bullets, prose, comments, messages (``, "msg"``), ``abs(f(x) - y) < 1e-6``,
``is True``, ``not f(x)``, asserts over several lines, asserts inside a ``def test_...():``, ``result = f(x)`` then
``assert result == y``, doctest lines (``>>> f(x)`` then the value), a call with its result claimed in a comment
(``f(3.5)  # Returns 0.5``, SmolLM2's habit). Every assert is read wherever it stands; a
variable assigned exactly once in the answer is replaced by its value, so that the assert runs on its own. A case
keeps the call's argument source (the input alone, for in-execution debugging), the expected value's source and a
normalised, runnable assert (for post-execution debugging). What is dropped is kept with the reason: it does not
parse, is not an assert, does not call the entry point (or calls it twice), uses a variable it cannot run without,
repeats an earlier case, contradicts one (same input, another expected value: the first one stays, the input is
listed in ``conflicts``; no program can pass both, and the paper finds the first answers no worse than later ones),
or is over the limit.

**Stdio problems.** The documented format, one pair per test, each part either inline, on the lines below, or in a
fence (needed for input with blank lines)::

    Input:
    3
    1 2 3
    Output:
    6

Labels may be decorated ("**Input 1:**", "Sample Input", "stdin:", "Expected Output:"). Unfenced parts end at a blank
line or the next "Label:" line. Each pair becomes (stdin, expected stdout), both ending in a newline.
"""

from __future__ import annotations

import ast
import builtins
import copy
import io
import re
import tokenize
from collections import Counter
from collections.abc import Iterator
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from selfdebug.syntax import parse

__all__ = ["DEFAULT_TEST_COUNT", "Check", "ParsedTests", "TestCase", "TestKind", "parse_tests", "render_stdio"]

DEFAULT_TEST_COUNT = 10  # the paper asks for 10 tests per problem
_MAX_ASSERT_LINES = 30  # an assert is read over at most this many lines
_MAX_SUBSTITUTIONS = 3  # rounds of variable replacement (x = ...; y = f(x); assert y == ...)

TestKind = Literal["function", "stdio"]
Check = Literal["eq", "is", "approx", "truthy", "falsy", "other", "stdout"]
"""How a case judges the result: ``== expected``, ``is True/False/None``, within a tolerance, truthy, falsy, some
other assert over one call (``len(f(x)) == 3``, expected unknown), or a stdio case's expected stdout."""

_SPECIAL_TOKEN = re.compile(r"<\|im_start\|>(?:assistant|user|system)?|<\|[A-Za-z0-9_]{1,40}\|>|</?s>")
# "1.", "2)", "-", "*", "Test 3:", "Test case 3 -" in front of an assert.
_MARKER = re.compile(r"^(?:(?:\d{1,3}|[a-z])[.)]\s|[-*+\u2022]\s|test(?:[ _]?case)?[ _]?\d{0,3}\s*[:.)-])\s*", re.I)
_INLINE_ASSERT = re.compile(r"`(assert\b[^`]+)`")
_ASSERT_START = re.compile(r"^assert\b")
_CLAIM = re.compile(
    r"^#+\s*(?:it\s+)?(?:returns?|outputs?|prints?|results?(?:\s+is)?|expected(?:\s+output)?|gives|"
    r"should\s+(?:return|be|print|output)|=>|->|==)\s*:?\s*(\S(?:.*\S)?)\s*$",  # greedy: a lazy .*? rescans spaces
    re.I,
)
_DOCTEST = re.compile(r"^>>>\s?(.*)$")
_FENCE = re.compile(r"^\s*(`{3,}|~{3,})")
_SINGLETONS = (True, False, None)
_BUILTINS = frozenset(dir(builtins))


class TestCase(BaseModel):
    """One self-generated test."""

    __test__: ClassVar[bool] = False  # not a pytest test class, despite the name
    model_config = ConfigDict(frozen=True, extra="forbid")

    input: str = Field(description='Function: the call\'s arguments as source ("[1, 2], 3"). Stdio: the stdin.')
    expected: str | None = Field(
        description="Function: the expected value's source; None for 'other' checks. Stdio: the expected stdout."
    )
    check: Check
    source: str = Field(
        description="Function: the assert, normalised and runnable on its own. Stdio: the case in the documented "
        "Input/Output format."
    )
    call: str | None = Field(None, description='Function: the call as source ("f([1, 2], 3)").')
    original: str = Field(description="The test as the model wrote it (markers and indentation removed).")


class ParsedTests(BaseModel):
    """The usable cases of one answer, and what was dropped and why."""

    model_config = ConfigDict(extra="forbid")

    kind: TestKind
    entry_point: str | None
    limit: int
    cases: list[TestCase] = Field(default_factory=list)
    dropped: list[tuple[str, str]] = Field(default_factory=list, description="(the test's text, why it was dropped)")
    conflicts: list[str] = Field(default_factory=list, description="Inputs given different expected results.")

    @property
    def usable(self) -> int:
        return len(self.cases)

    @property
    def found(self) -> int:
        """Every test-like thing seen, usable or not."""
        return len(self.cases) + len(self.dropped)

    def asserts(self) -> list[str]:
        """The cases as assert statements, each runnable alone in the program's namespace."""
        if self.kind != "function":
            raise ValueError("stdio tests are stdin/stdout pairs, not asserts")
        return [case.source for case in self.cases]

    def inputs(self) -> list[str]:
        """The inputs alone (argument sources, or stdin texts): what in-execution debugging runs on."""
        return [case.input for case in self.cases]


def parse_tests(
    text: str, *, entry_point: str | None, kind: TestKind = "function", limit: int = DEFAULT_TEST_COUNT
) -> ParsedTests:
    """The tests in a model's answer. Never raises on any ``text``.

    For function problems without an ``entry_point``, the function the asserts call most is taken as it.
    """
    text = _SPECIAL_TOKEN.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    parsed = ParsedTests(kind=kind, entry_point=entry_point, limit=max(limit, 0))
    candidates = _stdio_candidates(text, parsed) if kind == "stdio" else _function_candidates(text, parsed)
    _keep(candidates, parsed)
    return parsed


# ------------------------------------------------------------------------------------------ function tests


def _parse(source: str) -> ast.Module | None:
    try:
        return parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _unparse(node: ast.AST) -> str | None:
    try:
        return ast.unparse(node)
    except (RecursionError, ValueError):  # nesting too deep; odd constants
        return None


def _strip_marker(line: str) -> str:
    stripped = line.strip().strip("`").strip()
    for _ in range(3):  # "1. - assert ..." has two markers
        unmarked = _MARKER.sub("", stripped, count=1)
        if unmarked == stripped:
            break
        stripped = unmarked.strip().strip("`").strip()
    return stripped


def _statements(lines: list[str]) -> Iterator[tuple[str, ast.stmt | None, str]]:
    """(original text, statement or None, kind) for every assert, doctest example and other one-line statement."""
    i = 0
    while i < len(lines):
        line = _strip_marker(lines[i])
        inline = _INLINE_ASSERT.search(lines[i])
        if not _ASSERT_START.match(line) and inline:
            line = inline.group(1).strip()  # "For example, `assert f(1) == 2` checks ..."
        doctest = _DOCTEST.match(line)
        if _ASSERT_START.match(line):
            consumed, source, nodes = _read_assert(line, lines, i)
            if not nodes:
                yield source, None, "assert"
            for node in nodes:
                yield source, node, "assert" if isinstance(node, ast.Assert) else "statement"
            i += consumed
            continue
        if doctest:
            yield from _doctest(doctest.group(1), lines, i)
            i += 1
            continue
        tree = _parse(line) or _parse(line + "\n pass")  # "for x in xs:" and "def t(a):" headers bind names too
        if tree is not None and tree.body:
            claimed = _claimed(tree.body[0], line, lines[i + 1] if i + 1 < len(lines) else "")
            if claimed is not None:
                yield claimed
            else:
                yield line, tree.body[0], "statement"
        i += 1


def _claimed(node: ast.stmt, line: str, after: str) -> tuple[str, ast.stmt, str] | None:
    """A call whose result a comment claims, as an assert: ``f(3.5)  # Returns 0.5``, or ``print(f(x))`` with
    ``# Output: [1, 2]`` on the next line. Small models write tests this way when asked for asserts. Only a
    literal claim counts (printed text without quotes is not the value)."""
    if not isinstance(node, ast.Expr) or not isinstance(node.value, ast.Call):
        return None
    call = node.value
    if isinstance(call.func, ast.Name) and call.func.id == "print" and len(call.args) == 1:
        if not isinstance(call.args[0], ast.Call):
            return None
        call = call.args[0]
    comment, original = _comment(line), line
    if comment is None and after.strip().startswith("#"):
        comment, original = after.strip(), f"{line}\n{after.strip()}"
    match = _CLAIM.match(comment or "")
    call_source = _unparse(call)
    if match is None or call_source is None:
        return None
    try:
        ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return None
    tree = _parse(f"assert {call_source} == {match.group(1)}")
    return (original, tree.body[0], "assert") if tree is not None and len(tree.body) == 1 else None


def _comment(line: str) -> str | None:
    """The comment on a line of code, found by the tokenizer (a "#" inside a string is not one)."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(line).readline):
            if token.type == tokenize.COMMENT:
                return token.string
    except (tokenize.TokenError, SyntaxError, ValueError):
        return None
    return None


def _read_assert(first: str, lines: list[str], i: int) -> tuple[int, str, list[ast.stmt]]:
    """An assert starting at line i, read over as many lines as it takes to parse: (lines used, text, statements;
    more than one for "assert a; assert b")."""
    parts = [first]
    base = len(lines[i]) - len(lines[i].lstrip())
    for extra in range(_MAX_ASSERT_LINES):
        source = "\n".join(parts)
        tree = _parse(source)
        if tree is not None and tree.body:
            return extra + 1, source, tree.body
        if i + extra + 1 >= len(lines) or _FENCE.match(lines[i + extra + 1]):
            break
        nxt = lines[i + extra + 1]
        # Inside brackets indentation is free; inside a triple-quoted string it is content: keep it relative.
        parts.append(nxt[base:] if len(nxt) - len(nxt.lstrip()) >= base else nxt.strip())
    return 1, first, []  # not parseable over any span: the first line alone, reported as it stands


def _doctest(call: str, lines: list[str], i: int) -> Iterator[tuple[str, ast.stmt | None, str]]:
    after = lines[i + 1].strip() if i + 1 < len(lines) else ""
    if not after or after.startswith((">>>", "...")):
        yield f">>> {call}", None, "doctest without value"
        return
    source = f"assert {call} == {after}"
    tree = _parse(source)
    yield f">>> {call}\n{after}", tree.body[0] if tree and len(tree.body) == 1 else None, "assert"


def _function_candidates(text: str, parsed: ParsedTests) -> list[TestCase]:
    found = list(_statements(text.split("\n")))
    values, bound = _assignments(node for _, node, kind in found if kind == "statement" and node is not None)
    asserts = [(original, node) for original, node, kind in found if kind == "assert"]
    entry_point = parsed.entry_point or _guess_entry_point(node for _, node in asserts)
    if parsed.entry_point is None:
        parsed.entry_point = entry_point
    cases: list[TestCase] = []
    for original, node, kind in found:
        if kind == "doctest without value":
            parsed.dropped.append((original, "a doctest example without an expected value"))
        elif kind == "statement" and node is not None and entry_point and _not_an_assert(node, entry_point):
            parsed.dropped.append((original, "not an assert"))
        elif kind == "assert":
            result = _case(original, node, entry_point, values, bound)
            if isinstance(result, TestCase):
                cases.append(result)
            else:
                parsed.dropped.append((original, result))
    return cases


def _assignments(statements: Iterator[ast.stmt]) -> tuple[dict[str, ast.expr], set[str]]:
    """Variables assigned exactly once (name -> value), and every name bound some other way or more than once."""
    counts: Counter[str] = Counter()
    values: dict[str, ast.expr] = {}
    bound: set[str] = set()
    for node in statements:
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            counts[node.targets[0].id] += 1
            values[node.targets[0].id] = node.value
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
                bound.add(sub.id)
            elif isinstance(sub, ast.arg):
                bound.add(sub.arg)
    once = {name: value for name, value in values.items() if counts[name] == 1 and name not in bound}
    return once, bound | {name for name in counts if name not in once}


def _guess_entry_point(asserts: Iterator[ast.stmt | None]) -> str | None:
    """The non-builtin function the asserts call most often (the first seen wins a tie)."""
    counts: Counter[str] = Counter()
    for node in asserts:
        if node is None:
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Call) and isinstance(sub.func, ast.Name) and sub.func.id not in _BUILTINS:
                counts[sub.func.id] += 1
    return counts.most_common(1)[0][0] if counts else None


def _not_an_assert(node: ast.stmt, entry_point: str) -> bool:
    """A line that looks like a test but checks nothing: ``print(f(3))``, ``f(3) == 5``."""
    return isinstance(node, ast.Expr) and any(_is_call_to(sub, {entry_point}) for sub in ast.walk(node))


def _is_call_to(node: ast.AST, names: set[str]) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


class _Substitute(ast.NodeTransformer):
    """Replaces variables by their (only) value, and ``candidate(...)`` by a call to the entry point."""

    def __init__(self, values: dict[str, ast.expr], entry_point: str) -> None:
        self.values = values
        self.entry_point = entry_point
        self.changed = False

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id == "candidate" and isinstance(node.ctx, ast.Load):  # HumanEval's check(candidate) style
            self.changed = True
            return ast.copy_location(ast.Name(self.entry_point, ast.Load()), node)
        if isinstance(node.ctx, ast.Load) and node.id in self.values:
            self.changed = True
            return self.values[node.id]
        return node


def _case(
    original: str, node: ast.stmt | None, entry_point: str | None, values: dict[str, ast.expr], bound: set[str]
) -> TestCase | str:
    """The test case an assert makes, or why it makes none."""
    if not isinstance(node, ast.Assert):
        return "does not parse as one assert statement"
    if isinstance(node.test, ast.Tuple):
        return "asserts a tuple, which is always true"
    if entry_point is None:
        return "calls no function"
    test = node.test
    try:
        for _ in range(_MAX_SUBSTITUTIONS):
            # A name the assert binds itself ("lambda x: ...", "for x in ...") is not the variable set outside.
            outer = {name: value for name, value in values.items() if name not in _locals(test) | {entry_point}}
            substitute = _Substitute(outer, entry_point)
            # On a copy: the values' nodes are shared between asserts and must not change.
            test = substitute.visit(copy.deepcopy(test))
            if not substitute.changed:
                break
    except RecursionError:
        return "too deeply nested to read"
    calls = [sub for sub in ast.walk(test) if isinstance(sub, ast.Call) and _is_call_to(sub, {entry_point})]
    if not calls:
        return f"does not call {entry_point}"
    if len(calls) > 1:
        return f"calls {entry_point} more than once"  # no single input to run it on
    local = _locals(test)
    outside = sorted(
        {sub.id for sub in ast.walk(test) if isinstance(sub, ast.Name)} & (bound | set(values)) - local - {entry_point}
    )
    if outside:
        return f"uses {', '.join(outside)}, set outside the assert"
    return _classify(original, test, calls[0], entry_point) or "too deeply nested to read"


def _locals(test: ast.expr) -> set[str]:
    """Names bound inside the assert itself (comprehension variables, lambda parameters, walrus targets)."""
    names = {sub.id for sub in ast.walk(test) if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store)}
    return names | {sub.arg for sub in ast.walk(test) if isinstance(sub, ast.arg)}


def _classify(original: str, test: ast.expr, call: ast.Call, entry_point: str) -> TestCase | None:
    call_source = _unparse(call)
    arguments = [_unparse(arg) for arg in [*call.args, *call.keywords]]
    if call_source is None or any(arg is None for arg in arguments):
        return None
    check: Check = "other"
    expected: ast.expr | None = None
    if test is call:
        check = "truthy"
    elif isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and test.operand is call:
        check = "falsy"
    elif isinstance(test, ast.Compare) and len(test.ops) == 1:
        check, expected = _compare(test, call)
    elif _is_isclose(test, call):
        assert isinstance(test, ast.Call)
        check, expected = "approx", test.args[1] if test.args[0] is call else test.args[0]
    expected_source = _unparse(expected) if expected is not None else None
    test_source = _unparse(test)
    if test_source is None:
        return None
    source = f"assert {call_source} == {expected_source}" if check == "eq" else f"assert {test_source}"
    if check == "truthy":
        expected_source = "True"
    elif check == "falsy":
        expected_source = "False"
    return TestCase(
        input=", ".join(arg for arg in arguments if arg is not None),
        expected=expected_source,
        check=check,
        source=source,
        call=call_source,
        original=original,
    )


def _compare(test: ast.Compare, call: ast.Call) -> tuple[Check, ast.expr | None]:
    """``f(x) == y`` (either way round), ``f(x) is True``, ``abs(f(x) - y) < tol``."""
    left, op, right = test.left, test.ops[0], test.comparators[0]
    if isinstance(op, ast.Eq) and call in (left, right):
        return "eq", right if left is call else left
    if (
        isinstance(op, ast.Is)
        and left is call
        and isinstance(right, ast.Constant)
        and any(right.value is constant for constant in _SINGLETONS)
    ):
        return "is", right
    if isinstance(op, ast.Lt | ast.LtE) and _is_abs_difference(left, call):
        assert isinstance(left, ast.Call) and isinstance(left.args[0], ast.BinOp)
        difference = left.args[0]
        return "approx", difference.right if difference.left is call else difference.left
    return "other", None


def _is_abs_difference(node: ast.expr, call: ast.Call) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "abs"
        and len(node.args) == 1
        and isinstance(node.args[0], ast.BinOp)
        and isinstance(node.args[0].op, ast.Sub)
        and call in (node.args[0].left, node.args[0].right)
    )


def _is_isclose(node: ast.expr, call: ast.Call) -> bool:
    """``math.isclose(f(x), y, ...)`` or ``isclose(f(x), y)``."""
    if not isinstance(node, ast.Call) or len(node.args) < 2 or call not in node.args[:2]:
        return False
    func = node.func
    return (isinstance(func, ast.Name) and func.id == "isclose") or (
        isinstance(func, ast.Attribute) and func.attr == "isclose"
    )


# --------------------------------------------------------------------------------------------- stdio tests

_LABEL = re.compile(
    r"^[\s#>*_`-]*(?:(?:sample|example|test)(?:\s*case)?\s*\d*\s*[:.-]?\s*)?"
    r"(input|output|expected\s+output|expected|stdin|stdout)(?:\s*\d+)?\s*(?:\*\*|__)?\s*(:)?\s*(?:\*\*|__)?(.*)$",
    re.I,
)
_OTHER_LABEL = re.compile(r"^[\s#>*_-]*[A-Z][A-Za-z0-9 ]{0,30}:")
_WRAPPERS = ("**", "__", "`")


def _label(line: str) -> tuple[str, str] | None:
    """("input" or "output", inline content) when the line labels a part of a stdio case."""
    match = _LABEL.match(line)
    if match is None:
        return None
    rest = match.group(3).strip()
    if match.group(2) is None and rest:
        return None  # "Input the numbers" is prose; "Input", "**Input**" and "Input:" are labels
    for wrapper in _WRAPPERS:  # "Input: `3 4`"
        if len(rest) > 2 * len(wrapper) and rest.startswith(wrapper) and rest.endswith(wrapper):
            rest = rest[len(wrapper) : -len(wrapper)].strip()
    word = match.group(1).lower()
    return ("input" if word in ("input", "stdin") else "output"), rest


def _stdio_parts(lines: list[str]) -> Iterator[tuple[str, str, str]]:
    """(label, content, original text) for every labelled part, in order; content ends in a newline unless empty."""
    i = 0
    while i < len(lines):
        label = _label(lines[i])
        if label is None:
            i += 1
            continue
        name, inline = label
        j = i + 1
        if not inline:
            while j < len(lines) and not lines[j].strip():
                j += 1
            fence = _FENCE.match(lines[j]) if j < len(lines) else None
            if fence:
                content, end = _fenced(lines, j, fence.group(1))
                yield name, "".join(line + "\n" for line in content), "\n".join(lines[i:end]).strip()
                i = end
                continue
        content = [inline] if inline else []
        while j < len(lines) and lines[j].strip() and not _ends_part(lines[j]):
            content.append(lines[j])
            j += 1
        text = "\n".join(content)
        yield name, text + "\n" if text else "", "\n".join(lines[i:j]).strip()
        i = max(j, i + 1)


def _ends_part(line: str) -> bool:
    return _label(line) is not None or _OTHER_LABEL.match(line) is not None or _FENCE.match(line) is not None


def _fenced(lines: list[str], j: int, fence: str) -> tuple[list[str], int]:
    """The lines of the fenced block opening at line j, and the line after it (an unclosed fence runs to the end)."""
    content: list[str] = []
    k = j + 1
    while k < len(lines):
        stripped = lines[k].strip()
        # Closed by a line of the same fence character, at least as long, and nothing else.
        if len(stripped) >= len(fence) and not stripped.strip(fence[0]):
            return content, k + 1
        content.append(lines[k])
        k += 1
    return content, k


def render_stdio(stdin: str, stdout: str) -> str:
    """A stdio case in the documented format, fenced with a fence longer than any backtick run in it."""
    longest = max((len(run) for run in re.findall(r"`+", stdin + stdout)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"Input:\n{fence}\n{stdin}{fence}\nOutput:\n{fence}\n{stdout}{fence}"


def _stdio_candidates(text: str, parsed: ParsedTests) -> list[TestCase]:
    cases: list[TestCase] = []
    pending: tuple[str, str] | None = None  # an input waiting for its output: (content, original)
    for name, content, original in _stdio_parts(text.split("\n")):
        if name == "input":
            if pending is not None:
                parsed.dropped.append((pending[1], "an input with no expected output"))
            pending = (content, original)
            continue
        if pending is None:
            parsed.dropped.append((original, "an expected output with no input"))
            continue
        stdin, stdout = pending[0], content
        cases.append(
            TestCase(
                input=stdin,
                expected=stdout,
                check="stdout",
                source=render_stdio(stdin, stdout),
                original=f"{pending[1]}\n{original}",
            )
        )
        pending = None
    if pending is not None:
        parsed.dropped.append((pending[1], "an input with no expected output"))
    return cases


# ------------------------------------------------------------------------------------- dedupe and limit


def _outcome(case: TestCase) -> tuple[str, object]:
    """What a case says the result is, comparable across spellings ("5" and "5.0", "True" and truthy); the first
    item says whether two outcomes can contradict ("value") or only differ in spelling ("source")."""
    if case.check in ("truthy", "falsy"):
        return "truthiness", case.check == "truthy"
    if case.expected is None:
        return "source", case.source
    if case.check == "stdout":  # the sandbox ignores trailing whitespace
        return "value", "\n".join(line.rstrip() for line in case.expected.rstrip().split("\n"))
    try:
        return "value", ast.literal_eval(case.expected)
    except (ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
        return "source", case.expected


def _contradicts(first: TestCase, second: TestCase) -> bool:
    """Different literal results, or a truthiness check against a boolean of the other value. Expressions that
    only spell a value differently (``float('inf')``, ``math.inf``) are never taken as contradictions."""
    (kind_a, a), (kind_b, b) = _outcome(first), _outcome(second)
    if kind_a == "truthiness" and kind_b == "value" and isinstance(b, bool):
        return a is not b
    if kind_b == "truthiness" and kind_a == "value" and isinstance(a, bool):
        return a is not b
    return kind_a == kind_b and kind_a in ("value", "truthiness") and not _equal(a, b)


def _same(first: TestCase, second: TestCase) -> bool:
    """Two cases that test the same thing: one input, the same outcome however spelt ("2" and "2.0")."""
    (kind_a, a), (kind_b, b) = _outcome(first), _outcome(second)
    return kind_a == kind_b and _equal(a, b)


def _equal(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except Exception:  # a literal whose comparison raises: treat as different
        return False


def _group(case: TestCase) -> str:
    """Cases are compared within a group: exact results, approximate ones, and other asserts (by their text)."""
    return case.check if case.check in ("approx", "other") else "exact"


def _keep(candidates: list[TestCase], parsed: ParsedTests) -> None:
    """Adds the distinct, consistent cases up to the limit; drops the rest with the reason."""
    kept: dict[tuple[str, str], list[TestCase]] = {}
    for case in candidates:
        earlier = kept.get((_group(case), case.input), [])
        repeated = next((other for other in earlier if _same(other, case)), None)
        contradicted = next((other for other in earlier if _group(case) == "exact" and _contradicts(other, case)), None)
        if repeated is not None:
            parsed.dropped.append((case.original, "repeats an earlier test"))
        elif contradicted is not None:
            parsed.dropped.append((case.original, f"contradicts an earlier test: {contradicted.source}"))
            if case.input not in parsed.conflicts:
                parsed.conflicts.append(case.input)
        elif len(parsed.cases) >= parsed.limit:
            parsed.dropped.append((case.original, f"over the limit of {parsed.limit} tests"))
        else:
            kept.setdefault((_group(case), case.input), []).append(case)
            parsed.cases.append(case)
