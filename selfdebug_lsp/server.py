"""``selfdebug lsp``: the language server (pygls, stdio). Code actions on a Python function run the actions of
``selfdebug_lsp.actions`` as commands; a job is cancelled from the editor by its progress
(``window/workDoneProgress/cancel``) or by cancelling the command's request (``$/cancelRequest``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.protocol import LanguageServerProtocol

from selfdebug_lsp.actions import Actions, Target
from selfdebug_lsp.editor import Editor
from selfdebug_lsp.errors import LspError
from selfdebug_lsp.functions import function_at
from selfdebug_lsp.settings import SECTION, merge

__all__ = ["COMMANDS", "KIND", "SelfDebugServer", "create_server"]

logger = logging.getLogger(__name__)
VERSION = "0.1.0"
KIND = types.CodeActionKind.Refactor + ".selfdebug"  # shown in the lightbulb menu, beside other refactorings
DEBUG, TRACE, GENERATE, RUN = ("selfdebug.debugFunction", "selfdebug.traceAndRepair", "selfdebug.generateTests",
                               "selfdebug.runTests")
COMMANDS = {DEBUG: "Self-debug this function", TRACE: "Trace and repair", GENERATE: "Generate tests",
            RUN: "Run tests in the sandbox"}


class _Protocol(LanguageServerProtocol):
    """pygls answers a cancelled request but leaves its handler running: cancel the action's task too."""

    _server: SelfDebugServer

    def _handle_cancel_notification(self, msg_id: Any) -> None:
        super()._handle_cancel_notification(msg_id)
        self._server.cancel_request(msg_id)


class SelfDebugServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("selfdebug", VERSION, protocol_cls=_Protocol,
                         text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.editor = Editor(self)
        self.actions = Actions(self.editor)
        self.tasks_by_request: dict[Any, asyncio.Task[Any]] = {}

    def cancel_request(self, msg_id: Any) -> None:
        task = self.tasks_by_request.get(msg_id)
        if task is not None and not task.done():
            task.cancel()

    async def run_command(self, action: Callable[[Target], Awaitable[None]], args: tuple[Any, ...]) -> None:
        """Run ``action`` on the command's target as the current request's task, so that ``$/cancelRequest``
        reaches it."""
        msg_id, task = self.protocol.msg_id, asyncio.current_task()
        if msg_id is not None and task is not None:
            self.tasks_by_request[msg_id] = task
        try:
            await action(Target.parse(args[0] if args else None))
        except LspError as exc:
            self.editor.show(types.MessageType.Error, str(exc))
        except asyncio.CancelledError:  # cancelled before the action began: nothing to undo
            pass
        finally:
            if msg_id is not None:
                self.tasks_by_request.pop(msg_id, None)

    def apply_settings(self, values: Any, where: str) -> None:
        try:
            self.editor.settings = merge(self.editor.settings, values)
        except ValueError as exc:
            self.editor.show(types.MessageType.Error, f"{exc} (from {where}): kept the previous value")

    async def pull_configuration(self) -> None:
        workspace = self.client_capabilities.workspace
        if workspace is None or not workspace.configuration:
            return
        try:
            values = await self.workspace_configuration_async(types.ConfigurationParams(
                items=[types.ConfigurationItem(section=SECTION)]))
        except Exception as exc:  # a client that cannot answer: keep what initializationOptions said
            logger.warning("workspace/configuration failed: %s", exc)
            return
        if values:
            self.apply_settings(values[0], "workspace/configuration")


def _code_actions(server: SelfDebugServer, params: types.CodeActionParams) -> list[types.CodeAction]:
    doc = server.workspace.get_text_document(params.text_document.uri)
    start, end = params.range.start, params.range.end
    function = function_at(doc.source, start.line, end.line)
    selected = (start.line, start.character) != (end.line, end.character)
    if function is None or (function.docstring is None and not selected):
        return []
    argument = {"uri": params.text_document.uri, "name": function.name}
    return [types.CodeAction(title=f"{title} ({function.name})" if command != DEBUG else title,
                             kind=KIND, command=types.Command(title=title, command=command, arguments=[argument]))
            for command, title in COMMANDS.items()]


def create_server() -> SelfDebugServer:
    server = SelfDebugServer()

    @server.feature(types.INITIALIZE)
    def initialize(ls: SelfDebugServer, params: types.InitializeParams) -> None:
        ls.apply_settings(params.initialization_options, "initializationOptions")

    @server.feature(types.INITIALIZED)
    async def initialized(ls: SelfDebugServer, params: types.InitializedParams) -> None:
        await ls.pull_configuration()

    @server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def changed_configuration(ls: SelfDebugServer, params: types.DidChangeConfigurationParams) -> None:
        settings = params.settings.get(SECTION) if isinstance(params.settings, dict) else None
        if settings is not None:
            ls.apply_settings(settings, "workspace/didChangeConfiguration")
        else:
            await ls.pull_configuration()

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: SelfDebugServer, params: types.DidChangeTextDocumentParams) -> None:
        uri = params.text_document.uri
        if ls.editor.store.follow(uri, ls.workspace.get_text_document(uri).source):
            ls.editor.publish(uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: SelfDebugServer, params: types.DidCloseTextDocumentParams) -> None:
        ls.editor.store.forget(params.text_document.uri)
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri,
                                                                            diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_CODE_ACTION,
                    types.CodeActionOptions(code_action_kinds=[KIND], resolve_provider=False))
    def code_action(ls: SelfDebugServer, params: types.CodeActionParams) -> list[types.CodeAction]:
        return _code_actions(ls, params)

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def cancel_progress(ls: SelfDebugServer, params: types.WorkDoneProgressCancelParams) -> None:
        ls.editor.cancel_progress(str(params.token))

    @server.command(DEBUG)
    async def debug(ls: SelfDebugServer, *args: Any) -> None:
        await ls.run_command(ls.actions.self_debug, args)

    @server.command(TRACE)
    async def trace(ls: SelfDebugServer, *args: Any) -> None:
        await ls.run_command(ls.actions.trace_and_repair, args)

    @server.command(GENERATE)
    async def generate(ls: SelfDebugServer, *args: Any) -> None:
        await ls.run_command(ls.actions.generate_tests, args)

    @server.command(RUN)
    async def run_tests(ls: SelfDebugServer, *args: Any) -> None:
        await ls.run_command(ls.actions.run_tests, args)

    return server
