"""The editor as the actions see it: its documents, messages, progress, edits, diagnostics and the status line,
over the pygls server. Every message starts with ``selfdebug:``; nothing here ever shows the key."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path
from pygls.workspace import TextDocument

from selfdebug_lsp.diagnostics import Finding, Store
from selfdebug_lsp.functions import Function
from selfdebug_lsp.progress import Step
from selfdebug_lsp.settings import LspSettings

__all__ = ["STATUS_NOTIFICATION", "Editor", "Progress"]

logger = logging.getLogger(__name__)
# {"busy": bool, "text": str, "token": str | None}: what an editor's status line shows while a job runs; sending
# window/workDoneProgress/cancel with the token cancels it (for clients whose progress has no cancel button).
STATUS_NOTIFICATION = "selfdebug/status"


class Progress:
    """One ``$/progress`` of the client's (a no-op where the client has no work-done progress)."""

    def __init__(self, editor: Editor, token: str | None, label: str) -> None:
        self.ls, self.token, self.label = editor.ls, token, label
        self.editor = editor
        editor.status(True, label, token)

    def step(self, step: Step | None) -> None:
        if step is None:
            return
        self.editor.status(True, f"{self.label}: {step.message}", self.token)
        if self.token is not None:
            self.ls.work_done_progress.report(self.token, types.WorkDoneProgressReport(
                message=step.message, percentage=step.percentage, cancellable=True))

    def end(self, message: str) -> None:
        if self.token is not None:
            self.ls.work_done_progress.end(self.token, types.WorkDoneProgressEnd(message=message))
            self.token = None


class Editor:
    """What the server knows of the editor: its settings, documents and the diagnostics it was sent."""

    def __init__(self, ls: LanguageServer) -> None:
        self.ls = ls
        self.settings = LspSettings()
        self.store = Store()
        self.tasks_by_token: dict[str, asyncio.Task[Any]] = {}

    # ---------------------------------------------------------------- documents

    def document(self, uri: str) -> TextDocument:
        """The open document, or the file as it is on disk."""
        return self.ls.workspace.get_text_document(uri)

    def text_of(self, uri: str) -> str | None:
        """The open document's text, else the file's, else None (no such file)."""
        if uri in self.ls.workspace.text_documents:
            return str(self.ls.workspace.text_documents[uri].source)
        path = self.path(uri)
        try:
            return path.read_text(encoding="utf-8") if path is not None else None
        except (OSError, UnicodeDecodeError):
            return None

    def path(self, uri: str) -> Path | None:
        path = to_fs_path(uri)
        return Path(path) if path else None

    def uri(self, path: Path) -> str:
        return from_fs_path(str(path)) or path.as_uri()

    def root(self) -> Path | None:
        root = self.ls.workspace.root_path
        return Path(root) if root else None

    def units(self) -> Callable[[str], int]:
        codec = self.ls.workspace.position_codec
        return lambda text: int(codec.client_num_units(text))

    def _end_of(self, doc: TextDocument, line: int) -> types.Position:
        """The start of ``line``, or the end of the text when the text has fewer lines (or lacks a last newline)."""
        lines = doc.lines
        if line < len(lines):
            return types.Position(line=line, character=0)
        if lines and not lines[-1].endswith(("\n", "\r")):
            return types.Position(line=len(lines) - 1, character=self.units()(lines[-1]))
        return types.Position(line=len(lines), character=0)

    # ---------------------------------------------------------------- messages and status

    def show(self, kind: types.MessageType, message: str) -> None:
        self.ls.window_show_message(types.ShowMessageParams(type=kind, message=f"selfdebug: {message}"))

    def log(self, message: str) -> None:
        self.ls.window_log_message(types.LogMessageParams(type=types.MessageType.Info,
                                                          message=f"selfdebug: {message}"))

    def status(self, busy: bool, text: str = "", token: str | None = None) -> None:
        self.ls.protocol.notify(STATUS_NOTIFICATION, {"busy": busy, "text": text, "token": token})

    # ---------------------------------------------------------------- progress

    async def progress(self, title: str, label: str, task: asyncio.Task[Any] | None) -> Progress:
        """Begin a cancellable progress (and the status line's ``label``); cancelling it cancels ``task``."""
        window = self.ls.client_capabilities.window
        if window is None or not window.work_done_progress:
            return Progress(self, None, label)
        token = f"selfdebug-{uuid.uuid4().hex}"
        try:
            await self.ls.work_done_progress.create_async(token)
        except Exception as exc:  # a client that refuses the token: work on without progress
            logger.warning("the client refused a progress token: %s", exc)
            return Progress(self, None, label)
        if task is not None:
            self.tasks_by_token[token] = task
            task.add_done_callback(lambda _: self.tasks_by_token.pop(token, None))
        self.ls.work_done_progress.begin(token, types.WorkDoneProgressBegin(title=title, cancellable=True,
                                                                            percentage=0))
        return Progress(self, token, label)

    def cancel_progress(self, token: str) -> bool:
        task = self.tasks_by_token.get(token)
        if task is None or task.done():
            return False
        task.cancel()
        return True

    # ---------------------------------------------------------------- edits

    def _supports_document_changes(self) -> bool:
        workspace = self.ls.client_capabilities.workspace
        edit = workspace.workspace_edit if workspace else None
        return bool(edit and edit.document_changes)

    def can_create_files(self) -> bool:
        workspace = self.ls.client_capabilities.workspace
        edit = workspace.workspace_edit if workspace else None
        return bool(edit and edit.document_changes and edit.resource_operations
                    and types.ResourceOperationKind.Create in edit.resource_operations)

    async def _apply(self, label: str, edit: types.WorkspaceEdit) -> bool:
        result = await self.ls.workspace_apply_edit_async(types.ApplyWorkspaceEditParams(edit=edit, label=label))
        if not result.applied:
            self.log(f"the editor did not apply '{label}': {result.failure_reason or 'no reason given'}")
        return bool(result.applied)

    async def replace_lines(self, uri: str, start: int, end: int, text: str, label: str) -> bool:
        """Replace lines ``start`` to ``end`` (exclusive) of the open document with ``text``, at the version the
        server knows (a client that moved on refuses it)."""
        doc = self.document(uri)
        edit = types.TextEdit(range=types.Range(start=types.Position(line=start, character=0),
                                                end=self._end_of(doc, end)), new_text=text)
        if self._supports_document_changes():
            change = types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=doc.version),
                edits=[edit])
            return await self._apply(label, types.WorkspaceEdit(document_changes=[change]))
        return await self._apply(label, types.WorkspaceEdit(changes={uri: [edit]}))

    async def create_file(self, uri: str, text: str, label: str) -> bool:
        create = types.CreateFile(uri=uri, options=types.CreateFileOptions(overwrite=False, ignore_if_exists=True))
        insert = types.TextDocumentEdit(
            text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=None),
            edits=[types.TextEdit(range=types.Range(start=types.Position(line=0, character=0),
                                                    end=types.Position(line=0, character=0)), new_text=text)])
        return await self._apply(label, types.WorkspaceEdit(document_changes=[create, insert]))

    # ---------------------------------------------------------------- diagnostics

    def set_findings(self, uri: str, function: Function, findings: list[Finding]) -> None:
        self.store.set(uri, function, findings)
        self.publish(uri)

    def publish(self, uri: str) -> None:
        lines = list(self.document(uri).lines)
        self.ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, diagnostics=self.store.diagnostics(uri, lines, self.units())))
