"""Diagnostics the server publishes, kept per document and per function, so that they follow their function
when the user edits elsewhere and vanish when the function itself is edited."""

from __future__ import annotations

import ast
from collections.abc import Callable
from dataclasses import dataclass, field

from lsprotocol import types

from selfdebug_lsp.functions import Function, find_function

__all__ = ["SOURCE", "Finding", "Store"]

SOURCE = "selfdebug"


@dataclass(frozen=True)
class Finding:
    """One diagnostic before it has a place: ``line`` is relative to its function's ``def`` line (None: the
    ``def`` line itself); ``related`` are other places that explain it (a test in another file)."""

    message: str
    severity: types.DiagnosticSeverity
    line: int | None = None
    related: tuple[types.DiagnosticRelatedInformation, ...] = ()


@dataclass
class _Anchored:
    function: Function
    findings: list[Finding] = field(default_factory=list)


class Store:
    """What is published for each document: findings anchored to a function as it was when they were made."""

    def __init__(self) -> None:
        self._by_uri: dict[str, dict[str, _Anchored]] = {}

    def set(self, uri: str, function: Function, findings: list[Finding]) -> None:
        self._by_uri.setdefault(uri, {})[function.name] = _Anchored(function, list(findings))

    def forget(self, uri: str) -> None:
        self._by_uri.pop(uri, None)

    def follow(self, uri: str, source: str) -> bool:
        """Re-anchor ``uri``'s findings after an edit; True when something moved or went."""
        anchored = self._by_uri.get(uri)
        if not anchored:
            return False
        changed = False
        for name, entry in list(anchored.items()):
            now = find_function(source, name)
            if now is None:
                # Mid-typing the text may not parse: keep the findings until it does.
                if _parses(source):
                    del anchored[name]
                    changed = True
            elif now.text != entry.function.text:
                del anchored[name]
                changed = True
            elif now.start != entry.function.start:
                entry.function = now
                changed = True
        return changed

    def diagnostics(self, uri: str, lines: list[str], units: Callable[[str], int] = len) -> list[types.Diagnostic]:
        """The document's diagnostics at their current places (``lines``: the document's lines; ``units``: a
        string's length in the client's position units)."""
        found = []
        for entry in self._by_uri.get(uri, {}).values():
            function = entry.function
            for finding in entry.findings:
                line = function.start + (finding.line or 0)
                line = min(max(line, function.start), max(function.end - 1, function.start))
                text = lines[line] if line < len(lines) else ""
                width = units(text.rstrip("\r\n"))
                indent = units(text[: len(text) - len(text.lstrip())])
                found.append(types.Diagnostic(
                    range=types.Range(start=types.Position(line=line, character=max(indent, 0)),
                                      end=types.Position(line=line, character=width)),
                    message=finding.message, severity=finding.severity, source=SOURCE,
                    related_information=list(finding.related) or None))
        return found


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError):
        return False
    return True
