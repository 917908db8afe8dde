"""docs/service.md documents every setting of the service, and the public names are sorted and complete."""

from __future__ import annotations

from pathlib import Path

import api
import workers
from api.settings import APISettings

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def test_every_setting_is_documented() -> None:
    text = DOC.read_text()
    missing = [f"SELFDEBUG_{name.upper()}" for name in APISettings.model_fields
               if f"`SELFDEBUG_{name.upper()}`" not in text]
    assert not missing, f"document these in docs/service.md: {missing}"


def _isort_key(name: str) -> tuple[int, str]:
    # The order ruff's RUF022 keeps: CONSTANTS, then Classes, then functions.
    return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)


def test_public_names_are_sorted() -> None:
    for module in (api, workers):
        assert module.__all__ == sorted(module.__all__, key=_isort_key), module.__name__
        for name in module.__all__:
            assert hasattr(module, name), f"{module.__name__}.{name}"
