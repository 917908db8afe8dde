"""The engine's commands: ``selfdebug run`` (a problem set), ``selfdebug solve`` (one problem), ``selfdebug report``.

Both ``run`` and ``solve`` talk to the configured LLM endpoint (``SELFDEBUG_LLM_*``), or start the embedded
SmolLM2 server when none is configured, and use one warm sandbox pool for self-tests, traces and the hidden-test
evaluation.
"""

from __future__ import annotations

import asyncio
import json
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from tqdm import tqdm

from sandbox import AsyncSandbox, Sandbox, SandboxError, SandboxSettings
from selfdebug.batch import run_batch, write_report
from selfdebug.datasets import DATASET_NAMES, Dataset, load_dataset, parse_problems
from selfdebug.errors import SelfDebugError, UnknownTaskError
from selfdebug.evaluation import EvaluationSettings, Judge, judged_counts, load_samples, program_for
from selfdebug.events import Event
from selfdebug.llm import ChatModel, LLMError, LLMSettings, open_chat_model
from selfdebug.loop import Debugger, Evaluator, HiddenVerdict
from selfdebug.options import DebugOptions, Feedback, Strategy
from selfdebug.problems import Problem, ProblemKind
from selfdebug.record import DebugRecord
from selfdebug.report import render_markdown

__all__ = ["register"]

EXIT_USAGE = 2
EXIT_FAULT = 3

StrategyOpt = Annotated[
    str, typer.Option("--strategy", "-s", help="none, post_execution, in_execution or oracle; "
                      "run takes several, comma-separated.")
]
FeedbackOpt = Annotated[Feedback, typer.Option("--feedback", help="Post-execution feedback level.")]
GuardOpt = Annotated[bool, typer.Option("--guard/--no-guard", help="Keep a repair only if it is shown better.")]
ModelOpt = Annotated[str | None, typer.Option("--model", "-m", help="Model name at the endpoint.")]
IterOpt = Annotated[int, typer.Option("--max-iterations", min=0, max=10, help="Repair rounds (the paper: 2).")]
TestsOpt = Annotated[int, typer.Option("--num-tests", min=1, max=50, help="Self-generated tests to ask for.")]


def _fail(message: str, code: int) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def _options(strategies: str, feedback: Feedback, guard: bool, max_iterations: int,
             num_tests: int) -> list[DebugOptions]:
    chosen = []
    for name in (part.strip() for part in strategies.split(",") if part.strip()):
        try:
            strategy = Strategy(name)
        except ValueError:
            known = ", ".join(s.value for s in Strategy)
            raise _fail(f"unknown strategy {name!r}; choose from {known}", EXIT_USAGE) from None
        chosen.append(DebugOptions(strategy=strategy, feedback=feedback, guard=guard, max_iterations=max_iterations,
                                   num_tests=num_tests))
    if not chosen:
        raise _fail("--strategy names no strategy", EXIT_USAGE)
    return chosen


def _one_option(strategy: str, feedback: Feedback, guard: bool, max_iterations: int, num_tests: int) -> DebugOptions:
    options = _options(strategy, feedback, guard, max_iterations, num_tests)
    if len(options) > 1:
        raise _fail("solve runs one strategy; give --strategy one name (run compares several)", EXIT_USAGE)
    return options[0]


@dataclass
class _Engine:
    model: ChatModel
    sandbox: Sandbox
    evaluator: Evaluator | None


@asynccontextmanager
async def _engine(model: str | None, dataset: Dataset | None) -> AsyncIterator[_Engine]:
    settings = LLMSettings(model=model) if model else LLMSettings()
    sandbox = Sandbox(SandboxSettings())
    await asyncio.to_thread(sandbox.start)
    try:
        async with open_chat_model(settings) as chat:
            evaluator: Evaluator | None = None
            if dataset is not None:
                judge = Judge(sandbox, dataset, EvaluationSettings())

                async def evaluate(problem: Problem, program: str) -> HiddenVerdict:
                    result = await asyncio.to_thread(judge.evaluate_program, problem, program)
                    return HiddenVerdict(result.passed, str(result.verdict), judged_counts([result]))

                evaluator = evaluate
            yield _Engine(chat, sandbox, evaluator)
    finally:
        await asyncio.to_thread(sandbox.close)


async def _run_all(dataset: Dataset, problems: list[Problem], options: list[DebugOptions], model: str | None,
                   output: Path, concurrency: int, seeds: dict[str, str] | None = None) -> str:
    async with _engine(model, dataset) as engine:
        for option in options:
            debugger = Debugger(engine.model, AsyncSandbox(sandbox=engine.sandbox), option,
                                evaluator=engine.evaluator)
            with tqdm(total=len(problems), desc=option.label, unit="problem") as bar:
                await run_batch(problems, debugger, output / dataset.name, concurrency=concurrency,
                                on_record=_ticker(bar), seeds=seeds)
    reports = write_report(output / dataset.name, title=f"Self-debugging on {dataset.name}")
    return render_markdown(reports, title=f"Self-debugging on {dataset.name}")


def _ticker(bar: tqdm[Any]) -> Callable[[DebugRecord], None]:
    def tick(_record: DebugRecord) -> None:
        bar.update()

    return tick


def _print_event(event: Event) -> None:
    data = event.data
    summary = {
        "program_generated": lambda: f"{len(data.get('program', '').splitlines())} lines",
        "tests_generated": lambda: f"{data.get('usable')} usable, {data.get('dropped')} dropped",
        "executed": lambda: f"{data.get('passed')}/{data.get('total')} self-tests passed",
        "trace_recorded": lambda: f"{len(data.get('traces', []))} traces",
        "program_repaired": lambda: "kept" if data.get("kept") else f"not kept ({data.get('reason')})",
        "guard": lambda: str(data.get("reason")),
        "evaluated": lambda: f"hidden tests by iteration: {data.get('hidden_by_iteration')}",
        "finished": lambda: f"stop: {data.get('stop_reason')}",
    }.get(event.kind.value, lambda: "")()
    typer.echo(f"[{event.iteration}] {event.kind.value}: {summary}", err=True)


