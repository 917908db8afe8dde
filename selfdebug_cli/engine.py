"""The engine's commands: ``selfdebug run`` (a problem set), ``selfdebug solve`` (one problem) and ``selfdebug
report`` (a run folder's report). ``run`` and ``solve`` run the engine here, or on a service with ``--server``
(``SELFDEBUG_URL``): the same output either way (``selfdebug_cli.remote``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from selfdebug.batch import write_report
from selfdebug.datasets import DATASET_NAMES, Dataset, load_dataset
from selfdebug.errors import UnknownTaskError
from selfdebug.evaluation import load_samples, program_for
from selfdebug.options import Feedback
from selfdebug.record import StopReason
from selfdebug.report import render_markdown
from selfdebug_cli.errors import CommandError, ExitCode, fail, reported
from selfdebug_cli.local import run_local, solve_local
from selfdebug_cli.options import (
    FeedbackOpt,
    GuardOpt,
    IterOpt,
    LocalOpt,
    ModelOpt,
    ServerOpt,
    StrategyOpt,
    TestsOpt,
    one_option,
    parse_options,
)
from selfdebug_cli.problems import read_problem
from selfdebug_cli.remote import job_outcome, run_remote, solve_remote

__all__ = ["report", "run", "solve"]


def run(
    dataset: Annotated[str, typer.Option("--dataset", "-d", help=f"{', '.join(DATASET_NAMES)} or a JSONL path.")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Results folder (rerun to resume).")],
    strategy: StrategyOpt = "post_execution",
    feedback: FeedbackOpt = Feedback.DETAIL,
    guard: GuardOpt = False,
    model: ModelOpt = None,
    limit: Annotated[int | None, typer.Option("--limit", "-n", min=1, help="Only the first N problems.")] = None,
    concurrency: Annotated[int, typer.Option("--concurrency", "-c", min=1, max=64)] = 2,
    max_iterations: IterOpt = 2,
    num_tests: TestsOpt = 10,
    seeds: Annotated[Path | None, typer.Option(
        "--seeds", help="Samples JSONL (task_id + solution/completion) used as the first programs instead of "
                        "generating them, as LDB did with gpt-3.5's programs.")] = None,
    server: ServerOpt = None,
    local: LocalOpt = False,
) -> None:
    """Run the self-debugging loop over a problem set; write results.jsonl per strategy and a report. On a service
    (--server), one batch per strategy; run it again to reattach, Ctrl-C detaches."""
    chosen = parse_options(strategy, feedback, guard, max_iterations, num_tests)
    if server and not local:
        if seeds is not None:
            fail("--seeds runs here only: the service takes no seed programs", ExitCode.USAGE)
        with reported():
            table, report_path = run_remote(server, dataset, chosen, model, limit, concurrency, output)
        typer.echo(table)
        typer.echo(f"report: {report_path}")
        return
    with reported():
        data = load_dataset(dataset)
        problems = list(data)[:limit]
        seeded = _seed_programs(data, seeds) if seeds is not None else None
        if seeded is not None:
            problems = [p for p in problems if p.task_id in seeded]
        table = run_local(data, problems, chosen, model, output, concurrency, seeded)
    typer.echo(table)
    typer.echo(f"report: {output / data.name / 'report.md'}")


def solve(
    problem: Annotated[str, typer.Argument(help="A problem: a file (.py/.txt prompt, or a .json problem) or "
                                                "the prompt text itself; '-' reads stdin.")],
    entry_point: Annotated[str | None, typer.Option("--entry-point", "-e", help="The function to write.")] = None,
    stdio: Annotated[bool, typer.Option("--stdio", help="A stdin/stdout program, not a function.")] = False,
    strategy: StrategyOpt = "post_execution",
    feedback: FeedbackOpt = Feedback.DETAIL,
    guard: GuardOpt = False,
    model: ModelOpt = None,
    max_iterations: IterOpt = 2,
    num_tests: TestsOpt = 10,
    record_out: Annotated[Path | None, typer.Option("--record", help="Write the whole record (JSON) here.")] = None,
    server: ServerOpt = None,
    local: LocalOpt = False,
) -> None:
    """Solve one problem with the loop, showing each step on stderr, and print the final program. On a service
    (--server), Ctrl-C cancels the job."""
    option = one_option(strategy, feedback, guard, max_iterations, num_tests)
    with reported():
        try:
            parsed = read_problem(problem, entry_point, stdio)
        except ValueError as exc:  # what pydantic says of the problem, or no function to write
            fail(str(exc), ExitCode.USAGE)
        if server and not local:
            job = solve_remote(server, parsed, option, model)
            if record_out is not None and job.record is not None:
                record_out.write_text(job.record.model_dump_json(indent=2))
            job_outcome(job)
            error, program = (job.record.error if job.record else None), job.final_program or ""
        else:
            record = solve_local(parsed, option, model)
            if record_out is not None:
                record_out.write_text(record.model_dump_json(indent=2))
            if record.stop_reason == StopReason.LLM_ERROR:  # what a service's worker calls a failed job
                raise CommandError(f"the LLM endpoint failed: {record.error}", ExitCode.FAULT)
            error, program = record.error, record.final_program
    if error:
        typer.echo(f"note: {error}", err=True)
    typer.echo(program)


def report(
    output: Annotated[Path, typer.Argument(help="A folder written by `selfdebug run` (DIR/<dataset>).")],
) -> None:
    """Rebuild report.md, report.json and pass_at_1.png from the results under a run folder."""
    if not output.is_dir():
        fail(f"{output} is not a folder", ExitCode.USAGE)
    typer.echo(render_markdown(write_report(output)))


def _seed_programs(data: Dataset, path: Path) -> dict[str, str]:
    """First programs from a samples file, assembled as ``evaluate`` assembles them."""
    programs = {}
    for sample in load_samples(path):
        if sample.task_id not in data:
            raise UnknownTaskError(sample.task_id, data.name, source=str(path), line=sample.line)
        programs[sample.task_id] = program_for(data[sample.task_id], sample)
    return programs
