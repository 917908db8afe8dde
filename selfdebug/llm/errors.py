"""The LLM client's exceptions: what failed, against which endpoint, after how many attempts.

Hierarchy::

    LLMError                     any failure to get a completion
    ├── LLMConfigError           the settings cannot work (e.g. a remote endpoint without a model name)
    ├── LLMCallError             a request that failed for good (names endpoint, model and attempts)
    │   ├── LLMTimeout           every attempt timed out
    │   ├── LLMRateLimited       still rate-limited (429) after the retries, or told to wait too long
    │   ├── LLMUnavailable       connection refused or reset, or 5xx, after the retries
    │   ├── LLMRequestRejected   a 4xx other than 429: the request itself is wrong (bad model, auth, too long)
    │   └── LLMBadResponse       the endpoint answered 200 with something that is not a chat completion
    └── EmbeddedServerError      the embedded llama.cpp server could not be fetched, started or reached
        ├── EmbeddedServerCrashed   it died (exit code or signal, its log), and a restart did not help
        └── EmbeddedBuildError      llama-cpp-python could not be built or installed for this processor

A model that answers with no code is not an error here: that is data for the engine.
"""

# The names say what failed, httpx-style (ConnectTimeout, PoolTimeout), rather than all ending in "Error".

from __future__ import annotations

__all__ = [
    "EmbeddedBuildError",
    "EmbeddedServerCrashed",
    "EmbeddedServerError",
    "LLMBadResponse",
    "LLMCallError",
    "LLMConfigError",
    "LLMError",
    "LLMRateLimited",
    "LLMRequestRejected",
    "LLMTimeout",
    "LLMUnavailable",
]


class LLMError(Exception):
    """Base class of every error the LLM client raises on purpose."""


class LLMConfigError(LLMError):
    """Settings that cannot work."""


class LLMCallError(LLMError):
    """A request that failed for good; says where it went and how many attempts were made."""

    def __init__(self, reason: str, *, endpoint: str, model: str, attempts: int) -> None:
        self.reason = reason
        self.endpoint = endpoint
        self.model = model
        self.attempts = attempts
        tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
        super().__init__(f"LLM request to {endpoint} (model {model!r}) failed after {tries}: {reason}")


class LLMTimeout(LLMCallError):
    """Every attempt timed out."""


class LLMRateLimited(LLMCallError):
    """Still rate-limited after the retries; ``retry_after`` is the server's last Retry-After, if it sent one."""

    def __init__(self, reason: str, *, endpoint: str, model: str, attempts: int, retry_after: float | None) -> None:
        self.retry_after = retry_after
        super().__init__(reason, endpoint=endpoint, model=model, attempts=attempts)


class LLMUnavailable(LLMCallError):
    """The endpoint could not be reached, or kept answering with server errors."""


class LLMRequestRejected(LLMCallError):
    """The endpoint refused the request itself (4xx other than 429); retrying would not help."""

    def __init__(self, reason: str, *, endpoint: str, model: str, attempts: int, status_code: int) -> None:
        self.status_code = status_code
        super().__init__(reason, endpoint=endpoint, model=model, attempts=attempts)


class LLMBadResponse(LLMCallError):
    """A successful HTTP answer that is not a usable chat completion (no choices, wrong shape)."""


class EmbeddedServerError(LLMError):
    """The embedded model server could not be fetched, started or reached; carries the server's log tail."""

    def __init__(self, reason: str, *, log_tail: str = "") -> None:
        self.reason = reason
        self.log_tail = log_tail
        message = reason if not log_tail else f"{reason}\n--- server log (last lines) ---\n{log_tail}"
        super().__init__(message)


class EmbeddedServerCrashed(EmbeddedServerError):
    """The embedded server died on its own: ``how`` says how (``killed by signal 11 (SIGSEGV)``, ``exited with
    code 1``); ``log_path`` is where its whole log was kept."""

    def __init__(self, reason: str, *, how: str, returncode: int | None, log_path: str | None,
                 log_tail: str = "") -> None:
        self.how = how
        self.returncode = returncode
        self.log_path = log_path
        super().__init__(reason, log_tail=log_tail)


class EmbeddedBuildError(EmbeddedServerError):
    """llama-cpp-python could not be built, installed or verified for this processor."""
