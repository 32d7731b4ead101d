"""End to end: the real language server (``python -m orps_server``) in a subprocess, driven by a
pytest-lsp client over stdio, in pygls's e2e style.

Waits are on notifications (``wait_for_notification``); the only loops are bounded ones that wait
for a condition the notifications make true. Refines run against ``scripted_model``, a real local
OpenAI-compatible server.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from lsprotocol import types
from pygls.exceptions import JsonRpcInvalidParams, JsonRpcRequestCancelled
from pygls.protocol import default_converter
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities
from pytest_lsp.client import DEFAULT_CLIENT_FEATURES, register_lsp_features

from tests.fixtures.primes import CRITIQUE, PRIMES_ASSERTS, SIEVE_PRIMES, SLOW_PRIMES, script_refine
from tests.fixtures.scripted_model import ScriptedModel

SERVER = [sys.executable, "-m", "orps_server"]
API_KEY = "sk-test-SENTINEL-123"
WAIT_S = 20.0  # the most any single wait may take before the test fails

# --- the documents under test ---------------------------------------------------------------------

VERDICTS_PY = '''\
"""One function, one way to fail per test."""


def judge(x):
    if x == 1:
        return 6
    if x == 2:
        raise ValueError("two is not allowed")
    if x == 3:
        while True:
            pass
    if x == 4:
        big = [0] * (10 ** 9)
        return len(big)
    if x == 5:
        print("y" * (9 * 1024 * 1024))
    return x
'''
VERDICTS_ASSERTS = ["assert judge(0) == 0", "assert judge(1) == 1", "assert judge(2) == 2",
                    "assert judge(3) == 3", "assert judge(4) == 4", "assert judge(5) == 5"]

ADD_PY = '''\
"""Adds two numbers (wrongly)."""


def add(a, b):
    return a - b


def unrelated():
    return 0
'''
ADD_ASSERTS = ["assert add(1, 2) == 3", "assert add(0, 0) == 0", "assert add(5, 0) == 5"]

DOCTEST_PY = '''\
def digit_sum(n: int) -> int:
    """Sum of the decimal digits of n (n >= 0).

    >>> digit_sum(0)
    0
    >>> digit_sum(12345)
    14
    >>> digit_sum(7)
    7
    """
    return sum(int(c) for c in str(n))
'''

PRIMES_PY = ("\"\"\"Sum of the primes below n: correct, but slow.\"\"\"\nimport math\n\nLIMIT = 5000\n\n\n"
             + SLOW_PRIMES + "\n\ndef root_of_limit() -> float:\n    return math.sqrt(LIMIT)\n")
FAST_CODE = SIEVE_PRIMES
# A stdin/stdout program (Competitive Companion tests): the whole file is the target.
SLOW_PROGRAM = ("n = int(input())\ntotal = 0\nfor c in range(2, n):\n    if all(c % d for d in range(2, c)):\n"
                "        total += c\nprint(total)\n")
FAST_PROGRAM = ("n = int(input())\nsieve = bytearray([1]) * max(n, 2)\nsieve[0] = sieve[1] = 0\n"
                "for i in range(2, int(n ** 0.5) + 1):\n    if sieve[i]:\n"
                "        sieve[i * i::i] = bytearray(len(range(i * i, n, i)))\n"
                "print(sum(i for i in range(n) if sieve[i]))\n")
PROGRAM_TESTS = {"name": "Sum of primes", "timeLimit": 5000, "memoryLimit": 256,
                 "tests": [{"input": "10\n", "output": "17\n"}, {"input": "1000\n", "output": "76127\n"},
                           {"input": "4000\n", "output": "1013507\n"}]}
def refine_options(model: ScriptedModel) -> dict[str, Any]:
    return {"model": "scripted", "baseUrl": model.base_url, "apiKey": API_KEY, "samples": 2, "rounds": 1,
            "beam": 1, "repeats": 2, "maxRetries": 0, "timeout": 30}


# --- the client --------------------------------------------------------------------------------------


class Client(LanguageClient):
    """pytest-lsp's client, also keeping the server's stderr, applyEdit requests and hint refreshes."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stderr_chunks: list[str] = []
        self.applied_edits: list[types.ApplyWorkspaceEditParams] = []
        self.hint_refreshes = 0
        self.lens_refreshes = 0
        self.statuses: list[Any] = []
        self.view_updates: list[Any] = []  # orps/views: a file's history or search changed
        self.reviews: list[Any] = []  # orps/review notifications: the pending hunks of an inline review
        self.versions: dict[str, int] = {}
        self.diagnostic_versions: dict[str, int | None] = {}  # the version each uri's last diagnostics named

    async def start_io(self, cmd: str, *args: Any, **kwargs: Any) -> None:
        await super().start_io(cmd, *args, **kwargs)
        # pytest-lsp forwards the server's stderr to ours; this forwarder also keeps the text.
        if self._stderr_forwarder is not None:
            self._stderr_forwarder.cancel()
            self._stderr_forwarder = asyncio.create_task(self._tee_stderr())

    async def _tee_stderr(self) -> None:
        assert self._server is not None and self._server.stderr is not None
        while (line := await self._server.stderr.readline()) != b"":
            self.stderr_chunks.append(line.decode("utf-8", "replace"))
            sys.stderr.buffer.write(line)

    @property
    def stderr_text(self) -> str:
        return "".join(self.stderr_chunks)

    async def finish_stderr(self) -> None:
        """After the server exited: read its stderr to the end."""
        if self._stderr_forwarder is not None:
            await asyncio.wait_for(asyncio.shield(self._stderr_forwarder), WAIT_S)


def _keep_diagnostics(client: Client, params: types.PublishDiagnosticsParams) -> None:
    """pytest-lsp's own handler, keeping the version the diagnostics name as well."""
    client.diagnostic_versions[params.uri] = params.version
    client.diagnostics[params.uri] = params.diagnostics


def make_client() -> Client:
    client = Client(converter_factory=default_converter)
    register_lsp_features(client, {**DEFAULT_CLIENT_FEATURES,
                                   types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS: _keep_diagnostics})

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        client.applied_edits.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    @client.feature("orps/status")
    def status(params: Any) -> None:
        client.statuses.append(params)

    @client.feature("orps/review")
    def review(params: Any) -> None:
        client.reviews.append(params)

    @client.feature("orps/views")
    def views(params: Any) -> None:
        client.view_updates.append(params)

    @client.feature(types.WORKSPACE_INLAY_HINT_REFRESH)
    def inlay_hint_refresh(params: None) -> None:
        client.hint_refreshes += 1

    @client.feature(types.WORKSPACE_CODE_LENS_REFRESH)
    def code_lens_refresh(params: None) -> None:
        client.lens_refreshes += 1

    return client


def capabilities() -> types.ClientCapabilities:
    """VS Code's (pytest-lsp ships 1.65's), plus inlay hints with refresh, which later versions have."""
    caps = client_capabilities("visual-studio-code")
    assert caps.workspace is not None and caps.text_document is not None
    caps.workspace.inlay_hint = types.InlayHintWorkspaceClientCapabilities(refresh_support=True)
    caps.workspace.code_lens = types.CodeLensWorkspaceClientCapabilities(refresh_support=True)
    caps.text_document.inlay_hint = types.InlayHintClientCapabilities()
    return caps


