"""The editor's settings over a problem's own: the limits and whether the code may start processes."""

from __future__ import annotations

from pathlib import Path

import pytest
from orps_server import settings

from orps_engine import InputError, Problem
from orps_engine.problem import ProblemKind, WholeFile


def problem(tmp_path: Path) -> Problem:
    return Problem(path=tmp_path / "sol.py", source="print(1)\n", kind=ProblemKind.PROGRAM, target=WholeFile(),
                   tests=())


def test_allow_subprocesses_from_the_editor_overrides_the_sidecar(tmp_path: Path) -> None:
    base = problem(tmp_path)
    assert settings.with_limits(base, {}).allow_subprocesses is False
    assert settings.with_limits(base, {"allowSubprocesses": True}).allow_subprocesses is True
    assert settings.with_limits(settings.with_limits(base, {"allowSubprocesses": True}),
                                {"allowSubprocesses": False}).allow_subprocesses is False


@pytest.mark.parametrize("value", ["yes", 1])
def test_allow_subprocesses_from_the_editor_must_be_a_boolean(tmp_path: Path, value: object) -> None:
    with pytest.raises(InputError, match=r"orps\.allowSubprocesses: expected true or false"):
        settings.with_limits(problem(tmp_path), {"allowSubprocesses": value})


def test_save_burst_delay_is_milliseconds_within_bounds() -> None:
    assert settings.save_burst_delay_s({}) == settings.SERVER_KEYS["saveBurstDelay"] / 1000
    assert settings.save_burst_delay_s({"saveBurstDelay": 0}) == 0.0
    assert settings.save_burst_delay_s({"saveBurstDelay": 2500}) == 2.5


@pytest.mark.parametrize("value", [-1, settings.MAX_SAVE_BURST_DELAY_MS + 1, "150", True])
def test_save_burst_delay_out_of_bounds_is_refused(value: object) -> None:
    with pytest.raises(InputError, match=r"orps\.saveBurstDelay: a number of milliseconds from 0 to 60000"):
        settings.save_burst_delay_s({"saveBurstDelay": value})
