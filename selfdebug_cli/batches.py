"""``selfdebug batches``: the caller's batches on a service (list, show, cancel)."""

from __future__ import annotations

from typing import Annotated

import typer

from selfdebug_cli.errors import reported
from selfdebug_cli.listing import JsonOpt, LimitOpt, ServerOpt, echo_json, require_server, table, when
from selfdebug_client import Batch, BatchStatus, Client

__all__ = ["app"]

app = typer.Typer(name="batches", no_args_is_help=True, help="The batches of your API key on a service: list, "
                  "show, cancel.")
BatchId = Annotated[str, typer.Argument(help="A batch id.", metavar="BATCH")]


@app.command("list")
def list_batches(
    server: ServerOpt = None,
    status: Annotated[BatchStatus | None, typer.Option(help="Only batches in this status.")] = None,
    limit: LimitOpt = 20,
    as_json: JsonOpt = False,
) -> None:
    """Your batches, newest first."""
    with reported(), Client(require_server(server)) as client:
        batches = []
        for batch in client.batches.list(status=status, page_size=min(limit, 100)):
            batches.append(batch)
            if len(batches) >= limit:
                break
    if as_json:
        for batch in batches:
            echo_json(batch)
        return
    table(["BATCH", "STATUS", "CREATED", "DONE", "STRATEGY", "SOURCE"],
          [[b.id, b.status.value, when(b.created_at), f"{b.done}/{b.total}", b.options.strategy.value, b.source]
           for b in batches])


def _show(batch: Batch) -> None:
    counts = ", ".join(f"{count} {status}" for status, count in batch.jobs.items() if count)
    lines = [("batch", batch.id), ("status", batch.status.value + (" (cancel asked)" if batch.cancel_requested and
                                                                   not batch.terminal else "")),
             ("source", batch.source), ("strategy", batch.options.strategy.value),
             ("progress", f"{batch.done}/{batch.total} done" + (f": {counts}" if counts else "")),
             ("created", when(batch.created_at)), ("finished", when(batch.finished_at))]
    for name, value in lines:
        typer.echo(f"{name + ':':<10}{value}")
    if batch.report_markdown:
        typer.echo("\n" + batch.report_markdown.rstrip("\n"))


@app.command()
def show(batch: BatchId, server: ServerOpt = None, as_json: JsonOpt = False) -> None:
    """A batch: its progress, and its report once it ended."""
    with reported(), Client(require_server(server)) as client:
        found = client.batches.get(batch)
    echo_json(found) if as_json else _show(found)


@app.command()
def cancel(batch: BatchId, server: ServerOpt = None, as_json: JsonOpt = False) -> None:
    """Cancel a batch: no more of its jobs start, the running ones are cancelled; its report covers what ended."""
    with reported(), Client(require_server(server)) as client:
        found = client.batches.cancel(batch)
    if as_json:
        echo_json(found)
    else:
        typer.echo(f"batch {found.id}: {found.status.value}, {found.done}/{found.total} done")
