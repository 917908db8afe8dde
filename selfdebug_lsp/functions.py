"""Python functions in an editor's text: which one the cursor is in, what the model is shown of it, and how a
repaired program replaces it. Pure text and ``ast``, no I/O.

Only module-level ``def`` functions qualify: the service calls the entry point by name at the top of the program,
so a method or a nested function has no name it could call.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

__all__ = ["Function", "find_function", "function_at", "functions", "module_imports", "prompt_for", "replacement"]


@dataclass(frozen=True)
class Function:
    """A module-level function as it stands in a text: lines ``start`` (its ``def``) to ``end`` (exclusive,
    0-based), decorators left out (an edit keeps them)."""

    name: str
    start: int
    end: int
    text: str  # its lines, start to end, each with its line end
    docstring: str | None
    doc_start: int | None  # the docstring's lines, 0-based, end exclusive
    doc_end: int | None
    body_start: int  # the first line of its body after the docstring (or of the body, with none)

    def contains(self, line: int) -> bool:
        return self.start <= line < self.end


def _parse(source: str) -> ast.Module | None:
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):  # ValueError: a null byte
        return None


def _lines(source: str) -> list[str]:
    return source.splitlines(keepends=True)


def _function(node: ast.FunctionDef, lines: list[str]) -> Function:
    end = node.end_lineno or node.lineno
    doc = ast.get_docstring(node, clean=True)
    first = node.body[0]
    has_doc = doc is not None and isinstance(first, ast.Expr)
    doc_start = first.lineno - 1 if has_doc else None
    doc_end = (first.end_lineno or first.lineno) if has_doc else None
    if has_doc and len(node.body) > 1:
        body_start = node.body[1].lineno - 1
    elif has_doc:
        body_start = doc_end or end
    else:
        body_start = first.lineno - 1
    return Function(name=node.name, start=node.lineno - 1, end=end, text="".join(lines[node.lineno - 1:end]),
                    docstring=doc, doc_start=doc_start, doc_end=doc_end, body_start=body_start)


def functions(source: str) -> list[Function]:
    """Every module-level function of ``source`` (none when it does not parse)."""
    tree = _parse(source)
    if tree is None:
        return []
    lines = _lines(source)
    return [_function(node, lines) for node in tree.body if isinstance(node, ast.FunctionDef)]


def find_function(source: str, name: str) -> Function | None:
    """The module-level function ``name`` (the last definition, as Python binds it)."""
    found = [f for f in functions(source) if f.name == name]
    return found[-1] if found else None


def function_at(source: str, start_line: int, end_line: int | None = None) -> Function | None:
    """The function a cursor (``start_line``) or a selection (to ``end_line``) is in, or the first function a
    selection covers."""
    end_line = start_line if end_line is None else end_line
    candidates = functions(source)
    for function in candidates:
        if function.contains(start_line) and function.contains(end_line):
            return function
    if end_line > start_line:
        for function in candidates:
            if start_line <= function.start and function.end - 1 <= end_line:
                return function
    return None


def module_imports(source: str) -> list[str]:
    """The module's top-level import statements, as written."""
    tree = _parse(source)
    if tree is None:
        return []
    return [ast.get_source_segment(source, node) or "" for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)]


def prompt_for(source: str, function: Function) -> str:
    """What the model is shown: the module's imports, then the function's header and docstring (HumanEval's
    shape). A function without a docstring is shown whole: its code is the only statement of intent there is."""
    imports = "\n".join(i for i in module_imports(source) if i)
    lines = _lines(source)
    stub = function.text if function.doc_end is None else "".join(lines[function.start:function.doc_end])
    stub = stub if stub.endswith("\n") else stub + "\n"
    return f"{imports}\n\n\n{stub}" if imports else stub


def _indent(line: str) -> str:
    return line[: len(line) - len(line.lstrip())]


def _reindent(block: list[str], indent: str) -> list[str]:
    prefix = _indent(block[0]) if block else ""
    return [indent + line[len(prefix):] if line.startswith(prefix) else line for line in block]


def _defined_names(tree: ast.Module) -> set[str]:
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(t.id for t in targets if isinstance(t, ast.Name))
    return names


def _new_names(node: ast.stmt) -> set[str]:
    return _defined_names(ast.Module(body=[node], type_ignores=[]))


def replacement(source: str, function: Function, program: str) -> str | None:
    """The text that replaces ``function``'s lines: the function of the same name from ``program``, keeping the
    original docstring when the new one has none, preceded by whatever of ``program`` it needs that the module
    lacks (imports, helper functions, constants). None when ``program`` has no such function."""
    tree = _parse(program)
    module = _parse(source)
    if tree is None:
        return None
    nodes = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == function.name]
    if not nodes:
        return None
    node = nodes[-1]
    lines = _lines(program)
    new = _function(node, lines)
    body = lines[new.start:new.end]
    if new.docstring is None and function.doc_start is not None and function.doc_end is not None:
        old_doc = _lines(source)[function.doc_start:function.doc_end]
        at = new.body_start - new.start
        body[at:at] = _reindent(old_doc, _indent(body[at]) if at < len(body) else "    ")
    have = _defined_names(module) if module is not None else set()
    extra = []
    for other in tree.body:
        if other is node or (isinstance(other, ast.FunctionDef) and other.name == function.name):
            continue
        names = _new_names(other)
        if names and not names <= have and function.name not in names:
            extra.append((ast.get_source_segment(program, other) or "").rstrip() + "\n")
            have |= names
    text = "".join(body)
    text = text if text.endswith("\n") else text + "\n"
    if extra:
        imports = [e for e in extra if e.startswith(("import ", "from "))]
        others = [e for e in extra if e not in imports]
        head = "".join(imports) + ("\n" if imports and others else "") + "\n\n".join(others)
        text = head + ("\n\n" if others else "\n") + text
    return text
