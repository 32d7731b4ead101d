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


def test_readme_main_command_refines_the_shop_project_offline(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    folder = tmp_path / "shop"
    shutil.copytree(EXAMPLES / "shop", folder)
    before = (folder / "shop" / "analytics.py").read_bytes()
    code = main(["refine", f"{folder / 'shop' / 'analytics.py'}::repeat_customers", "--replay",
                 str(folder / "shop.replay.jsonl"), "--json", "--repeats", "2"])
    document = json.loads(capsys.readouterr().out)
    assert code == 0
    assert document["function"] == "repeat_customers"
    assert document["best"]["passed"] == document["best"]["total"] == 6
    assert "not in repeat" not in document["best"]["code"]  # no list is scanned any more
    assert document["delta"]["cpu_ratio"] > 1
    refused = [n for n in document["tree"] if n["passed"] is not None and n["passed"] < 6]
    assert refused, "the candidate that reorders the customers should fail some tests"
    assert (folder / "shop" / "analytics.py").read_bytes() == before
