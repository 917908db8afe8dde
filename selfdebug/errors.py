"""The engine's exceptions. A program that fails its tests is data (a verdict), never one of these.

Hierarchy::

    SelfDebugError                 anything the engine refuses to go on with
    ├── InputFileError             a JSONL file we were handed cannot be used (names the file, line and field)
    │   ├── DatasetError           ... a problem set
    │   └── SamplesError           ... a samples file to evaluate
    ├── RunError                   a batch run cannot go on (its output folder holds a different run, say)
    ├── UnknownDatasetError        a dataset name that is neither a known name nor a readable path or URL
    ├── UnknownTaskError           a sample names a task_id the dataset does not have
    └── ProblemError               a problem the loop cannot work on (no prompt, no entry point where needed)
"""

from __future__ import annotations

__all__ = [
    "DatasetError",
    "InputFileError",
    "ProblemError",
    "RunError",
    "SamplesError",
    "SelfDebugError",
    "UnknownDatasetError",
    "UnknownTaskError",
]


class SelfDebugError(Exception):
    """Base class of every error the engine raises on purpose."""


class InputFileError(SelfDebugError):
    """A file that cannot be used, located as precisely as we can: file, line number (1-based) and field."""

    kind = "input file"

    def __init__(self, source: str, reason: str, *, line: int | None = None, field: str | None = None) -> None:
        self.source = source
        self.reason = reason
        self.line = line
        self.field = field
        where = source if line is None else f"{source} line {line}"
        what = reason if field is None else f"field '{field}' {reason}"
        super().__init__(f"{where}: {what}")


class DatasetError(InputFileError):
    """A problem set that is missing, unreadable or malformed."""


class SamplesError(InputFileError):
    """A samples file (``task_id`` plus ``solution`` or ``completion`` per line) that is malformed."""


class RunError(SelfDebugError):
    """A batch run cannot go on as asked."""


class UnknownDatasetError(SelfDebugError):
    """Neither a dataset name we know nor an existing path or an http(s) URL."""


class UnknownTaskError(SelfDebugError):
    """A sample refers to a task the dataset does not contain."""

    def __init__(self, task_id: str, dataset: str, *, source: str | None = None, line: int | None = None) -> None:
        self.task_id = task_id
        self.dataset = dataset
        self.source = source
        self.line = line
        where = ""
        if source is not None:
            where = f"{source}: " if line is None else f"{source} line {line}: "
        super().__init__(f"{where}task_id {task_id!r} is not in the dataset {dataset}")


class ProblemError(SelfDebugError):
    """A problem the repair loop cannot work on: an empty prompt, no entry point where one is needed."""
