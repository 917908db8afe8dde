"""The language server's errors, and every failure said in one line the editor shows.

Hierarchy::

    LspError                  an action cannot go on; ``message`` is what the editor shows
    ├── NotConfigured         no service address in the settings or the environment
    ├── NoFunction            the cursor is in no module-level function (or the function is gone)
    ├── FunctionChanged       the function was edited while its job ran: its edit is refused
    └── Busy                  a job already runs on this function

The client's errors (``selfdebug_client.errors``) are said by ``describe``. A program that fails its tests is
data (diagnostics), never an error.
"""

from __future__ import annotations

from selfdebug_client import (
    APIError,
    Forbidden,
    InvalidRequest,
    RateLimited,
    RequestTimeout,
    SelfDebugClientError,
    StreamError,
    TransportError,
    Unauthorized,
    Unavailable,
)

__all__ = ["Busy", "FunctionChanged", "LspError", "NoFunction", "NotConfigured", "describe"]


class LspError(Exception):
    """An action cannot go on; ``str(error)`` is the line the editor shows."""


class NotConfigured(LspError):
    def __init__(self) -> None:
        super().__init__("no selfdebug service is configured: set selfdebug.serverUrl in the editor's settings "
                         "(or SELFDEBUG_URL in the environment it starts from), e.g. http://127.0.0.1:8000 where "
                         "`selfdebug serve` runs")


class NoFunction(LspError):
    pass


class FunctionChanged(LspError):
    pass


class Busy(LspError):
    pass


def _seconds(value: float | None) -> str:
    return f" in {value:.0f} s" if value is not None else " later"


def describe(error: BaseException, url: str) -> str:
    """One line for ``error`` met while talking to the service at ``url``."""
    match error:
        case LspError():
            return str(error)
        case RequestTimeout():
            return f"the service at {url} did not answer in time ({error})"
        case TransportError():
            return f"cannot reach the service at {url}: is it running? ({error})"
        case StreamError():
            return f"the job's event stream from {url} kept breaking ({error})"
        case Unauthorized():
            return (f"the service at {url} refused the key (401 {error.detail}): set selfdebug.apiKey "
                    "(in VS Code: 'selfdebug: Set API key') or SELFDEBUG_API_KEY")
        case Forbidden():
            return f"the service refused this key (403): {error.detail}"
        case RateLimited():
            return (f"the service is rate-limiting this key (429: {error.detail}): "
                    f"try again{_seconds(error.retry_after)}")
        case Unavailable():
            return f"the service is not ready (503: {error.detail}): try again{_seconds(error.retry_after)}"
        case InvalidRequest():
            return f"the service refused the request (422): {error.detail}"
        case APIError():
            return f"the service answered {error.status} {error.code}: {error.detail}"
        case SelfDebugClientError():
            return f"{type(error).__name__}: {error}"
    return f"internal error: {type(error).__name__}: {error}"
