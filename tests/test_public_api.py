"""Each package's face: a sorted ``__all__`` whose names all exist (httpx checks its own the same way)."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("package", ["sandbox", "selfdebug", "selfdebug.llm", "api", "workers", "selfdebug_client",
                                     "selfdebug_cli", "selfdebug_lsp"])
def test_all_is_sorted_and_complete(package: str) -> None:
    module = importlib.import_module(package)
    names = list(module.__all__)
    # isort-style order, as ruff's RUF022 keeps it: CONSTANTS, then Classes, then functions, each alphabetical.
    assert names == sorted(names, key=lambda n: (0 if n.isupper() else 1 if n[0].isupper() else 2, n))
    assert len(set(names)) == len(names)
    for name in names:
        assert hasattr(module, name), f"{package}.{name} is exported but missing"
