"""Settings of the LLM client, from arguments or ``SELFDEBUG_LLM_*`` environment variables."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = [
    "DEFAULT_BACKOFF_BASE",
    "DEFAULT_BACKOFF_MAX",
    "DEFAULT_CONCURRENCY",
    "DEFAULT_EMBEDDED_CONTEXT",
    "DEFAULT_EMBEDDED_START_TIMEOUT",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_TOKENS",
    "DEFAULT_RETRY_AFTER_MAX",
    "DEFAULT_TEMPERATURE",
    "DEFAULT_TIMEOUT",
    "LLMSettings",
    "default_models_dir",
]

DEFAULT_TEMPERATURE = 0.0
DEFAULT_MAX_TOKENS = 1024
DEFAULT_TIMEOUT = 120.0  # seconds per attempt; the embedded server answers one request at a time, so be patient
DEFAULT_MAX_RETRIES = 3  # retries after the first attempt
DEFAULT_CONCURRENCY = 4  # requests in flight per model object
DEFAULT_BACKOFF_BASE = 0.5  # seconds before the first retry; doubles each time, with jitter
DEFAULT_BACKOFF_MAX = 20.0
DEFAULT_RETRY_AFTER_MAX = 60.0  # a Retry-After longer than this gives up at once instead of waiting
DEFAULT_EMBEDDED_CONTEXT = 8192  # SmolLM2's trained context; prompts with traces need room
DEFAULT_EMBEDDED_START_TIMEOUT = 60.0


def default_models_dir() -> Path:
    """Where fetched model weights live: ``$XDG_CACHE_HOME/selfdebug/models`` (``~/.cache`` by default)."""
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "selfdebug" / "models"


class LLMSettings(BaseSettings):
    """Which model to call and how. ``base_url=None`` means the embedded local model (started on demand)."""

    model_config = SettingsConfigDict(env_prefix="SELFDEBUG_LLM_", extra="ignore")

    base_url: str | None = Field(default=None, description="OpenAI-compatible endpoint, e.g. http://host:8000/v1")
    api_key: SecretStr | None = Field(default=None, description="falls back to OPENAI_API_KEY, then a dummy key")
    model: str | None = Field(default=None, description="required with base_url; the embedded model's name if unset")
    temperature: float = Field(default=DEFAULT_TEMPERATURE, ge=0.0, le=2.0)
    max_tokens: int = Field(default=DEFAULT_MAX_TOKENS, ge=1)
    timeout: float = Field(default=DEFAULT_TIMEOUT, gt=0.0)
    max_retries: int = Field(default=DEFAULT_MAX_RETRIES, ge=0)
    concurrency: int = Field(default=DEFAULT_CONCURRENCY, ge=1)
    cache_dir: Path | None = Field(default=None, description="on-disk response cache; None disables it")
    backoff_base: float = Field(default=DEFAULT_BACKOFF_BASE, ge=0.0)
    backoff_max: float = Field(default=DEFAULT_BACKOFF_MAX, ge=0.0)
    retry_after_max: float = Field(default=DEFAULT_RETRY_AFTER_MAX, ge=0.0)
    embedded_model_path: Path | None = Field(default=None, description="a GGUF file to serve instead of SmolLM2")
    embedded_models_dir: Path = Field(default_factory=default_models_dir)
    embedded_context: int = Field(default=DEFAULT_EMBEDDED_CONTEXT, ge=256)
    embedded_threads: int | None = Field(default=None, ge=1, description="generation threads; llama.cpp's default")
    embedded_start_timeout: float = Field(default=DEFAULT_EMBEDDED_START_TIMEOUT, gt=0.0)
    embedded_cpu_level: Literal["x86-64-v3", "x86-64-v2", "native", "generic"] | None = Field(
        default=None, description="llama.cpp's instruction set; None: the best portable one this CPU runs"
    )

    @field_validator("base_url", "model", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # SELFDEBUG_LLM_BASE_URL= (set but empty) means "not configured", not "the empty URL".
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @property
    def embedded(self) -> bool:
        """True when no endpoint is configured, so the embedded model serves the requests."""
        return self.base_url is None
