"""The values of a test's expressions that are not literals (``float('inf')``, ``[1] * 1000``, ``2.0 / 3.0``),
computed in a sandboxed run *without* the program under test, and kept in a cache.

Tests come from clients and from models, so none of their code runs on the host: each expression is evaluated in
a harness run after the test's own import lines and the modules of ``PRELOADED_MODULES``, and its value comes back
encoded by the codec, as a call's output does. An expression that raises, times out, builds a value the codec
cannot carry as plain data, or holds one mutable object twice (``[[0] * 3] * 3``: decoding would separate the
copies) has no value; the test that needs it then runs in the program's interpreter.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sandbox.asserts import PRELOADED_MODULES
from sandbox.models import Limits, Verdict
from sandbox.runner import codec

if TYPE_CHECKING:
    from sandbox.executor import Sandbox

__all__ = ["CACHE_SIZE", "ExpressionValues", "Outcome", "is_plain"]

CACHE_SIZE = 4096  # expressions whose outcome is kept, most recently used first
MAX_REASON = 300

HARNESS = r'''
import builtins
import codec

MUTABLE = (list, dict, set, bytearray)


def shared(value, seen, depth=0):
    """True when one mutable object occurs twice in value."""
    if depth > 200:
        return False
    if isinstance(value, MUTABLE):
        if id(value) in seen:
            return True
        seen.add(id(value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(shared(item, seen, depth + 1) for item in value)
    if isinstance(value, dict):
        return any(shared(k, seen, depth + 1) or shared(v, seen, depth + 1) for k, v in value.items())
    return False


def describe(exc):
    try:
        return f"{type(exc).__name__}: {exc}"[:300]
    except Exception:
        return type(exc).__name__


answers = []
for group in PAYLOAD["groups"]:
    scope = {"__builtins__": builtins, "__name__": "__test__"}
    for name in PAYLOAD["preloaded"]:
        try:
            scope[name] = __import__(name)
        except ImportError:
            pass
    try:
        exec(compile(group["setup"], "<test setup>", "exec"), scope)
    except Exception as exc:
        answers.append({"setup": describe(exc)})
        continue
    values = []
    for source in group["sources"]:
        try:
            value = eval(compile(source, "<expression>", "eval"), scope)
            if shared(value, set()):
                values.append({"e": "the value holds one mutable object twice, which a copy would separate"})
            else:
                values.append({"v": codec.encode(value)})
        except Exception as exc:
            values.append({"e": describe(exc)})
    answers.append({"values": values})
emit(answers)
'''


@dataclass(frozen=True)
class Outcome:
    """An expression's value (``error`` empty), or why it has none."""

    encoded: Any = None
    error: str = ""

    @property
    def ok(self) -> bool:
        return not self.error

    def value(self) -> Any:
        """A fresh copy of the value (decoded anew each time: callers may keep or change it)."""
        return codec.decode(self.encoded)


def is_plain(value: Any, depth: int = 0) -> bool:
    """Whether a decoded value is plain data all the way down: no ``Opaque`` (an object the codec could only
    describe by its repr), so comparing it runs no code of anyone's."""
    if isinstance(value, codec.Opaque) or depth > 1000:
        return False
    if isinstance(value, list | tuple | set | frozenset):
        return all(is_plain(item, depth + 1) for item in value)
    if isinstance(value, dict):
        return all(is_plain(k, depth + 1) and is_plain(v, depth + 1) for k, v in value.items())
    return True


class ExpressionValues:
    """Computes expressions in the sandbox, one run for all that a call needs, and remembers the outcomes.

    Keys are (setup, source): the same expression after other imports may mean something else. Outcomes of runs
    that did not finish (a timeout, a sandbox failure) are not kept, so a later run tries again.
    """

    def __init__(self, size: int = CACHE_SIZE) -> None:
        self.size = size
        self._cache: OrderedDict[tuple[str, str | None], Outcome] = OrderedDict()
        self._lock = threading.Lock()

    def cached(self, setup: str, source: str | None) -> Outcome | None:
        with self._lock:
            outcome = self._cache.get((setup, source))
            if outcome is not None:
                self._cache.move_to_end((setup, source))
            return outcome

    def remember(self, setup: str, source: str | None, outcome: Outcome) -> None:
        with self._lock:
            self._cache[(setup, source)] = outcome
            self._cache.move_to_end((setup, source))
            while len(self._cache) > self.size:
                self._cache.popitem(last=False)

    def compute(self, sandbox: Sandbox, wanted: Iterable[tuple[str, str | None]],
                limits: Limits | None = None) -> dict[tuple[str, str | None], Outcome]:
        """The outcome of each (setup, source); a source of None asks only whether the setup runs."""
        outcomes: dict[tuple[str, str | None], Outcome] = {}
        groups: dict[str, list[str | None]] = {}
        for setup, source in dict.fromkeys(wanted):
            known = self.cached(setup, source)
            if known is not None:
                outcomes[(setup, source)] = known
            else:
                groups.setdefault(setup, []).append(source)
        if groups:
            outcomes.update(self._run(sandbox, groups, limits))
        return outcomes

    def _run(self, sandbox: Sandbox, groups: dict[str, list[str | None]],
             limits: Limits | None) -> dict[tuple[str, str | None], Outcome]:
        payload = {"preloaded": list(PRELOADED_MODULES),
                   "groups": [{"setup": setup, "sources": [s for s in sources if s is not None]}
                              for setup, sources in groups.items()]}
        run = sandbox.run_harness(HARNESS, payload=payload, limits=limits)
        test = run.tests[0]
        answers = test.output if test.verdict is Verdict.PASSED else None
        if not isinstance(answers, list) or len(answers) != len(groups):
            why = test.message or (test.exception.type if test.exception else "") or test.verdict.value
            failed = Outcome(error=f"the run that computes the test's values ended with {why}"[:MAX_REASON])
            return {(setup, source): failed for setup, sources in groups.items() for source in sources}
        outcomes: dict[tuple[str, str | None], Outcome] = {}
        for (setup, sources), answer in zip(groups.items(), answers, strict=True):
            for key, outcome in zip([(setup, s) for s in sources], _outcomes(answer, sources), strict=True):
                outcomes[key] = outcome
                self.remember(*key, outcome)
        return outcomes


def _outcomes(answer: Any, sources: list[str | None]) -> list[Outcome]:
    """One group's answer, in the order of ``sources`` (None: the setup alone)."""
    if not isinstance(answer, dict) or "setup" in answer:
        error = answer.get("setup") if isinstance(answer, dict) else None
        failed = Outcome(error=f"the test's imports fail: {error}"[:MAX_REASON])
        return [failed for _ in sources]
    values = iter(answer.get("values") or [])
    outcomes = []
    for source in sources:
        if source is None:
            outcomes.append(Outcome())
            continue
        item = next(values, None)
        outcomes.append(_outcome(item))
    return outcomes


def _outcome(item: Any) -> Outcome:
    if not isinstance(item, dict) or ("v" not in item and "e" not in item):
        return Outcome(error="the run answered no value for this expression")
    if "e" in item:
        return Outcome(error=str(item["e"])[:MAX_REASON])
    try:
        value = codec.decode(item["v"])
    except (ValueError, TypeError, KeyError, RecursionError):
        return Outcome(error="the run answered a value that does not decode")
    if not is_plain(value):
        return Outcome(error="the value is not plain data (an object the codec carries only as its repr)")
    return Outcome(encoded=item["v"])
