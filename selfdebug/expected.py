"""Expected outputs for evalplus-style problems: computed by running the canonical solution in the sandbox,
cached on disk, and compared with a program's outputs by evalplus's rules (our own code, same behaviour).

Running ~1000 inputs a problem goes through ``run_calls`` in bounded runs (``CallPlan``): runs are cut so their
replies stay a few MB (HumanEval/15's outputs add up to 147 MB, HumanEval/130's to several hundred), a run the
sandbox could not finish is split in two and tried again, a run that ran out of job time is resumed where it
stopped, and a sample can be held to a wall budget and a number of timeouts.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sandbox import Limits, Sandbox, TestResult, Verdict
from sandbox.runner import codec
from selfdebug.canonical import canonical_outputs
from selfdebug.problems import OutputCheck, Problem

__all__ = [
    "CallPlan",
    "Reference",
    "ReferenceStore",
    "approximate_size",
    "outputs_agree",
    "run_calls_bounded",
    "sandbox_fingerprint",
]

REFERENCE_FORMAT = 3  # bump when the way expected outputs are computed or keyed changes: old cache files then miss
RTOL = 1e-7  # evalplus compares floats like np.allclose(rtol=1e-07)
DEFAULT_FLOAT_ATOL = 1e-6  # evalplus's tolerance for float outputs when the problem sets none
DEFAULT_CHUNK_SIZE = 2000  # every problem of HumanEval+ (up to 1,100 inputs) and MBPP+ in one run
DEFAULT_CHUNK_BYTES = 4 << 20
FIRST_CHUNK = 16  # inputs in the first run when output sizes are still unknown
KEYS_REMEMBERED = 4096  # problems whose cache keys a store remembers (holding the problem, so its id stays its own)
DEFAULT_MEMORY_ENTRIES = 256  # problems whose expected outputs a store keeps in memory (the rest: on disk)
NUMBER_SIZE = 24  # bytes taken for a number, bool or null in a long list: a float's most, so never an underestimate
# Returned values whose JSON takes more bytes than this come back from the sandbox as their sha256 only (see
# ``Sandbox.run_calls``): equal to the expected value's digest, they pass without crossing over; otherwise they are
# fetched whole and compared as values. The canonical solution's are kept the same way.
DIGEST_OVER = 4096
MIN_JOB_TIME = 0.1  # seconds: the sandbox wants a positive job time
# How the sandbox marks the inputs a run never started, because its job time or its reply budget ran out.
_NOT_REACHED = "before this test"


# ---------------------------------------------------------------- comparing outputs (evalplus's rules)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | complex)


def _is_floats(value: Any) -> bool:
    """A float, or a non-empty flat list/tuple of floats: outputs that get a float tolerance by default."""
    if isinstance(value, float):
        return True
    return isinstance(value, list | tuple) and bool(value) and all(isinstance(item, float) for item in value)


def _close(actual: Any, expected: Any, atol: float) -> bool:
    """``np.allclose(actual, expected, rtol=1e-7, atol=atol)`` for numbers and equally shaped lists/tuples."""
    if isinstance(expected, list | tuple):
        return (isinstance(actual, list | tuple) and len(actual) == len(expected)
                and all(_close(a, e, atol) for a, e in zip(actual, expected, strict=True)))
    if not (_is_number(actual) and _is_number(expected)):
        return False
    if actual == expected:  # also equal infinities, which the difference below would turn into nan
        return True
    return bool(abs(actual - expected) <= atol + RTOL * abs(expected))


def _poly(xs: Sequence[float], x: float) -> float:
    return sum(coefficient * math.pow(x, power) for power, coefficient in enumerate(xs))


def _pyramid_surface(base_edge: float, height: float) -> float:
    """Mbpp/581's second reading: ``height`` is the pyramid's height, not its slant height."""
    slant = math.sqrt((base_edge / 2) ** 2 + height**2)
    return round(base_edge**2 + 2 * base_edge * slant)


def _padded_digit_distance(a: int, b: int) -> int:
    """Mbpp/558's second reading: the shorter number is padded with leading zeros."""
    left, right = str(a), str(b)
    width = max(len(left), len(right))
    return sum(abs(int(x) - int(y)) for x, y in zip(left.zfill(width), right.zfill(width), strict=True))


