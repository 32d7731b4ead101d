"""``orps listen``: the command in a subprocess on a free port (``--port 0``), real POSTs to it,
and ``orps test`` on what it wrote."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.companion import WATERMELON_SOLUTION, post, problem

from .conftest import Run

WAIT_S = 30.0
LISTENING = re.compile(r"^listening on http://127\.0\.0\.1:(\d+)/ for Competitive Companion; writing into (.+) \(")


class Listening:
    """``orps listen`` running in a subprocess, and the port it printed."""

    def __init__(self, *args: str | Path) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "orps_engine", "listen", "--port", "0",
                                         *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        first = self.process.stdout.readline()
        match = LISTENING.match(first)
        assert match, first + self.process.stderr.read() if self.process.stderr else first
        self.port = int(match.group(1))

    def finish(self) -> tuple[int, str, str]:
        out, err = self.process.communicate(timeout=WAIT_S)
        return self.process.returncode, out, err


@pytest.fixture
def started() -> Iterator[list[Listening]]:
    running: list[Listening] = []
    yield running
    for listening in running:
        if listening.process.poll() is None:
            listening.process.kill()
            listening.process.communicate()


def listen(started: list[Listening], *args: str | Path) -> Listening:
    listening = Listening(*args)
    started.append(listening)
    return listening


def test_listen_once_single_problem_then_orps_test_runs_its_tests(started: list[Listening], tmp_path: Path,
                                                                  run: Run) -> None:
    template = tmp_path / "watermelon_template.py"
    template.write_text(WATERMELON_SOLUTION)
    listening = listen(started, "--once", "--dir", tmp_path / "cf", "--template", template)
    assert post(listening.port, problem())[0] == 200
    code, out, err = listening.finish()

    assert code == 0, err
    assert out.splitlines() == ["A. Watermelon: created a_watermelon.py; 3 tests in a_watermelon.tests.json"]
    code, out, err = run("test", tmp_path / "cf" / "a_watermelon.py")
    assert code == 0, out + err
    assert "3 passed" in out


def test_listen_once_default_template_runs_and_fails_its_tests(started: list[Listening], tmp_path: Path,
                                                               run: Run) -> None:
    listening = listen(started, "--once", "--dir", tmp_path)
    post(listening.port, problem())
    assert listening.finish()[0] == 0

    code, out, _err = run("test", tmp_path / "a_watermelon.py")
    assert code == 1  # the template reads stdin and prints what it read: a real run, judged WA
    assert "0 passed, 3 failed" in out


def test_listen_once_waits_for_the_whole_batch(started: list[Listening], tmp_path: Path) -> None:
    folder = tmp_path / "contest"
    listening = listen(started, "--once", "--dir", folder)
    batch = {"id": "5f1d", "size": 3}
    for letter in "ABC":
        url = f"https://codeforces.com/contest/4/problem/{letter}"
        assert post(listening.port, problem(f"{letter}. Task", url=url, batch=batch))[0] == 200
    code, out, err = listening.finish()

    assert code == 0, err
    assert out.splitlines()[-1] == "  contest complete: 3 of 3 problems received"
    assert "  contest: 1 of 3 problems received" in out.splitlines()
    assert sorted(p.name for p in folder.iterdir()) == ["a_task.py", "a_task.tests.json", "b_task.py",
                                                          "b_task.tests.json", "c_task.py", "c_task.tests.json"]


def test_listen_keeps_an_existing_solution(started: list[Listening], tmp_path: Path) -> None:
    (tmp_path / "a_watermelon.py").write_text(WATERMELON_SOLUTION)
    listening = listen(started, "--once", "--dir", tmp_path)
    post(listening.port, problem())
    code, out, _err = listening.finish()

    assert code == 0
    assert out.startswith("A. Watermelon: kept the existing a_watermelon.py; 3 tests in a_watermelon.tests.json")
    assert (tmp_path / "a_watermelon.py").read_text() == WATERMELON_SOLUTION


def test_listen_malformed_post_is_reported_and_listening_goes_on(started: list[Listening], tmp_path: Path) -> None:
    listening = listen(started, "--once", "--dir", tmp_path)
    status, text = post(listening.port, b'{"name": "A. Watermelon", "tests": [{"input": 8}]}')
    assert status == 400 and 'field "tests[0]"' in text
    assert post(listening.port, problem())[0] == 200
    code, out, err = listening.finish()

    assert code == 0
    assert 'refused a POST: field "tests[0]": expected an object with string "input" and "output"' in err
    assert "Traceback" not in err
    assert out.startswith("A. Watermelon: created a_watermelon.py")


def test_listen_name_with_dot_dot_stays_inside_dir(started: list[Listening], tmp_path: Path) -> None:
    top = tmp_path / "top"
    listening = listen(started, "--once", "--dir", top / "inside")
    post(listening.port, problem("../../../tmp/x; rm -rf ~"))
    assert listening.finish()[0] == 0

    assert sorted(p.relative_to(top).as_posix() for p in top.rglob("*")) == [
        "inside", "inside/tmp_x_rm_rf.py", "inside/tmp_x_rm_rf.tests.json"]


def test_listen_interrupted_stops_cleanly(started: list[Listening], tmp_path: Path) -> None:
    listening = listen(started, "--dir", tmp_path)
    post(listening.port, problem())  # served, so the listener is up and serving
    listening.process.send_signal(signal.SIGINT)
    code, out, err = listening.finish()

    assert code == 0
    assert out.startswith("A. Watermelon: created")
    assert err == "stopped listening\n"


def test_listen_busy_port_exits_2_offering_the_next_free_port(run: Run, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err = run("listen", "--port", str(port), "--dir", tmp_path)

    assert code == 2 and out == ""
    error, hint = err.splitlines()
    free = re.fullmatch(rf"error: port {port} is busy: another program listens there \(cph uses 27121 too\); "
                        r"port (\d+) is free", error)
    assert free, error
    assert hint == (f"hint: run orps listen --port {free.group(1)}, and add port {free.group(1)} to Competitive "
                    "Companion's custom ports (its settings)")
    assert int(free.group(1)) > port


def test_listen_missing_template_is_input_error(run: Run, tmp_path: Path) -> None:
    code, _out, err = run("listen", "--port", "0", "--dir", tmp_path / "out", "--template", tmp_path / "nope.py")

    assert code == 2
    assert err.startswith(f"error: {tmp_path / 'nope.py'}: cannot read the template:")
    assert not (tmp_path / "out").exists()  # it never started
