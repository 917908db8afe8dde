"""Tagged JSON for Python values that JSON cannot carry as they are.

This file runs on both sides: inside the sandbox (stdlib only, copied into the image beside the runner) and on
the host (imported as ``sandbox.runner.codec``). Test inputs go in and program outputs come out through it, so a
tuple stays a tuple, ``nan`` stays ``nan`` and a dict keeps its integer keys. Anything it cannot describe
travels as its (bounded) repr, which can only compare equal to the same repr.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from array import array
from collections.abc import Callable
from typing import Any

__all__ = ["MAX_REPR", "PACKED", "Opaque", "decode", "digested", "encode", "is_plain_list", "json_writer", "packed",
           "value_bytes", "value_digest"]

MAX_REPR = 1000
_MAX_DEPTH = 200
_MAX_JSON_INT_BITS = 10_000  # about 3000 decimal digits, safely under sys.get_int_max_str_digits()'s 4300
_AS_IS = frozenset({str, bool, type(None)})  # items that a list carries unchanged
_NUMBERS = frozenset({int, float, bool})
_CONTAINERS = frozenset({list, dict})
# How a packed value begins (see ``packed``): no JSON text starts with a NUL byte.
PACKED = b"\x00selfdebug-packed-2:"
_NAN_JSON = b'{"$f": "nan"}'  # how NaN looks in a value's JSON (``_float``'s tag, as json.dumps spaces it)
PACK_MIN_ITEMS = 256  # shorter lists are cheap enough as JSON
_EXACT_IN_DOUBLE = 1 << 53  # ints below this size are exact as doubles


class Opaque:
    """A value the codec could not describe: only its repr crossed the boundary."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Opaque) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("Opaque", self.text))

    def __repr__(self) -> str:
        return self.text


def json_writer(default: Callable[[Any], Any]) -> Callable[[Any], str]:
    """``json.dumps(value, default=default)`` as a function whose C encoder is made once: json.dumps and
    JSONEncoder.encode make a new one every call, most of the cost of a small value's JSON, and the child, the
    runner and the canonical harness each take one a call, a hundred thousand calls a pass. The same text as
    json.dumps (its separators): the runner counts the bytes the child sent with it, and the host digests
    json.dumps's. No check for cycles: what it is given is fresh data (``encode``'s output, parsed JSON, the child's
    own events); a cycle would end in RecursionError, as deep nesting does."""
    encoder = json.encoder.c_make_encoder(  # type: ignore[attr-defined]
        None, default, json.encoder.encode_basestring_ascii, None, ": ", ", ", False, False, True)
    join = "".join

    def text(value: Any) -> str:
        return join(encoder(value, 0))

    return text


_json_text = json_writer(json.JSONEncoder().default)


def _float(value: float) -> Any:
    if math.isfinite(value):
        return value
    return {"$f": repr(value)}


def is_plain_list(value: list[Any]) -> bool:
    """Whether a list is already its own encoding: only exact str, bool and None items, or only numbers that JSON
    carries as they are (finite floats, ints small enough for a float). Checked at C speed: outputs of a million
    items are common (HumanEval/130), and a call per item would cost more than the program's own run."""
    kinds = set(map(type, value))
    if kinds <= _AS_IS:
        return True
    if kinds <= _NUMBERS:
        try:
            return all(map(math.isfinite, value))  # an int past a float's range raises: the slow path takes it
        except OverflowError:
            return False
    return False


def packed(value: Any) -> bytes | None:
    """A long list of plain numbers (ints, finite floats, bools) in an exact binary form, or None for any other value.

    Only ever digested (``Sandbox.run_calls`` with ``digest_over``), never decoded: turning a million floats into
    JSON text costs the child seconds (HumanEval/130), packing them milliseconds. Equal packed bytes mean values
    that are equal as the host compares them (Python's ``==``): all floats go as their IEEE bits (``d``), all ints
    as 64-bit integers (``q``), and a list that mixes kinds as doubles (``n``), only when every item is below 2**53
    in size, where a double holds an int exactly (``[1, 2.0] == [1.0, 2]``: as numbers they are equal, and are
    packed alike). Any other list is not packed. Equal values may still pack differently (``0.0`` and ``-0.0``, or
    floats against ints), which only costs the caller a comparison of the values themselves.
    """
    if type(value) is not list or len(value) < PACK_MIN_ITEMS:
        return None
    kinds = set(map(type, value))
    if not kinds <= _NUMBERS:  # exact types only: an object with __float__ could pass for any number
        return None
    try:
        if kinds == {int}:
            return PACKED + b"q" + array("q", value).tobytes()
        doubles = array("d", value)
    except OverflowError:  # an int past 64 bits, or past a double's range
        return None
    if not math.isfinite(sum(doubles)):  # a NaN (unequal to itself: never a digest) or an infinity, or an overflow
        return None
    if kinds == {float}:
        return PACKED + b"d" + doubles.tobytes()
    if max(doubles) >= _EXACT_IN_DOUBLE or min(doubles) <= -_EXACT_IN_DOUBLE:
        return None  # an int there may not be exact as a double
    return PACKED + b"n" + doubles.tobytes()


