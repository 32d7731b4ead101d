"""The listener Competitive Companion posts to, served for real on a free port: what each POST
writes, what it keeps, what it refuses, and how a contest is counted."""

from __future__ import annotations

import json
import queue
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from orps_engine.companion import ProblemWriter, SidecarWrite, file_stem
from orps_engine.errors import PortBusy
from orps_engine.listen import Listener, ListenEvent, ListenEventKind
from orps_engine.report.listen import listen_event_lines
from tests.fixtures.companion import WATERMELON_TESTS, post, problem

WAIT_S = 10.0


class Served:
    """A listener on a free port, and the events it reported."""

    def __init__(self, folder: Path, template: str | None = None) -> None:
        self.events: queue.Queue[ListenEvent] = queue.Queue()
        self.listener = Listener(ProblemWriter(folder, template), port=0, on_event=self.events.put)

    @property
    def port(self) -> int:
        return self.listener.port

    def next_event(self) -> ListenEvent:
        return self.events.get(timeout=WAIT_S)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    served = Served(tmp_path / "contest")
    with served.listener:
        yield served


def test_listen_single_problem_writes_solution_and_sidecar_as_received(served: Served, tmp_path: Path) -> None:
    status, text = post(served.port, problem())
    event = served.next_event()

    assert (status, text.strip()) == (200, "imported A. Watermelon")
    assert event.kind is ListenEventKind.IMPORTED and event.problem is not None and event.ends_unit
    imported = event.problem
    assert imported.solution == tmp_path / "contest" / "a_watermelon.py" and imported.solution_created
    assert imported.sidecar is SidecarWrite.CREATED and imported.test_count == 3
    assert "# https://codeforces.com/problemset/problem/4/A" in imported.solution.read_text()
    assert json.loads(imported.tests.read_text()) == problem()  # the limits, url and name travel
    assert listen_event_lines(event) == ["A. Watermelon: created a_watermelon.py; 3 tests in a_watermelon.tests.json"]


def test_listen_existing_solution_is_kept_and_other_tests_backed_up(tmp_path: Path) -> None:
    folder = tmp_path / "contest"
    folder.mkdir()
    mine = folder / "a_watermelon.py"
    mine.write_text("print('my own work')\n")
    old_sidecar = json.dumps({"url": problem()["url"], "tests": [{"input": "1\n", "output": "NO\n"}]})
    (folder / "a_watermelon.tests.json").write_text(old_sidecar)
    served = Served(folder)
    with served.listener:
        assert post(served.port, problem())[0] == 200
        first = served.next_event()
        assert post(served.port, problem())[0] == 200  # the same problem again
        second = served.next_event()

    assert mine.read_text() == "print('my own work')\n"
    assert first.problem is not None and not first.problem.solution_created
    assert first.problem.sidecar is SidecarWrite.UPDATED
    assert first.problem.backup == folder / "a_watermelon.tests.json.bak"
    assert first.problem.backup.read_text() == old_sidecar
    assert json.loads((folder / "a_watermelon.tests.json").read_text())["tests"] == WATERMELON_TESTS
    assert listen_event_lines(first)[0] == ("A. Watermelon: kept the existing a_watermelon.py; 3 tests in "
                                            "a_watermelon.tests.json (it held other tests: those are in "
                                            "a_watermelon.tests.json.bak)")
    assert second.problem is not None and second.problem.sidecar is SidecarWrite.UNCHANGED
    assert sorted(p.name for p in folder.iterdir()) == ["a_watermelon.py", "a_watermelon.tests.json",
                                                        "a_watermelon.tests.json.bak"]


def test_listen_name_with_dot_dot_and_odd_characters_stays_inside_dir(served: Served, tmp_path: Path) -> None:
    name = "../../evil/\x1b[31m B.\u202e Sub/arrays?*:|\\ 2"
    assert post(served.port, problem(name))[0] == 200
    event = served.next_event()

    assert event.problem is not None
    assert event.problem.solution == tmp_path / "contest" / "evil_31m_b_sub_arrays_2.py"
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["evil_31m_b_sub_arrays_2.py",
                                                                          "evil_31m_b_sub_arrays_2.tests.json"]
    assert "\x1b" not in listen_event_lines(event)[0] and "\u202e" not in listen_event_lines(event)[0]


@pytest.mark.parametrize(("name", "stem"), [
    pytest.param("A. Watermelon", "a_watermelon", id="codeforces"),
    pytest.param("A - Welcome to AtCoder", "a_welcome_to_atcoder", id="atcoder"),
    pytest.param("Задача Д. Сумма", "задача_д_сумма", id="cyrillic"),
    pytest.param("random", "random_solution", id="stdlib-name"),
    pytest.param("../..", "problem", id="nothing-left"),
])
def test_file_stem_names(name: str, stem: str) -> None:
    assert file_stem(name) == stem