def _matches(problem: Problem, args: Sequence[Any], expected: Any, actual: Any) -> bool:
    """Exact agreement, or agreement under the problem's special oracle."""
    check = problem.output_check
    exact = bool(actual == expected)
    if check is OutputCheck.SET:
        exact = set(actual) == set(expected)
    elif check is OutputCheck.NOT_NONE:
        # evalplus keeps only whether the canonical output is None; a bool output is taken as that answer.
        exact = actual == (expected is not None) if isinstance(actual, bool) else (
            (actual is not None) == (expected is not None))
    elif check is OutputCheck.ANY:
        exact = True
    elif check is OutputCheck.ZERO_OR_EXACT:
        exact = exact or actual == 0
    elif check is OutputCheck.SURFACE_AREA:
        exact = exact or abs(actual - _pyramid_surface(*args)) <= problem.atol
    elif check is OutputCheck.DIGIT_DISTANCE:
        exact = exact or actual == _padded_digit_distance(*args)
    return exact


def outputs_agree(problem: Problem, args: Sequence[Any], expected: Any, actual: Any) -> bool:
    """Whether ``actual`` (the program's output on ``args``) is right, given the canonical output ``expected``.

    evalplus's rule: equal, or, for float outputs (or a problem with ``atol``), of the same type and within
    ``atol`` plus a relative 1e-7; a few problems have special oracles (``OutputCheck``). Any exception raised
    while comparing (an unhashable item in a set check, say) means they do not agree.
    """
    try:
        if problem.output_check is OutputCheck.POLY_ROOT:
            real = _is_number(actual) and not isinstance(actual, complex)
            return real and abs(_poly(args[0], actual)) <= problem.atol
        if _matches(problem, args, expected, actual):
            return True
        atol = problem.atol or (DEFAULT_FLOAT_ATOL if _is_floats(expected) else 0.0)
        return atol > 0 and type(actual) is type(expected) and _close(actual, expected, atol)
    except Exception:
        return False


# ---------------------------------------------------------------- running many calls in bounded runs


def approximate_size(value: Any) -> int:
    """Roughly how many bytes ``value`` takes in a sandbox reply (JSON), without encoding it."""
    if type(value) is list and codec.is_plain_list(value):  # at C speed: outputs of a million items are common
        strings = [item for item in value if type(item) is str] if str in set(map(type, value)) else []
        return 8 + NUMBER_SIZE * (len(value) - len(strings)) + sum(map(len, strings)) + 3 * len(strings)
    if isinstance(value, str | bytes):
        return len(value) + 2
    if isinstance(value, bool) or value is None:
        return 5
    if isinstance(value, int):
        return value.bit_length() // 3 + 2
    if isinstance(value, list | tuple | set | frozenset):
        return 8 + sum(approximate_size(item) + 1 for item in value)
    if isinstance(value, dict):
        return 8 + sum(approximate_size(k) + approximate_size(v) + 4 for k, v in value.items())
    return 24  # floats, complex numbers, bounded reprs


