"""``/v1/jobs``: submit a problem, follow it (JSON or SSE), cancel it."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Header, Path, Query, Response
from fastapi.responses import StreamingResponse

from api.errors import Conflict, Invalid, RateLimited, error_responses
from api.limits import check_job, check_problem
from api.paging import DEFAULT_PAGE, Cursor, Limit
from api.schemas import ADD_PROBLEM, JobPage, JobRequest, JobView
from api.security import Caller, owned
from api.services import Services, get_services
from api.settings import MAX_WAIT_SECONDS
from api.sse import EVENT_ID, EVENT_SCHEMA, EventStreamResponse, event_stream
from api.views import job_summary, job_view
from workers.batches import after_job
from workers.errors import CapReached, QuotaReached
from workers.models import Job, JobSpec, JobStatus
from workers.store import Finished

__all__ = ["router"]

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

JOB_ID = r"^[0-9a-f]{32}$"
JobId = Annotated[str, Path(pattern=JOB_ID, description="A job id.", examples=["3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b"])]
Wait = Annotated[float, Query(ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for the job to end "
                                                                       "(at most the max_wait setting).")]
ServicesDep = Annotated[Services, Depends(get_services)]
SSE_EXAMPLE = ('id: 1700000000000-0\nevent: status\ndata: {"kind": "status", "status": "queued"}\n\n'
               'id: 1700000000050-0\nevent: program_generated\ndata: {"kind": "program_generated", ...}\n\n')
EXAMPLES = {
    "post_execution": {"summary": "Post-execution repair with detailed feedback",
                       "value": {"problem": ADD_PROBLEM, "options": {"strategy": "post_execution",
                                                                     "feedback": "detail"}}},
    "in_execution": {"summary": "In-execution (traced) repair, with the guard",
                     "value": {"problem": ADD_PROBLEM, "options": {"strategy": "in_execution", "guard": True}}},
    "stdio": {"summary": "A stdin/stdout problem",
              "value": {"problem": {"task_id": "demo/sum", "kind": "stdio",
                                    "prompt": "Read two integers on one line and print their sum.",
                                    "io_tests": [{"stdin": "1 2\n", "stdout": "3\n"}]},
                        "options": {"strategy": "post_execution", "feedback": "label"}}},
}


async def load_job(services: Services, job_id: str, caller: str) -> Job:
    return owned(await services.store.get(job_id), caller, "job", job_id)


@router.get("", response_model=JobPage, responses=error_responses(401, 403, 404, 422, 429, 503),
            summary="The caller's jobs, newest first", description="Every job of the calling key (another key's "
            "never appear), a page at a time: pass a page's `next_cursor` as `?cursor=` for the next; pages neither "
            "repeat nor skip jobs however many are created meanwhile. `?status=` keeps the jobs in that status, "
            "`?batch=` the jobs of one of the key's batches (from its last problem to its first). A filtered page "
            "may hold fewer than `limit` jobs while more follow: go on while `next_cursor` is set. Each job is "
            "shown without its problem and record (`GET /v1/jobs/{id}`).")
async def list_jobs(caller: Caller, services: ServicesDep,
                    status: Annotated[JobStatus | None, Query(description="Only jobs in this status.")] = None,
                    batch: Annotated[str | None, Query(pattern=JOB_ID, description="Only this batch's jobs.")] = None,
                    limit: Limit = DEFAULT_PAGE, cursor: Cursor = None) -> JobPage:
    in_batch = owned(await services.batches.get(batch), caller, "batch", batch) if batch is not None else None
    page = await services.listing.jobs(caller, limit=limit, cursor=cursor, status=status, batch=in_batch)
    return JobPage(items=[job_summary(listed) for listed in page.items], next_cursor=page.next_cursor)


@router.post("", status_code=202, response_model=JobView,
             responses={200: {"model": JobView, "description": "The job ended within ?wait= seconds."},
                        **error_responses(400, 401, 413, 422, 429, 503)},
             summary="Submit a problem", description="Queues a self-debugging job: the model writes a program and "
             "its own tests, the sandbox runs them, and the loop repairs the program. 202 with the job and its "
             "links; with ?wait=SECONDS, 200 and the finished job if it ends within that time.")
async def submit_job(request: Annotated[JobRequest, Body(openapi_examples=EXAMPLES)], caller: Caller,
                     services: ServicesDep, response: Response, wait: Wait = 0) -> JobView:
    settings = services.settings
    time_limit = check_job(settings, request.model, request.time_limit, request.options)
    try:
        problem = request.problem.to_problem()
    except ValueError as exc:
        raise Invalid(str(exc)) from exc
    check_problem(settings, problem)
    spec = JobSpec(problem=problem, options=request.options, model=request.model, time_limit=time_limit)
    try:
        job_id, first_event = await services.store.create(caller, spec, cap=settings.max_active_jobs,
                                                          quota=settings.storage_quota)
    except QuotaReached as exc:
        raise RateLimited(str(exc), retry_after=exc.retry_after) from exc
    except CapReached as exc:
        raise RateLimited(str(exc), retry_after=max(settings.heartbeat_interval, 5.0)) from exc
    await services.send(job_id)
    if wait > 0:
        await services.store.wait_finished(job_id, first_event, min(wait, settings.max_wait))
    job = await load_job(services, job_id, caller)
    response.status_code = 200 if job.terminal else 202
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return job_view(job)


@router.get("/{job_id}", response_model=JobView, responses=error_responses(401, 403, 404, 422, 429, 503),
            summary="A job: status, attempts, final program and verdict",
            description="With ?wait=SECONDS, waits for the job to end first (at most that long).")
async def get_job(job_id: JobId, caller: Caller, services: ServicesDep, wait: Wait = 0) -> JobView:
    job = await load_job(services, job_id, caller)
    if wait > 0 and not job.terminal:
        await services.store.wait_finished(job_id, "0-0", min(wait, services.settings.max_wait))
        job = await load_job(services, job_id, caller)
    return job_view(job)


@router.delete("/{job_id}", response_model=JobView,
               responses={202: {"model": JobView, "description": "Cancellation asked; the job stops within a "
                                                                 "heartbeat."},
                          204: {"description": "Removed (?remove=true): the job's record and events are gone."},
                          **error_responses(401, 403, 404, 409, 422, 429, 503)},
               summary="Cancel a job, or remove an ended one", description="A queued job is cancelled at once "
               "(200). A running one is told to stop: its LLM call is dropped and its sandbox container killed (200 "
               "if that happened within a few seconds, else 202). Cancelling a job that already ended is a conflict "
               "(409). With ?remove=true, an ended job is removed instead (204), which frees its place in the key's "
               "storage quota; a job not ended yet, or one of a batch's jobs (remove the batch), is a conflict (409).")
async def cancel_job(job_id: JobId, caller: Caller, services: ServicesDep, response: Response,
                     remove: Annotated[bool, Query(description="Remove an ended job rather than cancel it.")] = False,
                     ) -> JobView | Response:
    await load_job(services, job_id, caller)
    if remove:
        return await _remove_job(services, job_id)
    outcome = await services.store.request_cancel(job_id)
    if isinstance(outcome, Finished):
        await after_job(services.batches, outcome, services.send, holder=services.holder)
    elif outcome is JobStatus.RUNNING:
        await services.store.wait_finished(job_id, "0-0", min(5.0, 3 * services.settings.heartbeat_interval))
    job = await load_job(services, job_id, caller)
    if job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED):
        raise Conflict(f"job {job_id} already {job.status.value}")
    response.status_code = 200 if job.status is JobStatus.CANCELLED else 202
    return job_view(job)


async def _remove_job(services: Services, job_id: str) -> Response:
    outcome = await services.store.remove(job_id)
    if outcome == "active":
        raise Conflict(f"job {job_id} has not ended: cancel it first (DELETE without remove)")
    if outcome not in ("removed", "missing"):
        raise Conflict(f"job {job_id} belongs to batch {outcome}: remove the batch (DELETE /v1/batches/{outcome}"
                       "?remove=true)")
    return Response(status_code=204)


@router.get("/{job_id}/events", response_class=StreamingResponse,
            responses={200: {"description": "The job's events as Server-Sent Events: `event:` is the kind "
                                            "(status, program_generated, tests_generated, executed, trace_recorded, "
                                            "feedback_sent, program_repaired, guard, evaluated, finished), `data:` "
                                            "its JSON, `id:` its position for Last-Event-ID.",
                             "content": {"text/event-stream": {"schema": EVENT_SCHEMA, "example": SSE_EXAMPLE}}},
                       **error_responses(401, 403, 404, 422, 429, 503)},
            summary="Follow a job's events (SSE)", description="Live, resumable with the Last-Event-ID header (or "
            "?after=); the stream ends after the job's final status event. A key may have max_streams_per_key "
            "streams open at once (429 beyond), an API process serves max_streams (503 beyond).")
async def job_events(job_id: JobId, caller: Caller, services: ServicesDep,
                     last_event_id: Annotated[str | None, Header(pattern=EVENT_ID)] = None,
                     after: Annotated[str | None, Query(pattern=EVENT_ID, description="Like Last-Event-ID.")] = None,
                     ) -> StreamingResponse:
    await load_job(services, job_id, caller)
    lease = await services.streams.admit(caller)  # 429 or 503 beyond the caps (api.streams)
    stream = event_stream(services.stream_store, job_id, last_event_id or after,
                          ping=services.settings.sse_ping_interval, renew=lease.renew)
    return EventStreamResponse(stream, lease.release)
