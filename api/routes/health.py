"""Health, readiness and metrics: no API key needed, not rate-limited (for probes and scrapers)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from api.metrics import CONTENT_TYPE, render_metrics
from api.readiness import ReadinessProbe
from api.schemas import Health, Readiness
from api.services import Services, get_services

__all__ = ["router"]

router = APIRouter(tags=["health"])

METRICS_EXAMPLE = ('# HELP selfdebug_jobs Jobs in the queue or running now.\n# TYPE selfdebug_jobs gauge\n'
                   'selfdebug_jobs{state="queued"} 3.0\nselfdebug_jobs{state="running"} 2.0\n')


@router.get("/healthz", response_model=Health, summary="The process is alive")
async def healthz() -> Health:
    return Health()


@router.get("/readyz", response_model=Readiness,
            responses={503: {"model": Readiness, "description": "A required dependency does not answer."}},
            summary="Redis, Docker, the sandbox image and the LLM endpoint answer")
async def readyz(request: Request, response: Response) -> Readiness:
    probe: ReadinessProbe = request.app.state.readiness
    readiness = await probe.check()
    response.status_code = 200 if readiness.status == "ready" else 503
    return readiness


@router.get("/metrics", response_class=Response,
            responses={200: {"description": "Prometheus text format.",
                             "content": {"text/plain": {"schema": {"type": "string"}, "example": METRICS_EXAMPLE}}}},
            summary="Prometheus metrics")
async def metrics(request: Request, services: Annotated[Services, Depends(get_services)]) -> Response:
    body = await render_metrics(services, request.app.state.http_metrics)
    return Response(body, media_type=CONTENT_TYPE)
