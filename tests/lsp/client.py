"""The editor in the language server's tests: pytest-lsp's client with buffers of its own. It applies
``workspace/applyEdit`` as an editor does (refusing an edit made for another version of a buffer), tells the
server with ``didChange``, and records the time of each edit, the status notifications and the progress."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Union
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.protocol import default_converter
from pytest_lsp import LanguageClient, client_capabilities
from pytest_lsp.client import register_lsp_features

__all__ = ["EditorClient", "make_client"]


def _offset(text: str, position: types.Position) -> int:
    lines = text.splitlines(keepends=True)
    if position.line >= len(lines):
        return len(text)
    return sum(len(line) for line in lines[: position.line]) + min(position.character, len(lines[position.line]))


def apply_text_edits(text: str, edits: list[types.TextEdit]) -> str:
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        text = text[: _offset(text, edit.range.start)] + edit.new_text + text[_offset(text, edit.range.end):]
    return text


class EditorClient(LanguageClient):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.buffers: dict[str, tuple[int, str]] = {}  # uri -> (version, text)
        self.edits: list[tuple[float, types.ApplyWorkspaceEditParams]] = []
        self.created: list[str] = []
        self.statuses: list[dict[str, Any]] = []
        self.edited = asyncio.Event()

    def open(self, path: Path, text: str | None = None) -> str:
        uri = path.as_uri()
        text = path.read_text() if text is None else text
        self.buffers[uri] = (1, text)
        self.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=1, text=text)))
        return uri

    def _open_quietly(self, uri: str, text: str) -> None:
        """Open a buffer the way an editor does for a file an edit touches (and tell the server)."""
        self.buffers[uri] = (0, text)
        self.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=uri, language_id="python", version=0, text=text)))

    def text(self, uri: str) -> str:
        return self.buffers[uri][1]

    def change(self, uri: str, text: str) -> None:
        """The user types: the whole buffer becomes ``text``."""
        version = self.buffers[uri][0] + 1
        self.buffers[uri] = (version, text)
        self.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))

    def apply(self, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        edit = params.edit
        changes: list[tuple[str, int | None, list[types.TextEdit]]] = []
        for change in edit.document_changes or []:
            if isinstance(change, types.CreateFile):
                if change.uri not in self.buffers:
                    self._open_quietly(change.uri, "")
                    self.created.append(change.uri)
            elif isinstance(change, types.TextDocumentEdit):
                changes.append((change.text_document.uri, change.text_document.version,
                                [e for e in change.edits if isinstance(e, types.TextEdit)]))
        for uri, edits in (edit.changes or {}).items():
            changes.append((uri, None, list(edits)))
        for uri, version, _ in changes:
            path = Path(unquote(urlparse(uri).path))
            if uri not in self.buffers and path.is_file():  # an editor opens the file the edit is for
                self._open_quietly(uri, path.read_text())
            if uri not in self.buffers:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason=f"{uri} is not open")
            if version is not None and version != self.buffers[uri][0]:
                return types.ApplyWorkspaceEditResult(applied=False, failure_reason="the buffer is newer")
        for uri, _, edits in changes:
            self.change(uri, apply_text_edits(self.text(uri), edits))
        self.edits.append((time.monotonic(), params))
        self.edited.set()
        return types.ApplyWorkspaceEditResult(applied=True)

    def messages_of(self, kind: types.MessageType | None = None) -> list[str]:
        return [m.message for m in self.messages if kind is None or m.type == kind]


def _command_or_action(value: Any, _: Any) -> types.Command | types.CodeAction:
    kind = types.Command if isinstance(value.get("command"), str) else types.CodeAction
    return default_converter().structure(value, kind)  # type: ignore[no-any-return]


def make_client() -> EditorClient:
    client = EditorClient(converter_factory=default_converter)
    # lsprotocol's converter reads a CodeAction that carries a Command as a Command (whose command is the
    # nested object's repr): tell the two apart by their 'command' field, as an editor does.
    client.protocol._converter.register_structure_hook(
        Union[types.Command, types.CodeAction], _command_or_action)  # noqa: UP007 (the type as lsprotocol has it)
    register_lsp_features(client)

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(client: EditorClient, params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        return client.apply(params)

    @client.feature("selfdebug/status")
    def status(client: EditorClient, params: Any) -> None:
        client.statuses.append({name: getattr(params, name, None) for name in ("busy", "text", "token")})

    return client


def capabilities() -> types.ClientCapabilities:
    """VS Code's capabilities (work-done progress, documentChanges, resource operations, configuration)."""
    return client_capabilities("visual-studio-code")