@dataclass
class Launcher:
    started: list[Client]
    server: Sequence[str] = tuple(SERVER)  # the server's command line (the bundled one: test_bundle.py)

    async def start(self, options: dict[str, Any] | None = None, *, verbose: bool = False) -> Client:
        """A fresh server subprocess, initialized with VS Code's capabilities and ``options``;
        ``verbose``: logging everything to stderr too (``--verbose``)."""
        command = [*self.server, *(["--verbose"] if verbose else [])]
        client = await ClientServerConfig(server_command=command, client_factory=make_client).start()
        assert isinstance(client, Client)
        self.started.append(client)
        await client.initialize_session(types.InitializeParams(
            capabilities=capabilities(), initialization_options=options or {}))
        return client

    async def stop(self, client: Client) -> None:
        """Shut the server down, wait for it to exit and read the rest of its stderr."""
        if client in self.started:
            self.started.remove(client)
            await asyncio.wait_for(client.shutdown_session(), WAIT_S)
            await client.finish_stderr()
            await client.stop()


@pytest_asyncio.fixture
async def lsp() -> AsyncIterator[Launcher]:
    launcher = Launcher(started=[])
    yield launcher
    for client in list(launcher.started):
        await launcher.stop(client)


# --- helpers -----------------------------------------------------------------------------------------


async def wait_until(client: Client, method: str, condition: Callable[[], Any], what: str,
                     timeout: float = WAIT_S) -> Any:
    """Wait for notifications of ``method`` until ``condition()`` is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while True:
        # Registered before the check, so a notification between the two is never missed. Never
        # cancelled: pytest-lsp sets the result of whatever future is registered.
        future = asyncio.wrap_future(client.protocol.wait_for_notification(method))
        value = condition()
        if value:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.wait([future], timeout=left)


async def poll_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_S) -> None:
    """A bounded wait for a condition no notification announces (the scripted model's requests)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.02)


async def wait_for_diagnostics(client: Client, uri: str, condition: Callable[[Sequence[types.Diagnostic]], Any],
                               what: str, timeout: float = WAIT_S) -> Sequence[types.Diagnostic]:
    """Wait until the last diagnostics published for ``uri`` satisfy ``condition``; return them."""
    await wait_until(client, types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS,
                     lambda: uri in client.diagnostics and condition(client.diagnostics[uri]),
                     f"diagnostics on {uri} ({what}); have {client.diagnostics.get(uri)}", timeout)
    return client.diagnostics[uri]


def write_problem(folder: Path, stem: str, source: str, asserts: list[str], **extra: Any) -> tuple[Path, Path]:
    """``stem.py`` and its sidecar ``stem.tests.json`` (one assert per line)."""
    folder.mkdir(parents=True, exist_ok=True)
    py, tests = folder / f"{stem}.py", folder / f"{stem}.tests.json"
    py.write_text(source, encoding="utf-8")
    tests.write_text(json.dumps({**extra, "asserts": asserts}, indent=2) + "\n", encoding="utf-8")
    return py, tests


def open_document(client: Client, path: Path, language: str = "python") -> str:
    uri = path.resolve().as_uri()
    client.versions[uri] = 1
    client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
        uri=uri, language_id=language, version=1, text=path.read_text(encoding="utf-8"))))
    return uri


def change_document(client: Client, uri: str, text: str) -> int:
    """Replace the whole text (the server syncs incrementally, which accepts a rangeless change)."""
    client.versions[uri] += 1
    client.text_document_did_change(types.DidChangeTextDocumentParams(
        text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=client.versions[uri]),
        content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))
    return client.versions[uri]


def line_of(text: str, needle: str) -> int:
    """The 0-based line of the first line containing ``needle``."""
    for number, line in enumerate(text.splitlines()):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in the text")


def at_line(diagnostics: Sequence[types.Diagnostic], line: int) -> list[types.Diagnostic]:
    return [d for d in diagnostics if d.range.start.line == line]


def whole_range(range_: types.Range) -> tuple[int, int, int, int]:
    return range_.start.line, range_.start.character, range_.end.line, range_.end.character


def apply_text_edits(text: str, edits: Sequence[types.TextEdit]) -> str:
    """Apply LSP text edits (ASCII text: UTF-16 offsets are character offsets)."""
    lines = text.splitlines(keepends=True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))

    def offset(position: types.Position) -> int:
        if position.line >= len(lines):
            return len(text)
        return starts[position.line] + position.character

    for edit in sorted(edits, key=lambda e: offset(e.range.start), reverse=True):
        text = text[:offset(edit.range.start)] + edit.new_text + text[offset(edit.range.end):]
    return text


async def code_actions(client: Client, uri: str, line: int) -> list[types.CodeAction | types.Command]:
    actions = await client.text_document_code_action_async(types.CodeActionParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=line, character=0), end=types.Position(line=line, character=0)),
        context=types.CodeActionContext(diagnostics=[])))
    return list(actions or [])


def apply_action(actions: Sequence[types.CodeAction | types.Command]) -> types.CodeAction | None:
    found = [a for a in actions if a.title.startswith("Apply ORPS refinement")]
    assert len(found) <= 1, found
    assert all(isinstance(a, types.CodeAction) for a in found), found
    return found[0] if found else None


async def execute(client: Client, command: str, *arguments: Any, msg_id: str | None = None) -> Any:
    params = types.ExecuteCommandParams(command=command, arguments=list(arguments))
    return await client.protocol.send_request_async(types.WORKSPACE_EXECUTE_COMMAND, params, msg_id=msg_id)


async def refine_request(client: Client, uri: str, *, msg_id: str | None = None, **target: Any) -> Any:
    """``orps.refine`` on ``uri``, for ``function=NAME`` or ``position={...}`` (neither: the tests' target)."""
    return await execute(client, "orps.refine", {"uri": uri, **target}, msg_id=msg_id)


async def refined_primes(lsp: Launcher, tmp_path: Path, scripted_model: ScriptedModel,
                         **options: Any) -> tuple[Client, Path, str, dict[str, Any]]:
    """A server (with ``options`` over the refine's) that refined ``sum_primes_below`` (the scripted
    refine, which improves it)."""
    script_refine(scripted_model)
    client = await lsp.start({**refine_options(scripted_model), **options})
    py, _tests = write_problem(tmp_path / "work", "primes", PRIMES_PY, PRIMES_ASSERTS,
                               entry_point="sum_primes_below", timeLimit=5000)
    uri = await open_and_wait(client, py)
    result = await asyncio.wait_for(refine_request(client, uri, function="sum_primes_below"), WAIT_S)
    assert isinstance(result, dict) and result.get("improved") is True, result
    return client, py, uri, result


async def progress_begun(client: Client) -> types.ProgressToken:
    """The token of the first work-done progress that has begun."""

    def begun() -> Any:
        for token, reports in client.progress_reports.items():
            if any(isinstance(r, types.WorkDoneProgressBegin) for r in reports):
                return token
        return None

    return await wait_until(client, types.PROGRESS, begun, "a work-done progress to begin")


def progress_end(client: Client, token: types.ProgressToken) -> types.WorkDoneProgressEnd | None:
    ends = [r for r in client.progress_reports.get(token, []) if isinstance(r, types.WorkDoneProgressEnd)]
    return ends[0] if ends else None


