"""LLMSettings: environment variables, secrets kept secret, and the package's public surface."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

import selfdebug.llm
from selfdebug.llm import LLMSettings
from selfdebug.llm.settings import DEFAULT_CONCURRENCY, DEFAULT_TEMPERATURE, default_models_dir


def test_defaults_mean_the_embedded_model(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("BASE_URL", "MODEL", "API_KEY", "CACHE_DIR"):
        monkeypatch.delenv(f"SELFDEBUG_LLM_{name}", raising=False)
    settings = LLMSettings()
    assert settings.embedded and settings.base_url is None and settings.cache_dir is None
    assert settings.temperature == DEFAULT_TEMPERATURE and settings.concurrency == DEFAULT_CONCURRENCY


def test_environment_variables_configure_an_endpoint(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SELFDEBUG_LLM_BASE_URL", "http://127.0.0.1:8000/v1")
    monkeypatch.setenv("SELFDEBUG_LLM_MODEL", "qwen")
    monkeypatch.setenv("SELFDEBUG_LLM_API_KEY", "sk-secret-value")
    monkeypatch.setenv("SELFDEBUG_LLM_MAX_RETRIES", "5")
    monkeypatch.setenv("SELFDEBUG_LLM_CACHE_DIR", str(tmp_path))
    settings = LLMSettings()
    assert not settings.embedded and settings.model == "qwen" and settings.max_retries == 5
    assert settings.cache_dir == tmp_path
    assert settings.api_key is not None and settings.api_key.get_secret_value() == "sk-secret-value"
    assert "sk-secret-value" not in repr(settings) and "sk-secret-value" not in settings.model_dump_json()


def test_an_empty_base_url_means_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SELFDEBUG_LLM_BASE_URL", "")
    assert LLMSettings().embedded


@pytest.mark.parametrize("bad", [{"concurrency": 0}, {"temperature": -1}, {"max_tokens": 0}, {"timeout": 0}])
def test_impossible_values_are_refused(bad: dict[str, float]) -> None:
    with pytest.raises(ValidationError):
        LLMSettings(**bad)


def test_models_dir_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_models_dir() == tmp_path / "selfdebug" / "models"


def test_public_names_are_sorted_and_exported() -> None:
    names = selfdebug.llm.__all__

    def isort_style(name: str) -> tuple[int, str]:  # the order ruff's RUF022 keeps: CONSTANTS, Classes, functions
        return (0 if name.isupper() else 1 if name[0].isupper() else 2, name)

    assert names == sorted(names, key=isort_style)
    assert all(hasattr(selfdebug.llm, name) for name in names)
