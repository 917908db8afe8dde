"""The language server under test: ``selfdebug lsp`` in a subprocess driven by pytest-lsp's client, in front of
the real service of ``tests/service`` (the API in a thread, a real worker and sandbox, the scripted model)."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig

from selfdebug_client import ENV_API_KEY, ENV_URL
from tests.lsp.client import EditorClient, capabilities, make_client
from tests.service.conftest import KEYS, api, llm, redis_db, service, service_env, worker
from tests.service.harness import ApiServer

__all__ = ["KEYS", "api", "llm", "redis_db", "service", "service_env", "worker"]  # the service's fixtures, reused

# `python -m selfdebug_cli lsp` is `selfdebug lsp` without relying on the console script being on PATH.
SERVER = [sys.executable, "-m", "selfdebug_cli", "lsp"]
# The server must not find a service in the environment: the tests say where it is (or that there is none).
SERVER_ENV = {name: value for name, value in os.environ.items() if name not in (ENV_URL, ENV_API_KEY)}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "service" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.docker)


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER, client_factory=make_client,
                                              server_env=SERVER_ENV))
async def lsp_client(client: EditorClient) -> AsyncIterator[None]:
    """``selfdebug lsp`` started, and the test's client connected to it (the test initializes the session)."""
    yield
    if client.capabilities is not None:
        await client.shutdown_session()
    elif client._server is not None:  # never initialized: nothing would make it exit
        client._server.kill()


async def start(client: EditorClient, root: Path, options: dict[str, Any] | None = None) -> None:
    """Initialize the session as VS Code would, in workspace ``root``, with ``options`` as initializationOptions."""
    await client.initialize_session(types.InitializeParams(
        capabilities=capabilities(), root_uri=root.as_uri(), initialization_options=options,
        workspace_folders=[types.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))


def settings_for(server: ApiServer, key: str = KEYS["alice"], **more: Any) -> dict[str, Any]:
    return {"serverUrl": server.url, "apiKey": key, **more}