async def open_and_wait(client: Client, py: Path, what: str = "the first test run") -> str:
    """Open ``py`` and wait until its first run published diagnostics for it."""
    uri = open_document(client, py)
    await wait_for_diagnostics(client, uri, lambda _d: True, what)
    return uri


# --- 1, 3, 4, 5: test runs, inlay hints, code lenses, hover ------------------------------------------


async def test_sidecar_failures_become_diagnostics(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    py, tests = write_problem(tmp_path / "work", "verdicts", VERDICTS_PY, VERDICTS_ASSERTS,
                              entry_point="judge", timeLimit=300, memoryLimit=64, outputLimit=8)
    uri, tests_uri = open_document(client, py), tests.resolve().as_uri()
    json_text = tests.read_text()

    test_diagnostics = await wait_for_diagnostics(client, tests_uri, lambda d: len(d) == 5, "5 failing tests")
    py_diagnostics = await wait_for_diagnostics(client, uri, lambda d: len(d) > 0, "the summary")

    assert {d.source for d in [*test_diagnostics, *py_diagnostics]} == {"orps"}
    by_test = {line_of(json_text, a): a for a in VERDICTS_ASSERTS}
    expected = {
        "assert judge(1) == 1": r"^test 2 expected 1, got 6$",
        "assert judge(2) == 2": r"^test 3: ValueError: two is not allowed",
        "assert judge(3) == 3": r"^test 4: TLE, time limit exceeded",
        "assert judge(4) == 4": r"^test 5: MLE, memory limit exceeded",
        "assert judge(5) == 5": r"^test 6: OLE, output limit exceeded",
    }
    for diagnostic in test_diagnostics:
        assert diagnostic.severity == types.DiagnosticSeverity.Error, diagnostic
        assert diagnostic.range.start.line in by_test, (diagnostic, by_test)
        pattern = expected[by_test[diagnostic.range.start.line]]
        assert re.search(pattern, diagnostic.message), (pattern, diagnostic.message)
    assert not at_line(test_diagnostics, line_of(json_text, "assert judge(0) == 0"))  # the passing test

    def_line = line_of(VERDICTS_PY, "def judge")
    summary = [d for d in at_line(py_diagnostics, def_line) if d.severity == types.DiagnosticSeverity.Error]
    assert [d.message for d in summary] == ["5 of 6 tests fail: test 2 expected 1, got 6"]
    raised = at_line(py_diagnostics, line_of(VERDICTS_PY, "raise ValueError"))
    assert [(d.severity, d.message) for d in raised] == [
        (types.DiagnosticSeverity.Error, "ValueError: two is not allowed (test 3)")]
    assert raised[0].range.start.character == 8  # the statement, not its indentation


async def test_sidecar_inlay_hints_lenses_hover_and_run_tests(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    py, tests = write_problem(tmp_path / "work", "adder", ADD_PY, ADD_ASSERTS, entry_point="add")
    uri = open_document(client, py)
    tests_uri = open_document(client, tests, language="json")
    json_text = tests.read_text()
    await wait_for_diagnostics(client, uri, lambda d: any("1 of 3 tests fail" in x.message for x in d), "the summary")
    def_line = line_of(ADD_PY, "def add")
    everything = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=200, character=0))

    # 3. inlay hints: the suite after the def line, one per test in the sidecar
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=everything))
    assert hints is not None and len(hints) == 1, hints
    assert hints[0].position == types.Position(line=def_line, character=len(ADD_PY.splitlines()[def_line]))
    assert re.fullmatch(r"\s*2/3 passed, [\d.]+ m?s, [\d.]+ [KMG]?B", str(hints[0].label)), hints[0].label
    test_hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=tests_uri), range=everything))
    labels = {h.position.line: str(h.label).strip() for h in test_hints or []}
    assert set(labels) == {line_of(json_text, a) for a in ADD_ASSERTS}, labels
    assert re.fullmatch(r"WA [\d.]+ m?s", labels[line_of(json_text, ADD_ASSERTS[0])]), labels
    assert re.fullmatch(r"AC [\d.]+ m?s", labels[line_of(json_text, ADD_ASSERTS[1])]), labels
    for hint in test_hints or []:  # at the end of the assert's line
        assert hint.position.character == len(json_text.splitlines()[hint.position.line]), hint
    outside = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=def_line + 1, character=0),
                          end=types.Position(line=def_line + 5, character=0))))
    assert not outside  # only hints in the asked range

    # 4. code lenses above the tested def
    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    assert lenses is not None
    assert [(lens.command.title, lens.command.command) for lens in lenses if lens.command] == [
        ("Run tests", "orps.runTests"), ("Refine with ORPS", "orps.refine")]
    assert {lens.range.start.line for lens in lenses} == {def_line}

    # 5. hover: a markdown table on the def line, nothing elsewhere
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=def_line, character=5)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.kind == types.MarkupKind.Markdown
    text = hover.contents.value
    assert "| test | verdict | CPU | memory |" in text and "|---|---|---|---|" in text, text
    assert re.search(r"^\| 1 \| WA \|", text, re.M) and re.search(r"^\| 2 \| AC \|", text, re.M), text
    assert "2/3 passed" in text
    assert await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        position=types.Position(line=def_line + 1, character=5))) is None

    # 4. executing the lens's command republishes, from the editor's (unsaved) text
    fixed = ADD_PY.replace("return a - b", "return a + b")
    change_document(client, uri, fixed)
    run = lenses[0].command
    assert run is not None
    await execute(client, run.command, *(run.arguments or []))
    fixed_diagnostics = await wait_for_diagnostics(
        client, uri, lambda d: not [x for x in d if x.severity == types.DiagnosticSeverity.Error],
        "the fixed file's errors to clear")
    assert list(fixed_diagnostics) == []  # all pass, and no test stands out enough for a "slowest test" hint
    await wait_for_diagnostics(client, tests_uri, lambda d: not d, "the sidecar's diagnostics to clear")
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=everything))
    assert hints and str(hints[0].label).strip().startswith("3/3 passed"), hints
    assert (client.statuses[-1].uri, client.statuses[-1].passed) == (uri, 3), client.statuses
    assert client.hint_refreshes >= 2  # the server asked the editor to refresh its hints after each run
    assert client.lens_refreshes >= 2  # and its lenses (asked for at didOpen, before the first run found the tests)
    # each run's line reaches the editor's log once: as a logMessage, not on stderr too (editors show both)
    runs = [m.message for m in client.log_messages if m.message.startswith("adder.py: ")]
    assert runs and not [line for line in client.stderr_text.splitlines() if "adder.py: " in line]


async def test_a_refine_logs_no_line_per_model_call(lsp: Launcher, tmp_path: Path,
                                                   scripted_model: ScriptedModel) -> None:
    client, _py, _uri, _result = await refined_primes(lsp, tmp_path, scripted_model)
    await lsp.stop(client)
    assert scripted_model.calls() > 4
    assert "HTTP Request" not in client.stderr_text  # openai's HTTP client logs one per call at INFO


# --- saves: run at once, and the newest one's results win ------------------------------------------

SLOW_ADD_PY = ADD_PY.replace("    return a - b\n", "    import time\n    time.sleep(600)\n    return a - b\n")
FIXED_ADD_PY = ADD_PY.replace("return a - b", "return a + b")
BURST_DELAY_MS = 60_000  # far longer than any wait below: a save that waited for it would time out


