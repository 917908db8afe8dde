"""``selfdebug solve`` and ``selfdebug run`` on a service (``--server URL`` or ``SELFDEBUG_URL``), through the
client: the same steps on stderr, the same program on stdout, the same output folder and exit codes as a run in
this process.

A remote ``run`` keeps, beside each strategy's ``results.jsonl``, a ``batch.json`` naming the service and the
batch (and what was asked of it): running the same command again reattaches to that batch rather than starting
another, and Ctrl-C only detaches (the batch runs on). A remote ``solve`` cancels its job on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import typer
from pydantic import BaseModel
from tqdm import tqdm

from selfdebug.batch import prepare_run_folder, write_report
from selfdebug.datasets import DATASET_NAMES, load_dataset
from selfdebug.options import DebugOptions
from selfdebug.problems import Problem
from selfdebug.report import render_markdown
from selfdebug_cli.display import show_event
from selfdebug_cli.errors import CommandError, ExitCode
from selfdebug_client import Batch, BatchStatus, Client, Job, JobStatus, NotFound, SelfDebugClientError

__all__ = ["BatchState", "job_outcome", "run_remote", "solve_remote"]

# The fields of a problem a job takes (the API's ProblemIn); the others need a batch (JSONL) to travel.
JOB_FIELDS = ("task_id", "prompt", "kind", "entry_point", "given_tests", "tests", "test", "test_setup", "io_tests")
CANCEL_TIMEOUT = 15.0  # seconds Ctrl-C may spend telling the service to cancel the job


# ---------------------------------------------------------------- solve


def solve_remote(server: str, problem: Problem, option: DebugOptions, model: str | None) -> Job:
    """Submit ``problem``, show its steps as they happen, and return the job once it ended (Ctrl-C cancels it)."""
    body = problem.model_dump(mode="json", include=set(JOB_FIELDS))
    left_out = sorted(k for k, v in problem.model_dump(exclude=set(JOB_FIELDS), exclude_defaults=True).items() if v)
    if left_out:
        typer.echo(f"note: a job takes no {', '.join(left_out)}; they are not sent (a batch of one takes them)",
                   err=True)
    job: Job | None = None
    with Client(server) as client:
        try:
            with _interrupt_deferred():  # so that a job created by this request is known, and can be cancelled
                job = client.jobs.submit(body, option.model_dump(mode="json"), model=model)
            for event in client.jobs.events(job):
                if event.kind != "status":
                    show_event(event.kind, event.iteration or 0, event.data)
                elif event.status is JobStatus.QUEUED and event.reason:  # its worker was lost: it runs again
                    typer.echo(f"note: {event.reason}", err=True)
            return client.jobs.get(job)
        except KeyboardInterrupt:
            if job is not None:
                _cancel(server, job.id)
            raise


@contextlib.contextmanager
def _interrupt_deferred() -> Iterator[None]:
    """A first Ctrl-C inside the block takes effect when the block ends; a second one at once (a request that waits
    out a long Retry-After should not hold the terminal). Only the main thread receives signals."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def defer(number: int, _frame: object) -> None:
        if caught:
            raise KeyboardInterrupt
        caught.append(number)

    previous = signal.signal(signal.SIGINT, defer)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt


def _cancel(server: str, job_id: str) -> None:
    try:
        with Client(server, timeout=CANCEL_TIMEOUT, max_retries=1) as client:
            client.jobs.cancel(job_id)
        typer.echo(f"cancelled job {job_id}", err=True)
    except SelfDebugClientError as exc:
        typer.echo(f"note: job {job_id} could not be cancelled ({exc}); `selfdebug jobs cancel {job_id}`", err=True)


def job_outcome(job: Job) -> None:
    """Raise the ``CommandError`` a job that did not succeed stands for."""
    if job.status is JobStatus.FAILED:
        raise CommandError(job.reason or f"job {job.id} failed", ExitCode.FAULT)
    if job.status is JobStatus.CANCELLED:
        raise CommandError(f"job {job.id} was cancelled ({job.reason or 'by request'})", ExitCode.CANCELLED)


# ---------------------------------------------------------------- run


class BatchState(BaseModel):
    """``batch.json``: which batch a remote run follows, what was asked of it, and whether its results are in
    ``results.jsonl`` yet (then with the batch's final status)."""

    server: str
    batch_id: str
    request: dict[str, Any]
    complete: bool = False
    status: str | None = None