def test_listen_batch_of_three_reports_progress_and_completion(served: Served, tmp_path: Path) -> None:
    batch = {"id": "b7a0c1", "size": 3}
    lines = []
    for i, letter in enumerate("ABC"):
        doc = problem(f"{letter}. Task", url=f"https://codeforces.com/contest/4/problem/{letter}", batch=batch)
        assert post(served.port, doc)[0] == 200
        event = served.next_event()
        assert event.batch is not None and event.batch.received == i + 1
        assert event.ends_unit == (i == 2)
        lines.append(listen_event_lines(event)[1])

    assert lines == ["contest: 1 of 3 problems received", "contest: 2 of 3 problems received",
                     "contest complete: 3 of 3 problems received"]
    assert sorted(p.name for p in (tmp_path / "contest").glob("*.py")) == ["a_task.py", "b_task.py", "c_task.py"]


def test_listen_same_name_other_url_gets_its_own_file(served: Served, tmp_path: Path) -> None:
    post(served.port, problem("A. Sum", url="https://codeforces.com/contest/1/problem/A"))
    post(served.port, problem("A. Sum", url="https://atcoder.jp/contests/abc1/tasks/abc1_a"))
    first, second = served.next_event(), served.next_event()

    assert first.problem is not None and second.problem is not None
    assert {first.problem.solution.name, second.problem.solution.name} == {"a_sum.py", "a_sum_2.py"}


@pytest.mark.parametrize(("body", "reason"), [
    pytest.param(b'{"name": "A", "tests": [', "not valid JSON", id="truncated-json"),
    pytest.param(b"\xff\xfe", "not UTF-8", id="binary"),
    pytest.param(b"[1, 2]", "expected a JSON object", id="not-an-object"),
    pytest.param(json.dumps({"tests": []}).encode(), 'field "name"', id="no-name"),
    pytest.param(json.dumps(problem(tests=[{"input": "1"}])).encode(), 'field "tests[0]"', id="no-output"),
    pytest.param(json.dumps(problem(tests="8 YES")).encode(), 'field "tests"', id="tests-not-a-list"),
    pytest.param(json.dumps(problem(timeLimit=-5)).encode(), 'field "timeLimit"', id="negative-time-limit"),
    pytest.param(json.dumps(problem(batch={"id": "x", "size": 0})).encode(), 'field "batch"', id="empty-batch"),
])
def test_listen_malformed_post_is_400_with_reason_and_listener_goes_on(served: Served, body: bytes,
                                                                      reason: str) -> None:
    status, text = post(served.port, body)
    refused = served.next_event()

    assert status == 400 and reason in text
    assert refused.kind is ListenEventKind.REJECTED and refused.reason is not None and reason in refused.reason
    assert post(served.port, problem())[0] == 200  # still listening
    assert served.next_event().kind is ListenEventKind.IMPORTED


def test_listen_post_from_a_web_page_is_refused(served: Served, tmp_path: Path) -> None:
    status, text = post(served.port, problem(), headers={"Origin": "https://evil.example"})

    assert status == 403 and "web page" in text
    assert served.next_event().kind is ListenEventKind.REJECTED
    assert not (tmp_path / "contest" / "a_watermelon.py").exists()
    assert post(served.port, problem(), headers={"Origin": "moz-extension://4b1a"})[0] == 200  # the extension


def test_listen_sidecar_keeps_only_companion_fields(served: Served, tmp_path: Path) -> None:
    post(served.port, problem(setup="import os", asserts=["assert True"], compare="exact"))
    event = served.next_event()

    assert event.problem is not None
    assert json.loads(event.problem.tests.read_text()) == problem()


def test_listen_interactive_problem_is_written_with_a_note(served: Served) -> None:
    post(served.port, problem("E. Guess", interactive=True))
    event = served.next_event()

    assert event.problem is not None and event.problem.solution.is_file()
    assert listen_event_lines(event)[-1] == ("note: interactive problems are not supported yet: "
                                             "orps test refuses its tests")


def test_listen_template_is_copied_verbatim(tmp_path: Path) -> None:
    served = Served(tmp_path, template="# my template\nimport sys\n")
    with served.listener:
        post(served.port, problem())
        event = served.next_event()

    assert event.problem is not None and event.problem.solution.read_text() == "# my template\nimport sys\n"


def test_listen_busy_port_names_the_next_free_port(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortBusy) as raised:
            Listener(ProblemWriter(tmp_path), port=port, on_event=print).start()

    assert raised.value.port == port and raised.value.free_port is not None and raised.value.free_port > port
    assert f"port {port} is busy" in str(raised.value)
