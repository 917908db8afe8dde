"""What the language server's tests do in the editor: documents to open, actions to run, things to wait for."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from lsprotocol import types

from tests.lsp.client import EditorClient
from tests.service.conftest import KEYS
from tests.service.harness import ApiServer

__all__ = ["MODULE", "actions_at", "latest_job", "run_action", "wait_until", "write_module"]

LIMIT = 60.0  # seconds any one action may take in these tests

MODULE = '''import math


def add(a, b):
    """Return the sum of a and b.{notes}

    >>> add(1, 2)
    3
    """
    return a - b


def untouched(x):
    return math.floor(x)
'''


def write_module(root: Path, notes: str = " (wrong first)", name: str = "calc.py") -> Path:
    path = root / name
    path.write_text(MODULE.format(notes=notes))
    return path


async def actions_at(client: EditorClient, uri: str, line: int, character: int = 4,
                     end: tuple[int, int] | None = None) -> list[types.CodeAction]:
    start = types.Position(line=line, character=character)
    stop = types.Position(line=end[0], character=end[1]) if end else start
    found = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=types.Range(start=start, end=stop),
        context=types.CodeActionContext(diagnostics=[])))
    return [a for a in found or [] if isinstance(a, types.CodeAction)]


async def run_action(client: EditorClient, uri: str, title: str, line: int = 4) -> float:
    """Pick ``title`` from the code actions at ``line`` and run its command; seconds it took."""
    actions = {a.title.split(" (")[0]: a for a in await actions_at(client, uri, line)}
    command = actions[title].command
    assert command is not None
    started = time.monotonic()
    await asyncio.wait_for(client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments)), LIMIT)
    return time.monotonic() - started


async def wait_until(condition: Any, what: str, timeout: float = LIMIT) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g}s waiting for {what}")
        await asyncio.sleep(0.05)
    return value


def latest_job(server: ApiServer, key: str = KEYS["alice"]) -> dict[str, Any]:
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=10) as http:
        items = http.get("/v1/jobs", params={"limit": 1}).json()["items"]
        assert items, "the service has no job of this key"
        return dict(http.get(f"/v1/jobs/{items[0]['id']}").json())
