"""Fixtures of the CLI tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from orps_engine.cli import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Run:
    """``run("test", FILE, ...)``: ``orps`` in-process; its exit code, stdout and stderr."""

    def call(*args: str | Path) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return call
