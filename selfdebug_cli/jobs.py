"""``selfdebug jobs``: the caller's jobs on a service (list, show, cancel)."""

from __future__ import annotations

from typing import Annotated

import typer

from selfdebug_cli.errors import reported
from selfdebug_cli.listing import JsonOpt, LimitOpt, ServerOpt, echo_json, require_server, table, when
from selfdebug_client import Client, Job, JobStatus, JobSummary

__all__ = ["app"]

app = typer.Typer(name="jobs", no_args_is_help=True, help="The jobs of your API key on a service: list, show, "
                  "cancel.")
JobId = Annotated[str, typer.Argument(help="A job id.", metavar="JOB")]


def _verdict(job: JobSummary) -> str:
    if job.verdict is None or job.verdict.passed is None:
        return "-"
    return f"{job.verdict.verdict or ('passed' if job.verdict.passed else 'failed')} ({job.verdict.source})"


@app.command("list")
def list_jobs(
    server: ServerOpt = None,
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this status.")] = None,
    batch: Annotated[str | None, typer.Option(help="Only the jobs of this batch.")] = None,
    limit: LimitOpt = 20,
    as_json: JsonOpt = False,
) -> None:
    """Your jobs, newest first."""
    with reported(), Client(require_server(server)) as client:
        jobs = []
        for job in client.jobs.list(status=status, batch=batch, page_size=min(limit, 100)):
            jobs.append(job)
            if len(jobs) >= limit:
                break
    if as_json:
        for job in jobs:
            echo_json(job)
        return
    table(["JOB", "STATUS", "CREATED", "STRATEGY", "VERDICT", "BATCH", "TASK"],
          [[j.id, j.status.value, when(j.created_at), j.options.strategy.value, _verdict(j), j.batch_id or "-",
            j.task_id] for j in jobs])


def _show(job: Job) -> None:
    lines = [("job", job.id), ("status", job.status.value + (f" ({job.reason})" if job.reason else "")),
             ("task", job.task_id), ("strategy", job.options.strategy.value), ("model", job.model or "(default)"),
             ("created", when(job.created_at)), ("started", when(job.started_at)),
             ("finished", when(job.finished_at)), ("verdict", _verdict(job))]
    if job.batch_id:
        lines.append(("batch", job.batch_id))
    if job.usage is not None:
        lines.append(("usage", f"{job.usage.calls} LLM calls, {job.usage.prompt_tokens} prompt + "
                               f"{job.usage.completion_tokens} completion tokens"))
    if job.timing is not None and job.timing.run is not None:
        lines.append(("time", f"{job.timing.run:.1f}s running, {job.timing.queued or 0:.1f}s queued"))
    for name, value in lines:
        typer.echo(f"{name + ':':<10}{value}")
    if job.final_program:
        typer.echo("\n" + job.final_program.rstrip("\n"))


@app.command()
def show(job: JobId, server: ServerOpt = None, as_json: JsonOpt = False) -> None:
    """A job: its status, verdict, usage and final program (--json: the whole record)."""
    with reported(), Client(require_server(server)) as client:
        found = client.jobs.get(job)
    echo_json(found) if as_json else _show(found)


@app.command()
def cancel(job: JobId, server: ServerOpt = None, as_json: JsonOpt = False) -> None:
    """Cancel a queued or running job."""
    with reported(), Client(require_server(server)) as client:
        found = client.jobs.cancel(job)
    if as_json:
        echo_json(found)
    else:
        typer.echo(f"job {found.id}: {found.status.value}" + (" (stopping)" if not found.terminal else ""))
