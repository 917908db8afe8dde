"""Shared fixtures. Tests that need Docker use the real engine and the real image: they never skip."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sandbox import Sandbox, SandboxSettings
from selfdebug.datasets import DatasetSettings
from tests.llm.fixtures import embedded_server

__all__ = ["embedded_server"]  # one real llama.cpp server per session, shared by every test package

# The shared datasets sit next to the checkout, wherever it is cloned: <checkout>/../shared/data.
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    # Every test, and every process a test starts (workers, the CLI), reads the named datasets from the shared
    # folder, not from the network; a SELFDEBUG_DATA_DIR already set (not empty) wins.
    if not os.environ.get("SELFDEBUG_DATA_DIR"):
        os.environ["SELFDEBUG_DATA_DIR"] = str(SHARED_DATA)


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
    """The shared datasets (SELFDEBUG_DATA_DIR, else ../shared/data); tests read them in place, never copy them."""
    data = DatasetSettings().data_dir
    if data is None or not data.is_dir():
        pytest.fail(f"the shared data folder is missing: {data} (SELFDEBUG_DATA_DIR)")
    return data


@pytest.fixture(scope="session")
def sandbox_settings() -> SandboxSettings:
    return SandboxSettings(pool_size=2, test_timeout=5.0, cpu_time=5.0, job_timeout=30.0)


@pytest.fixture(scope="session")
def sandbox(sandbox_settings: SandboxSettings) -> Iterator[Sandbox]:
    """One warm pool for the whole session (real Docker, real image)."""
    with Sandbox(sandbox_settings) as box:
        yield box
