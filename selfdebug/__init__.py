"""The self-debugging engine: problems, datasets, evaluation, (later) the repair loop."""

from selfdebug.datasets import Dataset, DatasetSettings, load_dataset
from selfdebug.errors import (
    DatasetError,
    SamplesError,
    SelfDebugError,
    UnknownDatasetError,
    UnknownTaskError,
)
from selfdebug.evaluation import EvaluationSettings, Judge, Sample, SampleResult, load_samples, pass_at_1
from selfdebug.problems import IOCase, OutputCheck, Problem, ProblemKind

__all__ = [
    "Dataset",
    "DatasetError",
    "DatasetSettings",
    "EvaluationSettings",
    "IOCase",
    "Judge",
    "OutputCheck",
    "Problem",
    "ProblemKind",
    "Sample",
    "SampleResult",
    "SamplesError",
    "SelfDebugError",
    "UnknownDatasetError",
    "UnknownTaskError",
    "load_dataset",
    "load_samples",
    "pass_at_1",
]
