"""Each action of ``selfdebug lsp`` against the real service (API, worker, sandbox) and the scripted model: the code
actions offered, progress fed by the job's events, the repaired function applied as an edit and nothing else,
self-tests and the user's tests as diagnostics, tests generated into a file or below the function."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from lsprotocol import types

from tests.llm.scripted_server import ScriptedOpenAIServer
from tests.lsp.client import EditorClient
from tests.lsp.conftest import settings_for, start
from tests.lsp.scenarios import MODULE, actions_at, latest_job, run_action, write_module
from tests.service.harness import ApiServer

pytestmark = pytest.mark.asyncio

REPAIRED = '''def add(a, b):
    """Return the sum of a and b. (wrong first)

    >>> add(1, 2)
    3
    """
    return a + b
'''


def steps_token(client: EditorClient) -> str:
    return str(next(iter(client.progress_reports)))


def _progress(client: EditorClient) -> list[types.WorkDoneProgressBegin | types.WorkDoneProgressReport
                                            | types.WorkDoneProgressEnd]:
    assert len(client.progress_reports) == 1, client.progress_reports
    return list(next(iter(client.progress_reports.values())))


async def test_the_four_actions_are_offered_in_a_documented_function_only(lsp_client: EditorClient,
                                                                          tmp_path: Path) -> None:
    await start(lsp_client, tmp_path)
    uri = lsp_client.open(write_module(tmp_path))
    titles = [a.title for a in await actions_at(lsp_client, uri, 8)]  # in add's body
    assert titles == ["Self-debug this function", "Trace and repair (add)", "Generate tests (add)",
                      "Run tests in the sandbox (add)"]
    assert all(a.kind == "refactor.selfdebug" for a in await actions_at(lsp_client, uri, 3, 0))
    assert await actions_at(lsp_client, uri, 0) == []  # the imports
    assert await actions_at(lsp_client, uri, 13) == []  # untouched has no docstring...
    selected = await actions_at(lsp_client, uri, 12, 0, end=(13, 10))
    assert [a.title for a in selected][1] == "Trace and repair (untouched)"  # ...but it can be selected


async def test_self_debug_replaces_only_the_function(lsp_client: EditorClient, service: ApiServer,
                                                      tmp_path: Path) -> None:
    await start(lsp_client, tmp_path, settings_for(service))
    uri = lsp_client.open(write_module(tmp_path))
    seconds = await run_action(lsp_client, uri, "Self-debug this function")

    assert lsp_client.text(uri) == MODULE.format(notes=" (wrong first)").replace(
        REPAIRED.replace("a + b", "a - b"), REPAIRED)
    (edit_at, edit), = lsp_client.edits
    change = edit.edit.document_changes[0]  # type: ignore[index]
    assert isinstance(change, types.TextDocumentEdit) and change.text_document.version == 1
    assert [e.range.start.line for e in change.edits] == [3]  # type: ignore[union-attr]
    steps = _progress(lsp_client)
    assert isinstance(steps[0], types.WorkDoneProgressBegin) and steps[0].cancellable
    assert steps[0].title == "Self-debug add"
    messages = [s.message for s in steps[1:-1]]
    for expected in ("job queued", "program written", "3 self-tests", "1/3 self-tests passed",
                     "repair 1: asking the model", "repair 1: program rewritten", "3/3 self-tests passed"):
        assert expected in messages, messages
    assert isinstance(steps[-1], types.WorkDoneProgressEnd)
    summary = lsp_client.messages_of(types.MessageType.Info)[-1]
    assert summary.startswith("selfdebug: add repaired: 3/3 self-tests pass; the docstring's examples passed"), \
        summary
    assert list(lsp_client.diagnostics[uri]) == []
    assert lsp_client.statuses[0] == {"busy": True, "text": "selfdebug: add", "token": steps_token(lsp_client)}
    assert {"busy": True, "text": "selfdebug: add: program written", "token": steps_token(lsp_client)} in \
        lsp_client.statuses
    assert lsp_client.statuses[-1]["busy"] is False
    assert latest_job(service)["options"]["strategy"] == "post_execution"
    print(f"\nSelf-debug with the scripted model: {seconds:.2f} s from the action to its answer; the edit "
          f"{edit_at - (time.monotonic() - seconds):.2f} s after the action")


async def test_trace_and_repair_runs_in_execution(lsp_client: EditorClient, service: ApiServer,
                                                  tmp_path: Path) -> None:
    await start(lsp_client, tmp_path, settings_for(service))
    uri = lsp_client.open(write_module(tmp_path))
    await run_action(lsp_client, uri, "Trace and repair")

    assert REPAIRED in lsp_client.text(uri)
    steps = _progress(lsp_client)
    assert steps[0].title == "Trace and repair add"  # type: ignore[union-attr]
    assert any(s.message and s.message.startswith("traced ") for s in steps[1:])
    assert latest_job(service)["options"]["strategy"] == "in_execution"


async def test_self_tests_the_final_program_fails_are_warnings_on_the_function(
        lsp_client: EditorClient, service: ApiServer, llm: ScriptedOpenAIServer, tmp_path: Path) -> None:
    wrong = "```python\ndef add(a, b):\n    return a - b\n```"
    llm.reply(wrong).reply("```python\nassert add(1, 2) == 3\nassert add(0, 0) == 0\nassert add(2, 5) == 7\n```")
    llm.reply(wrong)  # the repair changes nothing: the final program still fails two self-tests
    await start(lsp_client, tmp_path, settings_for(service, maxIterations=1))
    uri = lsp_client.open(write_module(tmp_path, notes=""))
    await run_action(lsp_client, uri, "Self-debug this function")

    diagnostics = lsp_client.diagnostics[uri]
    assert [d.severity for d in diagnostics] == [types.DiagnosticSeverity.Warning] * 2
    assert {d.range.start.line for d in diagnostics} == {3}  # the def line
    assert all(d.source == "selfdebug" for d in diagnostics)
    assert "self-test failed: assert add(1, 2) == 3: expected 3, got -1" in diagnostics[0].message
    assert lsp_client.messages_of(types.MessageType.Info)[-1].startswith(
        "selfdebug: add unchanged (the model's program is the same): 1/3 self-tests pass")

    # Typing elsewhere moves them with the function; editing the function drops them.
    text = lsp_client.text(uri)
    lsp_client.change(uri, "# a comment\n" + text)
    await lsp_client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert {d.range.start.line for d in lsp_client.diagnostics[uri]} == {4}
    lsp_client.change(uri, "# a comment\n" + text.replace("return a - b", "return b - a"))
    await lsp_client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert list(lsp_client.diagnostics[uri]) == []


async def test_generate_tests_below_the_function(lsp_client: EditorClient, service: ApiServer,
                                                 tmp_path: Path) -> None:
    await start(lsp_client, tmp_path, settings_for(service, testsLocation="below"))
    uri = lsp_client.open(write_module(tmp_path, notes=" (wrong first) (slow 0.5)"))
    await run_action(lsp_client, uri, "Generate tests")

    text = lsp_client.text(uri)
    assert '    return a - b\n\n\ndef test_add_1():\n    assert add(1, 2) == 3\n\n\ndef test_add_2():\n' in text
    assert text.endswith("def untouched(x):\n    return math.floor(x)\n")
    assert "3 tests of add added below it" in lsp_client.messages_of(types.MessageType.Info)[-1]
    job = latest_job(service)
    assert job["status"] == "cancelled"  # not left to repair once its tests were written


async def test_generate_tests_into_a_test_file(lsp_client: EditorClient, service: ApiServer,
                                               tmp_path: Path) -> None:
    await start(lsp_client, tmp_path, settings_for(service))
    uri = lsp_client.open(write_module(tmp_path))
    await run_action(lsp_client, uri, "Generate tests")

    test_uri = (tmp_path / "test_calc.py").as_uri()
    assert lsp_client.created == [test_uri]
    assert lsp_client.text(test_uri).startswith(
        "from calc import add\n\n\ndef test_add_1():\n    assert add(1, 2) == 3\n")
    assert lsp_client.text(uri) == MODULE.format(notes=" (wrong first)")

    # A second run appends to the file, numbering on.
    await run_action(lsp_client, uri, "Generate tests")
    text = lsp_client.text(test_uri)
    assert text.count("from calc import add") == 1 and "def test_add_6():\n    assert add(2, 5) == 7\n" in text


async def test_run_tests_makes_each_failure_a_diagnostic_pointing_at_the_test(
        lsp_client: EditorClient, service: ApiServer, tmp_path: Path) -> None:
    tests = tmp_path / "test_calc.py"
    tests.write_text("from calc import add\n\n\ndef test_add_small():\n    assert add(1, 2) == 3\n\n\n"
                     "def test_add_zero():\n    result = add(0, 0)\n    assert result == 0\n")
    await start(lsp_client, tmp_path, settings_for(service))
    uri = lsp_client.open(write_module(tmp_path, notes=""))
    await run_action(lsp_client, uri, "Run tests in the sandbox")

    diagnostics = lsp_client.diagnostics[uri]
    assert [d.message for d in diagnostics] == ["docstring example 1 failed: expected 3, got -1",
                                                "test_add_small failed: expected 3, got -1"]
    assert all(d.severity == types.DiagnosticSeverity.Error and d.range.start.line == 3 for d in diagnostics)
    related = diagnostics[1].related_information[0]  # type: ignore[index]
    assert related.location.uri == tests.as_uri() and related.location.range.start.line == 3
    assert "1/3 of your tests pass in the sandbox" in lsp_client.messages_of(types.MessageType.Info)[-1]

    lsp_client.change(uri, lsp_client.text(uri).replace("return a - b", "return a + b"))
    await run_action(lsp_client, uri, "Run tests in the sandbox")
    assert list(lsp_client.diagnostics[uri]) == []
    assert "3/3 of your tests pass" in lsp_client.messages_of(types.MessageType.Info)[-1]
