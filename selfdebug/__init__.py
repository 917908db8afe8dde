"""The self-debugging engine: problems and datasets, the LLM client, code extraction, self-tests, the repair
loop and its strategies, hidden-test evaluation, batch runs and reports. Knows nothing of HTTP or Celery.

Its names are imported when first used (PEP 562): a command that needs one module of the engine (``selfdebug
evaluate`` needs the evaluator, not the LLM client) does not pay for the others at start-up."""

from __future__ import annotations

from typing import TYPE_CHECKING

from selfdebug.lazy import lazy_face

if TYPE_CHECKING:
    from selfdebug.batch import run_batch, write_report
    from selfdebug.datasets import Dataset, DatasetSettings, load_dataset
    from selfdebug.errors import (
        DatasetError,
        ProblemError,
        RunError,
        SamplesError,
        SelfDebugError,
        UnknownDatasetError,
        UnknownTaskError,
    )
    from selfdebug.evaluation import EvaluationSettings, Judge, Sample, SampleResult, load_samples, pass_at_1
    from selfdebug.events import Event, EventKind
    from selfdebug.extract import extract_code, sanitize
    from selfdebug.judged import JudgedCounts
    from selfdebug.loop import Debugger, Evaluator, HiddenVerdict, parse_block_verdicts
    from selfdebug.options import DebugOptions, Feedback, Strategy
    from selfdebug.problems import IOCase, OutputCheck, Problem, ProblemKind
    from selfdebug.record import Attempt, DebugRecord, StopReason
    from selfdebug.report import StrategyReport, render_markdown, summarize
    from selfdebug.selftests import ParsedTests, TestCase, parse_tests

__all__ = [
    "Attempt",
    "Dataset",
    "DatasetError",
    "DatasetSettings",
    "DebugOptions",
    "DebugRecord",
    "Debugger",
    "EvaluationSettings",
    "Evaluator",
    "Event",
    "EventKind",
    "Feedback",
    "HiddenVerdict",
    "IOCase",
    "Judge",
    "JudgedCounts",
    "OutputCheck",
    "ParsedTests",
    "Problem",
    "ProblemError",
    "ProblemKind",
    "RunError",
    "Sample",
    "SampleResult",
    "SamplesError",
    "SelfDebugError",
    "StopReason",
    "Strategy",
    "StrategyReport",
    "TestCase",
    "UnknownDatasetError",
    "UnknownTaskError",
    "extract_code",
    "load_dataset",
    "load_samples",
    "parse_block_verdicts",
    "parse_tests",
    "pass_at_1",
    "render_markdown",
    "run_batch",
    "sanitize",
    "summarize",
    "write_report",
]

# Where each public name lives.
_HOMES = {
    "run_batch": "selfdebug.batch",
    "write_report": "selfdebug.batch",
    "Dataset": "selfdebug.datasets",
    "DatasetSettings": "selfdebug.datasets",
    "load_dataset": "selfdebug.datasets",
    "DatasetError": "selfdebug.errors",
    "ProblemError": "selfdebug.errors",
    "RunError": "selfdebug.errors",
    "SamplesError": "selfdebug.errors",
    "SelfDebugError": "selfdebug.errors",
    "UnknownDatasetError": "selfdebug.errors",
    "UnknownTaskError": "selfdebug.errors",
    "EvaluationSettings": "selfdebug.evaluation",
    "Judge": "selfdebug.evaluation",
    "Sample": "selfdebug.evaluation",
    "SampleResult": "selfdebug.evaluation",
    "load_samples": "selfdebug.evaluation",
    "pass_at_1": "selfdebug.evaluation",
    "Event": "selfdebug.events",
    "EventKind": "selfdebug.events",
    "extract_code": "selfdebug.extract",
    "sanitize": "selfdebug.extract",
    "JudgedCounts": "selfdebug.judged",
    "Debugger": "selfdebug.loop",
    "Evaluator": "selfdebug.loop",
    "HiddenVerdict": "selfdebug.loop",
    "parse_block_verdicts": "selfdebug.loop",
    "DebugOptions": "selfdebug.options",
    "Feedback": "selfdebug.options",
    "Strategy": "selfdebug.options",
    "IOCase": "selfdebug.problems",
    "OutputCheck": "selfdebug.problems",
    "Problem": "selfdebug.problems",
    "ProblemKind": "selfdebug.problems",
    "Attempt": "selfdebug.record",
    "DebugRecord": "selfdebug.record",
    "StopReason": "selfdebug.record",
    "StrategyReport": "selfdebug.report",
    "render_markdown": "selfdebug.report",
    "summarize": "selfdebug.report",
    "ParsedTests": "selfdebug.selftests",
    "TestCase": "selfdebug.selftests",
    "parse_tests": "selfdebug.selftests",
}


__getattr__, __dir__ = lazy_face(__name__, _HOMES, __all__)
