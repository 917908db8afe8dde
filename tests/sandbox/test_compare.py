"""Whitespace-tolerant stdout comparison."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from sandbox.compare import outputs_match

tokens = st.lists(st.text(alphabet="abcxyz0123456789-.", min_size=1, max_size=6), min_size=1, max_size=8)


@given(tokens, st.sampled_from([" ", "  ", "\t"]), st.sampled_from(["", "\n", "\n\n", "  \n"]))
def test_spacing_and_trailing_newlines_do_not_matter(words: list[str], sep: str, tail: str) -> None:
    assert outputs_match(sep.join(words) + tail, " ".join(words))


@given(tokens, st.text(alphabet="qrs", min_size=1, max_size=3))
def test_an_extra_token_is_a_difference(words: list[str], extra: str) -> None:
    assert not outputs_match(" ".join([*words, extra]), " ".join(words))


def test_examples() -> None:
    assert outputs_match("3\r\n", "3")
    assert outputs_match("1 2\n3 4\n", "1 2 \n3 4")
    assert outputs_match("0.3333333", "0.33333333")
    assert not outputs_match("0.34", "0.33")
    assert not outputs_match("", "0")
    assert not outputs_match("YES", "yes")
