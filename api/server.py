"""``selfdebug serve``: the API under uvicorn."""

from __future__ import annotations

import uvicorn

from api.app import create_app
from api.settings import APISettings

__all__ = ["serve"]


def serve(settings: APISettings | None = None, *, host: str | None = None, port: int | None = None,
          log_level: str = "info") -> None:
    """Serve the API until interrupted (one process; run several behind a proxy to scale out)."""
    settings = settings or APISettings()
    uvicorn.run(create_app(settings), host=host or settings.host, port=port or settings.port, log_level=log_level,
                proxy_headers=True, timeout_graceful_shutdown=10)
