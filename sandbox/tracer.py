"""The in-execution tracer (LDB's idea, our code): block-level intermediate states of one function call.

Stdlib only. Its source text is sent as a sandbox harness (globals ``PROGRAM``, ``PAYLOAD``, ``emit``); the host
also imports it, to test the pure parts. ``PAYLOAD``: ``{"entry_point": str, "inputs": [str], "max_blocks": 10,
"keep": 5, "repr_limit": 100, "max_events": int, "time_limit": seconds, "max_vars": int, "output_limit": int}``;
each input is Python source for the call's arguments (``"[1, 2], k=3"``), evaluated in the program's namespace.

Basic blocks come from the AST, per function: straight-line statements share a block; an ``if`` test (or ``while``
or ``match`` subject) ends the block it is in; a loop header is a block of its own; a new block starts at each
branch (if/else bodies, loop bodies, loop ``else``), at each ``except`` / ``case`` entry, at ``finally``, after
every compound statement, and after ``return`` / ``raise`` / ``break`` / ``continue``; a ``try`` or ``with`` body
goes on in the block it starts in. The unit is a source line: statements sharing a line share the first one's block.

At run time ``sys.settrace`` (3.11; no ``sys.monitoring``) reports each line; a *dynamic block* starts whenever a
frame enters a different block, or jumps backwards in its bytecode within one block (a one-line loop). Its
``before`` state is the frame's bound locals at entry, its ``after`` the bound locals when it ends (modules,
functions and classes left out; at most ``max_vars``; globals are not shown). A block that ends the frame says
what it ``returned``, ``yielded`` or ``raised``; a block in which an exception was raised and caught says
``raised`` too.

* Every function and method the program defines is traced in every frame, labelled by qualified name, with
  ``depth``: how many traced frames it runs inside (0 for the entry point; recursion and helpers count up). Blocks
  are numbered in the order they start, so a caller's block comes before the blocks of the call it makes.
* Generators: each resume is a new frame activation; the block that suspends says ``yielded`` (a coroutine's
  ``await`` too). A generator returned by the entry point is drained into a list, as a test would do, and a
  coroutine is run with ``asyncio.run``, both under tracing.
* Comprehensions, generator expressions, lambdas and class bodies are expressions within a line of the
  enclosing block: 3.11 runs them as their own code objects, but they are not split into blocks, only timed.
* Limits: over ``max_blocks`` blocks, only the first ``keep`` and last ``keep`` are kept (memory stays bounded
  however long the run); after ``max_events`` traced events (lines and calls) or ``time_limit`` seconds the
  call is stopped by an exception raised into it (a ``BaseException``) and the trace is marked ``truncated``.
  What the call prints is kept (``output``, the first ``output_limit`` characters), not written out.
* Values are reprs cut to ``repr_limit`` characters (first and last half kept), built piecewise for builtin
  containers and strings, so a huge list costs no more than a small one.
"""

from __future__ import annotations

import ast
import builtins
import io
import sys
import textwrap
import time
import types
from collections import defaultdict, deque
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

FILENAME = "<solution>"
MARK = "..."
SUSPENDS = 0x20 | 0x80 | 0x200  # CO_GENERATOR, CO_COROUTINE, CO_ASYNC_GENERATOR
DEFAULTS: dict[str, Any] = {
    "max_blocks": 10,
    "keep": 5,
    "repr_limit": 100,
    "max_events": 100_000,
    "time_limit": 2.0,
    "max_vars": 20,
    "output_limit": 1000,
}
_clock = time.perf_counter  # bound before the program loads: it may rebind names in the modules it shares with us
_settrace = sys.settrace
_SKIPPED = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)
_ENDS_BLOCK = (ast.Return, ast.Raise, ast.Break, ast.Continue)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


# ---------------------------------------------------------------- bounded reprs


def cut(text: str, limit: int) -> str:
    """``text`` if it fits in ``limit`` characters, else its first and last halves around ``...``."""
    if len(text) <= limit:
        return text
    head = limit // 2
    return text[:head] + MARK + _tail(text, limit - head)


def _tail(text: str, n: int) -> str:
    return text[len(text) - n :] if len(text) > n else text


def bounded_repr(value: Any, limit: int) -> str:
    """``cut(repr(value), limit)``, without building the whole repr of a big builtin container or string."""
    try:
        probe = _prefix(value, limit + 1, set())
        if len(probe) <= limit:
            return probe
        head = limit // 2
        return probe[:head] + MARK + _suffix(value, limit - head, set())
    except Exception as exc:  # e.g. a container mutated by an element's __repr__, or nesting too deep
        return f"<repr failed: {type(exc).__name__}>"


