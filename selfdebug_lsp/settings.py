"""What the editor configures: the service, the key, and how a job runs. Read from ``initializationOptions`` and
from ``workspace/configuration`` (section ``selfdebug``), in the editor's camelCase; every value a named default.
The key is a ``SecretStr``: no repr, log line or message shows it."""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic.alias_generators import to_camel

from selfdebug_client import ENV_API_KEY, ENV_URL

__all__ = [
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_MAX_RETRY_WAIT",
    "DEFAULT_TIMEOUT",
    "SECTION",
    "LspSettings",
    "merge",
]

SECTION = "selfdebug"  # the workspace/configuration section
DEFAULT_TIMEOUT = 15.0  # seconds for one request to the service
# An editor waits for no one: a 429 or 503 is retried briefly, then said in the editor.
DEFAULT_MAX_RETRIES = 2
DEFAULT_MAX_RETRY_WAIT = 5.0

Strategy = Literal["post_execution", "in_execution", "oracle", "none"]


class LspSettings(BaseModel):
    """``serverUrl`` and ``apiKey`` default to ``SELFDEBUG_URL`` and ``SELFDEBUG_API_KEY``; ``strategy`` is what
    *Self-debug this function* runs (*Trace and repair* is always ``in_execution``)."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="ignore", frozen=True)

    server_url: str | None = None
    api_key: SecretStr | None = None
    strategy: Strategy = "post_execution"
    feedback: Literal["label", "detail"] = "detail"
    max_iterations: int = Field(2, ge=0, le=10)
    num_tests: int = Field(10, ge=1, le=50)
    model: str | None = None
    time_limit: float | None = Field(None, gt=0)
    tests_location: Literal["file", "below"] = "file"  # Generate tests: a test_<module>.py file, or below it
    timeout: float = Field(DEFAULT_TIMEOUT, gt=0)

    def url(self) -> str | None:
        """The service's address, None when neither the editor nor the environment names one."""
        return self.server_url or os.environ.get(ENV_URL) or None

    def key(self) -> str | None:
        return self.api_key.get_secret_value() if self.api_key else os.environ.get(ENV_API_KEY) or None


def merge(current: LspSettings, values: Any) -> LspSettings:
    """``current`` with what ``values`` (an editor's object) sets; empty strings and nulls change nothing.
    Raises ``ValueError`` naming the setting when a value is wrong (never showing the value: it may be the key)."""
    if not isinstance(values, dict):
        return current
    given = {k: v for k, v in values.items() if v is not None and v != ""}
    try:
        return LspSettings.model_validate({**current.model_dump(by_alias=True, exclude_none=True),
                                           "apiKey": current.api_key, **given})
    except ValidationError as exc:
        names = ", ".join(".".join(str(p) for p in e["loc"]) for e in exc.errors())
        raise ValueError(f"invalid setting {SECTION}.{names}") from None
