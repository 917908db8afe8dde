"""Parsing Python source in this process, safe to call from many threads at once: the sandbox's parser, whose lock
the engine and the sandbox's test reading share (two locks would let their threads parse together)."""

from __future__ import annotations

from sandbox.syntax import _LOCK, parse

__all__ = ["_LOCK", "parse"]
