"""Imports only run down the house (docs: DESIGN.md): command line -> everything; API, workers -> engine ->
sandbox; the client -> HTTP and its own models. Each module's imports are read with ``ast`` (those inside functions
and ``if TYPE_CHECKING`` blocks too, and ``importlib.import_module("...")`` with a literal name), so an upward
import fails here before anyone runs it."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The language server (selfdebug_lsp) is first-party too: nothing below the command line may import it.
FIRST_PARTY = {"sandbox", "selfdebug", "workers", "api", "selfdebug_client", "selfdebug_cli", "selfdebug_lsp"}
# What each package may import of ours (itself always).
ALLOWED = {
    "sandbox": set(),
    "selfdebug": {"sandbox"},
    "workers": {"selfdebug", "sandbox"},
    "api": {"workers", "selfdebug", "sandbox"},
    "selfdebug_client": set(),
    "selfdebug_lsp": {"selfdebug_client"},  # the language server talks to the service through the SDK only
    "selfdebug_cli": FIRST_PARTY,
}
# `python -m selfdebug` is a program's entry that nothing imports: it hands over to the command line.
ENTRY_POINTS = {Path("selfdebug/__main__.py"): {"selfdebug_cli"}}
# The client could ship as a distribution of its own: the standard library, httpx and pydantic only.
CLIENT_THIRD_PARTY = {"httpx", "pydantic"}


def _modules(package: str) -> Iterator[Path]:
    yield from sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path, package: str) -> Iterator[tuple[int, str]]:
    """(line, absolute top-level module name) of every import in the file, a module of ``package``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom):
            # A relative import stays inside its own package (Python refuses to climb above the top level).
            yield node.lineno, package if node.level else (node.module or "").split(".")[0]
        elif (isinstance(node, ast.Call) and _called(node.func) in ("import_module", "__import__") and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            yield node.lineno, node.args[0].value.split(".")[0]


def _called(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _stdlib(name: str) -> bool:
    return name in sys.stdlib_module_names or name == "__future__"


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_imports_only_run_down(package: str) -> None:
    wrong = []
    for path in _modules(package):
        relative = path.relative_to(ROOT)
        allowed = ALLOWED[package] | {package} | ENTRY_POINTS.get(relative, set())
        for line, name in _imports(path, package):
            if name in FIRST_PARTY and name not in allowed:
                wrong.append(f"{relative}:{line} imports {name}")
            if package == "selfdebug_client" and not (name in allowed or _stdlib(name) or name in CLIENT_THIRD_PARTY):
                wrong.append(f"{relative}:{line} imports {name} (the client takes only httpx and pydantic)")
    assert not wrong, "imports that run up the house:\n" + "\n".join(wrong)


def test_the_walk_sees_every_kind_of_import(tmp_path: Path) -> None:
    """The checker itself: each way of importing is seen (else the test above could pass by seeing nothing)."""
    probe = tmp_path / "probe.py"
    probe.write_text("import api.app\nfrom workers import x\nfrom . import y\nif TYPE_CHECKING:\n"
                     "    from selfdebug_cli import z\n"
                     "def f():\n    importlib.import_module('selfdebug_client.models')\n    __import__('json')\n")
    found = {name for _, name in _imports(probe, "sandbox")}
    assert found == {"api", "workers", "sandbox", "selfdebug_cli", "selfdebug_client", "json"}


def test_the_entry_point_only_hands_over() -> None:
    """``selfdebug/__main__.py`` is the one exception above, so it must stay an entry point and nothing more."""
    tree = ast.parse((ROOT / "selfdebug" / "__main__.py").read_text())
    imported = [node for node in ast.walk(tree) if isinstance(node, ast.Import | ast.ImportFrom)]
    assert [(n.module, [a.name for a in n.names]) for n in imported if isinstance(n, ast.ImportFrom)] == [
        ("selfdebug_cli", ["run"])]


def test_importing_the_client_loads_nothing_of_the_service_or_the_engine() -> None:
    code = ("import sys, selfdebug_client\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'api', 'workers', 'selfdebug', 'sandbox', "
            "'selfdebug_cli', 'celery', 'redis', 'docker', 'openai', 'fastapi'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                          timeout=60)
    assert done.stdout.strip() == "[]", done.stdout
