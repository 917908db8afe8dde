"""The runner's reports, read as untrusted data: every field checked and coerced to plain, encodable values.

The runner answers in JSON, but what the JSON holds comes from the code under test: an exception's type name or
message can be any JSON value (a metaclass can make ``__name__`` a dict; a ``str`` subclass can slice to a list),
and any string can hold lone surrogates (``'\\udfff'``), which no UTF-8 encoder takes. Left as they are, they fail
far from here: in pydantic's validation, in the API's JSON, in Redis, in the LLM client. So nothing leaves this
module but ``str`` without lone surrogates (bounded where it is a short field), finite durations, lists of ``str``
and plain JSON data; a report that still cannot be understood becomes that test's ``sandbox_error``.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from sandbox.models import ExceptionInfo, TestResult, Verdict
from sandbox.runner import codec

__all__ = ["MAX_NAME", "MAX_TEXT", "MAX_TRACEBACK", "plain_data", "plain_text", "read_seconds", "read_test"]

MAX_NAME = 200  # characters of an exception's type name
MAX_TEXT = 10_000  # characters of a message, an assertion, an input, an expected or actual value, a traceback line
MAX_TRACEBACK = 100  # traceback lines kept
# JSON levels kept in a returned value: the codec stops at 200 levels of Python data (up to 2 JSON levels each).
MAX_DEPTH = 450
TOO_DEEP = "<nested too deeply>"
_SHA256 = re.compile(r"[0-9a-f]{64}")

STATUS = {
    "ok": Verdict.PASSED,
    "failed": Verdict.FAILED,
    "error": Verdict.ERROR,
    "timeout": Verdict.TIMEOUT,
    "memory": Verdict.MEMORY,
    "output_limit": Verdict.OUTPUT_LIMIT,
}


def _encodable(text: str) -> str:
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # Through UTF-16, a valid surrogate pair becomes its character and a lone surrogate becomes U+FFFD.
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def _shown(value: Any) -> str:
    """A non-string JSON value as text (reprs escape surrogates)."""
    try:
        return repr(plain_data(value))
    except Exception:  # e.g. nesting too deep for repr: the type still says something
        return f"<{type(value).__name__}>"


def plain_text(value: Any, limit: int | None = None) -> str:
    """``value`` as an exact ``str`` that UTF-8 can encode, at most ``limit`` characters (middle cut out).

    ``None`` is ``""``; any other non-string is shown as its repr.
    """
    if value is None:
        text = ""
    elif isinstance(value, str):
        text = _encodable(str.__str__(value))  # str.__str__: an exact str, whatever a subclass overrides
    else:
        text = _encodable(_shown(value))
    if limit is not None and len(text) > limit:
        text = text[: limit // 2] + "..." + text[-(limit // 2) :]
    return text


def _optional_text(value: Any, limit: int) -> str | None:
    return None if value is None else plain_text(value, limit)


def _clean(value: Any, depth: int) -> Any:
    # Loops, not comprehensions: on Python 3.11 each comprehension is one more frame per level of nesting.
    if isinstance(value, str):
        return _encodable(str.__str__(value))
    if value is None or isinstance(value, bool | int | float):
        return value
    if depth >= MAX_DEPTH:
        return TOO_DEEP
    if isinstance(value, list | tuple):
        items = []
        for item in value:
            items.append(_clean(item, depth + 1))
        return items
    if isinstance(value, dict):
        mapping = {}
        for key, item in value.items():
            mapping[plain_text(key)] = _clean(item, depth + 1)
        return mapping
    return plain_text(_shown(value))


def plain_data(value: Any) -> Any:
    """JSON data with every string made encodable and nesting past ``MAX_DEPTH`` levels cut off."""
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is float:
        return value
    if kind is str:
        return _encodable(value)
    try:
        # At C speed: most values are fine as they are, and then nothing is copied.
        json.dumps(value, ensure_ascii=False, check_circular=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError, TypeError, ValueError):
        return _clean(value, 0)
    return value


def read_seconds(value: Any) -> float:
    """A duration the runner measured: a finite number of seconds, else 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0.0
    try:
        seconds = float(value)
    except OverflowError:
        return 0.0
    return seconds if math.isfinite(seconds) and seconds >= 0 else 0.0


def _traceback(value: Any) -> list[str]:
    if isinstance(value, str):
        value = value.splitlines()
    if not isinstance(value, list):
        return []
    return [plain_text(line, MAX_TEXT) for line in value[-MAX_TRACEBACK:]]


