"""Parsing Python source in this process, safe to call from many threads at once: the sandbox's parser, whose lock
the engine and the sandbox's test reading share (two locks would let their threads parse together). And cutting
statements' source out of a parsed text in time proportional to each statement."""

from __future__ import annotations

import ast
import re

from sandbox.syntax import _LOCK, parse

__all__ = ["_LOCK", "SourceLines", "parse"]

# A line as the parser counts them: ended by \r\n, \r or \n (not by a form feed), or the text's unended last line.
_PARSER_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


class SourceLines:
    """A source text split once into lines, to cut the source of many of its statements out of it.

    ``ast.get_source_segment`` splits the whole text (in Python, a character at a time) on every call: cutting out
    each statement of a text of n lines that way costs n² (30 s for a 50,000-character prompt of imports). Here
    each cut costs the statement's own length, with the same result.
    """

    def __init__(self, source: str) -> None:
        self._lines: list[str] = _PARSER_LINE.findall(source)
        self._encoded: dict[int, bytes] = {}  # column offsets count UTF-8 bytes

    def _bytes(self, index: int) -> bytes:
        if index not in self._encoded:
            self._encoded[index] = self._lines[index].encode()
        return self._encoded[index]

    def segment(self, node: ast.AST) -> str | None:
        """What ``ast.get_source_segment(source, node)`` answers."""
        end_lineno, end_col = getattr(node, "end_lineno", None), getattr(node, "end_col_offset", None)
        if end_lineno is None or end_col is None:
            return None
        first, last, col = node.lineno - 1, end_lineno - 1, node.col_offset  # type: ignore[attr-defined]
        if not 0 <= first <= last < len(self._lines):
            return None
        if first == last:
            return self._bytes(first)[col:end_col].decode()
        head = self._bytes(first)[col:].decode()
        tail = self._bytes(last)[:end_col].decode()
        return "".join([head, *self._lines[first + 1 : last], tail])