def run_remote(server: str, dataset: str, options: list[DebugOptions], model: str | None, limit: int | None,
               concurrency: int, output: Path) -> tuple[str, Path]:
    """One batch per strategy, one after another (a key may run only a few batches at once), each into the
    folder a local run writes; returns the report's table and the report's path."""
    name, upload, request = _source(dataset, limit, model)
    folder = output / name
    cancelled = []
    with Client(server) as client:
        for option in options:
            run_dir = prepare_run_folder(folder, option)
            state = _follow(client, run_dir, request, option, upload, concurrency)
            if state.status == BatchStatus.CANCELLED.value:
                cancelled.append(state.batch_id)
    title = f"Self-debugging on {name}"
    table = render_markdown(write_report(folder, title=title), title=title)
    if cancelled:
        typer.echo(table)
        raise CommandError(f"batch {', '.join(cancelled)} was cancelled; the report covers the problems that ended",
                           ExitCode.CANCELLED)
    return table, folder / "report.md"


def _source(dataset: str, limit: int | None, model: str | None) -> tuple[str, bytes | None, dict[str, Any]]:
    """The folder's name, the JSONL to upload (None: a dataset the service has by name), and the request."""
    if dataset.lower() in DATASET_NAMES:
        name = dataset.lower()
        return name, None, {"dataset": name, "limit": limit, "model": model}
    data = load_dataset(dataset)  # read here: the service may not see this path, and errors name the line here
    problems = list(data)[:limit]
    jsonl = "".join(p.model_dump_json(exclude_defaults=True) + "\n" for p in problems).encode()
    return data.name, jsonl, {"dataset": data.name, "digest": data.digest, "limit": limit, "model": model}


def _follow(client: Client, run_dir: Path, request: dict[str, Any], option: DebugOptions, upload: bytes | None,
            concurrency: int) -> BatchState:
    """This strategy's batch to its end (the one ``batch.json`` names, else a new one), its results saved."""
    state_path, results = run_dir / "batch.json", run_dir / "results.jsonl"
    state = BatchState.model_validate_json(state_path.read_text()) if state_path.exists() else None
    if state is None and results.exists() and results.read_text().strip():
        raise CommandError(f"{run_dir} holds the results of a run made here: resume it here (without --server), "
                           "or use another --output", ExitCode.USAGE)
    if state is not None and (state.server != client.base_url or state.request != request):
        raise CommandError(f"{run_dir} follows batch {state.batch_id} on {state.server} for other arguments "
                           f"({state.request}); use another --output", ExitCode.USAGE)
    if state is not None and state.complete:
        return state  # its results are here already
    batch = _reattach(client, state) if state is not None else None
    if batch is None:
        if state is not None:
            typer.echo(f"note: batch {state.batch_id} is no longer on the service (removed, or expired before its "
                       "results were saved): starting another", err=True)
        batch = _submit(client, request, option, upload, concurrency)
        state = BatchState(server=client.base_url, batch_id=batch.id, request=request)
        _save(state_path, state)
    assert state is not None
    batch = _progress(client, batch, option.label)
    _save_results(client, batch, results)
    state.complete, state.status = True, batch.status.value
    _save(state_path, state)
    return state


def _save(path: Path, state: BatchState) -> None:
    path.write_text(state.model_dump_json(indent=2) + "\n")


def _reattach(client: Client, state: BatchState) -> Batch | None:
    try:
        return client.batches.get(state.batch_id)
    except NotFound:
        return None


def _submit(client: Client, request: dict[str, Any], option: DebugOptions, upload: bytes | None,
            concurrency: int) -> Batch:
    common: dict[str, Any] = {"options": option.model_dump(mode="json"), "model": request["model"],
                              "concurrency": concurrency}
    if upload is None:
        return client.batches.submit(dataset=request["dataset"], limit=request["limit"], **common)
    return client.batches.upload(upload, filename=f"{request['dataset']}.jsonl", **common)  # limit already applied


def _progress(client: Client, batch: Batch, label: str) -> Batch:
    """Follow the batch's events to its end with a progress bar; Ctrl-C detaches (the batch runs on)."""
    with tqdm(total=batch.total, desc=label, unit="problem") as bar:
        try:
            for event in client.batches.events(batch):
                if event.done is not None and event.done != bar.n:
                    bar.n = event.done
                    bar.refresh()
                if event.terminal:
                    break
        except KeyboardInterrupt:
            raise CommandError(f"detached from batch {batch.id}, which runs on: run the same command again to "
                               f"reattach, or `selfdebug batches cancel {batch.id}`", ExitCode.INTERRUPTED) from None
    return client.batches.get(batch)


def _save_results(client: Client, batch: Batch, path: Path) -> None:
    """The batch's records, one per problem, as a local run writes them (plus each job's id and status)."""
    partial = path.with_name(path.name + ".part")
    with partial.open("w", encoding="utf-8") as handle:
        for result in client.batches.results(batch):
            handle.write(result.model_dump_json() + "\n")
    partial.replace(path)
