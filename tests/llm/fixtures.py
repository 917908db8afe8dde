"""Fixtures other test packages can reuse: ``from tests.llm.fixtures import embedded_server, scripted_server``
in their conftest (import ``embedded_server`` in one conftest only, or each gets its own server)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from selfdebug.llm import EmbeddedServer, LLMSettings
from tests.llm.scripted_server import ScriptedOpenAIServer

__all__ = ["embedded_server", "scripted_server"]


@pytest.fixture
def scripted_server() -> Iterator[ScriptedOpenAIServer]:
    """A fresh scripted OpenAI-compatible server per test."""
    with ScriptedOpenAIServer() as server:
        yield server


@pytest.fixture(scope="session")
def embedded_server() -> Iterator[EmbeddedServer]:
    """The real embedded llama.cpp server with SmolLM2, started once per session (weights fetched if missing)."""
    with EmbeddedServer.from_settings(LLMSettings()) as server:
        yield server
