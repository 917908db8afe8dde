"""A job while it runs: cancelled from the editor's progress or by cancelling the command's request (the job is
cancelled on the service, not left running), and its edit refused when the user changed the function meanwhile —
but applied where the function now is when the user typed elsewhere. Settings from workspace/configuration."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
from lsprotocol import types

from tests.lsp.client import EditorClient
from tests.lsp.conftest import settings_for, start
from tests.lsp.scenarios import LIMIT, actions_at, latest_job, wait_until, write_module
from tests.service.conftest import KEYS
from tests.service.harness import ApiServer

pytestmark = pytest.mark.asyncio

SLOW = " (wrong first) (slow 1.5)"  # every answer of the model takes 1.5 s: time to act while the job runs


async def _begin(client: EditorClient, uri: str, title: str = "Self-debug this function",
                 msg_id: str | None = None) -> tuple[asyncio.Future[object], str]:
    """Start an action without waiting for it; its future, and its progress token once it began."""
    actions = {a.title.split(" (")[0]: a for a in await actions_at(client, uri, 4)}
    command = actions[title].command
    assert command is not None
    future = asyncio.ensure_future(client.protocol.send_request_async(
        types.WORKSPACE_EXECUTE_COMMAND, types.ExecuteCommandParams(command=command.command,
                                                                    arguments=command.arguments), msg_id=msg_id))
    tokens = await wait_until(lambda: [t for t, r in client.progress_reports.items() if r], "the progress")
    await wait_until(lambda: any(getattr(r, "message", None) == "job queued"
                                 for r in client.progress_reports[tokens[0]]), "the job to be submitted")
    return future, str(tokens[0])


def _job_status(service: ApiServer) -> str:
    return str(latest_job(service)["status"])


async def test_cancelling_the_progress_cancels_the_job(lsp_client: EditorClient, service: ApiServer,
                                                       tmp_path: Path) -> None:
    await start(lsp_client, tmp_path, settings_for(service))
    source = write_module(tmp_path, notes=SLOW)
    uri = lsp_client.open(source)
    future, token = await _begin(lsp_client, uri)
    lsp_client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    await asyncio.wait_for(future, LIMIT)

    await wait_until(lambda: _job_status(service) == "cancelled", "the job to be cancelled on the service", 30)
    end = lsp_client.progress_reports[token][-1]
    assert isinstance(end, types.WorkDoneProgressEnd) and end.message == "cancelled"
    assert "cancelled (its job was cancelled on the service)" in lsp_client.messages_of(types.MessageType.Info)[-1]
    assert lsp_client.edits == [] and lsp_client.text(uri) == source.read_text()
    assert lsp_client.statuses[-1]["busy"] is False


async def test_cancelling_the_request_cancels_the_job(lsp_client: EditorClient, service: ApiServer,
                                                      tmp_path: Path) -> None:
    await start(lsp_client, tmp_path, settings_for(service))
    uri = lsp_client.open(write_module(tmp_path, notes=SLOW))
    future, _ = await _begin(lsp_client, uri, "Trace and repair", msg_id="trace-1")
    lsp_client.protocol.notify(types.CANCEL_REQUEST, types.CancelParams(id="trace-1"))
    with pytest.raises(Exception, match="cancel"):
        await asyncio.wait_for(future, LIMIT)

    await wait_until(lambda: _job_status(service) == "cancelled", "the job to be cancelled on the service", 30)
    assert lsp_client.edits == []
    # The server lives on: the next action runs to its end.
    lsp_client.change(uri, lsp_client.text(uri).replace(" (slow 1.5)", ""))
    actions = {a.title.split(" (")[0]: a for a in await actions_at(lsp_client, uri, 4)}
    command = actions["Self-debug this function"].command
    assert command is not None
    await asyncio.wait_for(lsp_client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments)), LIMIT)
    assert "return a + b" in lsp_client.text(uri)


async def test_the_edit_is_refused_when_the_function_changed_meanwhile(
        lsp_client: EditorClient, service: ApiServer, tmp_path: Path) -> None:
    await start(lsp_client, tmp_path, settings_for(service))
    uri = lsp_client.open(write_module(tmp_path, notes=SLOW))
    future, _ = await _begin(lsp_client, uri)
    mine = lsp_client.text(uri).replace("return a - b", "return sum((a, b))  # mine")
    lsp_client.change(uri, mine)
    await asyncio.wait_for(future, LIMIT)

    assert lsp_client.text(uri) == mine and lsp_client.edits == []
    assert "add changed while its job ran: the repaired version was not applied" in \
        lsp_client.messages_of(types.MessageType.Warning)[-1]
    assert _job_status(service) == "succeeded"


async def test_the_edit_lands_on_the_function_when_the_user_typed_elsewhere(
        lsp_client: EditorClient, service: ApiServer, tmp_path: Path) -> None:
    await start(lsp_client, tmp_path, settings_for(service))
    uri = lsp_client.open(write_module(tmp_path, notes=SLOW))
    future, _ = await _begin(lsp_client, uri)
    typed = "# typed above\n\n" + lsp_client.text(uri).replace("math.floor(x)", "math.ceil(x)  # typed below")
    lsp_client.change(uri, typed)
    await asyncio.wait_for(future, LIMIT)

    assert lsp_client.text(uri) == typed.replace("return a - b", "return a + b")
    (_, edit), = lsp_client.edits
    change = edit.edit.document_changes[0]  # type: ignore[index]
    assert isinstance(change, types.TextDocumentEdit) and change.text_document.version == 2
    assert change.edits[0].range.start.line == 5  # type: ignore[union-attr]


async def test_settings_come_from_workspace_configuration_and_the_key_is_never_shown(
        lsp_client: EditorClient, service: ApiServer, tmp_path: Path) -> None:
    lsp_client.set_configuration(settings_for(service, strategy="in_execution", maxIterations=1),
                                 section="selfdebug")
    await start(lsp_client, tmp_path)  # no initializationOptions
    uri = lsp_client.open(write_module(tmp_path))
    actions = {a.title.split(" (")[0]: a for a in await actions_at(lsp_client, uri, 4)}
    command = actions["Self-debug this function"].command
    assert command is not None
    await asyncio.wait_for(lsp_client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments)), LIMIT)

    job = latest_job(service)
    assert job["options"]["strategy"] == "in_execution" and job["options"]["max_iterations"] == 1
    said = [m.message for m in lsp_client.messages + lsp_client.log_messages]
    assert said and not any(KEYS["alice"] in line for line in said)
    # A changed setting applies to the next action.
    lsp_client.set_configuration(settings_for(service, key=KEYS["bob"]), section="selfdebug")
    lsp_client.workspace_did_change_configuration(types.DidChangeConfigurationParams(settings=None))
    lsp_client.change(uri, lsp_client.text(uri).replace("return a + b", "return a - b"))
    await asyncio.wait_for(lsp_client.workspace_execute_command_async(types.ExecuteCommandParams(
        command=command.command, arguments=command.arguments)), LIMIT)
    with httpx.Client(base_url=service.url, headers={"Authorization": f"Bearer {KEYS['bob']}"}) as bob:
        assert bob.get("/v1/jobs").json()["items"], "the second job ran with the new key"