def save_document(client: Client, uri: str, path: Path, text: str) -> None:
    """What an editor does on save: the new text in the document and on disk, then didSave."""
    change_document(client, uri, text)
    path.write_text(text, encoding="utf-8")
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))


def errors(diagnostics: Sequence[types.Diagnostic]) -> list[str]:
    return [d.message for d in diagnostics if d.severity == types.DiagnosticSeverity.Error]


async def test_a_save_runs_the_tests_at_once_without_a_debounce(lsp: Launcher, tmp_path: Path) -> None:
    """With the burst delay far longer than the wait, each save still publishes: a save while no
    run is going never waits for it (or for any debounce)."""
    client = await lsp.start({"saveBurstDelay": BURST_DELAY_MS})
    py, _tests = write_problem(tmp_path / "work", "adder", ADD_PY, ADD_ASSERTS, entry_point="add")
    uri = open_document(client, py)
    await wait_for_diagnostics(client, uri, lambda d: any("1 of 3 tests fail" in m for m in errors(d)), "the failure")

    started = time.monotonic()
    save_document(client, uri, py, FIXED_ADD_PY)
    await wait_for_diagnostics(client, uri, lambda d: not errors(d), "the fixed file's errors to clear")
    save_document(client, uri, py, ADD_PY)
    await wait_for_diagnostics(client, uri, lambda d: any("1 of 3 tests fail" in m for m in errors(d)),
                               "the failure again")
    took = time.monotonic() - started
    assert took < BURST_DELAY_MS / 1000 / 3, f"two saves took {took:.1f} s to publish"
    for _ in range(100):  # the status notification follows the diagnostics: it may still be on its way
        if len([s for s in client.statuses if s.uri == uri]) >= 3:
            break
        await asyncio.sleep(0.05)
    assert [s.passed for s in client.statuses if s.uri == uri] == [2, 3, 2], client.statuses


async def test_diagnostics_carry_the_version_their_run_tested(lsp: Launcher, tmp_path: Path) -> None:
    """An edit typed while the tests run does not make their results look like the new text's."""
    client = await lsp.start()
    slow_fixed = FIXED_ADD_PY.replace("    return a + b\n", "    import time\n    time.sleep(0.3)\n    return a + b\n")
    py, _tests = write_problem(tmp_path / "work", "adder", ADD_PY, ADD_ASSERTS, entry_point="add")
    uri = open_document(client, py)
    await wait_for_diagnostics(client, uri, lambda d: any("1 of 3 tests fail" in m for m in errors(d)), "the failure")
    assert client.diagnostic_versions[uri] == 1
    save_document(client, uri, py, slow_fixed)  # version 2, its tests take about a second
    saved = client.versions[uri]
    change_document(client, uri, slow_fixed + "\n# typing on\n")  # version 3, not saved: nothing runs on it
    await wait_for_diagnostics(client, uri, lambda d: not errors(d), "the fixed file's errors to clear")
    assert client.diagnostic_versions[uri] == saved < client.versions[uri]


async def test_a_newer_save_wins_over_an_older_run(lsp: Launcher, tmp_path: Path) -> None:
    """A save while the previous save's run is still going cancels that run (its sandbox is
    killed): the newer save's results are published, the older run's never are. The older run
    sleeps for minutes, and the newer one needs the file's sandbox: had the older run not been
    stopped, the newer one's results could not arrive within the wait."""
    client = await lsp.start()
    py, _tests = write_problem(tmp_path / "work", "adder", ADD_PY, ADD_ASSERTS, entry_point="add", timeLimit=30_000)
    uri = open_document(client, py)
    await wait_for_diagnostics(client, uri, lambda d: any("1 of 3 tests fail" in m for m in errors(d)), "the failure")

    save_document(client, uri, py, SLOW_ADD_PY)
    await asyncio.sleep(1.0)  # let its run reach the sandbox (nothing announces it; the test holds either way)
    save_document(client, uri, py, FIXED_ADD_PY)
    await wait_for_diagnostics(client, uri, lambda d: not errors(d), "the newer save's results")

    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=line_of(ADD_PY, "def add"),
                                                                                     character=5)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "3/3 passed" in hover.contents.value and "TLE" not in hover.contents.value, hover.contents.value
    assert [s.passed for s in client.statuses if s.uri == uri] == [2, 3], client.statuses  # no run of the slow text
    assert "TLE" not in client.stderr_text


# --- 2, 3: doctests ---------------------------------------------------------------------------------


async def test_commands_take_typed_arguments_and_refuse_others(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    py, _tests = write_problem(tmp_path / "work", "adder", ADD_PY, ADD_ASSERTS, entry_point="add")
    uri = await open_and_wait(client, py)
    with pytest.raises(JsonRpcInvalidParams):  # the positional form: a URI string, then a name
        await asyncio.wait_for(execute(client, "orps.refine", uri, "add"), WAIT_S)
    with pytest.raises(JsonRpcInvalidParams):
        await asyncio.wait_for(execute(client, "orps.proposal", {"position": {"line": 0, "character": 0}}), WAIT_S)
    assert await asyncio.wait_for(execute(client, "orps.proposal", {"uri": uri}), WAIT_S) is None  # no refine yet
    stale = await asyncio.wait_for(refine_request(client, uri, function="add", version=99), WAIT_S)
    assert stale == {"failed": True}  # the server said why; the client adds nothing
    said = await wait_until(client, types.WINDOW_SHOW_MESSAGE,
                            lambda: [m.message for m in client.messages if "version" in m.message], "the refusal")
    assert said == ["orps: the document changed (version 1) since the refine was asked for (version 99); ask again"]


async def test_doctest_failure_and_hints(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    folder = tmp_path / "work"
    folder.mkdir()
    py = folder / "digits.py"
    py.write_text(DOCTEST_PY)
    uri = open_document(client, py)
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: any("fail" in x.message for x in d), "a failure")

    example = line_of(DOCTEST_PY, ">>> digit_sum(12345)")
    failing = [d for d in at_line(diagnostics, example) if d.severity == types.DiagnosticSeverity.Error]
    assert [d.message for d in failing] == ["test 2 expected 14, got 15"], diagnostics
    assert failing[0].source == "orps"
    summary = at_line(diagnostics, line_of(DOCTEST_PY, "def digit_sum"))
    assert "1 of 3 tests fail: test 2 expected 14, got 15" in [d.message for d in summary], summary

    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri),
        range=types.Range(start=types.Position(line=0, character=0), end=types.Position(line=50, character=0))))
    labels = {h.position.line: str(h.label).strip() for h in hints or []}
    assert re.fullmatch(r"2/3 passed, .+", labels.get(0, "")), labels
    assert labels.get(line_of(DOCTEST_PY, ">>> digit_sum(0)"), "").startswith("AC "), labels
    assert labels.get(example, "").startswith("WA "), labels
    assert labels.get(line_of(DOCTEST_PY, ">>> digit_sum(7)"), "").startswith("AC "), labels


# --- 9: a malformed tests file ----------------------------------------------------------------------


