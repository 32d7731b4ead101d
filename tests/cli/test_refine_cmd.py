"""``orps refine``: the printed diff, critique and table, ``--json``, ``--write``, record/replay, settings
precedence, the exit codes, and the API key kept out of every output. Run for real: the sandbox runs
the candidates and the real openai client talks to the scripted model server on loopback."""

from __future__ import annotations

import json
import os
import re
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from orps_engine.critic.prompts import CRITIC_SYSTEM, PROGRAMMER_SYSTEM, STRATEGY_HINTS
from orps_engine.model.record import FORMAT
from tests.fixtures.primes import SIEVE_PRIMES, SLOW_PRIMES
from tests.fixtures.scripted_model import Body, ScriptedModel

Write = Callable[[str, str], Path]
Run = Callable[..., tuple[int, str, str]]

SENTINEL = "sk-test-SENTINEL-123"
ORIGINAL_CODE = SLOW_PRIMES
FAST = SIEVE_PRIMES
WRONG = '''def sum_primes_below(n: int) -> int:
    return sum(range(n))
'''
# The target between neighbours that --write must leave alone byte for byte: a shebang, comments,
# a helper before, a function after with trailing spaces, and trailing text without a final newline.
BEFORE = '''#!/usr/bin/env python3
# -*- coding: utf-8 -*-
"""Sum of the primes below n."""

import math  # unused, and kept


def helper(x):  # a neighbour
    return x + 1


'''
AFTER = '''

def other():
    return "untouched"   \t


# trailing comment, and no newline at the end'''
TESTS = {
    "entry_point": "sum_primes_below",
    "setup": "from primes import sum_primes_below",
    "timeLimit": 2000,
    "asserts": ["assert sum_primes_below(2) == 0", "assert sum_primes_below(10) == 17",
                "assert sum_primes_below(100) == 1060", "assert sum_primes_below(3000) == 593823"],
}
CRITIQUE = "Correct on every test, and the sieve is the right tool."
SMALL = ("--samples", "2", "--beam", "1", "--rounds", "0", "--repeats", "2")


@pytest.fixture
def primes(write: Write) -> Path:
    write("primes.tests.json", json.dumps(TESTS))
    return write("primes.py", BEFORE + ORIGINAL_CODE + AFTER)


def is_programmer(body: Body) -> bool:
    return bool(body["messages"][0]["content"] == PROGRAMMER_SYSTEM)


def is_critic(body: Body) -> bool:
    return bool(body["messages"][0]["content"] == CRITIC_SYSTEM)


def programmer(body: Body) -> str:
    """The sample with the first strategy hint offers the sieve; every other sample a wrong answer."""
    first_user = body["messages"][1]["content"]
    code = FAST if STRATEGY_HINTS[0] in first_user else WRONG
    return f"A plan.\n\n```python\n{code}```\n"


def critic(body: Body) -> str:
    if "Pass rate: 4/4" in body["messages"][-1]["content"]:
        return f"{CRITIQUE}\nScore: 4"
    return "It fails tests.\nScore: 1"


def serve(model: ScriptedModel) -> ScriptedModel:
    model.on(is_critic, critic).on(is_programmer, programmer)
    return model


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def document(out: str) -> dict[str, Any]:
    doc = json.loads(out)
    assert isinstance(doc, dict)
    return doc


def orps(*args: str | Path, env: dict[str, str] | None = None,
         cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "orps_engine", *map(str, args)], capture_output=True, text=True,
                          env=env, cwd=cwd, timeout=120)


