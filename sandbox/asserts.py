"""Assert-style tests read as calls: which function a test calls, on which arguments, and what it expects.

``assert f(1, [2]) == 3`` becomes a ``CallCase``: call ``f`` on ``1`` and ``[2]`` in the sandbox, bring the returned
value back as plain data, and compare it with ``3`` on the host, so that the expected value never reaches the
program under test (``sandbox.judging`` runs the cases). The shapes read are::

    assert f(a) == X    assert X == f(a)    assert f(a) != X    assert f(a) in X    assert f(a) < X  (any compare)
    assert f(a)         assert not f(a)     assert f(a) is True / False / None      (is not, too)
    assert abs(f(a) - X) < eps              assert math.isclose(f(a), X, rel_tol=r, abs_tol=t)
    assert sorted(f(a)) == X                (set, tuple, list, len, round, ... around the call; see WRAPPERS)

and a ``def check(candidate): ...`` made of such lines (HumanEval, MBPP), called as ``check(f)``, with
``candidate`` standing for ``f``. Nothing is evaluated here: a literal is parsed with ``ast.literal_eval``, and any
other argument or expected expression is kept as source, for a sandboxed run without the program to compute.

A test that does anything else (assignments the asserts use, loops, helpers, two calls in one assert, names the
program defines) is not read: it keeps running in the program's interpreter, and ``TestReading.reason`` says why.
"""

from __future__ import annotations

import ast
import builtins
import functools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sandbox.syntax import parse

__all__ = [
    "ACTUAL",
    "PRELOADED_MODULES",
    "WRAPPERS",
    "Abs",
    "Actual",
    "Argument",
    "CallCase",
    "Compare",
    "Difference",
    "Given",
    "IsClose",
    "Operand",
    "Term",
    "TestReading",
    "Truth",
    "read_test",
]

READ_CACHE_SIZE = 4096  # readings of distinct test texts kept

# Modules an expected expression may use without importing them (``math.pi``, ``math.inf``): the sandboxed run
# that computes expected values imports them first.
PRELOADED_MODULES = ("cmath", "collections", "fractions", "functools", "itertools", "math", "operator", "re",
                     "string")
# Builtins that may wrap the call on its side of the assert (``sorted(f(x)) == [...]``). The wrapped value is what
# comes back from the sandbox; their other arguments must be literals or builtins (``round(f(x), 2)``).
WRAPPERS = frozenset({"abs", "all", "any", "bool", "dict", "float", "frozenset", "int", "len", "list", "max", "min",
                      "repr", "round", "set", "sorted", "str", "sum", "tuple"})
_BUILTINS = frozenset(dir(builtins))
_OPERATORS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.In: "in",
    ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not",
}
_SINGLETONS = (None, True, False)
_PARSE_FAILURES = (SyntaxError, ValueError, RecursionError, MemoryError, SystemError)
ARGS = "__args"  # the parameter of a probe: the list of the case's argument values


# ---------------------------------------------------------------- what a case holds


@dataclass(frozen=True)
class Operand:
    """An expression of the test that is not the call: an argument, an expected value, a tolerance.

    ``literal``: ``value`` was parsed from the source; otherwise ``source`` is computed in the sandbox, without the
    program under test.
    """

    source: str
    literal: bool
    value: Any = None


@dataclass(frozen=True)
class Argument:
    """One argument of the call: ``prefix`` is ``""``, ``"*"``, ``"**"`` or ``"name="``."""

    prefix: str
    operand: Operand


@dataclass(frozen=True)
class Actual:
    """The value the call side of the assert produced in the sandbox."""


ACTUAL = Actual()


@dataclass(frozen=True)
class Given:
    operand: Operand


@dataclass(frozen=True)
class Abs:
    term: Term


@dataclass(frozen=True)
class Difference:
    left: Term
    right: Term


@dataclass(frozen=True)
class Compare:
    """``items[0] ops[0] items[1] ops[1] ...``, a Python comparison chain."""

    items: tuple[Term, ...]
    ops: tuple[str, ...]