async def test_malformed_sidecar(lsp: Launcher, tmp_path: Path) -> None:
    client = await lsp.start()
    folder = tmp_path / "work"
    folder.mkdir()
    py, tests = folder / "broken.py", folder / "broken.tests.json"
    py.write_text(ADD_PY)
    tests.write_text('{\n  "asserts": [\n    "assert add(1, 2) == 3",\n    oops\n  ]\n}\n')
    uri, tests_uri = open_document(client, py), tests.resolve().as_uri()

    found = await wait_for_diagnostics(client, tests_uri, lambda d: len(d) > 0, "the JSON error")
    assert len(found) == 1, found
    assert found[0].severity == types.DiagnosticSeverity.Error and found[0].source == "orps"
    assert found[0].range.start.line == 3, found[0]  # the line with `oops`
    assert "JSON" in found[0].message, found[0].message

    # The server keeps working: requests are answered, and a fix + save clears the diagnostic.
    assert not await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    tests.write_text(json.dumps({"entry_point": "add", "asserts": ADD_ASSERTS}, indent=2))
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_for_diagnostics(client, tests_uri, lambda d: len(d) == 1 and "expected 3, got -1" in d[0].message,
                               "the JSON error to give way to the failing test")
    await wait_for_diagnostics(client, uri, lambda d: any("1 of 3 tests fail" in x.message for x in d), "the summary")
    await poll_until(lambda: client.statuses and client.statuses[-1].summary, "a status with the run's summary")

    # Broken again: the status bar's figures go with the diagnostics, they no longer hold.
    tests.write_text('{"asserts": [oops]}\n')
    client.text_document_did_save(types.DidSaveTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await poll_until(lambda: client.statuses[-1].uri == uri and client.statuses[-1].summary is None,
                     "the status to drop the old summary")


# --- 6, 10: a refine against the scripted model ----------------------------------------------------------


async def test_refine_progress_hint_actions_and_edit(lsp: Launcher, tmp_path: Path,
                                                     scripted_model: ScriptedModel) -> None:
    script_refine(scripted_model, latency_s=0.05)
    # verbose: every line it logs, and each HTTP request, on stderr too, so that the key check below sees them
    client = await lsp.start(refine_options(scripted_model), verbose=True)
    py, _tests = write_problem(tmp_path / "work", "primes", PRIMES_PY, PRIMES_ASSERTS,
                               entry_point="sum_primes_below", timeLimit=5000)
    uri = await open_and_wait(client, py)
    def_line = line_of(PRIMES_PY, "def sum_primes_below")

    result = await asyncio.wait_for(refine_request(client, uri, function="sum_primes_below"), WAIT_S)
    assert isinstance(result, dict), result
    assert result.get("improved") is True, result
    assert re.fullmatch(r"ORPS refinement: 5/5 passed, CPU [\d.]+x lower", result["summary"]), result

    # work-done progress: created, begun, reported, ended with the summary
    assert len(client.progress_reports) == 1, client.progress_reports
    reports = next(iter(client.progress_reports.values()))
    kinds = [type(r).__name__ for r in reports]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd", kinds
    assert "WorkDoneProgressReport" in kinds, kinds
    assert reports[0].cancellable is True
    assert reports[-1].message == result["summary"]

    # a Hint on the def line
    diagnostics = await wait_for_diagnostics(
        client, uri, lambda d: any(x.message.startswith("ORPS refinement:") for x in d), "the refinement hint")
    hint = [d for d in diagnostics if d.message.startswith("ORPS refinement:")]
    assert [(d.severity, d.range.start.line, d.message, d.source) for d in hint] == [
        (types.DiagnosticSeverity.Hint, def_line, result["summary"], "orps")]

    assert [s.refining for s in client.statuses if s.uri == uri][-2:] == [True, False], client.statuses

    # codeAction lists the apply action without an edit; resolve builds it
    actions = await code_actions(client, uri, def_line)
    apply = apply_action(actions)
    assert apply is not None, [a.title for a in actions]
    assert apply.title == f"Apply ORPS refinement ({result['summary'].removeprefix('ORPS refinement: ')})"
    assert apply.edit is None and apply.disabled is None
    assert {"Show ORPS critique", "Review ORPS refinement side by side"} <= {a.title for a in actions}
    resolved = await client.code_action_resolve_async(apply)
    assert resolved.disabled is None and resolved.edit is not None, resolved
    changes = resolved.edit.document_changes or []
    assert len(changes) == 1 and isinstance(changes[0], types.TextDocumentEdit), changes
    assert changes[0].text_document.uri == uri and changes[0].text_document.version == client.versions[uri]
    edits = changes[0].edits
    assert len(edits) == 1
    first = def_line
    last = line_of(PRIMES_PY, "    return total")
    assert whole_range(edits[0].range) == (first, 0, last + 1, 0), edits[0].range
    new_text = apply_text_edits(PRIMES_PY, edits)
    assert FAST_CODE in new_text
    old_lines, new_lines = PRIMES_PY.splitlines(), new_text.splitlines()
    fast_lines = FAST_CODE.splitlines()
    assert new_lines[:first] == old_lines[:first]
    assert new_lines[first:first + len(fast_lines)] == fast_lines
    assert new_lines[first + len(fast_lines):] == old_lines[last + 1:]

    assert client.applied_edits == []  # the server never edits by itself

    # once the editor applied it, only the critique is left to offer
    change_document(client, uri, new_text)
    assert [a.title for a in await code_actions(client, uri, def_line)] == ["Show ORPS critique"]
    change_document(client, uri, PRIMES_PY)

    # hover now carries the critique
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=def_line, character=4)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "| test | verdict | CPU | memory |" in hover.contents.value
    assert "Latest ORPS critique" in hover.contents.value and CRITIQUE in hover.contents.value, hover.contents.value

    # the critique as text for a virtual document; for clients without one, both open as
    # read-only scratch files of this user's own, named for the file's full path
    critique = await execute(client, "orps.critique", {"uri": uri})
    assert isinstance(critique, dict) and CRITIQUE in critique["text"] and critique["title"] == "sum_primes_below"
    await execute(client, "orps.showCritique", {"uri": uri})
    await execute(client, "orps.showProposal", {"uri": uri})
    shown = [Path(d.uri.removeprefix("file://")) for d in client.shown_documents]
    assert len(shown) == 2, client.shown_documents
    assert CRITIQUE in shown[0].read_text() and FAST_CODE in shown[1].read_text()
    for path in shown:
        assert path.stat().st_mode & 0o777 == 0o444, oct(path.stat().st_mode)
        assert path.parent.stat().st_mode & 0o777 == 0o700 and path.parent.stat().st_uid == os.getuid()

    # 10. the key went to the model but never to the editor, nor to the server's stderr
    await lsp.stop(client)
    assert scripted_model.calls() > 0
    said = [m.message for m in [*client.log_messages, *client.messages]]
    assert said, "the server logged nothing at all"
    assert not [m for m in said if API_KEY in m], "the API key was sent to the editor in a message"
    assert "HTTP Request" in client.stderr_text, "no stderr captured"  # verbose: the model calls are there
    leaked = [line for line in client.stderr_text.splitlines() if API_KEY in line]
    if leaked:
        where = leaked[0].index(API_KEY)
        pytest.fail(f"the API key is in the server's stderr ({len(leaked)} line(s)), e.g. "
                    f"{leaked[0][:100]!r} ... {leaked[0][max(0, where - 60):where + 40]!r}")