def _exception(value: Any) -> ExceptionInfo | None:
    if not value:
        return None
    if not isinstance(value, dict):
        return ExceptionInfo(type="<unknown>", message=plain_text(value, MAX_TEXT))
    return ExceptionInfo(type=plain_text(value.get("type"), MAX_NAME) or "<unknown>",
                         message=plain_text(value.get("message"), MAX_TEXT),
                         traceback=_traceback(value.get("traceback")))


def _unreadable(name: str, why: str) -> TestResult:
    return TestResult(name=name, verdict=Verdict.SANDBOX_ERROR, message=f"the sandbox's report was unreadable: {why}")


# The fields of a call that returned: most of a big evaluation's reports (a hundred thousand calls a pass) are
# exactly this, and for them ``read_test`` takes a shortcut.
_RETURNED = frozenset({"status", "duration", "value", "bytes"})
_DIGESTED = frozenset({"status", "duration", "digest", "bytes"})
_SCALARS = frozenset({int, float, bool, type(None)})
_SCALARS_AND_TEXT = _SCALARS | {str}


def read_test(name: str, raw: Any, *, decode: bool) -> TestResult:
    """One test's report. ``decode``: its ``value`` is a codec value (calls), not plain JSON (harness)."""
    if not isinstance(raw, dict):
        return _unreadable(name, f"a JSON {type(raw).__name__}, not an object")
    if type(raw) is dict and raw.get("status") == "ok" and raw.keys() <= _RETURNED | _DIGESTED:
        returned = _returned(name, raw, decode=decode)
        if returned is not None:
            return returned
    output = None
    if "value" in raw:
        try:
            output = plain_data(raw["value"])
            if decode:
                output = codec.decode(output)
        except Exception as exc:  # a value the codec cannot rebuild is not the program's fault: it is ours
            return _unreadable(name, f"the returned value could not be decoded ({type(exc).__name__})")
    digest = raw.get("digest")
    if digest is not None and not (isinstance(digest, str) and _SHA256.fullmatch(digest)):
        return _unreadable(name, "the digest of the returned value is no sha256")
    size = raw.get("bytes")
    value_bytes = size if type(size) is int and size >= 0 else None
    status = raw.get("status")
    verdict = STATUS.get(status) if isinstance(status, str) else None
    message = plain_text(raw.get("message"), MAX_TEXT)
    if verdict is None:
        verdict = Verdict.SANDBOX_ERROR
        message = message or f"the runner reported an unknown status {plain_text(status, MAX_NAME)!r}"
    return TestResult(
        name=name,
        verdict=verdict,
        duration=read_seconds(raw.get("duration")),
        message=message,
        exception=_exception(raw.get("exception")),
        assertion=_optional_text(raw.get("assertion"), MAX_TEXT),
        input=_optional_text(raw.get("input"), MAX_TEXT),
        expected=_optional_text(raw.get("expected"), MAX_TEXT),
        actual=_optional_text(raw.get("actual"), MAX_TEXT),
        output=output,
        digest=digest,
        value_bytes=value_bytes,
        stdout=plain_text(raw.get("stdout")),
        stderr=plain_text(raw.get("stderr")),
    )


def _returned(name: str, raw: dict[str, Any], *, decode: bool) -> TestResult | None:
    """A passed call's report, checked field by field as ``read_test`` would, with none of the text fields that
    need cleaning; None when anything is unusual: the long way decides."""
    size = raw.get("bytes")
    if size is not None and not (type(size) is int and size >= 0):
        return None
    digest = raw.get("digest")
    if digest is not None:
        if "value" in raw or not (type(digest) is str and _SHA256.fullmatch(digest)):
            return None
        output = None
    else:
        value = raw.get("value")
        if not (type(value) in _SCALARS or (type(value) is str and value.isascii()) or _flat(value)):
            return None  # nested values, and strings that may hold surrogates: plain_data and the codec
        output = value  # what codec.decode gives for these (the list is the reply's own, shared with nothing)
    duration = raw.get("duration")
    if type(duration) is not float or not 0.0 <= duration < math.inf:  # the usual float, else the long way
        duration = read_seconds(duration)
    return TestResult(name=name, verdict=Verdict.PASSED, duration=duration, output=output, digest=digest,
                      value_bytes=size)


def _flat(value: Any) -> bool:
    """A list of scalars and ASCII strings: plain data as it is, and its own decoding (no tags, no nesting)."""
    if type(value) is not list:
        return False
    kinds = set(map(type, value))
    if kinds <= _SCALARS:
        return True
    return kinds <= _SCALARS_AND_TEXT and all(map(str.isascii, [item for item in value if type(item) is str]))
