"""The server as the editor extension ships it: ``bundled/libs`` built by ``tools/bundle.py`` from
this checkout, run by ``bundled/tool/lsp_server.py`` under an interpreter that has nothing but its
standard library (a ``venv --without-pip`` of this Python: no pygls, no openai, no pytest), through
a real LSP session.

Checks what a user with a bare Python meets: the tests of a file with doctests run and come back as
diagnostics; the user's code in the sandbox sees none of the bundled libraries; a refine says once,
without a traceback, which command installs openai; a project's pytest tests say pytest is missing.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from lsprotocol import types

from tests.conftest import DATA, REPO
from tests.server.test_lsp import (
    WAIT_S,
    Launcher,
    line_of,
    open_and_wait,
    refine_request,
    wait_for_diagnostics,
    wait_until,
)

ENTRY_SCRIPT = REPO / "bundled" / "tool" / "lsp_server.py"


@dataclass(frozen=True)
class Bundle:
    script: Path  # <extension>/bundled/tool/lsp_server.py
    libs: Path  # <extension>/bundled/libs
    python: str  # an interpreter with only the standard library


@pytest.fixture(scope="session")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Bundle:
    """The extension's layout in a temporary folder, built once a session (pip's cache keeps it
    cheap), and a bare interpreter."""
    extension = tmp_path_factory.mktemp("extension")
    script = extension / "bundled" / "tool" / ENTRY_SCRIPT.name
    script.parent.mkdir(parents=True)
    shutil.copy2(ENTRY_SCRIPT, script)
    libs = extension / "bundled" / "libs"
    built = subprocess.run([sys.executable, str(REPO / "tools" / "bundle.py"), "--target", str(libs)],
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr
    bare = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    python = str(bare / "bin" / "python")
    has = subprocess.run([python, "-c", "import importlib.util as u; print([m for m in ('pygls', 'openai', 'pytest', "
                                        "'orps_server') if u.find_spec(m)])"], capture_output=True, text=True)
    assert has.stdout.strip() == "[]", f"{python} is not bare: {has.stdout}{has.stderr}"
    return Bundle(script=script, libs=libs, python=python)


@pytest_asyncio.fixture
async def bundled(bundle: Bundle) -> AsyncIterator[Launcher]:
    launcher = Launcher(started=[], server=(bundle.python, str(bundle.script)))
    yield launcher
    for client in list(launcher.started):
        await launcher.stop(client)


def probe_py(libs: Path) -> str:
    """A function with doctests: one fails (the diagnostic to wait for), and one asks, in the
    sandbox, for any sight of the bundled libraries: on the path, or importable."""
    return f'''\
import importlib.util
import sys

LIBS = {str(libs)!r}


def triple(n):
    """
    >>> triple(2)
    6
    >>> triple(3)
    10
    >>> bundle_seen()
    []
    """
    return 3 * n


def bundle_seen():
    seen = [p for p in sys.path if p.startswith(LIBS)]
    for name in ("pygls", "lsprotocol", "cattrs", "orps_server", "orps_engine"):
        if importlib.util.find_spec(name) is not None:
            seen.append(name)
    return seen
'''


async def test_a_bare_python_runs_the_bundled_server_and_the_doctests(bundled: Launcher, bundle: Bundle,
                                                                      tmp_path: Path) -> None:
    client = await bundled.start()
    py = tmp_path / "work" / "probe.py"
    py.parent.mkdir()
    py.write_text(probe_py(bundle.libs), encoding="utf-8")
    text = py.read_text()
    uri = await open_and_wait(client, py)
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: any("10" in x.message for x in d),
                                             "the failing doctest")
    failing = {d.range.start.line: d.message for d in diagnostics if d.severity == types.DiagnosticSeverity.Error}
    assert failing == {line_of(text, ">>> triple(3)"): "test 2 expected 10, got 9",
                       line_of(text, "def triple"): "1 of 3 tests fail: test 2 expected 10, got 9"}, diagnostics
    assert not [d for d in diagnostics if "bundle_seen" in d.message or "pygls" in d.message], diagnostics
    def_line = line_of(text, "def triple")
    everything = types.Range(start=types.Position(line=0, character=0), end=types.Position(line=40, character=0))
    hints = await client.text_document_inlay_hint_async(types.InlayHintParams(
        text_document=types.TextDocumentIdentifier(uri=uri), range=everything))
    lines = [line_of(text, needle) for needle in ("def triple", ">>> triple(2)", ">>> triple(3)", ">>> bundle_seen")]
    assert hints and [h.position.line for h in hints] == lines, hints  # the function's summary, then each test
    assert str(hints[0].label).strip().startswith("2/3 passed"), hints[0].label
    hover = await client.text_document_hover_async(types.HoverParams(
        text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(line=def_line, character=5)))
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert hover.contents.value.startswith("**orps**: 2/3 passed"), hover.contents.value
    await bundled.stop(client)
    assert "Traceback" not in client.stderr_text


async def test_a_refine_without_openai_names_the_command_once(bundled: Launcher, bundle: Bundle,
                                                              tmp_path: Path) -> None:
    client = await bundled.start({"model": "scripted", "baseUrl": "http://127.0.0.1:9/v1"})
    py = tmp_path / "work" / "probe.py"
    py.parent.mkdir()
    py.write_text(probe_py(bundle.libs), encoding="utf-8")
    uri = await open_and_wait(client, py)
    result = await asyncio.wait_for(refine_request(client, uri, function="triple"), WAIT_S)
    assert result == {"failed": True}  # the server has said why: the editor adds no toast of its own
    said = await wait_until(client, types.WINDOW_SHOW_MESSAGE,
                            lambda: [m.message for m in client.messages if "openai" in m.message], "the message")
    assert said == [f"orps: refining needs the openai package, which {bundle.python} cannot import (No module "
                    f"named 'openai') (install it with: {bundle.python} -m pip install openai)"]
    await bundled.stop(client)
    assert "Traceback" not in client.stderr_text


async def test_project_tests_without_pytest_say_how_to_install_it(bundled: Launcher, bundle: Bundle,
                                                                  tmp_path: Path) -> None:
    root = tmp_path / "proj_pkg"
    shutil.copytree(DATA / "problems" / "proj_pkg", root)
    client = await bundled.start()
    uri = (root / "mypkg" / "stats.py").resolve().as_uri()
    await open_and_wait(client, root / "mypkg" / "stats.py")
    wanted = f"the project's tests need pytest in {bundle.python}: {bundle.python} -m pip install pytest"
    diagnostics = await wait_for_diagnostics(client, uri, lambda d: any(wanted in x.message for x in d),
                                             "the missing pytest")
    assert diagnostics


def test_the_bundle_is_pure_python_and_pinned(bundle: Bundle) -> None:
    """What ``bundled/requirements.txt`` pins is what the bundle holds, plus orps, and nothing compiled."""
    pinned = {line.split()[0] for line in (REPO / "bundled" / "requirements.txt").read_text().splitlines()
              if line and not line.startswith("#")}
    held = set((bundle.libs / "ORPS_BUNDLE").read_text().split())
    assert held == pinned | {"orps==0.1.0"}
    assert not [p for pattern in ("*.so", "*.pyd") for p in bundle.libs.rglob(pattern)]
    assert not (bundle.libs / "bin").exists()  # console scripts would name the build's interpreter
    assert not (bundle.libs / "openai").exists()


def test_the_entry_script_checks_and_refuses_clearly(bundle: Bundle, tmp_path: Path) -> None:
    assert subprocess.run([bundle.python, str(bundle.script), "--check"], capture_output=True).returncode == 0
    lonely = tmp_path / "ext" / "bundled" / "tool" / "lsp_server.py"  # a build without the bundle
    lonely.parent.mkdir(parents=True)
    shutil.copy2(ENTRY_SCRIPT, lonely)
    out = subprocess.run([bundle.python, str(lonely), "--check"], capture_output=True, text=True)
    assert out.returncode == 3
    assert out.stderr.startswith("orps: this build of the extension has no bundled server")
    assert "npm run bundle" in out.stderr and "Traceback" not in out.stderr


def _orps(bundle: Bundle, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The ``orps`` command line from the bundle, under the bare interpreter."""
    code = f"import sys; sys.path[0] = {str(bundle.libs)!r}; from orps_engine.cli import main; sys.exit(main())"
    return subprocess.run([bundle.python, "-c", code, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_orps_test_runs_and_orps_refine_names_the_openai_command(bundle: Bundle, tmp_path: Path) -> None:
    (tmp_path / "probe.py").write_text(probe_py(bundle.libs), encoding="utf-8")
    tested = _orps(bundle, "test", "probe.py", cwd=tmp_path)
    assert tested.returncode == 1, tested.stderr  # a failing test is a result
    assert "2 passed, 1 failed" in tested.stdout and "Traceback" not in tested.stderr
    refined = _orps(bundle, "refine", "probe.py", "--model", "m", "--base-url", "http://127.0.0.1:9/v1", cwd=tmp_path)
    assert refined.returncode == 2
    assert refined.stderr.splitlines()[-1] == f"hint: install it with: {bundle.python} -m pip install openai"
    assert "Traceback" not in refined.stderr
