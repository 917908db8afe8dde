"""Fixtures for the LLM client's tests; the reusable ones live in tests.llm.fixtures."""

from __future__ import annotations

import pytest

from tests.llm.fixtures import scripted_server

__all__ = ["scripted_server"]  # embedded_server comes from tests/conftest.py: one real server per session


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Tests on the real model are marked, so `-m "not llm"` gives a run without llama.cpp.
    for item in items:
        if "embedded_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.llm)