@dataclass(frozen=True)
class IsClose:
    """``math.isclose(left, right, rel_tol=..., abs_tol=...)``."""

    left: Term
    right: Term
    rel_tol: Term | None = None
    abs_tol: Term | None = None


@dataclass(frozen=True)
class Truth:
    """``assert f(x)`` (``expect`` True) or ``assert not f(x)``: the probe reports the truth value itself."""

    expect: bool


Term = Actual | Given | Abs | Difference
Check = Compare | IsClose | Truth


@dataclass(frozen=True)
class CallCase:
    """One assert: what to call in the sandbox (``probe``, over ``arguments``) and how to judge the value."""

    assertion: str
    line: int  # of the assert within the test's source
    line_text: str  # that line, as written (what a traceback shows)
    scope: str  # "<module>", or the check function's name
    function: str
    arguments: tuple[Argument, ...]
    probe: str  # an expression over ARGS that calls ``function``: the call side of the assert
    check: Check
    message: str | None = None  # the assert's message, when it is a string literal

    def operands(self) -> Iterator[Operand]:
        """Every operand, arguments first: the values the case needs before it can run."""
        for argument in self.arguments:
            yield argument.operand
        yield from _check_operands(self.check)


@dataclass
class TestReading:
    """What one test (a snippet of asserts, or a check function and its call) says, read for the host.

    ``cases`` is empty when the test must run in the program's interpreter; ``reason`` then says why.
    """

    __test__ = False  # not a pytest class, despite the name

    cases: list[CallCase] = field(default_factory=list)
    reason: str = ""
    setup: str = ""  # import lines the expected expressions may need (run before computing them)
    appendix: str = ""  # top-level lines the program gets after it, as if the test had run them (imports)
    asserts: int = 0  # assert statements in the test, leaving out constant ones (``assert True``)

    @property
    def on_host(self) -> bool:
        return bool(self.cases)


def _check_operands(check: Check) -> Iterator[Operand]:
    if isinstance(check, Compare):
        for item in check.items:
            yield from _term_operands(item)
    elif isinstance(check, IsClose):
        for term in (check.left, check.right, check.rel_tol, check.abs_tol):
            if term is not None:
                yield from _term_operands(term)


def _term_operands(term: Term) -> Iterator[Operand]:
    if isinstance(term, Given):
        yield term.operand
    elif isinstance(term, Abs):
        yield from _term_operands(term.term)
    elif isinstance(term, Difference):
        yield from _term_operands(term.left)
        yield from _term_operands(term.right)


# ---------------------------------------------------------------- reading a test


class _NotConvertible(Exception):
    """Why a test cannot be judged on the host."""


@functools.lru_cache(maxsize=READ_CACHE_SIZE)
def read_test(source: str) -> TestReading:
    """Read one test. Never raises: what cannot be read comes back with ``reason`` set and no cases.

    Cached by the test's text (a reading depends on nothing else): an evaluation judges many programs against the
    same tests, and reading a HumanEval check costs milliseconds. The reading is shared: never change it.
    """
    try:
        tree = parse(source)
    except _PARSE_FAILURES:
        return TestReading(reason="the test does not parse")
    try:
        asserts = sum(1 for node in ast.walk(tree) if isinstance(node, ast.Assert) and not _constant(node.test))
    except RecursionError:
        return TestReading(reason="the test is nested too deeply")
    try:
        reading = _Reader(tree, source).read()
    except _NotConvertible as exc:
        return TestReading(reason=str(exc), asserts=asserts)
    except (RecursionError, ValueError, TypeError, MemoryError):  # ast.unparse and friends on odd trees
        return TestReading(reason="the test is too unusual to read", asserts=asserts)
    reading.asserts = asserts
    if not reading.cases:
        reading.reason = "the test has no assert that calls a function"
        reading.cases = []
    return reading


def _constant(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant)


