"""The README's main command: the shipped example refines offline from its demo recording."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from orps_engine.cli import main

EXAMPLES = Path(__file__).parent.parent.parent / "examples"


def test_readme_main_command_refines_primes_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "primes"
    shutil.copytree(EXAMPLES / "primes", folder)
    before = (folder / "primes.py").read_bytes()
    code = main(["refine", str(folder / "primes.py"), "--replay", str(folder / "primes.replay.jsonl"), "--json",
                 "--repeats", "2"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert "sieve" in document["best"]["code"]
    assert document["best"]["passed"] == document["best"]["total"] == 5
    assert document["delta"]["cpu_ratio"] > 1
    assert (folder / "primes.py").read_bytes() == before  # no --write, no change


def test_demo_recording_says_it_was_written_by_hand() -> None:
    header = json.loads((EXAMPLES / "primes" / "primes.replay.jsonl").read_text().splitlines()[0])
    assert "written by hand" in header["note"] and "no language model" in header["note"]
