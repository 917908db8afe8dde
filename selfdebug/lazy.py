"""Package faces whose names are imported when first used (PEP 562).

A command that needs one part of the engine (``selfdebug evaluate`` needs the evaluator, not the LLM client and
its ``openai``) should not pay for every other part at start-up, yet ``from selfdebug import Judge`` and
``selfdebug.Judge`` keep working as if everything were imported eagerly.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

__all__ = ["lazy_face"]


def lazy_face(package: str, homes: Mapping[str, str],
              public: Sequence[str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of ``package``, whose public names live in the modules ``homes`` says."""
    namespace = importlib.import_module(package).__dict__

    def attribute(name: str) -> Any:
        home = homes.get(name)
        if home is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(home), name)
        namespace[name] = value  # found at once the next time
        return value

    def names() -> list[str]:
        return sorted({*namespace, *public})

    return attribute, names