@dataclass
class CallPlan:
    """How to run a program on many inputs.

    ``sizes`` are the expected reply sizes per input when known (from the canonical run); without them the
    first run is small and later runs are sized from the largest output seen so far.
    """

    chunk_size: int = DEFAULT_CHUNK_SIZE
    chunk_bytes: int = DEFAULT_CHUNK_BYTES
    sizes: Sequence[int] | None = None
    limits: Callable[[list[int]], Limits | None] = lambda _chunk: None
    # Wall seconds a run of ``chunk`` may take when ``int`` more timeouts are allowed (None: the pool's limit).
    job_time: Callable[[list[int], int], float | None] = lambda _chunk, _timeouts_left: None
    deadline: float | None = None  # time.monotonic() after which no new run starts
    max_timeouts: int | None = None  # timeouts (first tries and retries alike) after which the rest is left unrun
    digest_over: int | None = None  # values larger than this come back as digests (``Sandbox.run_calls``)
    largest_seen: int = field(default=0, init=False)

    def reply_size(self, size: int) -> int:
        """What a value of ``size`` bytes adds to a run's reply."""
        return size if self.digest_over is None else min(size, self.digest_over)

    def next_chunk(self, pending: list[int], cap: int) -> list[int]:
        if self.sizes is None and self.largest_seen == 0 and self.digest_over is None:
            return pending[: min(cap, FIRST_CHUNK)]
        chunk: list[int] = []
        total = 0
        unknown = max(self.largest_seen, self.digest_over or 0)  # with digests, no value adds more than that
        for index in pending[:cap]:
            size = self.reply_size(self.sizes[index]) if self.sizes is not None else unknown
            if chunk and total + size > self.chunk_bytes:
                break
            chunk.append(index)
            total += size
        return chunk

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() >= self.deadline


def _not_reached(test: TestResult) -> bool:
    unrun = test.verdict in (Verdict.TIMEOUT, Verdict.OUTPUT_LIMIT) and test.duration == 0
    return unrun and test.message.endswith(_NOT_REACHED)


# Python refuses to turn an int of more than 4300 digits into decimal text, so the sandbox cannot report one
# (the child dies in json.dumps and the input ends as "exited ... before reporting a result"); HumanEval/139
# and /83 return such ints. Inputs lost that way are run again through this wrapper, which sends those ints as
# tagged hex strings (hex has no such limit); ``_unwrap`` turns them back into ints on this side.
_BIG_INT_TAG = "\x00selfdebug-big-int:"
_WRAPPER_NAME = "__selfdebug_call__"
_WRAPPER = """

def __selfdebug_call__(*args):
    def wide(value):
        kind = type(value)
        if kind is int and value.bit_length() > 14000:  # 10**4300 needs 14285 bits: these all fit in decimal
            return TAG + hex(value)
        if kind in (list, tuple, set, frozenset):
            return kind(wide(item) for item in value)
        if kind is dict:
            return {wide(key): wide(item) for key, item in value.items()}
        return value
    return wide(globals()[ENTRY](*args))
"""


def _lost_output(test: TestResult) -> bool:
    return test.verdict is Verdict.ERROR and test.exception is None and "before reporting a result" in test.message


def _widen(value: Any) -> Any:
    """What the wrapper does, on this side: for the cache file, which is JSON too."""
    if type(value) is list and codec.is_plain_list(value):
        return value  # no int in it is past a float's range, let alone 14000 bits
    if isinstance(value, int) and value.bit_length() > 14000:
        return _BIG_INT_TAG + hex(value)
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(_widen(item) for item in value)
    if isinstance(value, dict):
        return {_widen(key): _widen(item) for key, item in value.items()}
    return value


_UNTAGGED = frozenset({int, float, bool, type(None)})  # what ``_unwrap`` returns as it is
_SMALL_INT = 1 << 64


def _stored(value: Any) -> Any:
    """A value as the cache file holds it: ``codec.encode(_widen(value))``, which most outputs (a number, a string)
    are already; those are taken as they are, without two calls each for a hundred thousand of them."""
    kind = type(value)
    if kind is str or kind is bool or value is None or (kind is int and -_SMALL_INT < value < _SMALL_INT) or (
            kind is float and math.isfinite(value)):
        return value
    return codec.encode(_widen(value))


def _unwrap(value: Any) -> Any:
    if type(value) in _UNTAGGED:
        return value
    if type(value) is list and str not in set(map(type, value)) and codec.is_plain_list(value):
        return value  # no string in it, so no tagged int
    if isinstance(value, str) and value.startswith(_BIG_INT_TAG):
        return int(value[len(_BIG_INT_TAG):], 16)
    if isinstance(value, list | tuple | set | frozenset):
        return type(value)(_unwrap(item) for item in value)
    if isinstance(value, dict):
        return {_unwrap(key): _unwrap(item) for key, item in value.items()}
    return value


