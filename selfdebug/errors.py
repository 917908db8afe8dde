"""The engine's exceptions. A program that fails its tests is data (a verdict), never one of these.

Hierarchy::

    SelfDebugError                 anything the engine refuses to go on with
    ├── InputFileError             a JSONL file we were handed cannot be used (names the file, line and field)
    │   ├── DatasetError           ... a problem set
    │   │   ├── DatasetUnavailableError  a named dataset is neither in SELFDEBUG_DATA_DIR nor downloadable
    │   │   └── DownloadError      a published dataset file could not be downloaded into the cache
    │   │       └── ChecksumError  ... it was, but its sha256 is not the published one (nothing is kept)
    │   └── SamplesError           ... a samples file to evaluate
    ├── RunError                   a batch run cannot go on (its output folder holds a different run, say)
    ├── UnknownDatasetError        a dataset name that is neither a known name nor a readable path or URL
    ├── UnknownTaskError           a sample names a task_id the dataset does not have
    └── ProblemError               a problem the loop cannot work on (no prompt, no entry point where needed)
"""

from __future__ import annotations

from pathlib import Path

__all__ = [
    "ChecksumError",
    "DatasetError",
    "DatasetUnavailableError",
    "DownloadError",
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


class DownloadError(DatasetError):
    """A published dataset file that could not be downloaded (or saved into the cache); names the URL."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        super().__init__(url, reason)


class ChecksumError(DownloadError):
    """Downloaded bytes whose sha256 is not the published one: refused, and not kept in the cache."""

    def __init__(self, url: str, *, expected: str, actual: str) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(url, f"sha256 is {actual}, expected {expected}; the download was not kept")


class DatasetUnavailableError(DatasetError):
    """A named dataset's file that is neither in the local data folder (``SELFDEBUG_DATA_DIR``) nor downloadable.

    One line names both places, the download's cause, and the settings that point at a copy.
    """

    def __init__(self, name: str, relative: str, url: str, cause: str, *, data_dir: Path | None) -> None:
        self.name = name
        self.url = url
        self.cause = cause
        self.data_dir = data_dir
        local = f"SELFDEBUG_DATA_DIR ({data_dir}) has no {relative}" if data_dir else "SELFDEBUG_DATA_DIR is not set"
        hint = f"set SELFDEBUG_DATA_DIR to a folder holding {relative}, or SELFDEBUG_{name.upper()} to a path or URL"
        super().__init__(name, f"not available: {local}, and {url}: {cause} ({hint})")


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
