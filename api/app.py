"""The FastAPI app: ``create_app(settings)`` wires routes, auth, limits, errors and metrics together."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.limits import BodySizeLimit
from api.metrics import HttpMetrics, HttpMetricsMiddleware
from api.readiness import ReadinessProbe
from api.routes import batches, executions, health, jobs
from api.services import Services
from api.settings import APISettings

__all__ = ["create_app"]

log = logging.getLogger(__name__)

DESCRIPTION = """\
Hand over a programming problem: an LLM writes a program and its own tests, a Docker sandbox runs both, and the
program is repaired in a loop, with post-execution feedback (failed self-tests) or in-execution feedback (traced
intermediate states, no expected outputs shown).

Every `/v1` route needs `Authorization: Bearer <API key>`. Errors are always `{"detail": ..., "code": ...}`.
"""


def create_app(settings: APISettings | None = None) -> FastAPI:
    settings = settings or APISettings()
    if not settings.api_keys and not settings.allow_anonymous:
        log.warning("no API keys configured (SELFDEBUG_API_KEYS): every /v1 request will be refused")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services(settings)
        app.state.services = services
        app.state.readiness = ReadinessProbe(services)
        await services.start()
        try:
            yield
        finally:
            await services.close()

    app = FastAPI(title="selfdebug", version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    install_error_handlers(app)
    for router in (jobs.router, batches.router, executions.router, health.router):
        app.include_router(router)
    app.add_middleware(BodySizeLimit, default=settings.max_body_bytes,
                       by_path={"/v1/batches": settings.max_batch_body_bytes,
                                "/v1/batches/upload": settings.max_batch_body_bytes})
    http_metrics = HttpMetrics()
    app.state.http_metrics = http_metrics
    app.add_middleware(HttpMetricsMiddleware, metrics=http_metrics)
    return app