async def test_refine_of_a_stdin_program_offers_an_apply_that_replaces_the_program(
        lsp: Launcher, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    script_refine(scripted_model, code=FAST_PROGRAM)
    client = await lsp.start(refine_options(scripted_model))
    folder = tmp_path / "work"
    folder.mkdir()
    py = folder / "primes.py"
    py.write_text(SLOW_PROGRAM, encoding="utf-8")
    (folder / "primes.tests.json").write_text(json.dumps(PROGRAM_TESTS, indent=2), encoding="utf-8")
    uri = await open_and_wait(client, py)

    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    refine_lens = [lens.command for lens in lenses or [] if lens.command and lens.command.command == "orps.refine"]
    assert len(refine_lens) == 1 and list(refine_lens[0].arguments or []) == [{"uri": uri}], refine_lens
    result = await asyncio.wait_for(execute(client, "orps.refine", *(refine_lens[0].arguments or [])), WAIT_S)
    assert isinstance(result, dict) and result.get("improved") is True, result

    actions = await code_actions(client, uri, 0)
    apply = apply_action(actions)
    assert apply is not None, [a.title for a in actions]
    assert apply.disabled is None, apply.disabled
    resolved = await client.code_action_resolve_async(apply)
    assert resolved.disabled is None and resolved.edit is not None, resolved
    changes = resolved.edit.document_changes or []
    assert len(changes) == 1 and isinstance(changes[0], types.TextDocumentEdit), changes
    assert changes[0].text_document.version == client.versions[uri]
    (edit,) = changes[0].edits
    assert whole_range(edit.range) == (0, 0, len(SLOW_PROGRAM.splitlines()), 0), edit.range
    assert apply_text_edits(SLOW_PROGRAM, [edit]) == FAST_PROGRAM

    diagnostics = await wait_for_diagnostics(
        client, uri, lambda d: any(x.message.startswith("ORPS refinement:") for x in d), "the refinement hint")
    hint = [d for d in diagnostics if d.message.startswith("ORPS refinement:")]
    assert [(d.range.start.line, d.code, d.message) for d in hint] == [(0, "refinement", result["summary"])]
    await lsp.stop(client)


async def test_review_proposal_and_accept_apply_through_apply_edit(lsp: Launcher, tmp_path: Path,
                                                                   scripted_model: ScriptedModel) -> None:
    client, _py, uri, result = await refined_primes(lsp, tmp_path, scripted_model)

    proposal = await execute(client, "orps.proposal", {"uri": uri})
    assert isinstance(proposal, dict) and proposal["stale"] is None, proposal
    assert FAST_CODE in proposal["proposal"] and "proposalPath" not in proposal  # no file is written for it
    assert proposal["summary"] == result["summary"]

    applied = await execute(client, "orps.applyRefinement", {"uri": uri})
    assert applied == {"applied": True, "reason": None}, applied
    assert len(client.applied_edits) == 1
    changes = client.applied_edits[0].edit.document_changes or []
    assert len(changes) == 1 and isinstance(changes[0], types.TextDocumentEdit)
    assert changes[0].text_document.version == client.versions[uri]
    assert apply_text_edits(PRIMES_PY, changes[0].edits) == proposal["proposal"]
    await lsp.stop(client)


def hunk_lenses(lenses: Sequence[types.CodeLens] | None) -> list[tuple[str, str, Any]]:
    return [(lens.command.title, lens.command.command, (lens.command.arguments or [None])[0])
            for lens in lenses or [] if lens.command and lens.command.command.startswith("orps.decide")]


async def lenses_of(client: Client, uri: str) -> list[types.CodeLens]:
    return await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))) or []


def made_edit(client: Client, text: str, uri: str) -> str:
    """The text after the server's last applyEdit (which must name the document's current version)."""
    [change] = client.applied_edits[-1].edit.document_changes or []
    assert isinstance(change, types.TextDocumentEdit) and change.text_document.version == client.versions[uri]
    return apply_text_edits(text, change.edits)


async def test_inline_review_accepts_and_rejects_hunk_by_hunk(lsp: Launcher, tmp_path: Path,
                                                              scripted_model: ScriptedModel) -> None:
    client, _py, uri, _result = await refined_primes(lsp, tmp_path, scripted_model, reviewMode="inline")
    def_line = line_of(PRIMES_PY, "def sum_primes_below")
    titles = [a.title for a in await code_actions(client, uri, def_line)]
    assert "Review ORPS refinement inline, hunk by hunk" in titles and not any("side by side" in t for t in titles)
    proposal = (await execute(client, "orps.proposal", {"uri": uri}))["proposal"]

    started = await execute(client, "orps.reviewInline", {"uri": uri})
    assert isinstance(started, dict) and started["hunks"] >= 1, started
    await poll_until(lambda: client.reviews and client.reviews[-1].hunks, "the review's hunks")
    marked = client.reviews[-1].hunks
    assert len(marked) == started["hunks"] and all(h.diff for h in marked), marked
    lenses = hunk_lenses(await lenses_of(client, uri))
    accepts = [args for title, command, args in lenses if command == "orps.decideHunk" and args["accept"]]
    assert len(accepts) == started["hunks"] and lenses[0][0].startswith(f"ORPS hunk 1/{started['hunks']}"), lenses
    assert not [lens for lens in await lenses_of(client, uri) if lens.command and lens.command.command == "orps.refine"]

    # accept the first hunk: only its lines change, in one versioned edit
    text = PRIMES_PY
    answer = await execute(client, "orps.decideHunk", accepts[0])
    assert answer == {"applied": True, "pending": started["hunks"] - 1}, answer
    text = made_edit(client, text, uri)
    assert text != PRIMES_PY and text.splitlines()[0] == PRIMES_PY.splitlines()[0]
    change_document(client, uri, text)
    if started["hunks"] > 1:  # reject the rest: what they would have changed stays
        answer = await execute(client, "orps.decideAllHunks", {"uri": uri, "accept": False})
        assert answer == {"applied": True, "pending": 0}, answer
        assert text != proposal
    else:
        assert text == proposal
    await poll_until(lambda: client.reviews[-1].hunks == [], "the review to end")
    assert not hunk_lenses(await lenses_of(client, uri))  # the run and refine lenses are back
    # the history says what became of it: all hunks (the pick), or some of them
    entries = (await execute(client, "orps.history", {"uri": uri, "function": "sum_primes_below"}))["entries"]
    assert [e["outcome"] for e in entries] == ["accepted"], entries
    await lsp.stop(client)


async def test_rejecting_every_hunk_is_recorded_as_rejected(lsp: Launcher, tmp_path: Path,
                                                           scripted_model: ScriptedModel) -> None:
    client, _py, uri, _result = await refined_primes(lsp, tmp_path, scripted_model, reviewMode="inline")
    await execute(client, "orps.reviewInline", {"uri": uri})
    answer = await execute(client, "orps.decideAllHunks", {"uri": uri, "accept": False})
    assert answer == {"applied": True, "pending": 0} and client.applied_edits == [], answer
    entries = (await execute(client, "orps.history", {"uri": uri, "function": "sum_primes_below"}))["entries"]
    assert [e["outcome"] for e in entries] == ["rejected"], entries
    await lsp.stop(client)


