"""The reducer's candidates: each smaller than the input, the consistent count first, integers toward 0."""

from __future__ import annotations

import pytest

from orps_engine import shrink


@pytest.mark.parametrize("text", ["3\n1 2 3\n", "5\n", "2\n3\n1 2 3\n2\n5 6\n", "abc def\r\nxyz\r\n", "", "-7 x\n"])
def test_shrink_candidates_are_each_smaller_and_distinct(text: str) -> None:
    found = list(shrink.candidates(text))
    assert len(found) == len(set(found))
    assert all(shrink.size(c) < shrink.size(text) for c in found)
    assert text not in found


def test_shrink_dropping_a_token_tries_the_count_lowered_first() -> None:
    found = list(shrink.candidates("3\n1 2 3\n"))
    assert found.index("2\n2 3\n") < found.index("3\n2 3\n")
    assert found.index("2\n1 2\n") < found.index("3\n1 2\n")


def test_shrink_dropping_a_line_lowers_the_count_of_the_line_above() -> None:
    found = list(shrink.candidates("2\n10\n20\n"))
    assert found.index("1\n20\n") < found.index("2\n20\n")


def test_shrink_integers_move_toward_zero_keeping_the_sign() -> None:
    found = list(shrink.candidates("-8\n"))
    assert [c for c in found if c.endswith("\n") and c != "\n"] == ["0\n", "-1\n", "-4\n", "-7\n"]


def test_shrink_line_endings_are_kept() -> None:
    assert "abc\r\n" in list(shrink.candidates("abc def\r\n"))


def test_shrink_size_counts_characters_then_integer_magnitudes() -> None:
    assert shrink.size("12 x\n") == (5, 12)
    assert shrink.size("3\n") < shrink.size("7\n") < shrink.size("10\n")
