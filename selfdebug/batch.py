"""Run the repair loop over a problem set: bounded concurrency, one JSONL record per problem, resumable.

Layout of an output directory::

    DIR/<strategy label>/results.jsonl   one DebugRecord per problem, appended as each finishes
    DIR/<strategy label>/options.json    the options of that run (a resumed run must use the same)
    DIR/report.md, DIR/report.json, DIR/pass_at_1.png

Running the same command again skips the problems already in ``results.jsonl``, so an interrupted run resumes.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from selfdebug.errors import RunError
from selfdebug.loop import Debugger
from selfdebug.options import DebugOptions
from selfdebug.problems import Problem
from selfdebug.record import DebugRecord
from selfdebug.report import StrategyReport, render_markdown, render_plot, summarize

__all__ = ["load_records", "prepare_run_folder", "run_batch", "write_report"]

Progress = Callable[[DebugRecord], None]


def _safe_name(label: str) -> str:
    return label.replace("/", "-").replace("+", "-")


def prepare_run_folder(output_dir: Path, options: DebugOptions, *, seeded: bool = False) -> Path:
    """The folder under ``output_dir`` where one strategy's run keeps ``results.jsonl``, created with its
    ``options.json``; ``RunError`` if it holds a run with other options (a resumed run must use the same)."""
    run_dir = output_dir / (("seeded-" if seeded else "") + _safe_name(options.label))
    run_dir.mkdir(parents=True, exist_ok=True)
    options_path = run_dir / "options.json"
    wanted = options.model_dump(mode="json")
    if options_path.exists():
        previous = json.loads(options_path.read_text())
        if previous != wanted:
            raise RunError(f"{run_dir} holds a run with other options ({previous}); use another --output")
    else:
        options_path.write_text(json.dumps(wanted, indent=2))
    return run_dir


def load_records(path: Path) -> list[DebugRecord]:
    """Records already written; a torn last line (the run was killed mid-write) is ignored and rewritten."""
    if not path.exists():
        return []
    records = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        try:
            records.append(DebugRecord.model_validate_json(line))
        except ValueError:
            continue
    return records


async def run_batch(problems: Sequence[Problem], debugger: Debugger, output_dir: Path, *, concurrency: int = 2,
                    on_record: Progress | None = None, seeds: Mapping[str, str] | None = None) -> list[DebugRecord]:
    """Run ``debugger`` on every problem not yet recorded under ``output_dir``; return all records.

    ``seeds`` maps task ids to given first programs (see ``Debugger.run``); those runs go to a ``seeded-`` folder.
    """
    run_dir = prepare_run_folder(output_dir, debugger.options, seeded=bool(seeds))
    options = debugger.options.model_dump(mode="json")
    results_path = run_dir / "results.jsonl"
    done = {r.task_id: r for r in load_records(results_path)}
    # Rewrite the file from the valid records so a torn last line does not stay in front of new ones.
    results_path.write_text("".join(r.model_dump_json() + "\n" for r in done.values()))
    todo = [p for p in problems if p.task_id not in done]
    for record in done.values():
        if on_record:
            on_record(record)
    semaphore = asyncio.Semaphore(concurrency)
    lock = asyncio.Lock()

    async def one(problem: Problem) -> None:
        async with semaphore:
            started = time.monotonic()
            try:
                record = await debugger.run(problem, seed=seeds.get(problem.task_id) if seeds else None)
            except Exception as exc:  # a bug or a sandbox fault on one problem must not end the batch
                record = DebugRecord(task_id=problem.task_id, strategy=debugger.options.label, options=options,
                                     stop_reason="crashed", error=f"{type(exc).__name__}: {exc}",
                                     seconds=time.monotonic() - started)
        async with lock:
            with results_path.open("a") as fh:
                fh.write(record.model_dump_json() + "\n")
            done[problem.task_id] = record
        if on_record:
            on_record(record)

    await asyncio.gather(*(one(p) for p in todo))
    order = {p.task_id: i for i, p in enumerate(problems)}
    return sorted(done.values(), key=lambda r: order.get(r.task_id, len(order)))


def write_report(output_dir: Path, *, title: str = "Self-debugging report") -> list[StrategyReport]:
    """Summarise every strategy run under ``output_dir`` into report.md, report.json and pass_at_1.png."""
    reports = []
    for results in sorted(output_dir.glob("*/results.jsonl")):
        records = load_records(results)
        if records:
            label = ("seeded " if records[0].seeded else "") + records[0].strategy
            reports.append(summarize(label, records))
    (output_dir / "report.md").write_text(render_markdown(reports, title=title))
    (output_dir / "report.json").write_text(json.dumps([r.model_dump() for r in reports], indent=2))
    if reports:
        render_plot(reports, output_dir / "pass_at_1.png")
    return reports