class _Runs:
    """The state of one bounded run of many inputs (see ``run_calls_bounded``)."""

    def __init__(self, sandbox: Sandbox, program: str, entry_point: str, inputs: Sequence[Sequence[Any]],
                 plan: CallPlan, encoded: Sequence[Any] | None = None) -> None:
        self.sandbox, self.program, self.entry_point, self.inputs, self.plan = (
            sandbox, program, entry_point, inputs, plan)
        self.encoded = encoded  # the inputs' codec encodings, when the caller keeps them
        self.results: list[TestResult | None] = [None] * len(inputs)
        self.pending = list(range(len(inputs)))
        self.cap = plan.chunk_size
        self.timeouts = 0
        self.retried: set[int] = set()
        self.wrapped = False

    def finished(self) -> bool:
        plan = self.plan
        return not self.pending or plan.out_of_time() or bool(plan.max_timeouts and self.timeouts >= plan.max_timeouts)

    def call(self, chunk: list[int]) -> list[TestResult] | None:
        plan = self.plan
        limits = plan.limits(chunk)
        job = plan.job_time(chunk, (plan.max_timeouts or 0) - self.timeouts)
        if plan.deadline is not None:
            left = plan.deadline - time.monotonic()
            job = left if job is None else min(job, left)
        if job is not None:
            # Without this bound one run of a program that hangs would spend a time limit on every input.
            limits = (limits or Limits()).model_copy(update={"job_timeout": max(job, MIN_JOB_TIME)})
        program, entry_point = self.program, self.entry_point
        if self.wrapped:
            program += _WRAPPER.replace("TAG", repr(_BIG_INT_TAG)).replace("ENTRY", repr(entry_point))
            entry_point = _WRAPPER_NAME
        # Digests only of plain values: the wrapper's tagged ints would never match the expected value's digest.
        digest_over = None if self.wrapped else plan.digest_over
        if self.encoded is not None:
            run = self.sandbox.run_calls(program, entry_point, [self.encoded[i] for i in chunk], limits=limits,
                                         digest_over=digest_over, encoded=True)
        else:
            run = self.sandbox.run_calls(program, entry_point, [self.inputs[i] for i in chunk], limits=limits,
                                         digest_over=digest_over)
        if run.verdict is Verdict.SANDBOX_ERROR and len(chunk) > 1:
            # The sandbox gave up on the run (a reply too big for the runner's memory kills its container):
            # go on one input a run, so only an input that breaks the sandbox on its own is lost.
            self.cap = 1
            return None
        if self.wrapped:
            for test in run.tests:
                test.output = _unwrap(test.output)
        return run.tests

    def step(self) -> None:
        chunk = self.plan.next_chunk(self.pending, self.cap)
        tests = self.call(chunk)
        if tests is None:
            return
        if not self.wrapped and any(_lost_output(test) for test in tests):
            self.wrapped = True  # from now on every run goes through the wrapper; this one is run again
            return
        passed = Verdict.PASSED
        if self.plan.sizes is not None and all(test.verdict is passed for test in tests):
            # The usual run (a judged program's, whose sizes the reference gives): every input returned, so none
            # is retried or set aside, and no size is to be learnt.
            for index, test in zip(chunk, tests, strict=True):
                self.results[index] = test
            reached = set(chunk)
            checked: list[tuple[int, TestResult]] = []
        else:
            reached = {index for index, test in zip(chunk, tests, strict=True) if not _not_reached(test)}
            if not reached:  # not even one input fits in a run: keep these results rather than loop
                reached = set(chunk)
            checked = list(zip(chunk, tests, strict=True))
        for index, test in checked:
            if index not in reached:
                continue
            self.timeouts += test.verdict is Verdict.TIMEOUT
            if self._worth_retrying(test, len(chunk)) and index not in self.retried:
                self.retried.add(index)
                reached.discard(index)
                continue
            self.results[index] = test
            if test.passed and self.plan.sizes is None:  # sizes known: no need to walk a large output
                size = test.value_bytes if test.value_bytes is not None else approximate_size(test.output)
                self.plan.largest_seen = max(self.plan.largest_seen, self.plan.reply_size(size))
        pending = [index for index in self.pending if index not in reached]
        # Retries go last, so they run in a later run than the one that went wrong.
        self.pending = [i for i in pending if i not in self.retried] + [i for i in pending if i in self.retried]

    def _worth_retrying(self, test: TestResult, chunk_size: int) -> bool:
        if test.verdict is Verdict.TIMEOUT:
            return True  # on a loaded machine, a time limit can be bad luck
        if test.verdict is Verdict.OUTPUT_LIMIT and chunk_size > 1:
            self.cap = 1  # the run's reply budget ran out on this input: alone in a run it may fit
            return True
        return False


