"""The ``selfdebug`` command line: the composition root above the engine, the sandbox, the service and the
client. Each command lives in the module of its concern; this one puts them together."""

from __future__ import annotations

import pydantic
import typer

from selfdebug_cli import batches, engine, evaluate, jobs, lsp, service
from selfdebug_cli.errors import ExitCode

__all__ = ["app", "run"]

app = typer.Typer(name="selfdebug", no_args_is_help=True, add_completion=False,
                  help="Have an LLM write code and its own tests, run both in a Docker sandbox, repair in a loop.")


@app.callback()
def main() -> None:
    """selfdebug: a sandboxed self-debugging service for LLM code generation."""


app.command()(evaluate.evaluate)
app.command()(engine.run)
app.command()(engine.solve)
app.command()(engine.report)
app.command()(service.serve)
app.command()(service.worker)
app.command()(lsp.lsp)
app.add_typer(jobs.app)
app.add_typer(batches.app)

# Settings classes whose environment variables do not start with SELFDEBUG_.
_PREFIXES = {"SandboxSettings": "SANDBOX_", "LLMSettings": "SELFDEBUG_LLM_"}


def run() -> None:
    """The console script: ``app``, with a bad setting (an environment variable) said in a line, not a traceback."""
    try:
        app()
    except pydantic.ValidationError as exc:
        if not exc.title.endswith("Settings"):
            raise
        prefix = _PREFIXES.get(exc.title, "SELFDEBUG_")
        for error in exc.errors():
            name = prefix + "_".join(str(part) for part in error["loc"]).upper()
            typer.echo(f"error: {name}: {error['msg']}", err=True)  # not its value: it may be a key
        raise SystemExit(ExitCode.USAGE) from None
