"""Values from the code under test, shown to a reader (a model's prompt) as data that cannot pass for structure.

What a program prints, returns or raises reaches prompts whose structure is made of lines: ``[block 7] ...``,
``Returned: ...``, ``It passes these tests:``. A value holding a line break could write such a line itself, and the
model could not tell it from the prompt's own. So every such value goes through ``quoted``: it is shown as it is
when it is one line of printable characters (most reprs and messages, so prompts stay readable), and otherwise as a
Python string literal of its text, which is one line whatever the text holds (line breaks, carriage returns,
``\\u2028``, other control and format characters are all escaped) and visibly quoted. Callers put each value after
a label of their own, so a value never starts a line.
"""

from __future__ import annotations

__all__ = ["quoted"]


def quoted(text: str) -> str:
    """``text`` itself if it is one line of printable characters, else its Python string literal (``repr``)."""
    return text if text.isprintable() else repr(text)
