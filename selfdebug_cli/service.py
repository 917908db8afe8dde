"""``selfdebug serve`` and ``selfdebug worker``: the service's two processes. Settings come from the environment
(``SELFDEBUG_*``, ``SANDBOX_*``, ``SELFDEBUG_LLM_*``; docs/service.md); the options here override a few."""

from __future__ import annotations

from typing import Annotated

import typer

__all__ = ["serve", "worker"]


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default SELFDEBUG_HOST, 127.0.0.1).")]
    = None,
    port: Annotated[int | None, typer.Option(min=1, max=65535, help="Port (default SELFDEBUG_PORT, 8000).")] = None,
    log_level: Annotated[str, typer.Option(help="uvicorn's log level.")] = "info",
) -> None:
    """Serve the HTTP API (jobs, event streams, batches, executions, health, metrics)."""
    from api.server import serve as serve_api  # here: the other commands need no web server

    serve_api(host=host, port=port, log_level=log_level)


def worker(
    concurrency: Annotated[int, typer.Option(min=1, help="Jobs run at once by this process.")] = 4,
    pool: Annotated[str, typer.Option(help="threads (jobs share one sandbox pool and LLM client), prefork or "
                                           "solo.")] = "threads",
    loglevel: Annotated[str, typer.Option(help="Celery's log level.")] = "INFO",
    hostname: Annotated[str | None, typer.Option(help="Celery node name (default celery@HOST).")] = None,
) -> None:
    """Run a worker: takes jobs from the Redis queue and runs the self-debugging loop on them."""
    if pool not in ("threads", "prefork", "solo"):
        raise typer.BadParameter("pool must be threads, prefork or solo", param_hint="--pool")
    from workers.app import run_worker  # here: Celery's import is slow, and only this command needs it

    run_worker(concurrency=concurrency, pool=pool, loglevel=loglevel, hostname=hostname)