async def test_accept_all_hunks_gives_the_proposal_and_an_edit_elsewhere_ends_a_review(
        lsp: Launcher, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    client, _py, uri, _result = await refined_primes(lsp, tmp_path, scripted_model, reviewMode="inline")
    proposal = (await execute(client, "orps.proposal", {"uri": uri}))["proposal"]
    await execute(client, "orps.reviewInline", {"uri": uri})
    answer = await execute(client, "orps.decideAllHunks", {"uri": uri, "accept": True})
    assert answer == {"applied": True, "pending": 0}, answer
    assert made_edit(client, PRIMES_PY, uri) == proposal

    # a second review, ended by an edit the review did not make: no hunk lands on moved lines
    change_document(client, uri, PRIMES_PY)
    await execute(client, "orps.reviewInline", {"uri": uri})
    change_document(client, uri, "# a comment typed meanwhile\n" + PRIMES_PY)
    await poll_until(lambda: client.reviews[-1].hunks == [], "the review to end")
    assert any("inline review ended" in m.message for m in client.messages), client.messages
    late = await execute(client, "orps.decideHunk", {"uri": uri, "index": 0, "accept": True})
    assert late is None and len(client.applied_edits) == 1  # refused, said why, nothing applied
    await lsp.stop(client)


async def test_a_finished_refine_outlives_closing_its_editor(lsp: Launcher, tmp_path: Path,
                                                          scripted_model: ScriptedModel) -> None:
    client, py, uri, _result = await refined_primes(lsp, tmp_path, scripted_model)
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    await wait_for_diagnostics(client, uri, lambda d: not d, "the closed file's diagnostics to clear")

    uri = await open_and_wait(client, py, "the reopened file's run")
    proposal = await execute(client, "orps.proposal", {"uri": uri})
    assert isinstance(proposal, dict) and proposal["stale"] is None and FAST_CODE in proposal["proposal"], proposal
    applied = await execute(client, "orps.applyRefinement", {"uri": uri})
    assert applied == {"applied": True, "reason": None}, applied

    # Closed again, the function changed on disk meanwhile: the kept refine is stale, and says so.
    client.text_document_did_close(types.DidCloseTextDocumentParams(text_document=types.TextDocumentIdentifier(uri=uri)))
    header = "def sum_primes_below(n: int) -> int:"
    changed = PRIMES_PY.replace(header, header + "\n    n = n + 0")
    assert changed != PRIMES_PY
    py.write_text(changed, encoding="utf-8")
    uri = await open_and_wait(client, py, "the changed file's run")
    again = await execute(client, "orps.applyRefinement", {"uri": uri})
    assert isinstance(again, dict) and again["applied"] is False and again["reason"], again
    await lsp.stop(client)


# --- 7: cancelling a refine ----------------------------------------------------------------------------


async def test_cancel_refine_by_progress(lsp: Launcher, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    script_refine(scripted_model, latency_s=2.0)  # a full refine: 3+ model round trips, over 6 s
    client = await lsp.start(refine_options(scripted_model))
    py, _tests = write_problem(tmp_path / "work", "primes", PRIMES_PY, PRIMES_ASSERTS,
                               entry_point="sum_primes_below", timeLimit=5000)
    uri = await open_and_wait(client, py)
    def_line = line_of(PRIMES_PY, "def sum_primes_below")

    started = time.monotonic()
    refine = asyncio.ensure_future(refine_request(client, uri, position={"line": def_line + 2, "character": 4}))
    token = await progress_begun(client)
    await poll_until(lambda: scripted_model.calls() > 0, "the first model call")
    cancelled_at = time.monotonic()
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    result = await asyncio.wait_for(refine, WAIT_S)
    took = time.monotonic() - cancelled_at

    assert result == {"cancelled": True}
    assert took < 3.0, f"the refine took {took:.1f} s to stop after the cancel"
    assert time.monotonic() - started < 6.0
    end = progress_end(client, token)
    assert end is not None and end.message == "cancelled", client.progress_reports[token]
    assert apply_action(await code_actions(client, uri, def_line)) is None
    assert not any(d.message.startswith("ORPS") for d in client.diagnostics.get(uri, []))


async def test_refine_reports_on_the_clients_token_and_cancels_by_it(
        lsp: Launcher, tmp_path: Path, scripted_model: ScriptedModel) -> None:
    """The editor shows a refine in a notification of its own making: the server reports on the
    token the client sent (creating none) and the notification's Cancel stops the search."""
    script_refine(scripted_model, latency_s=2.0)
    client = await lsp.start(refine_options(scripted_model))
    py, _tests = write_problem(tmp_path / "work", "primes", PRIMES_PY, PRIMES_ASSERTS,
                               entry_point="sum_primes_below", timeLimit=5000)
    uri = await open_and_wait(client, py)
    token = "client-notification-1"
    client.progress_reports.setdefault(token, [])  # as the editor does when it makes the notification
    refine = asyncio.ensure_future(refine_request(client, uri, function="sum_primes_below", progress=token))
    begun = await progress_begun(client)
    assert begun == token and list(client.progress_reports) == [token], client.progress_reports
    first = client.progress_reports[token][0]
    assert isinstance(first, types.WorkDoneProgressBegin) and first.cancellable
    assert first.title == "ORPS refine: sum_primes_below", first
    await poll_until(lambda: scripted_model.calls() > 0, "the first model call")
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    assert await asyncio.wait_for(refine, WAIT_S) == {"cancelled": True}
    end = progress_end(client, token)
    assert end is not None and end.message == "cancelled", client.progress_reports[token]
    await lsp.stop(client)


async def test_cancel_refine_by_cancel_request(lsp: Launcher, tmp_path: Path,
                                               scripted_model: ScriptedModel) -> None:
    """pygls clients do not send $/cancelRequest when an awaited request is cancelled (the future is
    only dropped), so the test sends it itself, as an editor does."""
    script_refine(scripted_model, latency_s=1.5)  # a full refine: 3+ model round trips, over 4.5 s
    client = await lsp.start(refine_options(scripted_model))
    py, _tests = write_problem(tmp_path / "work", "primes", PRIMES_PY, PRIMES_ASSERTS,
                               entry_point="sum_primes_below", timeLimit=5000)
    uri = await open_and_wait(client, py)
    def_line = line_of(PRIMES_PY, "def sum_primes_below")

    refine = asyncio.ensure_future(refine_request(client, uri, function="sum_primes_below", msg_id="refine-1"))
    token = await progress_begun(client)
    await poll_until(lambda: scripted_model.calls() > 0, "the first model call")
    cancelled_at = time.monotonic()
    client.cancel_request(types.CancelParams(id="refine-1"))
    with pytest.raises(JsonRpcRequestCancelled):
        await asyncio.wait_for(refine, WAIT_S)

    # The request is answered at once; the search itself must stop too: its progress ends as
    # cancelled (a search left running ends it later with its result, and offers it).
    await wait_until(client, types.PROGRESS, lambda: progress_end(client, token), "the progress to end")
    took = time.monotonic() - cancelled_at
    end = progress_end(client, token)
    assert end is not None
    assert end.message == "cancelled" and took < 2.5, (
        f"after $/cancelRequest the search went on: its progress ended {took:.1f} s later with {end.message!r}")
    assert apply_action(await code_actions(client, uri, def_line)) is None


# --- 8: editing during a refine -------------------------------------------------------------------------


async def _refine_with_edit(client: Client, model: ScriptedModel, uri: str, edited: str) -> dict[str, Any]:
    """Start a refine, replace the document's text once the model is being asked, and wait for the result."""
    refine = asyncio.ensure_future(refine_request(client, uri, function="sum_primes_below"))
    await progress_begun(client)
    await poll_until(lambda: model.calls() > 0, "the first model call")
    assert not refine.done()
    change_document(client, uri, edited)
    result = await asyncio.wait_for(refine, WAIT_S)
    assert isinstance(result, dict) and result.get("improved") is True, result
    return result


async def test_edit_of_the_function_during_refine_disables_apply(lsp: Launcher, tmp_path: Path,
                                                                 scripted_model: ScriptedModel) -> None:
    script_refine(scripted_model, latency_s=0.3)
    client = await lsp.start(refine_options(scripted_model))
    py, _tests = write_problem(tmp_path / "work", "primes", PRIMES_PY, PRIMES_ASSERTS,
                               entry_point="sum_primes_below", timeLimit=5000)
    uri = await open_and_wait(client, py)
    def_line = line_of(PRIMES_PY, "def sum_primes_below")

    edited = PRIMES_PY.replace("    total = 0\n", "    total = 0  # my own change\n")
    await _refine_with_edit(client, scripted_model, uri, edited)

    actions = await code_actions(client, uri, def_line)
    apply = apply_action(actions)
    assert apply is not None
    assert apply.disabled is not None and "changed since the refine began" in apply.disabled.reason, apply
    assert "Review ORPS refinement side by side" not in {a.title for a in actions}  # nothing left to review
    resolved = await client.code_action_resolve_async(apply)
    assert resolved.edit is None, resolved.edit
    assert resolved.disabled is not None and resolved.disabled.reason


async def test_edit_elsewhere_during_refine_still_applies(lsp: Launcher, tmp_path: Path,
                                                          scripted_model: ScriptedModel) -> None:
    script_refine(scripted_model, latency_s=0.3)
    client = await lsp.start(refine_options(scripted_model))
    py, _tests = write_problem(tmp_path / "work", "primes", PRIMES_PY, PRIMES_ASSERTS,
                               entry_point="sum_primes_below", timeLimit=5000)
    uri = await open_and_wait(client, py)

    edited = "# a comment added at the top\n# and another\n" + PRIMES_PY
    await _refine_with_edit(client, scripted_model, uri, edited)
    def_line = line_of(edited, "def sum_primes_below")
    last = line_of(edited, "    return total")

    apply = apply_action(await code_actions(client, uri, def_line))
    assert apply is not None and apply.disabled is None, apply
    resolved = await client.code_action_resolve_async(apply)
    assert resolved.disabled is None and resolved.edit is not None, resolved
    changes = resolved.edit.document_changes or []
    assert len(changes) == 1 and isinstance(changes[0], types.TextDocumentEdit)
    assert changes[0].text_document.version == client.versions[uri] == 2
    (edit,) = changes[0].edits
    assert whole_range(edit.range) == (def_line, 0, last + 1, 0), edit.range
    new_text = apply_text_edits(edited, [edit])
    assert new_text == edited.replace(edited[edited.index("def sum_primes_below"):edited.index("\n\n\ndef root")],
                                      FAST_CODE.rstrip("\n"))


async def test_refine_hint_sits_on_the_refined_def_without_entry_point(lsp: Launcher, tmp_path: Path,
                                                                      scripted_model: ScriptedModel) -> None:
    """Tests without an entry_point, refined from a position in the function (the cursor): the hint
    belongs on that function's def line, where the apply action's edit starts."""
    script_refine(scripted_model, latency_s=0.05)
    client = await lsp.start(refine_options(scripted_model))
    py, _tests = write_problem(tmp_path / "work", "primes", PRIMES_PY, PRIMES_ASSERTS, timeLimit=5000)
    uri = await open_and_wait(client, py)
    def_line = line_of(PRIMES_PY, "def sum_primes_below")

    result = await asyncio.wait_for(refine_request(client, uri, position={"line": def_line + 3, "character": 8}),
                                    WAIT_S)
    assert isinstance(result, dict) and result.get("improved") is True, result
    apply = apply_action(await code_actions(client, uri, def_line))
    assert apply is not None
    resolved = await client.code_action_resolve_async(apply)
    changes = resolved.edit.document_changes if resolved.edit else None
    assert changes and isinstance(changes[0], types.TextDocumentEdit), resolved
    assert changes[0].edits[0].range.start.line == def_line
    diagnostics = await wait_for_diagnostics(
        client, uri, lambda d: any(x.message.startswith("ORPS refinement:") for x in d), "the refinement hint")
    lines = [d.range.start.line for d in diagnostics if d.message.startswith("ORPS refinement:")]
    assert lines == [def_line], f"the refinement hint is on line {lines} (0-based), not on the def (line {def_line})"


# --- a project's own pytest tests ------------------------------------------------------------------


async def test_project_tests_give_diagnostics_at_the_failing_assertion_and_lenses_on_each_function(
        lsp: Launcher, problem: Callable[[str], Path]) -> None:
    root = problem("proj_pkg")
    stats, tests = root / "mypkg" / "stats.py", root / "tests" / "test_stats.py"
    stats.write_text(stats.read_text().replace("/ len(xs)\n", "/ (len(xs) + 1)\n", 1))  # mean goes wrong
    client = await lsp.start()
    uri, tests_uri = open_document(client, stats), tests.resolve().as_uri()
    test_text, source = tests.read_text(), stats.read_text()

    failing = await wait_for_diagnostics(client, tests_uri, lambda d: len(d) >= 5, "the failing pytest tests",
                                         timeout=60)
    lines = {d.range.start.line for d in failing}
    assert line_of(test_text, "assert mean(sample) == EXPECTED_MEAN") in lines  # the assertion, not the def
    assert line_of(test_text, "assert variance(sample) == 4.0") in lines
    mean_diagnostic = next(d for d in failing if d.range.start.line == line_of(test_text, "assert mean(sample)"))
    assert mean_diagnostic.message == "test tests/test_stats.py::test_mean expected 5.0, got 4.444444444444445"
    on_source = await wait_for_diagnostics(client, uri, lambda d: any(x.message.startswith("mean:") for x in d),
                                           "the summaries", timeout=60)
    summaries = {d.range.start.line: d.message for d in on_source if d.severity == types.DiagnosticSeverity.Error}
    assert summaries[line_of(source, "def mean")].startswith("mean: 5 of 7 tests fail")
    assert summaries[line_of(source, "def variance")].startswith("variance: 1 of 1 tests fail")

    lenses = await client.text_document_code_lens_async(types.CodeLensParams(
        text_document=types.TextDocumentIdentifier(uri=uri)))
    refines = {lens.range.start.line: lens.command.arguments[0]["function"]  # type: ignore[index]
               for lens in lenses or [] if lens.command and lens.command.command == "orps.refine"}
    assert refines == {line_of(source, "def mean"): "mean", line_of(source, "def variance"): "variance",
                       line_of(source, "def weighted"): "weighted", line_of(source, "def spread"): "Stats.spread"}
    await lsp.stop(client)