def _atom(value: Any) -> str:
    if type(value) is int and value.bit_length() > 10_000:
        return f"<int of about {int(value.bit_length() * 0.30103) + 1} digits>"
    try:
        text = repr(value)
    except Exception as exc:  # a broken or hostile __repr__ must not break the trace
        return f"<repr failed: {type(exc).__name__}>"
    return text if isinstance(text, str) else f"<repr failed: {type(text).__name__}>"


def _quoted(value: str | bytes, n: int, *, head: bool) -> str:
    """The repr of ``value``, or of enough of its head (or tail) to give ``n`` exact characters of that end.

    Escapes are per character, so only the quote must match: a slice gets the characters that made ``repr(value)``
    choose its quote (``"`` when the text holds ``'`` but no ``"``).
    """
    if len(value) <= n:
        return _atom(value)
    if isinstance(value, str):
        single, double = "'" in value, '"' in value
        extra = "'\"" if single and double else "'" if single else ""
        return _atom(value[:n] + extra if head else extra + value[-n:])
    single, double = b"'" in value, b'"' in value
    raw = b"'\"" if single and double else b"'" if single else b""
    return _atom(value[:n] + raw if head else raw + value[-n:])


def _shape(value: Any) -> tuple[str, str, str] | None:
    """(opening, closing, recursion marker) of the builtin containers whose repr can be built piecewise."""
    kind = type(value)
    if kind is list:
        return "[", "]", "[...]"
    if kind is tuple:
        return "(", ",)" if len(value) == 1 else ")", "(...)"
    if kind is dict:
        return "{", "}", "{...}"
    if kind is set and value:
        return "{", "}", "{...}"
    if kind is frozenset and value:
        return "frozenset({", "})", "frozenset({...})"
    if kind is defaultdict:
        factory = _atom(value.default_factory)
        return f"defaultdict({factory}, {{", "})", f"defaultdict({factory}, {{...}})"
    if kind is deque:
        return "deque([", "])" if value.maxlen is None else f"], maxlen={value.maxlen})", "[...]"
    return None


def _prefix(value: Any, n: int, active: set[int]) -> str:
    """The first ``n`` characters of ``repr(value)`` (all of it when shorter)."""
    if n <= 0:
        return ""
    if type(value) in (str, bytes):
        return _quoted(value, n, head=True)[:n]
    shape = _shape(value)
    if shape is None:
        return _atom(value)[:n]
    opening, closing, marker = shape
    if id(value) in active:
        return marker[:n]
    active.add(id(value))
    try:
        parts, size = [opening], len(opening)
        items = iter(value.items()) if isinstance(value, dict) else iter(value)
        for index, item in enumerate(items):
            if size >= n:
                break
            if index:
                parts.append(", ")
                size += 2
            piece = _pair_prefix(item, n - size, active) if isinstance(value, dict) else _prefix(item, n - size, active)
            parts.append(piece)
            size += len(piece)
        else:
            parts.append(closing)
        return "".join(parts)[:n]
    finally:
        active.discard(id(value))


def _suffix(value: Any, n: int, active: set[int]) -> str:
    """The last ``n`` characters of ``repr(value)`` (all of it when shorter)."""
    if n <= 0:
        return ""
    if type(value) in (str, bytes):
        return _tail(_quoted(value, n, head=False), n)
    shape = _shape(value)
    if shape is None:
        return _tail(_atom(value), n)
    opening, closing, marker = shape
    if id(value) in active:
        return _tail(marker, n)
    active.add(id(value))
    try:
        parts, size = [closing], len(closing)
        items: Iterable[Any]
        if isinstance(value, dict):
            items = reversed(value.items())
        else:
            items = reversed(list(value)) if isinstance(value, (set, frozenset)) else reversed(value)
        for index, item in enumerate(items):
            if size >= n:
                break
            if index:
                parts.append(", ")
                size += 2
            piece = _pair_suffix(item, n - size, active) if isinstance(value, dict) else _suffix(item, n - size, active)
            parts.append(piece)
            size += len(piece)
        else:
            parts.append(opening)
        return _tail("".join(reversed(parts)), n)
    finally:
        active.discard(id(value))


