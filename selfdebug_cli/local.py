"""Running the engine in this process: one warm sandbox pool and the configured LLM endpoint (``SELFDEBUG_LLM_*``),
or the embedded SmolLM2 server when none is configured."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from sandbox import AsyncSandbox, Sandbox, SandboxSettings
from selfdebug.batch import run_batch, write_report
from selfdebug.datasets import Dataset
from selfdebug.evaluation import EvaluationSettings, Judge, judged_counts
from selfdebug.events import Event
from selfdebug.judged import JudgedCounts
from selfdebug.llm import ChatModel, LLMSettings
from selfdebug.loop import Debugger, Evaluator, HiddenVerdict
from selfdebug.options import DebugOptions
from selfdebug.problems import Problem
from selfdebug.record import DebugRecord
from selfdebug.report import render_markdown
from selfdebug_cli.display import show_event

__all__ = ["run_local", "solve_local"]


@dataclass
class _Engine:
    model: ChatModel
    sandbox: Sandbox
    evaluator: Evaluator | None


@asynccontextmanager
async def _engine(model: str | None, dataset: Dataset | None) -> AsyncIterator[_Engine]:
    # Here, not at the top: the LLM client brings in ``openai``, which every other command would pay for at start-up.
    from selfdebug.llm.factory import open_chat_model

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


def run_local(dataset: Dataset, problems: list[Problem], options: list[DebugOptions], model: str | None,
              output: Path, concurrency: int, seeds: dict[str, str] | None = None) -> str:
    """Every strategy over ``problems``, one after another, into ``output/<dataset>``; returns the report's table."""
    return asyncio.run(_run_all(dataset, problems, options, model, output, concurrency, seeds))


async def _run_all(dataset: Dataset, problems: list[Problem], options: list[DebugOptions], model: str | None,
                   output: Path, concurrency: int, seeds: dict[str, str] | None) -> str:
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


def _show(event: Event) -> None:
    show_event(event.kind.value, event.iteration, event.data)


def solve_local(problem: Problem, option: DebugOptions, model: str | None) -> DebugRecord:
    """The loop on one problem, each step shown on stderr as it happens. The final program is judged as a
    service's worker judges it: on the problem's hidden tests if it has any, else on its visible tests."""

    async def go() -> DebugRecord:
        # The judge reads hidden tests from the problem itself; its dataset only names its cache of expected outputs.
        inline = Dataset(name="inline", source="solve", digest="inline", problems={})
        async with _engine(model, inline if problem.has_hidden_tests else None) as engine:
            sandbox = AsyncSandbox(sandbox=engine.sandbox)
            evaluator = engine.evaluator if problem.has_hidden_tests else _visible(sandbox, problem)
            debugger = Debugger(engine.model, sandbox, option, on_event=_show, evaluator=evaluator)
            return await debugger.run(problem)

    return asyncio.run(go())


def _visible(sandbox: AsyncSandbox, problem: Problem) -> Evaluator | None:
    if not problem.given_tests:
        return None

    async def visible(problem: Problem, program: str) -> HiddenVerdict:
        result = await sandbox.run_tests(program, problem.given_tests)
        return HiddenVerdict(result.passed, result.verdict.value, JudgedCounts.of(result.tests))

    return visible