_INNER_SCOPES = (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def _bound_names(tree: ast.AST) -> set[str]:
    """Every name the statements of the test bind: assignments, loop targets, defs, classes, parameters (not the
    variables of a comprehension or a lambda inside an expression, which are its own)."""
    names: set[str] = set()
    stack: list[ast.AST] = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        stack.extend(child for child in ast.iter_child_nodes(node) if not isinstance(child, _INNER_SCOPES))
    return names


def _expression_locals(node: ast.expr) -> set[str]:
    """The names a comprehension or lambda inside an expression binds for itself."""
    names = {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store)}
    return names | {sub.arg for sub in ast.walk(node) if isinstance(sub, ast.arg)}


def _imported(node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    """The names an import binds, each with what it stands for ("math", "math.isclose")."""
    if isinstance(node, ast.ImportFrom):
        if any(alias.name == "*" for alias in node.names):
            raise _NotConvertible("the test imports * (its names cannot be known)")
        module = "." * node.level + (node.module or "")
        return {alias.asname or alias.name: f"{module}.{alias.name}" for alias in node.names}
    return {alias.asname or alias.name.split(".")[0]: alias.name if alias.asname else alias.name.split(".")[0]
            for alias in node.names}


def _literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


class _Reader:
    """Reads one parsed test; raises ``_NotConvertible`` at the first thing the host cannot judge."""

    def __init__(self, tree: ast.Module, source: str) -> None:
        self.tree = tree
        self.lines = source.splitlines()
        self.defined = _bound_names(tree)  # names the test binds: never the program's, never a builtin's
        self.imported: dict[str, str] = {}
        self.setup: list[str] = []
        self.appendix: list[str] = []
        self.checks: dict[str, ast.FunctionDef] = {}
        self.program: set[str] = set()  # names a check was called with: the program's, even if a builtin's
        self.cases: list[CallCase] = []

    def line(self, number: int) -> str:
        return self.lines[number - 1].strip() if 0 < number <= len(self.lines) else ""

    def read(self) -> TestReading:
        for node in self.tree.body:
            self.top_level(node)
        return TestReading(cases=self.cases, setup="\n".join(self.setup), appendix="\n".join(self.appendix))

    def top_level(self, node: ast.stmt) -> None:
        if isinstance(node, ast.Import | ast.ImportFrom):
            self.imports(node, appendix=True)
        elif isinstance(node, ast.FunctionDef) and self.is_check(node):
            self.checks[node.name] = node
        elif isinstance(node, ast.Expr) and (called := self.check_call(node.value)) is not None:
            self.read_check(self.checks[called[0]], called[1])
        elif isinstance(node, ast.Assert):
            self.statement_assert(node, scope="<module>", candidate=None)
        elif isinstance(node, ast.Assign) and self.unused_constant(node):
            self.appendix.append(ast.unparse(node))  # METADATA = {...}: the program sees it, as it would
        elif not self.harmless(node):
            raise _NotConvertible(f"the test runs other statements besides its asserts ({type(node).__name__})")

    def imports(self, node: ast.Import | ast.ImportFrom, *, appendix: bool) -> None:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            return  # it changes how the test compiles, nothing the program or the values see
        self.imported.update(_imported(node))
        self.setup.append(ast.unparse(node))
        if appendix:
            self.appendix.append(ast.unparse(node))

    @staticmethod
    def is_check(node: ast.FunctionDef) -> bool:
        args = node.args
        return (not node.decorator_list and len(args.args) == 1 and not args.posonlyargs and not args.kwonlyargs
                and args.vararg is None and args.kwarg is None and not args.defaults)

    def check_call(self, node: ast.expr) -> tuple[str, str] | None:
        """``check(f)`` for a check function this test defined: (its name, the function's name)."""
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in self.checks
                and len(node.args) == 1 and not node.keywords and isinstance(node.args[0], ast.Name)):
            function = node.args[0].id
            if function in self.defined or function in self.imported:
                raise _NotConvertible(f"the check is called with {function}, which the test itself defines")
            self.program.add(function)  # MBPP/126 tests a function named sum
            return node.func.id, function
        return None

    def unused_constant(self, node: ast.Assign) -> bool:
        """``NAME = <literal>`` whose name no other statement of the test reads."""
        if not (len(node.targets) == 1 and isinstance(node.targets[0], ast.Name) and _literal(node.value)):
            return False
        name = node.targets[0].id
        return not any(isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Load) and sub.id == name
                       for sub in ast.walk(self.tree))

    def harmless(self, node: ast.stmt) -> bool:
        """A statement that changes nothing: ``pass``, a docstring, a bare builtin name (HumanEval/129's
        ``print``), ``assert True``."""
        if isinstance(node, ast.Pass):
            return True
        if isinstance(node, ast.Expr):
            value = node.value
            return isinstance(value, ast.Constant) or (
                isinstance(value, ast.Name) and value.id in _BUILTINS and value.id not in self.defined)
        return False

    def read_check(self, check: ast.FunctionDef, function: str) -> None:
        parameter = check.args.args[0].arg
        local = _bound_names(check) - {parameter, check.name}
        if local:
            raise _NotConvertible(f"the check sets {', '.join(sorted(local))}, which its asserts may depend on")
        for node in check.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                self.imports(node, appendix=False)  # the check's own names: the program never sees them
            elif isinstance(node, ast.Assert):
                self.statement_assert(node, scope=check.name, candidate=(parameter, function))
            elif not self.harmless(node):
                raise _NotConvertible(f"the check runs other statements besides its asserts ({type(node).__name__})")

    def statement_assert(self, node: ast.Assert, *, scope: str, candidate: tuple[str, str] | None) -> None:
        if _constant(node.test):
            if node.test.value:  # type: ignore[attr-defined]
                return  # assert True, "...": HumanEval's placeholders
            raise _NotConvertible("the test asserts a false constant")
        case = _AssertReader(self, node, scope, candidate).read()
        self.cases.append(case)


