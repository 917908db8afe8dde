"""What ``selfdebug jobs`` and ``selfdebug batches`` share: the service to ask, and tables and JSON out."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated

import typer
from pydantic import BaseModel

from selfdebug_cli.errors import ExitCode, fail
from selfdebug_cli.options import ServerOpt

__all__ = ["JsonOpt", "LimitOpt", "ServerOpt", "echo_json", "require_server", "table", "when"]

JsonOpt = Annotated[bool, typer.Option("--json", help="JSON instead of text (one object a line for lists).")]
LimitOpt = Annotated[int, typer.Option("--limit", "-n", min=1, max=10_000, help="At most this many, newest first.")]


def require_server(server: str | None) -> str:
    if not server:
        fail("name the service: --server URL, or SELFDEBUG_URL (and its key in SELFDEBUG_API_KEY)", ExitCode.USAGE)
    return server


def when(moment: datetime | None) -> str:
    """A time as the reader's clock shows it, to the second."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment is not None else "-"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns as wide as their longest cell, the last one as it comes."""
    widths = [max([len(header[i]), *(len(row[i]) for row in rows)]) for i in range(len(header) - 1)]
    for row in (header, *rows):
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)] + [row[-1]]
        typer.echo("  ".join(cells).rstrip())


def echo_json(value: BaseModel) -> None:
    typer.echo(json.dumps(value.model_dump(mode="json"), ensure_ascii=False))
