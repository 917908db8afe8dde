"""``/v1/batches``: run the loop over a problem set, a few jobs at a time, and report on it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, File, Form, Header, Path, Query, Response, UploadFile
from fastapi.responses import StreamingResponse
from pydantic import Json

from api.errors import Conflict, Invalid, RateLimited, Unavailable, error_responses
from api.limits import check_job, check_problem
from api.paging import DEFAULT_PAGE, Cursor, Limit
from api.schemas import ADD_PROBLEM, BatchPage, BatchParameters, BatchRequest, BatchView
from api.security import Caller, owned
from api.services import Services, get_services
from api.settings import APISettings
from api.sse import EVENT_ID, EVENT_SCHEMA, EventStreamResponse, batch_event_stream
from api.views import batch_summary, batch_view
from selfdebug.datasets import parse_problems
from selfdebug.errors import SelfDebugError
from selfdebug.options import Strategy
from selfdebug.problems import Problem, ProblemKind
from workers.batches import finalize, record_of
from workers.errors import CapReached, QuotaReached
from workers.models import Batch, BatchSpec, BatchStatus, JobSpec, ProblemRef

__all__ = ["router"]

router = APIRouter(prefix="/v1/batches", tags=["batches"])

BatchId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="A batch id.",
                              examples=["9b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e"])]
RESULTS_EXAMPLE = ('{"task_id": "HumanEval/0", "strategy": "in_execution", "attempts": [...], "final_program": "...", '
                   '"hidden_by_iteration": [false, true, true], "stop_reason": "all_blocks_correct", '
                   '"job_id": "3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b", "status": "succeeded"}\n')
ServicesDep = Annotated[Services, Depends(get_services)]
Pairs = list[tuple[str, Problem]]
PairsLoader = Callable[[], Awaitable[Pairs]]
JSONL_EXAMPLE = ('{"task_id": "t1", "prompt": "def one():\\n    \\"\\"\\"Return 1.\\"\\"\\"\\n", "entry_point": "one", '
                 '"tests": ["assert one() == 1"]}\n')
EVENTS_EXAMPLE = ('id: 1700000000000-0\nevent: status\ndata: {"kind": "status", "status": "running", "done": 0, '
                  '"total": 2}\n\nid: 1700000000040-0\nevent: job\ndata: {"kind": "job", "job_id": '
                  '"3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b", "task_id": "t1", "status": "running", "run": 1, "done": 0, '
                  '"total": 2}\n\nid: 1700000002000-0\nevent: job\ndata: {"kind": "job", "job_id": '
                  '"3f2a9c0e5b7d4e1f8a6b2c3d4e5f6a7b", "task_id": "t1", "status": "succeeded", "verdict": '
                  '{"source": "hidden_tests", "passed": true, "verdict": "passed"}, "done": 1, "total": 2}\n\n'
                  '...\n\nid: 1700000004000-0\nevent: status\ndata: {"kind": "status", "status": "succeeded", '
                  '"done": 2, "total": 2, "jobs": {...}, "report": {...}}\n\n')
UPLOAD_OPTIONS_EXAMPLE = '{"options": {"strategy": "none"}, "limit": 10, "concurrency": 2}'
GZIP_MAGIC = b"\x1f\x8b"
EXAMPLES = {
    "dataset": {"summary": "The first 10 HumanEval problems, in-execution",
                "value": {"dataset": "humaneval", "limit": 10, "options": {"strategy": "in_execution"},
                          "concurrency": 2}},
    "inline": {"summary": "Problems sent inline",
               "value": {"problems": [ADD_PROBLEM], "options": {"strategy": "post_execution", "feedback": "label"}}},
    "jsonl": {"summary": "An uploaded JSONL file (its text)",
              "value": {"jsonl": JSONL_EXAMPLE, "options": {"strategy": "none"}}},
}
UPLOAD_OPENAPI: dict[str, Any] = {"requestBody": {"content": {"multipart/form-data": {"examples": {
    "upload": {"summary": "A JSONL file, the first 10 problems, no repair",
               "value": {"file": JSONL_EXAMPLE, "options": UPLOAD_OPTIONS_EXAMPLE}},
}}}}}


async def _load_batch(services: Services, batch_id: str, caller: str) -> Batch:
    return owned(await services.batches.get(batch_id), caller, "batch", batch_id)


def _parse_jsonl(data: bytes, name: str = "jsonl") -> list[Problem]:
    """The problems of an uploaded JSONL file, read by the engine's own parser (every format it knows); its
    errors call the file ``name`` and give the line."""
    if data[:2] == GZIP_MAGIC:
        # load_problems would gunzip it; not here, where a few compressed megabytes can inflate to gigabytes.
        raise Invalid(f"{name} is gzip-compressed: upload the JSONL itself")
    try:
        problems = parse_problems(data, name)
    except SelfDebugError as exc:
        raise Invalid(str(exc)) from exc
    return list(problems.values())


def _file_name(filename: str | None) -> str:
    """An uploaded file's base name, safe to quote in an error (the client chose it: no path, no control
    characters, not too long)."""
    name = PurePosixPath((filename or "").replace("\\", "/")).name
    name = "".join(c for c in name if c.isprintable())[:100].strip()
    return name or "upload"


def _pairs(problems: list[Problem], settings: APISettings, where: str) -> Pairs:
    """The problems a client sent (inline or as JSONL), each within the limits a job's problem has."""
    for index, problem in enumerate(problems):
        check_problem(settings, problem, f"{where}[{index}]")
    ids = [p.task_id for p in problems]
    if len(set(ids)) != len(ids):
        raise Invalid("task ids repeat within the batch")
    return [(p.task_id, p) for p in problems]


