"""Shared fixtures: a hermetic environment and scenario folders copied before use."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.fixtures.scripted_model import ScriptedModel

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent
DATASETS = Path(os.environ.get("ORPS_DATASETS", REPO.parent / "shared" / "datasets"))


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """No OPENAI_*/ORPS_* variables from the shell, and a HOME of the test's own."""
    for name in list(os.environ):
        if name.startswith(("OPENAI_", "ORPS_")) and name != "ORPS_DATASETS":
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    yield


@pytest.fixture
def problem(tmp_path: Path) -> Callable[[str], Path]:
    """``problem("case")`` copies ``tests/data/problems/case/`` into tmp_path and returns the copy."""

    def copy(case: str) -> Path:
        target = tmp_path / case
        shutil.copytree(DATA / "problems" / case, target)
        return target

    return copy


@pytest.fixture
def write(tmp_path: Path) -> Callable[..., Path]:
    """``write("name.py", text)`` writes a file under tmp_path/work and returns its path."""
    folder = tmp_path / "work"
    folder.mkdir(exist_ok=True)

    def make(name: str, text: str) -> Path:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    return make



@pytest.fixture
def scripted_model() -> Iterator[ScriptedModel]:
    """A started local OpenAI-compatible server; script it with ``.on``, ``.fail``, ...; read ``.requests``."""
    with ScriptedModel() as model:
        yield model