# -- the report -----------------------------------------------------------------------------------
def test_prints_the_diff_the_critique_and_the_table(run: Run, primes: Path, scripted_model: ScriptedModel) -> None:
    before = primes.read_bytes()
    serve(scripted_model)

    code, out, err = run("refine", primes, "--model", "scripted", "--base-url", scripted_model.base_url, *SMALL)

    assert code == 0, err
    assert "Best candidate: r0.k0.s0 (round 0, critic score 4/5)" in out
    assert f"--- {primes} (original)\n+++ {primes} (refined)\n" in out
    assert "+    sieve = bytearray([1]) * n\n" in out
    assert "-        for divisor in range(2, candidate):\n" in out
    assert "helper" not in out and "untouched" not in out  # the hunk shows only the target
    assert f"Critique:\n  {CRITIQUE}\n  Score: 4\n" in out
    lines = out.splitlines()
    assert re.search(r"^\s+original\s+refined\s+change$", out, re.M)
    assert any(re.fullmatch(r"tests passed\s+4/4\s+4/4\s+-", line) for line in lines)
    cpu = next(line for line in lines if line.startswith("CPU time"))
    assert re.search(r"\d+(\.\d+)?x lower \(noise ±\d+%\)$", cpu), cpu
    assert any(line.startswith("peak memory") for line in lines)
    assert any(line.startswith("instructions") for line in lines)
    assert "2 candidates over 1 round(s): 2 ran (2 reviewed with a score)\nmodel: 4 calls;" in out
    assert "done: best 4/4" in err  # progress goes to stderr
    # without --write the file is untouched and nothing is saved beside it
    assert primes.read_bytes() == before
    assert sorted(p.name for p in primes.parent.iterdir()) == ["primes.py", "primes.tests.json"]


def test_json_document(run: Run, primes: Path, scripted_model: ScriptedModel) -> None:
    serve(scripted_model)

    code, out, err = run("refine", primes, "--model", "scripted", "--base-url", scripted_model.base_url, *SMALL,
                         "--json")

    assert code == 0, err
    doc = document(out)
    assert {"file", "function", "original", "best", "delta", "tree", "usage"} <= doc.keys()
    assert doc["file"] == str(primes) and doc["function"] == "sum_primes_below"
    original, best, delta, usage = doc["original"], doc["best"], doc["delta"], doc["usage"]
    assert original.keys() >= {"passed", "total", "cpu_ms", "peak_kb"}
    assert (original["passed"], original["total"]) == (4, 4)
    assert best.keys() >= {"code", "passed", "total", "cpu_ms", "peak_kb", "critique", "score"}
    assert best["code"] == FAST and (best["passed"], best["total"]) == (4, 4)
    assert best["score"] == 4 and CRITIQUE in best["critique"]
    assert 0 < best["cpu_ms"] < original["cpu_ms"]
    assert isinstance(original["peak_kb"], int) and isinstance(best["peak_kb"], int)
    assert delta.keys() >= {"cpu_ratio", "peak_ratio", "significant"}
    assert delta["cpu_ratio"] > 1 and isinstance(delta["significant"], bool)
    tree = doc["tree"]
    assert [n["id"] for n in tree] == ["original", "r0.k0.s0", "r0.k0.s1"]
    for node in tree:
        assert node.keys() >= {"id", "parent", "round", "passed", "total", "critic_score", "exec_score"}
    assert tree[0] | {"exec_score": None} == tree[0] | {"parent": None, "round": -1, "passed": 4, "total": 4,
                                                         "critic_score": None, "exec_score": None}
    assert [(n["parent"], n["round"], n["passed"], n["critic_score"]) for n in tree[1:]] == [
        ("original", 0, 4, 4), ("original", 0, 0, 1)]
    assert usage.keys() >= {"calls", "prompt_tokens", "completion_tokens", "wall_s"}
    assert usage["calls"] == len(scripted_model.requests) == 4
    assert usage["prompt_tokens"] > 0 and usage["completion_tokens"] > 0 and usage["wall_s"] >= 0


# -- exit codes -------------------------------------------------------------------------------------
def test_no_model_is_a_configuration_error(run: Run, primes: Path) -> None:
    code, out, err = run("refine", primes)

    assert code == 2
    assert out == ""
    assert "error: no model is set" in err
    assert "hint:" in err and "--model" in err and "ORPS_MODEL" in err
    assert "Traceback" not in err