async def _problems(services: Services, request: BatchRequest) -> Pairs:
    """The batch's (task id, problem) pairs, before task_ids and limit are applied."""
    if request.dataset is not None:
        try:
            dataset = await services.dataset(request.dataset)
        except SelfDebugError as exc:
            raise Unavailable(f"dataset {request.dataset} cannot be loaded: {exc}", retry_after=60) from exc
        return [(p.task_id, p) for p in dataset]
    if request.problems is not None:
        try:
            problems = [p.to_problem() for p in request.problems]
        except ValueError as exc:
            raise Invalid(str(exc)) from exc
        return _pairs(problems, services.settings, "problems")
    problems = await asyncio.to_thread(_parse_jsonl, (request.jsonl or "").encode())
    return _pairs(problems, services.settings, "jsonl problem")


def _select(pairs: Pairs, request: BatchParameters, most: int) -> Pairs:
    if request.task_ids is not None:
        known = dict(pairs)
        unknown = [t for t in request.task_ids if t not in known]
        if unknown:
            raise Invalid(f"unknown task ids: {', '.join(unknown[:5])}")
        pairs = [(t, known[t]) for t in dict.fromkeys(request.task_ids)]
    if request.limit is not None:
        pairs = pairs[: request.limit]
    if len(pairs) > most:
        raise Invalid(f"a batch may hold at most {most} problems; use limit or task_ids")
    if request.options.strategy is Strategy.IN_EXECUTION and any(p.kind is ProblemKind.STDIO for _, p in pairs):
        raise Invalid("in_execution traces functions: the batch holds stdio problems")
    return pairs


async def _submit(services: Services, caller: str, params: BatchParameters, load: PairsLoader, *,
                  dataset: str | None = None) -> BatchView:
    """What both ways of submitting a batch do once they know its source: check the request's bounds, load and
    select its problems, store the batch and send its first jobs. ``dataset`` is set when the problems are a
    named dataset's (jobs then refer to them instead of carrying them)."""
    settings = services.settings
    time_limit = check_job(settings, params.model, params.time_limit, params.options)
    pairs = _select(await load(), params, settings.max_batch_problems)
    if not pairs:
        raise Invalid("the batch holds no problems")
    common = {"options": params.options, "model": params.model, "time_limit": time_limit}
    specs = [JobSpec(ref=ProblemRef(dataset=dataset, task_id=task_id), **common) if dataset is not None
             else JobSpec(problem=problem, **common) for task_id, problem in pairs]
    concurrency = min(params.concurrency or settings.batch_concurrency, settings.max_batch_concurrency)
    spec = BatchSpec(source=dataset or "inline", options=params.options, model=params.model,
                     concurrency=concurrency, time_limit=time_limit)
    try:
        batch_id, to_send = await services.batches.create(caller, spec, specs, cap=settings.max_active_batches,
                                                          quota=settings.storage_quota)
    except QuotaReached as exc:
        raise RateLimited(str(exc), retry_after=exc.retry_after) from exc
    except CapReached as exc:
        raise RateLimited(str(exc), retry_after=30) from exc
    for job_id in to_send:
        await services.send(job_id)
    batch = await _load_batch(services, batch_id, caller)
    return batch_view(batch, await services.batches.status_counts(batch_id))