def run_calls_bounded(sandbox: Sandbox, program: str, entry_point: str, inputs: Sequence[Sequence[Any]],
                      plan: CallPlan, encoded: Sequence[Any] | None = None) -> list[TestResult | None]:
    """Each input's result, or None for inputs left unrun (the budget was spent, or too many timeouts).
    ``encoded``: ``codec.encode(list(args))`` of each input, if the caller has them (then they are not made again)."""
    runs = _Runs(sandbox, program, entry_point, inputs, plan, encoded)
    while not runs.finished():
        runs.step()
    return runs.results


# ---------------------------------------------------------------- the canonical solution's outputs, cached

# Sandbox settings that never change what a program outputs, only how containers are kept and waited for (the
# base image is covered by the image's own tag, which is content-addressed). Every other setting is part of a
# cache key: a new one (a hash seed, a limit) then keys the cache without anyone remembering to add it.
_OPERATIONAL_SETTINGS = frozenset({"acquire_timeout", "base_image", "label", "pool_size", "recycle_after",
                                   "reply_margin", "start_timeout"})


def sandbox_fingerprint(sandbox: Sandbox) -> str:
    """A digest of what, besides a program and its inputs, decides its outputs: the image the sandbox runs and
    every limit or knob a run gets (time, memory, processes, output, runtime)."""
    settings = sandbox.settings.model_dump(mode="json", exclude=set(_OPERATIONAL_SETTINGS))
    # The pool knows the image once started; before that, the configured one (None: the default build).
    settings["image"] = getattr(sandbox.pool, "image", "") or settings.get("image")
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()


@dataclass
class Reference:
    """The canonical solution's outputs on a problem's base inputs, then its plus inputs.

    A large output is kept as its digest only (``digests``, with ``known`` False and ``outputs`` None there): a
    program whose output has the same digest passes without either value crossing over; any other is compared
    with the value itself, which ``ReferenceStore.complete`` computes again when it is needed.
    """

    n_base: int
    outputs: list[Any]
    durations: list[float]
    sizes: list[int]  # bytes of each output's JSON
    defined: list[bool]  # False where the canonical solution raised: such inputs define nothing
    digests: list[str | None] = field(default_factory=list)
    known: list[bool] = field(default_factory=list)  # whether ``outputs`` holds the value (else only its digest)
    sandbox_failed: bool = False

    def extend(self, tests: Sequence[TestResult | None]) -> None:
        """Append each input's result (None: not run), column by column: a problem has a thousand inputs."""
        passed = Verdict.PASSED
        self.outputs += [None if test is None else test.output for test in tests]
        self.durations += [0.0 if test is None else test.duration for test in tests]
        self.sizes += [approximate_size(None) if test is None else test.value_bytes
                       if test.value_bytes is not None else approximate_size(test.output) for test in tests]
        self.defined += [test is not None and test.verdict is passed for test in tests]
        self.digests += [None if test is None else test.digest for test in tests]
        self.known += [test is not None and test.digest is None for test in tests]


