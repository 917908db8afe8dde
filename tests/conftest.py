"""Shared fixtures. Tests that need Docker use the real engine and the real image: they never skip."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Sandbox, SandboxSettings
from selfdebug.datasets import DatasetSettings
from tests.llm.fixtures import embedded_server

__all__ = ["embedded_server"]  # one real llama.cpp server per session, shared by every test package

# The shared datasets, wherever this checkout lives (CI clones it elsewhere): SELFDEBUG_DATA_DIR or the default.
DATA = DatasetSettings().data_dir


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Anything that takes the sandbox fixture needs Docker: mark it so `-m "not docker"` gives a quick unit run.
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if {"sandbox", "sandbox_settings", "gvisor_sandbox"} & names:
            item.add_marker(pytest.mark.docker)
        if "embedded_server" in names:
            item.add_marker(pytest.mark.llm)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared datasets (../shared/data); tests read them in place, never copy them."""
    if not DATA.is_dir():
        pytest.fail(f"the shared data folder is missing: {DATA}")
    return DATA


@pytest.fixture(scope="session")
def sandbox_settings() -> SandboxSettings:
    return SandboxSettings(pool_size=2, test_timeout=5.0, cpu_time=5.0, job_timeout=30.0)


@pytest.fixture(scope="session")
def sandbox(sandbox_settings: SandboxSettings) -> Iterator[Sandbox]:
    """One warm pool for the whole session (real Docker, real image)."""
    with Sandbox(sandbox_settings) as box:
        yield box