@router.post("", status_code=202, response_model=BatchView, responses=error_responses(400, 401, 413, 422, 429, 503),
             summary="Run a batch", description="Runs the loop on every problem of a dataset, of a list, or of an "
             "uploaded JSONL, at most `concurrency` jobs at a time. The batch ends with its report (pass@1 first "
             "and final, per iteration, and the bias table) even when some problems fail. To send a JSONL file "
             "as a file rather than as text, use `POST /v1/batches/upload`.")
async def submit_batch(request: Annotated[BatchRequest, Body(openapi_examples=EXAMPLES)], caller: Caller,
                       services: ServicesDep) -> BatchView:
    async def load() -> Pairs:
        return await _problems(services, request)

    return await _submit(services, caller, request, load, dataset=request.dataset)


@router.post("/upload", status_code=202, response_model=BatchView,
             responses=error_responses(400, 401, 413, 422, 429, 503), openapi_extra=UPLOAD_OPENAPI,
             summary="Run a batch on an uploaded JSONL file", description="The same batch as `POST /v1/batches` "
             "with a `jsonl`, sent as `multipart/form-data`: the problem file as the `file` part, and the rest of the "
             "request (`options`, `task_ids`, `limit`, `model`, `concurrency`, `time_limit`) as one JSON object in "
             "the optional `options` part. The file must be UTF-8 and uncompressed, in any format "
             "`selfdebug.datasets` reads; errors name its line. The request's size is limited as every body is "
             "(413 beyond). E.g. `curl -H 'Authorization: Bearer KEY' -F file=@problems.jsonl "
             "-F 'options={\"options\": {\"strategy\": \"none\"}}' .../v1/batches/upload`.")
async def upload_batch(
    file: Annotated[UploadFile, File(description="The JSONL problem file (UTF-8, one problem a line).")],
    caller: Caller, services: ServicesDep,
    options: Annotated[Json[BatchParameters] | None, Form(
        description="A JSON object: every field of a `POST /v1/batches` request but its source (`dataset`, "
                    "`problems`, `jsonl`).", examples=[UPLOAD_OPTIONS_EXAMPLE])] = None,
) -> BatchView:
    name = _file_name(file.filename)

    async def load() -> Pairs:
        data = await file.read()
        return _pairs(await asyncio.to_thread(_parse_jsonl, data, name), services.settings, f"{name} problem")

    return await _submit(services, caller, options or BatchParameters(), load)


@router.get("", response_model=BatchPage, responses=error_responses(401, 422, 429, 503),
            summary="The caller's batches, newest first", description="Every batch of the calling key (another "
            "key's never appear), a page at a time: pass a page's `next_cursor` as `?cursor=` for the next; pages "
            "neither repeat nor skip batches however many are created meanwhile. `?status=` keeps the batches in "
            "that status (a filtered page may hold fewer than `limit` while more follow: go on while `next_cursor` "
            "is set). Each batch is shown without its per-status counts and report (`GET /v1/batches/{id}`).")
async def list_batches(caller: Caller, services: ServicesDep,
                       status: Annotated[BatchStatus | None, Query(description="Only batches in this status.")]
                       = None, limit: Limit = DEFAULT_PAGE, cursor: Cursor = None) -> BatchPage:
    page = await services.listing.batches(caller, limit=limit, cursor=cursor, status=status)
    return BatchPage(items=[batch_summary(batch) for batch in page.items], next_cursor=page.next_cursor)


@router.get("/{batch_id}", response_model=BatchView, responses=error_responses(401, 403, 404, 422, 429, 503),
            summary="A batch: progress, and its report once done")