def test_no_model_in_a_real_process(primes: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ORPS_MODEL"))}
    done = orps("refine", primes, env=env, cwd=tmp_path)

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("error: no model is set")
    assert "\nhint: " in done.stderr and "Traceback" not in done.stderr


def test_a_closed_port_is_unreachable(run: Run, primes: Path) -> None:
    code, out, err = run("refine", primes, "--model", "scripted", "--base-url", f"http://127.0.0.1:{closed_port()}/v1",
                         "--max-retries", "0", *SMALL)

    assert code == 3
    assert out == ""
    assert "error: the model could not be reached" in err
    assert "hint:" in err and "--base-url" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(("table", "expected"), [
    ('samples = "x"', "samples must be an integer >= 1 (got 'x' from "),
    (f'api_key = "{SENTINEL}"', "an API key does not belong in a settings file"),
], ids=["malformed", "api-key"])
def test_bad_settings_in_pyproject(run: Run, primes: Path, write: Write, scripted_model: ScriptedModel,
                                   table: str, expected: str) -> None:
    pyproject = write("pyproject.toml", f'[project]\nname = "x"\n\n[tool.orps]\nmodel = "scripted"\n{table}\n')

    code, out, err = run("refine", primes, "--base-url", scripted_model.base_url, *SMALL)

    assert code == 2
    assert out == ""
    assert expected in err and str(pyproject) in err
    assert SENTINEL not in err
    assert "Traceback" not in err
    assert scripted_model.requests == []


# -- --write ------------------------------------------------------------------------------------------
def test_write_replaces_only_the_target(run: Run, primes: Path, scripted_model: ScriptedModel) -> None:
    original = primes.read_bytes()
    serve(scripted_model)

    code, out, err = run("refine", primes, "--model", "scripted", "--base-url", scripted_model.base_url, *SMALL,
                         "--write")

    assert code == 0, err
    assert primes.read_bytes() == (BEFORE + FAST + AFTER).encode()
    backup = primes.with_name("primes.py.orig")
    assert backup.read_bytes() == original
    assert f"wrote the refined code to {primes}; the original is saved as {backup}" in out


def test_write_keeps_crlf_line_endings(run: Run, primes: Path, scripted_model: ScriptedModel) -> None:
    crlf = (BEFORE + ORIGINAL_CODE + AFTER).replace("\n", "\r\n").encode()
    primes.write_bytes(crlf)
    serve(scripted_model)

    code, _out, err = run("refine", primes, "--model", "scripted", "--base-url", scripted_model.base_url, *SMALL,
                          "--write")

    assert code == 0, err
    assert primes.with_name("primes.py.orig").read_bytes() == crlf, "FILE.orig is not the original file"
    written = primes.read_bytes()
    assert written.startswith(BEFORE.replace("\n", "\r\n").encode()), written[:200]
    assert written.endswith(AFTER.replace("\n", "\r\n").encode()), written[-200:]


def test_write_keeps_the_file_mode(run: Run, primes: Path, scripted_model: ScriptedModel) -> None:
    primes.chmod(0o755)  # a script with a shebang, executable
    serve(scripted_model)

    code, _out, err = run("refine", primes, "--model", "scripted", "--base-url", scripted_model.base_url, *SMALL,
                          "--write")

    assert code == 0, err
    assert primes.read_text().startswith(BEFORE) and FAST in primes.read_text()
    assert stat.S_IMODE(primes.stat().st_mode) == 0o755


# -- a method target ----------------------------------------------------------------------------------
STATS_TESTS = {"asserts": ["assert Stats([1, 2]).mean() == 1.5", "assert Stats([4]).mean() == 4",
                           "assert Stats.tally([1, 2]) == 2"]}
STATS_PY = '''import functools


class Stats:
\t"""Indented by tabs."""

\tdef __init__(self, values):
\t\tself.values = list(values)

\t@functools.lru_cache(maxsize=None)
\tdef __hash__(self):
\t\treturn id(self)

\t@staticmethod
\tdef tally(values):
\t\treturn len(values)

\tdef mean(self):
\t\treturn sum(self.values) // len(self.values)

\tdef other(self):
\t\treturn "untouched"
'''
MEAN = "def mean(self):\n    if not self.values:\n        return 0.0\n    return sum(self.values) / len(self.values)\n"


def method_programmer(body: Body) -> str:
    """A method at column 0 for the first sample; another sample repeats the class around it (refused twice)."""
    first_user = body["messages"][1]["content"]
    if STRATEGY_HINTS[0] in first_user:
        return f"Divide exactly.\n\n```python\n{MEAN}```\n"
    return "```python\nclass Stats:\n    def mean(self):\n        return 0\n```\n"


def test_refine_a_method_and_write_it_back_into_its_class(run: Run, write: Write,
                                                           scripted_model: ScriptedModel) -> None:
    write("stats.tests.json", json.dumps(STATS_TESTS))
    solution = write("stats.py", STATS_PY)
    scripted_model.on(is_critic, critic).on(is_programmer, method_programmer)

    code, out, err = run("refine", f"{solution}::Stats.mean", "--model", "scripted", "--base-url",
                         scripted_model.base_url, *SMALL, "--write")

    assert code == 0, err
    assert solution.read_text() == STATS_PY.replace(
        "\tdef mean(self):\n\t\treturn sum(self.values) // len(self.values)\n",
        "\tdef mean(self):\n\t\tif not self.values:\n\t\t\treturn 0.0\n"
        "\t\treturn sum(self.values) / len(self.values)\n")
    assert "+\t\treturn sum(self.values) / len(self.values)\n" in out
    prompts = [r["messages"][1]["content"] for r in scripted_model.requests if is_programmer(r)]
    assert all("the method `Stats.mean` (a method of class `Stats`" in p for p in prompts)
    assert all("## Current code\n```python\ndef mean(self):\n\treturn sum(self.values) // len(self.values)\n```"
               in p for p in prompts)
    retries = [r["messages"][-1]["content"] for r in scripted_model.requests
               if is_programmer(r) and len(r["messages"]) > 2]
    assert retries and all("without its class Stats around it" in m for m in retries)


# -- record and replay --------------------------------------------------------------------------------
def test_record_then_replay_without_a_server(run: Run, primes: Path, tmp_path: Path) -> None:
    recording = tmp_path / "refine.jsonl"
    with ScriptedModel() as server:
        serve(server)
        code, out, err = run("refine", primes, "--model", "scripted", "--base-url", server.base_url, *SMALL,
                             "--record", recording, "--json")
        calls = len(server.requests)
    assert code == 0, err
    recorded = document(out)
    lines = recording.read_text().splitlines()
    assert len(lines) == 1 + calls
    assert json.loads(lines[0])["format"] == FORMAT

    # the server is gone: no model, no URL; the recording's own settings (2, 1, 0) apply
    code, out, err = run("refine", primes, "--replay", recording, "--repeats", "2", "--json")

    assert code == 0, err
    replayed = document(out)
    assert replayed["best"]["code"] == recorded["best"]["code"] == FAST
    assert [n["id"] for n in replayed["tree"]] == [n["id"] for n in recorded["tree"]]
    assert replayed["usage"]["calls"] == calls
    assert "changed since the recording" not in out


# -- where settings come from -------------------------------------------------------------------------
def test_flags_override_the_environment_which_overrides_pyproject(run: Run, primes: Path, write: Write,
                                                                  scripted_model: ScriptedModel,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    serve(scripted_model)
    write("pyproject.toml", f'[tool.orps]\nmodel = "from-file"\nbase_url = "{scripted_model.base_url}"\n'
                            'samples = 1\nbeam = 1\nrounds = 0\nrepeats = 2\n')

    def models_and_samples(*flags: str) -> tuple[set[str], int]:
        scripted_model.requests.clear()
        code, _out, err = run("refine", primes, *flags)
        assert code == 0, err
        return {b["model"] for b in scripted_model.requests}, sum(map(is_programmer, scripted_model.requests))

    assert models_and_samples() == ({"from-file"}, 1)
    monkeypatch.setenv("ORPS_MODEL", "from-env")
    assert models_and_samples() == ({"from-env"}, 1)
    assert models_and_samples("--model", "from-flag", "--samples", "2") == ({"from-flag"}, 2)


# -- a real process, and the API key ------------------------------------------------------------------
def test_a_real_process_never_shows_the_api_key(primes: Path, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    serve(scripted_model)
    recording = tmp_path / "refine.jsonl"
    env = {**os.environ, "OPENAI_API_KEY": SENTINEL, "OPENAI_BASE_URL": scripted_model.base_url,
           "ORPS_MODEL": "scripted"}

    done = orps("refine", primes, *SMALL, "--record", recording, "--json", env=env, cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    doc = document(done.stdout)
    assert doc["best"]["code"] == FAST
    assert {b["model"] for b in scripted_model.requests} == {"scripted"}
    assert len(recording.read_text().splitlines()) == 1 + len(scripted_model.requests)
    for where, text in [("stdout", done.stdout), ("stderr", done.stderr), ("the recording", recording.read_text())]:
        assert SENTINEL not in text, f"the API key appears in {where}"
        assert "SENTINEL" not in text, f"part of the API key appears in {where}"