def _pair_prefix(item: tuple[Any, Any], n: int, active: set[int]) -> str:
    key = _prefix(item[0], n, active)
    if len(key) < n:  # the key's repr is complete
        key += ": " + _prefix(item[1], n - len(key) - 2, active)
    return key[:n]


def _pair_suffix(item: tuple[Any, Any], n: int, active: set[int]) -> str:
    value = _suffix(item[1], n, active)
    if len(value) < n:
        value = _suffix(item[0], n - len(value) - 2, active) + ": " + value
    return _tail(value, n)


# ---------------------------------------------------------------- first-k / last-k


class Keeper:
    """Keeps the first ``keep`` and last ``keep`` of a stream once it grows past ``max_items`` (all otherwise),
    holding at most ``max_items + keep`` items at any time."""

    def __init__(self, max_items: int, keep: int) -> None:
        self.max_items = max(1, max_items)
        self.keep = max(0, min(keep, self.max_items // 2))
        self.first: list[Any] = []
        self.last: deque[Any] = deque(maxlen=self.keep)
        self.total = 0

    def add(self, item: Any) -> None:
        index = self.total
        self.total += 1
        if index < self.max_items:
            self.first.append(item)
        elif index == self.max_items:
            del self.first[self.keep :]  # over the limit: only the head is still needed from this list
        if index >= self.keep:
            self.last.append(item)

    def result(self) -> tuple[list[Any], int]:
        """The kept items in order, and how many were dropped."""
        if self.total <= self.max_items:
            return list(self.first), 0
        kept = self.first[: self.keep] + list(self.last)
        return kept, self.total - len(kept)


def summarise(items: Iterable[Any], max_items: int, keep: int) -> tuple[list[Any], int]:
    """First-k/last-k summary of ``items`` (see ``Keeper``)."""
    keeper = Keeper(max_items, keep)
    for item in items:
        keeper.add(item)
    return keeper.result()


# ---------------------------------------------------------------- static basic blocks


class FunctionBlocks:
    """One function's basic blocks: each line's block and the span of the statement (or header) it is in."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.line_block: dict[int, int] = {}
        self.line_span: dict[int, tuple[int, int]] = {}
        self.yield_lines: set[int] = set()
        self.comprehension_lines: set[int] = set()

    def blocks(self) -> dict[int, list[int]]:
        """Block id -> its lines, for inspection and tests."""
        grouped: dict[int, list[int]] = {}
        for line, block in sorted(self.line_block.items()):
            grouped.setdefault(block, []).append(line)
        return grouped


def _end(node: ast.AST) -> int:
    end = getattr(node, "end_lineno", None) or getattr(node, "lineno", 0)
    return end if isinstance(end, int) else 0


class _Splitter:
    def __init__(self, blocks: FunctionBlocks, counter: Iterator[int]) -> None:
        self.out = blocks
        self.counter = counter
        self.current: int | None = None

    def split(self) -> None:
        self.current = None

    def add(self, first: int, last: int) -> None:
        if self.current is None:
            self.current = next(self.counter)
        for line in range(first, max(first, last) + 1):
            if line not in self.out.line_block:  # a line shared by two statements stays with the first
                self.out.line_block[line] = self.current
                self.out.line_span[line] = (first, last)

    def body(self, statements: list[ast.stmt]) -> None:
        for statement in statements:
            self.statement(statement)

    def branch(self, statements: list[ast.stmt]) -> None:
        if statements:
            self.split()
            self.body(statements)

    def statement(self, node: ast.stmt) -> None:
        if isinstance(node, ast.If):
            self.add(node.lineno, _end(node.test))
            self.branch(node.body)
            self.branch(node.orelse)
        elif isinstance(node, (ast.For, ast.AsyncFor, ast.While)):
            self.split()
            self.add(node.lineno, _end(node.test if isinstance(node, ast.While) else node.iter))
            self.branch(node.body)
            self.branch(node.orelse)
        elif isinstance(node, (ast.Try, ast.TryStar)):
            self.add(node.lineno, node.lineno)
            self.body(node.body)
            for handler in node.handlers:
                self.split()
                self.add(handler.lineno, _end(handler.type) if handler.type else handler.lineno)
                self.body(handler.body)
            self.branch(node.orelse)
            self.branch(node.finalbody)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self.add(node.lineno, max(_end(item.context_expr) for item in node.items))
            self.body(node.body)
        elif isinstance(node, ast.Match):
            self.add(node.lineno, _end(node.subject))
            for case in node.cases:
                self.split()
                self.add(case.pattern.lineno, _end(case.guard or case.pattern))
                self.body(case.body)
        elif isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
            self.add(node.decorator_list[0].lineno if node.decorator_list else node.lineno, node.lineno)
            return  # a definition is one statement here; a function's body is split on its own
        else:
            self.add(node.lineno, _end(node))
            if isinstance(node, _ENDS_BLOCK):
                self.split()
            return
        self.split()  # after a compound statement


def _own_nodes(function: ast.AST) -> Iterator[ast.AST]:
    """The nodes of a function's body, not descending into nested functions, lambdas or classes."""
    stack = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        yield node
        if not isinstance(node, (*_FUNCTIONS, ast.Lambda, ast.ClassDef)):
            stack.extend(ast.iter_child_nodes(node))


def split_blocks(source: str) -> dict[tuple[str, int], FunctionBlocks]:
    """Basic blocks of every function in ``source``, keyed like code objects: ``(co_name, co_firstlineno)``."""
    tree = ast.parse(source)
    functions = sorted((n for n in ast.walk(tree) if isinstance(n, _FUNCTIONS)), key=lambda n: (n.lineno, n.col_offset))
    counter = iter(range(1 << 62))
    result: dict[tuple[str, int], FunctionBlocks] = {}
    for function in functions:
        blocks = FunctionBlocks(function.name)
        _Splitter(blocks, counter).body(function.body)
        for node in _own_nodes(function):
            if isinstance(node, (ast.Yield, ast.YieldFrom, ast.Await)):
                blocks.yield_lines.update(range(node.lineno, _end(node) + 1))
            elif isinstance(node, _COMPREHENSIONS):
                blocks.comprehension_lines.update(range(node.lineno, _end(node) + 1))
        first = function.decorator_list[0].lineno if function.decorator_list else function.lineno
        result[(function.name, first)] = blocks
    return result


# ---------------------------------------------------------------- dynamic tracing


class StopTracing(BaseException):
    """Raised into the traced call to stop it at a limit; a BaseException so ``except Exception`` lets it by."""


class _Activation:
    """A traced frame between its call event and its return event (a generator has one per resume)."""

    __slots__ = ("blocks", "depth", "lasti", "line", "name", "raised", "record")

    def __init__(self, blocks: FunctionBlocks, name: str, depth: int) -> None:
        self.blocks = blocks
        self.name = name
        self.depth = depth
        self.record: dict[str, Any] | None = None
        self.lasti = self.line = -1
        self.raised: str | None = None


class Tracer:
    """Turns the line events of one call into dynamic blocks, kept first-k/last-k."""

    def __init__(self, functions: Mapping[tuple[str, int], FunctionBlocks], options: Mapping[str, Any]) -> None:
        self.functions = functions
        self.limit = int(options["repr_limit"])
        self.max_vars = int(options["max_vars"])
        self.max_events = int(options["max_events"])
        self.keeper = Keeper(int(options["max_blocks"]), int(options["keep"]))
        self.activations: dict[types.FrameType, _Activation] = {}
        self.events = 0
        self.deadline = float("inf")
        self.stop_reason: str | None = None

    def start(self, seconds: float) -> None:
        self.deadline = _clock() + seconds
        _settrace(self.on_call)

    def on_call(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        code = frame.f_code
        if event != "call" or code.co_filename != FILENAME:
            return None
        self.tick()
        blocks = self.functions.get((code.co_name, code.co_firstlineno))
        if blocks is None:
            return self.on_other  # a comprehension, lambda or class body: part of its enclosing line
        try:
            self.activations[frame] = _Activation(blocks, code.co_qualname, self.depth_of(frame))
        except Exception:  # e.g. RecursionError at the recursion limit: leave this frame untraced
            return None
        return self.on_event

    def on_other(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        # Nothing is recorded here, so only the clock matters: a long comprehension is not a runaway.
        if event == "line" and _clock() > self.deadline:
            self.stop("stopped at the time limit")
        return self.on_other

    def on_event(self, frame: types.FrameType, event: str, arg: Any) -> Any:
        activation = self.activations.get(frame)
        if activation is None:
            return None
        try:
            if event == "line":
                self.tick()
                self.on_line(frame, activation)
            elif event == "exception":
                activation.raised = f"{arg[0].__name__}: {cut(_text(arg[1]), self.limit)}"
            elif event == "return":
                self.on_return(frame, activation, arg)
        except Exception:  # our own failure (e.g. at the recursion limit) must not change the program's run
            return self.on_event
        return self.on_event

    def tick(self) -> None:
        self.events += 1
        if self.events > self.max_events:
            self.stop(f"stopped after {self.max_events} traced events")
        if _clock() > self.deadline:
            self.stop("stopped at the time limit")

    def stop(self, reason: str) -> None:
        self.stop_reason = reason
        _settrace(None)
        for frame, activation in self.activations.items():
            if activation.record is not None:
                activation.record["after"] = self.snapshot(frame)
        self.activations.clear()
        raise StopTracing(reason)

    def depth_of(self, frame: types.FrameType) -> int:
        back = frame.f_back
        while back is not None:
            caller = self.activations.get(back)
            if caller is not None:
                return caller.depth + 1
            back = back.f_back
        return 0

    def on_line(self, frame: types.FrameType, activation: _Activation) -> None:
        line, lasti, record = frame.f_lineno, frame.f_lasti, activation.record
        block = activation.blocks.line_block.get(line, record["block"] if record else -1)
        # A loop's jump back within one block (a one-line loop): 3.11 reports a line again only after a backward
        # jump. (3.12 inlines comprehensions, whose jumps are not the block's.)
        jumped = lasti <= activation.lasti or line == activation.line
        back_edge = jumped and line not in activation.blocks.comprehension_lines
        if record is None or record["block"] != block or back_edge:
            state = self.snapshot(frame)
            if record is not None:
                self.finish(record, activation, state)
            record = self.begin(activation, block, state)
        activation.raised = None  # an exception followed by a line in this frame was handled here
        record["_lines"].add(line)
        activation.lasti, activation.line = lasti, line

    def on_return(self, frame: types.FrameType, activation: _Activation, value: Any) -> None:
        line = frame.f_lineno
        state = self.snapshot(frame)
        record = activation.record
        if record is None:  # e.g. a generator resumed and suspended again within one line
            record = self.begin(activation, activation.blocks.line_block.get(line, -1), state)
            record["_lines"].add(line)
        self.finish(record, activation, state)
        if activation.raised is None:
            suspended = line in activation.blocks.yield_lines and frame.f_code.co_flags & SUSPENDS
            kind = "yielded" if suspended else "returned"
            record[kind] = bounded_repr(value, self.limit)
        del self.activations[frame]

    def begin(self, activation: _Activation, block: int, state: dict[str, str]) -> dict[str, Any]:
        record: dict[str, Any] = {"index": self.keeper.total, "block": block, "function": activation.name,
                                  "depth": activation.depth, "_lines": set(), "_blocks": activation.blocks,
                                  "before": state, "after": None}
        self.keeper.add(record)
        activation.record = record
        return record

    def finish(self, record: dict[str, Any], activation: _Activation, state: dict[str, str]) -> None:
        record["after"] = state
        if activation.raised is not None:
            record["raised"] = activation.raised
        activation.record = None

    def snapshot(self, frame: types.FrameType) -> dict[str, str]:
        state: dict[str, str] = {}
        for name, value in frame.f_locals.items():
            if name.startswith("__") or isinstance(value, _SKIPPED):
                continue
            if len(state) >= self.max_vars:
                state[MARK] = "more variables not shown"
                break
            state[name] = bounded_repr(value, self.limit)
        return state

    def kept_blocks(self, lines: list[str]) -> tuple[list[dict[str, Any]], int]:
        """The kept blocks as JSON-ready dicts (lines widened to whole statements, with their code)."""
        kept, dropped = self.keeper.result()
        out = []
        for record in kept:
            spans = record["_blocks"].line_span
            numbers: set[int] = set()
            for line in record["_lines"]:
                first, last = spans.get(line, (line, line))
                numbers.update(range(first, last + 1))
            shown = sorted(numbers)
            code = textwrap.dedent("\n".join(lines[n - 1] for n in shown if 0 < n <= len(lines)))
            public = {key: value for key, value in record.items() if not key.startswith("_")}
            out.append({**public, "lines": shown, "code": code})
        return out, dropped


def _text(exc: BaseException | None) -> str:
    try:
        return str(exc)
    except Exception:
        return "<str() failed>"


# ---------------------------------------------------------------- one call, one program


class _Sink(io.TextIOBase):
    """Stands in for stdout and stderr during a traced call: keeps the first ``limit`` characters printed."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.parts: list[str] = []
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if self.size < self.limit:
            self.parts.append(text[: self.limit - self.size])
        self.size += len(text)
        return len(text)

    def getvalue(self) -> str:
        return "".join(self.parts)


def describe_exception(exc: BaseException, limit: int) -> dict[str, Any]:
    """Type, bounded message, and the innermost line of the program that the exception passed through."""
    line, function, tb = None, None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line, function = tb.tb_lineno, tb.tb_frame.f_code.co_qualname
        tb = tb.tb_next
    return {"type": type(exc).__name__, "message": cut(_text(exc), limit), "line": line, "function": function}


def arguments(source: str, namespace: dict[str, Any]) -> tuple[tuple[Any, ...], dict[str, Any]]:
    """Evaluate call-argument source (``"[1, 2], k=3"``) in the program's namespace."""

    def capture(*args: Any, **kwargs: Any) -> tuple[tuple[Any, ...], dict[str, Any]]:
        return args, kwargs

    code = compile(f"__capture__({source}\n)", "<input>", "eval", dont_inherit=True)
    result: tuple[tuple[Any, ...], dict[str, Any]] = eval(code, namespace, {"__capture__": capture})
    return result


def trace_call(function: Callable[..., Any], source: str, *, namespace: dict[str, Any],
               functions: Mapping[tuple[str, int], FunctionBlocks], lines: list[str],
               options: Mapping[str, Any]) -> dict[str, Any]:
    """Trace ``function`` on the arguments in ``source``: the JSON-ready trace of that one call."""
    trace: dict[str, Any] = {"input": source, "blocks": [], "dropped": 0, "total_blocks": 0, "return": None,
                             "exception": None, "truncated": False, "stop_reason": None, "output": "", "error": None}
    try:
        args, kwargs = arguments(source, namespace)
    except Exception as exc:
        trace["error"] = f"the input does not evaluate: {type(exc).__name__}: {cut(_text(exc), 200)}"
        return trace
    limit = int(options["repr_limit"])
    tracer = Tracer(functions, options)
    sink = _Sink(int(options["output_limit"]))
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = sink
    tracer.start(float(options["time_limit"]))
    try:
        value = function(*args, **kwargs)
        if isinstance(value, types.GeneratorType):
            value = list(value)  # as a test would: the generator's own blocks run now, under tracing
        elif isinstance(value, types.CoroutineType):
            import asyncio

            value = asyncio.run(value)
        trace["return"] = bounded_repr(value, limit)
    except StopTracing:
        pass
    except (Exception, SystemExit, GeneratorExit) as exc:
        trace["exception"] = describe_exception(exc, limit)
    finally:
        lost = sys.gettrace() != tracer.on_call
        _settrace(None)
        sys.stdout, sys.stderr = saved
    if tracer.stop_reason is None and lost:  # Python drops a trace function that fails, e.g. at the recursion limit
        tracer.stop_reason = "tracing stopped early (at the recursion limit, or the program replaced the tracer)"
    trace["blocks"], trace["dropped"] = tracer.kept_blocks(lines)
    trace["total_blocks"] = tracer.keeper.total
    trace["truncated"] = tracer.stop_reason is not None
    trace["stop_reason"] = tracer.stop_reason
    trace["output"] = sink.getvalue()
    return trace


def run(program: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    """The harness: load ``program``, then trace its entry point on each input. Failures are data."""
    options = {**DEFAULTS, **{k: v for k, v in payload.items() if v is not None}}
    entry_point, inputs = str(options["entry_point"]), [str(s) for s in options.get("inputs") or []]
    try:
        functions = split_blocks(program)
        code = compile(program, FILENAME, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return {"error": f"the program does not compile: SyntaxError: {exc.msg} (line {exc.lineno})", "traces": []}
    namespace: dict[str, Any] = {"__name__": "solution", "__builtins__": builtins}
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = _Sink(0)
    try:
        exec(code, namespace)
    except Exception as exc:
        return {"error": f"the program failed to load: {type(exc).__name__}: {cut(_text(exc), 200)}", "traces": []}
    finally:
        sys.stdout, sys.stderr = saved
    function = namespace.get(entry_point)
    if not callable(function):
        return {"error": f"the program defines no function named {entry_point!r}", "traces": []}
    lines = program.splitlines()
    return {"traces": [trace_call(function, source, namespace=namespace, functions=functions, lines=lines,
                                  options=options) for source in inputs]}


if __name__ == "__main__" and "PAYLOAD" in globals():  # running as a sandbox harness
    globals()["emit"](run(globals()["PROGRAM"], globals()["PAYLOAD"]))
