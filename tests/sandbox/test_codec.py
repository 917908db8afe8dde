"""The tagged JSON codec must give back equal values of the same types, through real JSON text."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from sandbox.runner.codec import Opaque, decode, encode

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text() | st.binary()
hashables = st.recursive(scalars, lambda inner: st.tuples(inner, inner) | st.frozensets(inner, max_size=3),
                         max_leaves=8)
values = st.recursive(
    scalars | st.complex_numbers(allow_nan=False),
    lambda inner: st.lists(inner, max_size=4)
    | st.tuples(inner, inner)
    | st.dictionaries(hashables, inner, max_size=4)
    | st.sets(hashables, max_size=4),
    max_leaves=20,
)


def roundtrip(value: Any) -> Any:
    return decode(json.loads(json.dumps(encode(value), allow_nan=False)))


def same(a: Any, b: Any) -> bool:
    """Equality that also checks types all the way down (1 == 1.0 == True must not pass)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    return bool(a == b)


@given(values)
def test_roundtrip_keeps_value_and_type(value: Any) -> None:
    assert same(roundtrip(value), value)


def test_non_finite_floats_survive_strict_json() -> None:
    back = roundtrip([math.inf, -math.inf, math.nan])
    assert back[0] == math.inf and back[1] == -math.inf and math.isnan(back[2])


def test_subclasses_travel_as_their_base() -> None:
    class Point(tuple[int, int]):
        pass

    assert same(roundtrip(Point((1, 2))), (1, 2))


def test_unknown_objects_become_opaque_reprs() -> None:
    class Thing:
        def __repr__(self) -> str:
            return "Thing()"

    back = roundtrip(Thing())
    assert isinstance(back, Opaque) and back == Opaque("Thing()") and back != "Thing()"


def test_hostile_repr_does_not_break_encoding() -> None:
    class Hostile:
        def __repr__(self) -> str:
            raise RuntimeError("no")

    assert "unrepresentable" in encode(Hostile())["$r"]


def test_decode_rejects_unknown_tags() -> None:
    try:
        decode({"$zz": 1})
    except ValueError as exc:
        assert "unknown tag" in str(exc)
    else:
        raise AssertionError("an unknown tag was accepted")


def test_huge_ints_cross_json_in_both_directions() -> None:
    value = 7**20_000  # ~17,000 digits: decimal conversion would raise ValueError
    assert roundtrip(value) == value and roundtrip(-value) == -value