def encode(value: Any, _depth: int = 0) -> Any:
    """Turn ``value`` into plain JSON data; ``decode`` gives back an equal value."""
    if _depth > _MAX_DEPTH:
        return {"$r": "<nested too deeply>"}
    kind = type(value)
    if value is None or kind is bool or kind is str:
        return value
    if kind is list and is_plain_list(value):
        return list(value)  # a copy, as on the slow path: the caller may change either list
    if kind is int:
        # Past ~4300 digits, int <-> decimal str raises (CPython's DoS guard), so json could not carry it either
        # way; hex is exempt from that limit.
        return value if value.bit_length() <= _MAX_JSON_INT_BITS else {"$i": hex(value)}
    if kind is float:
        return _float(value)
    depth = _depth + 1
    if kind is list:
        return [encode(item, depth) for item in value]
    if kind is tuple:
        return {"$t": [encode(item, depth) for item in value]}
    if kind is dict:
        return {"$d": [[encode(k, depth), encode(v, depth)] for k, v in value.items()]}
    if kind is set or kind is frozenset:
        items = [encode(item, depth) for item in value]
        return {"$s" if kind is set else "$fs": items}
    if kind is bytes:
        return {"$b": base64.b64encode(value).decode("ascii")}
    if kind is complex:
        return {"$c": [_float(value.real), _float(value.imag)]}
    # Subclasses of the plain types (bool subclasses int, OrderedDict, namedtuple, ...) compare like the base.
    bases: tuple[type[Any], ...] = (bool, int, float, str, tuple, list, dict, frozenset, set, bytes)
    for base in bases:
        if isinstance(value, base):
            try:
                return encode(base(value), _depth)
            except Exception:
                break
    try:
        text = repr(value)
    except Exception as exc:
        text = f"<unrepresentable {kind.__name__}: {exc.__class__.__name__}>"
    if len(text) > MAX_REPR:
        text = text[: MAX_REPR // 2] + "..." + text[-MAX_REPR // 2 :]
    return {"$r": text}


def _decode_float(data: Any) -> float:
    if isinstance(data, dict):
        return float(data["$f"])
    return float(data)


def decode(data: Any) -> Any:
    """Rebuild the value that ``encode`` described."""
    if isinstance(data, list):
        if _CONTAINERS.isdisjoint(map(type, data)):
            return list(data)  # scalars only: JSON gave them as they are
        return [decode(item) for item in data]
    if not isinstance(data, dict):
        return data
    if len(data) != 1:
        raise ValueError(f"not a tagged value: {sorted(data)!r}")
    ((tag, body),) = data.items()
    if tag == "$t":
        return tuple(decode(item) for item in body)
    if tag == "$d":
        return {decode(k): decode(v) for k, v in body}
    if tag == "$s":
        return {decode(item) for item in body}
    if tag == "$fs":
        return frozenset(decode(item) for item in body)
    if tag == "$f":
        return float(body)
    if tag == "$i":
        return int(body, 16)
    if tag == "$b":
        return base64.b64decode(body)
    if tag == "$c":
        return complex(_decode_float(body[0]), _decode_float(body[1]))
    if tag == "$r":
        if not isinstance(body, str):  # an Opaque whose text is not a str would fail later, in repr() or hash()
            raise ValueError(f"an opaque value's text must be a string, not {type(body).__name__}")
        return Opaque(body)
    raise ValueError(f"unknown tag {tag!r}")


def digested(data: bytes | bytearray, digest_over: int | None) -> bool:
    """Whether the runner sends only the sha256 of a returned value's bytes: packed bytes always (they are sent only
    to be digested), JSON past ``digest_over`` bytes unless it holds a NaN (unequal to itself, so equal digests
    would claim too much)."""
    if data.startswith(PACKED):
        return True
    return digest_over is not None and len(data) > digest_over and _NAN_JSON not in data


def value_bytes(value: Any, digest_over: int | None) -> bytes:
    """What the child sends for a returned value in a run with ``digest_over``: its packed form when there is one
    longer than ``digest_over`` (it will be digested), else its JSON (``json.dumps(encode(value))``)."""
    if digest_over is not None:
        packed_value = packed(value)
        if packed_value is not None and len(packed_value) > digest_over:
            return packed_value
    return _json_text(encode(value)).encode("utf-8", "replace")


def value_digest(value: Any, digest_over: int | None = None) -> str:
    """The sha256 of what the child sends for ``value`` (``value_bytes``), so that it equals the digest the runner
    takes of a returned value that is the same (see ``Sandbox.run_calls``)."""
    return hashlib.sha256(value_bytes(value, digest_over)).hexdigest()