def register(app: typer.Typer) -> None:
    """Add ``run``, ``solve`` and ``report`` to the ``selfdebug`` command line."""

    @app.command()
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
    ) -> None:
        """Run the self-debugging loop over a problem set; write results.jsonl per strategy and a report."""
        chosen = _options(strategy, feedback, guard, max_iterations, num_tests)
        try:
            data = load_dataset(dataset)
            problems = list(data)[:limit]
            seeded = _seed_programs(data, seeds) if seeds is not None else None
        except SelfDebugError as exc:
            raise _fail(str(exc), EXIT_USAGE) from exc
        if seeded is not None:
            problems = [p for p in problems if p.task_id in seeded]
        try:
            table = asyncio.run(_run_all(data, problems, chosen, model, output, concurrency, seeded))
        except (SandboxError, LLMError) as exc:
            raise _fail(f"{type(exc).__name__}: {exc}", EXIT_FAULT) from exc
        except SelfDebugError as exc:
            raise _fail(str(exc), EXIT_USAGE) from exc
        typer.echo(table)
        typer.echo(f"report: {output / data.name / 'report.md'}")

    @app.command()
    def solve(
        problem: Annotated[str, typer.Argument(help="A problem: a file (.py/.txt prompt, or a .json problem) or "
                                                    "the prompt text itself; '-' reads stdin.")],
        entry_point: Annotated[str | None, typer.Option("--entry-point", "-e", help="The function to write.")]
        = None,
        stdio: Annotated[bool, typer.Option("--stdio", help="A stdin/stdout program, not a function.")] = False,
        strategy: StrategyOpt = "post_execution",
        feedback: FeedbackOpt = Feedback.DETAIL,
        guard: GuardOpt = False,
        model: ModelOpt = None,
        max_iterations: IterOpt = 2,
        num_tests: TestsOpt = 10,
        record_out: Annotated[Path | None, typer.Option("--record", help="Write the whole record (JSON) here.")]
        = None,
    ) -> None:
        """Solve one problem with the loop, showing each step, and print the final program."""
        option = _one_option(strategy, feedback, guard, max_iterations, num_tests)
        try:
            parsed = _read_problem(problem, entry_point, stdio)
        except (SelfDebugError, ValueError) as exc:
            raise _fail(str(exc), EXIT_USAGE) from exc

        async def go() -> DebugRecord:
            async with _engine(model, None) as engine:
                debugger = Debugger(engine.model, AsyncSandbox(sandbox=engine.sandbox), option, on_event=_print_event)
                return await debugger.run(parsed)

        try:
            record = asyncio.run(go())
        except (SandboxError, LLMError) as exc:
            raise _fail(f"{type(exc).__name__}: {exc}", EXIT_FAULT) from exc
        except SelfDebugError as exc:
            raise _fail(str(exc), EXIT_USAGE) from exc
        if record_out is not None:
            record_out.write_text(record.model_dump_json(indent=2))
        if record.error:
            typer.echo(f"note: {record.error}", err=True)
        typer.echo(record.final_program)

    @app.command()
    def report(
        output: Annotated[Path, typer.Argument(help="A folder written by `selfdebug run` (DIR/<dataset>).")],
    ) -> None:
        """Rebuild report.md, report.json and pass_at_1.png from the results under a run folder."""
        if not output.is_dir():
            raise _fail(f"{output} is not a folder", EXIT_USAGE)
        typer.echo(render_markdown(write_report(output)))


def _seed_programs(data: Dataset, path: Path) -> dict[str, str]:
    """First programs from a samples file, assembled as ``evaluate`` assembles them."""
    programs = {}
    for sample in load_samples(path):
        if sample.task_id not in data:
            raise UnknownTaskError(sample.task_id, data.name, source=str(path), line=sample.line)
        programs[sample.task_id] = program_for(data[sample.task_id], sample)
    return programs


def _read_problem(source: str, entry_point: str | None, stdio: bool) -> Problem:
    """A problem from a JSON file (our generic JSONL record format), a prompt file, stdin, or the text itself."""
    path = Path(source)
    if source == "-":
        text = sys.stdin.read()
    elif path.suffix in (".json", ".jsonl") and path.is_file():
        # One problem in the generic dataset format (a .json object or a one-line .jsonl).
        data = json.dumps(json.loads(path.read_text())).encode() if path.suffix == ".json" else path.read_bytes()
        return next(iter(parse_problems(data, str(path)).values()))
    elif path.is_file():
        text = path.read_text()
    else:
        text = source
    kind = ProblemKind.STDIO if stdio else ProblemKind.FUNCTION
    if kind is ProblemKind.FUNCTION and entry_point is None:
        entry_point = _guess_entry_point(text)
    return Problem(task_id=path.stem if path.is_file() else "problem", prompt=text, kind=kind,
                   entry_point=entry_point)


def _guess_entry_point(prompt: str) -> str:
    """The last function the prompt declares (HumanEval prompts end with the one to write)."""
    names: list[str] = re.findall(r"^def\s+([A-Za-z_]\w*)\s*\(", prompt, flags=re.MULTILINE)
    if not names:
        raise ValueError("no --entry-point given and the prompt declares no function; pass --entry-point or --stdio")
    return names[-1]