class ReferenceStore:
    """Computes canonical outputs in the sandbox once per content and keeps them, in memory (the most recently used
    ``memory_entries``) and on disk under ``cache_dir/expected/<key[:2]>/<key>.json.gz``.

    The key is a digest of everything that decides the outputs: the canonical solution, its entry point, the
    inputs, and the sandbox that runs them (``sandbox_fingerprint``). Never the task_id or a dataset name: those
    are chosen by whoever sends a problem, and two tenants sending one task_id must not share expected outputs.
    """

    def __init__(self, sandbox: Sandbox, cache_dir: Path, *, chunk_size: int = DEFAULT_CHUNK_SIZE,
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES, memory_entries: int = DEFAULT_MEMORY_ENTRIES) -> None:
        self.sandbox = sandbox
        self.folder = cache_dir / "expected"
        self.chunk_size = chunk_size
        self.chunk_bytes = chunk_bytes
        self.memory_entries = memory_entries
        self._memory: OrderedDict[str, Reference] = OrderedDict()
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self._completing = threading.Lock()
        self._keys: dict[int, tuple[Problem, str, str]] = {}  # id(problem) -> (problem, fingerprint, key)
        self._encoded: OrderedDict[int, tuple[Problem, list[Any]]] = OrderedDict()  # id(problem) -> its inputs

    def get(self, problem: Problem) -> Reference:
        key = self.key(problem)
        with self._guard:
            found = self._recall(key)
            if found is not None:
                return found
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # two samples of one problem must not compute it twice
            with self._guard:
                found = self._recall(key)
            if found is not None:
                return found
            reference = self._load_or_compute(problem, key)
            with self._guard:
                self._remember(key, reference)
                self._locks.pop(key, None)  # whoever comes later finds it in memory (or, evicted, on disk)
            return reference

    def _remember(self, key: str, reference: Reference) -> None:
        self._memory[key] = reference
        while len(self._memory) > self.memory_entries:
            self._memory.popitem(last=False)

    def peek(self, problem: Problem) -> Reference | None:
        """The reference if it is in memory or on disk, without computing it (None: it would have to be)."""
        key = self.key(problem)
        with self._guard:
            found = self._recall(key)
        if found is None:
            found = self._load(self._path(key))
            if found is not None:
                with self._guard:
                    self._remember(key, found)
        return found

    def _recall(self, key: str) -> Reference | None:
        if key in self._memory:
            self._memory.move_to_end(key)
        return self._memory.get(key)

    def key(self, problem: Problem) -> str:
        """The digest of what decides the problem's expected outputs (see the class docstring)."""
        fingerprint = sandbox_fingerprint(self.sandbox)
        # Remembered per problem object (problems are never changed in place): a problem's inputs take a while to
        # encode, and the key is asked for more than once per sample.
        known = self._keys.get(id(problem))
        if known is not None and known[0] is problem and known[1] == fingerprint:
            return known[2]
        encoded = self.encoded(problem)
        n_base = len(problem.base_inputs or [])
        material = json.dumps([REFERENCE_FORMAT, problem.entry_point, problem.canonical_solution,
                               encoded[:n_base], encoded[n_base:], fingerprint])
        key = hashlib.sha256(material.encode()).hexdigest()
        with self._guard:
            self._keys[id(problem)] = (problem, fingerprint, key)
            while len(self._keys) > KEYS_REMEMBERED:
                del self._keys[next(iter(self._keys))]
        return key

    def encoded(self, problem: Problem) -> list[Any]:
        """``codec.encode(list(args))`` of each of the problem's inputs, base then plus: made once per problem
        object and kept for the most recently used ``memory_entries`` (every sample of a problem runs them all, the
        canonical solution too, and encoding a hundred thousand inputs costs seconds)."""
        with self._guard:
            known = self._encoded.get(id(problem))
            if known is not None and known[0] is problem:
                self._encoded.move_to_end(id(problem))
                return known[1]
        encoded = [codec.encode(list(args)) for args in (*(problem.base_inputs or []), *(problem.plus_inputs or []))]
        with self._guard:
            self._encoded[id(problem)] = (problem, encoded)
            while len(self._encoded) > self.memory_entries:
                self._encoded.popitem(last=False)
        return encoded

    def path(self, problem: Problem) -> Path:
        return self._path(self.key(problem))

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.json.gz"

    def complete(self, problem: Problem, reference: Reference, indices: Sequence[int]) -> None:
        """Compute again, whole, the outputs at ``indices`` that the reference holds as digests only (a program's
        output differed from them by digest, so the values must be compared). They stay in memory, not on disk."""
        with self._completing:
            wanted = sorted({index for index in indices if not reference.known[index]})
            if not wanted:
                return
            inputs = [*(problem.base_inputs or []), *(problem.plus_inputs or [])]
            plan = CallPlan(chunk_size=self.chunk_size, chunk_bytes=self.chunk_bytes,
                            sizes=[reference.sizes[index] for index in wanted])
            encoded = self.encoded(problem)
            results = run_calls_bounded(self.sandbox, problem.canonical_solution or "", problem.entry_point or "",
                                        [inputs[index] for index in wanted], plan, [encoded[index] for index in wanted])
            for index, test in zip(wanted, results, strict=True):
                if test is not None and test.passed and test.digest is None:
                    reference.outputs[index] = test.output
                    reference.known[index] = True

    @staticmethod
    def _load(path: Path) -> Reference | None:
        try:
            data = json.loads(gzip.decompress(path.read_bytes()))
            digests = data["digests"]
            return Reference(n_base=data["n_base"], outputs=[_unwrap(codec.decode(o)) for o in data["outputs"]],
                             durations=data["durations"], sizes=data["sizes"], defined=data["defined"],
                             digests=digests, known=[digest is None for digest in digests])
        except (OSError, EOFError, ValueError, KeyError, TypeError):
            return None  # absent or unreadable: computed again

    def _load_or_compute(self, problem: Problem, key: str) -> Reference:
        path = self._path(key)
        found = self._load(path)
        if found is not None:
            return found
        reference, cacheable = self._compute(problem)
        if cacheable:
            self._save(path, reference)
        return reference

    def _compute(self, problem: Problem) -> tuple[Reference, bool]:
        base, plus = problem.base_inputs or [], problem.plus_inputs or []
        program, entry_point = problem.canonical_solution or "", problem.entry_point or ""
        # In one harness run per stretch of inputs (selfdebug.canonical), else call by call.
        found = canonical_outputs(self.sandbox, program, entry_point, self.encoded(problem), DIGEST_OVER)
        results: Sequence[TestResult | None] | None = found
        if results is None:
            plan = CallPlan(chunk_size=self.chunk_size, chunk_bytes=self.chunk_bytes, digest_over=DIGEST_OVER)
            results = run_calls_bounded(self.sandbox, program, entry_point, [*base, *plus], plan,
                                        self.encoded(problem))
        reference = Reference(n_base=len(base), outputs=[], durations=[], sizes=[], defined=[])
        cacheable = True
        reference.extend(results)
        for test in results:
            if test is None:  # cannot happen with a plan that has no budget; treat as a failed sandbox
                reference.sandbox_failed, cacheable = True, False
                continue
            # A timeout may be load on the machine rather than the program: keep it in memory only, retry later.
            cacheable = cacheable and test.verdict not in (Verdict.TIMEOUT, Verdict.SANDBOX_ERROR)
            reference.sandbox_failed = reference.sandbox_failed or test.verdict is Verdict.SANDBOX_ERROR
        return reference, cacheable

    @staticmethod
    def _save(path: Path, reference: Reference) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # Only what was computed at first: outputs that ``complete`` added later stay digests here.
        outputs = [_stored(o) if d is None else None for o, d in zip(reference.outputs, reference.digests,
                                                                       strict=True)]
        data = {"n_base": reference.n_base, "outputs": outputs, "durations": reference.durations,
                "sizes": reference.sizes, "defined": reference.defined, "digests": reference.digests}
        temporary = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        # Level 1: some problems' outputs are large (HumanEval/15's reach 147 MB of JSON) and compress ~10x.
        temporary.write_bytes(gzip.compress(json.dumps(data).encode(), compresslevel=1))
        os.replace(temporary, path)  # atomic: a concurrent reader sees the old file or the new one, never half
