"""The self-debugging engine: problems and datasets, the LLM client, code extraction, self-tests, the repair
loop and its strategies, hidden-test evaluation, batch runs and reports. Knows nothing of HTTP or Celery."""

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