async def get_batch(batch_id: BatchId, caller: Caller, services: ServicesDep) -> BatchView:
    batch = await _load_batch(services, batch_id, caller)
    return batch_view(batch, await services.batches.status_counts(batch_id))


@router.delete("/{batch_id}", status_code=202, response_model=BatchView,
               responses={204: {"description": "Removed (?remove=true): the batch and its jobs are gone."},
                          **error_responses(401, 403, 404, 409, 422, 429, 503)},
               summary="Cancel a batch, or remove a finished one",
               description="Sends no more of its jobs and cancels those queued or running; the report covers "
               "the jobs that ended. With ?remove=true, a batch that is no longer running is removed with its jobs "
               "instead (204), which frees their places in the key's storage quota; a running one is a conflict "
               "(409): cancel it first.")
async def cancel_batch(batch_id: BatchId, caller: Caller, services: ServicesDep,
                       remove: Annotated[bool, Query(description="Remove a finished batch and its jobs.")] = False,
                       ) -> BatchView | Response:
    await _load_batch(services, batch_id, caller)
    if remove:
        if await services.batches.remove(batch_id) == "active":
            raise Conflict(f"batch {batch_id} is running: cancel it first (DELETE without remove)")
        return Response(status_code=204)
    await services.batches.request_cancel(batch_id)
    await finalize(services.batches, batch_id, holder=services.holder)
    batch = await _load_batch(services, batch_id, caller)
    return batch_view(batch, await services.batches.status_counts(batch_id))


@router.get("/{batch_id}/results", response_class=StreamingResponse,
            responses={200: {"description": "One engine record per problem (JSON Lines, problem order), with the "
                                            "job's id and status; a job that produced no record gets one saying why.",
                             "content": {"application/x-ndjson": {"schema": {"type": "string"},
                                                                  "example": RESULTS_EXAMPLE}}},
                       **error_responses(401, 403, 404, 422, 429, 503)},
            summary="The per-problem records as JSONL")
async def batch_results(batch_id: BatchId, caller: Caller, services: ServicesDep) -> StreamingResponse:
    await _load_batch(services, batch_id, caller)
    ids = await services.batches.job_ids(batch_id)

    async def lines() -> AsyncIterator[str]:
        for job_id in ids:
            job = await services.store.get(job_id)
            if job is None:
                continue
            record = record_of(job).model_dump(mode="json")
            record.update(job_id=job.id, status=job.status.value)
            if job.reason:
                record.setdefault("reason", job.reason)
            yield json.dumps(record) + "\n"

    return StreamingResponse(lines(), media_type="application/x-ndjson")


@router.get("/{batch_id}/events", response_class=StreamingResponse,
            responses={200: {"description": "The batch's progress as Server-Sent Events: `event:` is `status` (the "
                                            "batch's own: `running` when created, then `succeeded` or `cancelled` "
                                            "with its jobs by status and its report, the last event) or `job` (one "
                                            "of its jobs started, ended with its reason and verdict, or runs again "
                                            "after its worker was lost); every event carries `done` and `total`. "
                                            "`id:` is its position for Last-Event-ID.",
                             "content": {"text/event-stream": {"schema": EVENT_SCHEMA, "example": EVENTS_EXAMPLE}}},
                       **error_responses(401, 403, 404, 422, 429, 503)},
            summary="Follow a batch's progress (SSE)", description="Live, resumable with the Last-Event-ID header "
            "(or ?after=); the stream ends after the batch's final status event, which carries its report. It "
            "counts among the key's open streams as a job's does (max_streams_per_key: 429 beyond; an API process "
            "serves max_streams: 503 beyond).")
async def batch_events(batch_id: BatchId, caller: Caller, services: ServicesDep,
                       last_event_id: Annotated[str | None, Header(pattern=EVENT_ID)] = None,
                       after: Annotated[str | None, Query(pattern=EVENT_ID, description="Like Last-Event-ID.")]
                       = None) -> StreamingResponse:
    await _load_batch(services, batch_id, caller)
    lease = await services.streams.admit(caller)  # 429 or 503 beyond the caps (api.streams)
    stream = batch_event_stream(services.batch_events, batch_id, last_event_id or after,
                                ping=services.settings.sse_ping_interval, renew=lease.renew)
    return EventStreamResponse(stream, lease.release)