class _AssertReader:
    """Reads one assert statement into a ``CallCase``."""

    def __init__(self, reader: _Reader, node: ast.Assert, scope: str, candidate: tuple[str, str] | None) -> None:
        self.reader = reader
        self.node = node
        self.scope = scope
        self.parameter, self.candidate = candidate or ("", "")

    def known(self, name: str) -> bool:
        """A name an expected expression may use: a builtin the test does not rebind, an import, a preloaded
        module."""
        reader = self.reader
        if name == self.parameter or name in reader.defined or name in reader.program:
            return False
        return name in reader.imported or name in _BUILTINS or name in PRELOADED_MODULES

    def builtin(self, name: str) -> bool:
        """The builtin ``name``, not rebound by the test."""
        return name in _BUILTINS and self.known(name) and name not in self.reader.imported

    def module(self, name: str, module: str) -> bool:
        """``name`` stands for the module ``module`` (imported as such, or preloaded and not rebound)."""
        imported = self.reader.imported.get(name)
        if imported is not None:
            return imported == module
        return name == module and self.known(name)

    def is_target(self, node: ast.Call) -> bool:
        """A call of a function of the program: ``candidate(...)`` in a check, or a name the test does not know."""
        if not isinstance(node.func, ast.Name):
            return False
        name = node.func.id
        if (self.parameter and name == self.parameter) or name in self.reader.program:
            return True
        return not self.known(name) and name not in self.reader.defined and name != self.parameter

    def read(self) -> CallCase:
        test = self.node.test
        calls = [sub for sub in ast.walk(test) if isinstance(sub, ast.Call) and self.is_target(sub)]
        if not calls:
            defined = sorted({sub.func.id for sub in ast.walk(test) if isinstance(sub, ast.Call)
                              and isinstance(sub.func, ast.Name) and sub.func.id in self.reader.defined})
            if defined:
                raise _NotConvertible(f"the assert calls {', '.join(defined)}, which the test itself defines")
            raise _NotConvertible("an assert calls no function of the program")
        if len(calls) > 1:
            raise _NotConvertible("an assert calls the program more than once")
        self.call = calls[0]
        assert isinstance(self.call.func, ast.Name)
        self.function = self.candidate if self.call.func.id == self.parameter and self.parameter else self.call.func.id
        check, side = self.check(test)
        parts: list[ast.expr | ast.keyword] = [*self.call.args, *self.call.keywords]
        arguments = tuple(self.argument(part) for part in parts)
        probe = ast.unparse(self.probe(side, [argument.prefix for argument in arguments]))
        if isinstance(check, Truth):
            probe = f"__selfdebug_truth__({probe})"
        message = self.node.msg.value if isinstance(self.node.msg, ast.Constant) else None
        return CallCase(assertion=ast.unparse(self.node), line=self.node.lineno,
                        line_text=self.reader.line(self.node.lineno), scope=self.scope,
                        function=self.function, arguments=arguments, probe=probe, check=check,
                        message=message if isinstance(message, str) else None)

    # ------------------------------------------------------------ the shape of the assert

    def contains_call(self, node: ast.AST) -> bool:
        return any(sub is self.call for sub in ast.walk(node))

    def check(self, test: ast.expr) -> tuple[Check, ast.expr]:
        """How the host judges the value, and the call side of the assert (what the probe computes)."""
        if self.call_side(test):
            return Truth(expect=True), test
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and self.call_side(test.operand):
            return Truth(expect=False), test.operand
        if isinstance(test, ast.Compare):
            return self.compare(test)
        if isinstance(test, ast.Call) and self.is_isclose(test.func):
            return self.isclose(test)
        raise _NotConvertible("the assert's shape is not one the host can judge")

    def call_side(self, node: ast.expr) -> bool:
        """The call itself, or a builtin from WRAPPERS around it with literal or builtin other arguments, or an
        index with a literal key."""
        if node is self.call:
            return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in WRAPPERS \
                and self.builtin(node.func.id) and node.args:
            others = [*node.args[1:], *(keyword.value for keyword in node.keywords)]
            return (self.call_side(node.args[0]) and all(keyword.arg for keyword in node.keywords)
                    and all(self.simple(other) for other in others))
        if isinstance(node, ast.Subscript):
            return self.call_side(node.value) and _literal(node.slice)
        return False

    def simple(self, node: ast.expr) -> bool:
        return _literal(node) or (isinstance(node, ast.Name) and self.builtin(node.id))

    def compare(self, test: ast.Compare) -> tuple[Check, ast.expr]:
        items = [test.left, *test.comparators]
        ops: list[str] = []
        for operator in test.ops:
            name = _OPERATORS.get(type(operator))
            if name is None:
                raise _NotConvertible("the assert uses an operator the host does not judge")
            ops.append(name)
        sides = [item for item in items if self.contains_call(item)]
        side = self.side_of(sides[0])
        for position, op in enumerate(ops):
            if op in ("is", "is not"):
                pair = items[position : position + 2]
                other = pair[1] if pair[0] is sides[0] else pair[0]
                if len(ops) > 1 or not self.call_side(sides[0]) or not (
                        isinstance(other, ast.Constant) and any(other.value is s for s in _SINGLETONS)):
                    raise _NotConvertible("an 'is' check that is not against None, True or False")
        return Compare(items=tuple(self.term(item) for item in items), ops=tuple(ops)), side

    def side_of(self, item: ast.expr) -> ast.expr:
        """The call side inside a compared item: the item itself, or X in ``abs(X - expected)``."""
        if self.call_side(item):
            return item
        if self.is_abs(item):
            assert isinstance(item, ast.Call)
            inner = item.args[0]
            if isinstance(inner, ast.BinOp) and isinstance(inner.op, ast.Sub):
                for part in (inner.left, inner.right):
                    if self.contains_call(part) and self.call_side(part):
                        return part
        raise _NotConvertible("the call is inside an expression the host does not judge")

    def is_abs(self, node: ast.expr) -> bool:
        if not (isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords):
            return False
        func = node.func
        if isinstance(func, ast.Name):
            return func.id == "abs" and self.builtin("abs")
        return (isinstance(func, ast.Attribute) and func.attr == "fabs" and isinstance(func.value, ast.Name)
                and self.module(func.value.id, "math"))

    def is_isclose(self, func: ast.expr) -> bool:
        if isinstance(func, ast.Attribute):
            return func.attr == "isclose" and isinstance(func.value, ast.Name) and self.module(func.value.id, "math")
        return isinstance(func, ast.Name) and self.reader.imported.get(func.id) == "math.isclose"

    def isclose(self, test: ast.Call) -> tuple[Check, ast.expr]:
        if len(test.args) != 2 or any(k.arg not in ("rel_tol", "abs_tol") for k in test.keywords):
            raise _NotConvertible("an isclose() with arguments the host does not judge")
        left, right = test.args
        side = left if self.contains_call(left) else right
        if not self.call_side(side):
            raise _NotConvertible("the call is inside an expression the host does not judge")
        tolerances = {k.arg: self.term(k.value) for k in test.keywords}
        return IsClose(left=self.term(left), right=self.term(right), rel_tol=tolerances.get("rel_tol"),
                       abs_tol=tolerances.get("abs_tol")), side

    def term(self, node: ast.expr) -> Term:
        if not self.contains_call(node):
            return Given(self.operand(node))
        if self.call_side(node):
            return ACTUAL
        if self.is_abs(node):
            assert isinstance(node, ast.Call)
            return Abs(self.term(node.args[0]))
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Sub):
            return Difference(self.term(node.left), self.term(node.right))
        raise _NotConvertible("the call is inside an expression the host does not judge")

    # ------------------------------------------------------------ operands and the probe

    def operand(self, node: ast.expr) -> Operand:
        """An expression without the call: parsed if it is a literal, else kept for the sandbox to compute."""
        try:
            return Operand(source=ast.unparse(node), literal=True, value=ast.literal_eval(node))
        except (ValueError, TypeError, SyntaxError, MemoryError):
            pass
        local = _expression_locals(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id not in local and not self.known(sub.id):
                if sub.id == self.parameter:
                    raise _NotConvertible(f"an assert uses {sub.id} other than by calling it")
                raise _NotConvertible(f"an assert uses {sub.id}, which only the program or the test defines")
            if isinstance(sub, ast.Await | ast.Yield | ast.YieldFrom | ast.NamedExpr):
                raise _NotConvertible("an assert's expression has side effects on the test")
        return Operand(source=ast.unparse(node), literal=False)

    def argument(self, node: ast.expr | ast.keyword) -> Argument:
        if isinstance(node, ast.keyword):
            return Argument(prefix=f"{node.arg}=" if node.arg else "**", operand=self.operand(node.value))
        if isinstance(node, ast.Starred):
            return Argument(prefix="*", operand=self.operand(node.value))
        return Argument(prefix="", operand=self.operand(node))

    def probe(self, node: ast.expr, prefixes: list[str]) -> ast.expr:
        """The call side with the arguments taken from ARGS and the function called by its name."""
        if node is self.call:
            slots = [ast.Subscript(ast.Name(ARGS, ast.Load()), ast.Constant(i), ast.Load())
                     for i in range(len(prefixes))]
            args: list[ast.expr] = []
            keywords: list[ast.keyword] = []
            for prefix, slot in zip(prefixes, slots, strict=True):
                if prefix == "":
                    args.append(slot)
                elif prefix == "*":
                    args.append(ast.Starred(slot, ast.Load()))
                else:
                    keywords.append(ast.keyword(arg=prefix[:-1] if prefix != "**" else None, value=slot))
            return ast.Call(ast.Name(self.function, ast.Load()), args, keywords)
        if isinstance(node, ast.Call):
            return ast.Call(node.func, [self.probe(node.args[0], prefixes), *node.args[1:]], node.keywords)
        assert isinstance(node, ast.Subscript)
        return ast.Subscript(self.probe(node.value, prefixes), node.slice, ast.Load())
