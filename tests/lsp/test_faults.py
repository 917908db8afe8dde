"""Faults said in the editor, the server alive after each: no service configured, the service down, a key it
refuses (401), a key it rate-limits (429), a job that fails."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from lsprotocol import types

from tests.lsp.client import EditorClient
from tests.lsp.conftest import settings_for, start
from tests.lsp.scenarios import LIMIT, actions_at, write_module
from tests.service.conftest import KEYS, api_settings
from tests.service.harness import ApiServer, free_port

pytestmark = pytest.mark.asyncio


async def _run(client: EditorClient, root: Path, title: str = "Self-debug this function",
               notes: str = " (wrong first)") -> str:
    """Run ``title`` on add; the error the editor was shown. The server must still answer afterwards."""
    uri = client.open(write_module(root, notes=notes))
    actions = {a.title.split(" (")[0]: a for a in await actions_at(client, uri, 4)}
    command = actions[title].command
    assert command is not None
    await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments)), LIMIT)
    errors = client.messages_of(types.MessageType.Error)
    assert len(errors) == 1, client.messages
    assert await actions_at(client, uri, 4), "the server stopped answering"
    assert client.edits == [] and client.statuses[-1]["busy"] is False
    return errors[0]


async def test_no_service_configured(lsp_client: EditorClient, tmp_path: Path) -> None:
    await start(lsp_client, tmp_path)
    error = await _run(lsp_client, tmp_path)
    assert error.startswith("selfdebug: no selfdebug service is configured: set selfdebug.serverUrl")


async def test_service_down(lsp_client: EditorClient, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    await start(lsp_client, tmp_path, {"serverUrl": url, "apiKey": "k"})
    error = await _run(lsp_client, tmp_path, "Run tests in the sandbox")
    assert error.startswith(f"selfdebug: cannot reach the service at {url}: is it running?")


async def test_unknown_key(lsp_client: EditorClient, service: ApiServer, tmp_path: Path) -> None:
    await start(lsp_client, tmp_path, settings_for(service, key="not-a-key-of-the-service"))
    error = await _run(lsp_client, tmp_path)
    assert "refused the key (401" in error and "selfdebug.apiKey" in error
    assert "not-a-key-of-the-service" not in error


@pytest.fixture
def strict_api(service: ApiServer) -> Iterator[ApiServer]:
    """A second API on the same Redis and worker that allows one request a minute per key."""
    with ApiServer(api_settings(rate_limit=1, rate_window=60)) as server:
        yield server


async def test_rate_limited(lsp_client: EditorClient, strict_api: ApiServer, tmp_path: Path) -> None:
    with httpx.Client(base_url=strict_api.url, headers={"Authorization": f"Bearer {KEYS['bob']}"}) as bob:
        assert bob.get("/v1/jobs").status_code == 200  # the minute's one request
    await start(lsp_client, tmp_path, settings_for(strict_api, key=KEYS["bob"]))
    error = await _run(lsp_client, tmp_path, "Generate tests")
    assert "the service is rate-limiting this key (429" in error and "try again in " in error


async def test_a_job_that_fails(lsp_client: EditorClient, service: ApiServer, tmp_path: Path) -> None:
    await start(lsp_client, tmp_path, settings_for(service))
    error = await _run(lsp_client, tmp_path, notes=" (llm 500)")  # the model's endpoint answers 500
    assert error.startswith("selfdebug: the job ") and " failed: " in error
