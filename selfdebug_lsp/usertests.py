"""The tests a user already has for a function: the examples of its docstring, and the test functions and
asserts that call it — in its own module and in the test files next to it (``test_<module>.py``,
``<module>_test.py``, ``tests/test_<module>.py``). Each becomes one snippet the sandbox runs after the module's
code, with where it came from, so that a failure can point there."""

from __future__ import annotations

import ast
import doctest
import textwrap
from dataclasses import dataclass
from pathlib import Path

from selfdebug_lsp.functions import Function

__all__ = ["MAX_TEST_FILE_BYTES", "UserTest", "doctest_asserts", "files_with_tests", "user_tests_in"]

MAX_TEST_FILE_BYTES = 1 << 20  # a larger file is not read for tests


@dataclass(frozen=True)
class UserTest:
    """One test: ``code`` to run after the module's own, ``name`` for messages, and its lines in ``path`` (0-based,
    end exclusive; ``path`` None: the function's own document). ``example``: one of the docstring's, which the
    model may see (a job's visible tests); the others only judge (its hidden tests)."""

    name: str
    code: str
    start: int
    end: int
    path: Path | None = None
    example: bool = False


def doctest_asserts(function: Function) -> list[UserTest]:
    """The docstring's examples that show a value (``>>> f(1)`` then ``2``) as asserts; examples that raise, print
    several lines or set things up are left out."""
    if not function.docstring or function.doc_start is None or function.doc_end is None:
        return []
    try:
        examples = doctest.DocTestParser().get_examples(function.docstring)
    except ValueError:
        return []
    found = []
    for number, example in enumerate(examples, 1):
        source, want = example.source.strip(), example.want.strip()
        if not want or want.startswith("Traceback") or "\n" in want or "\n" in source:
            continue
        code = f"assert {source} == {want}"
        try:
            ast.parse(code)
        except SyntaxError:
            continue
        found.append(UserTest(name=f"docstring example {number}", code=code, start=function.doc_start,
                              end=function.doc_end, example=True))
    return found


def _mentions(node: ast.AST, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(node))


def _imports_name(node: ast.stmt, name: str) -> bool:
    if isinstance(node, ast.ImportFrom):
        return any((alias.asname or alias.name) == name for alias in node.names)
    return False


def _test_function_code(source: str, node: ast.FunctionDef, name: str) -> str:
    kept = [ast.get_source_segment(source, stmt, padded=True) or "" for stmt in node.body
            if not _imports_name(stmt, name)
            and not (stmt is node.body[0] and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant))]
    return textwrap.dedent("\n".join(kept)).strip() + "\n"


def user_tests_in(source: str, name: str, path: Path | None = None, *, skip: Function | None = None) -> list[UserTest]:
    """Tests of ``name`` in one module's text: its ``test_*`` functions that take no arguments and call it, and
    its top-level asserts that do. ``skip``: the function itself (its own body is no test). A test that needs
    pytest's machinery (``pytest.raises``, fixtures) is left out: the sandbox has no pytest."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return []
    found = []
    for node in tree.body:
        if skip is not None and isinstance(node, ast.FunctionDef) and node.lineno - 1 == skip.start:
            continue
        if (isinstance(node, ast.FunctionDef) and node.name.startswith("test") and not node.args.args
                and _mentions(node, name) and not _mentions(node, "pytest")):
            code = _test_function_code(source, node, name)
            found.append(UserTest(name=node.name, code=code, start=node.lineno - 1,
                                  end=node.end_lineno or node.lineno, path=path))
        elif isinstance(node, ast.Assert) and _mentions(node, name):
            code = ast.get_source_segment(source, node) or ""
            found.append(UserTest(name=f"assert on line {node.lineno}", code=code, start=node.lineno - 1,
                                  end=node.end_lineno or node.lineno, path=path))
    return found


def files_with_tests(module: Path, root: Path | None = None) -> list[Path]:
    """The files that hold tests of ``module`` by the usual names, those that exist."""
    stem = module.stem
    folders = [module.parent, module.parent / "tests"]
    if root is not None:
        folders.append(root / "tests")
    seen: list[Path] = []
    for folder in folders:
        for candidate in (folder / f"test_{stem}.py", folder / f"{stem}_test.py"):
            if candidate != module and candidate.is_file() and candidate not in seen \
                    and candidate.stat().st_size <= MAX_TEST_FILE_BYTES:
                seen.append(candidate)
    return seen
