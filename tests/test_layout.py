"""The layout the product card fixes: what is packaged, and what the engine may import."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parent.parent


def test_engine_imports_no_editor_code() -> None:
    code = ("import sys, orps_engine, orps_engine.cli, orps_engine.judge\n"
            "bad = [m for m in sys.modules if m.split('.')[0] in ('pygls', 'lsprotocol', 'orps_server')]\n"
            "print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_python_package_is_listed_in_pyproject() -> None:
    text = (REPO / "pyproject.toml").read_text()
    listed = set(re.findall(r'^\s*"(orps_(?:engine|server)[\w.]*)",?$', text, re.M))
    found = {".".join(p.parent.relative_to(REPO).parts) for p in (REPO / "orps_engine").rglob("__init__.py")}
    found.add("orps_server")
    assert listed == found


def test_server_starts_from_both_entry_points() -> None:
    for command in ([sys.executable, "-m", "orps_server", "--help"], [sys.executable, "-m", "orps_engine", "serve",
                                                                       "--help"]):
        out = subprocess.run(command, capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        assert "--tcp" in out.stdout


def test_engine_api_does_not_load_the_server_unless_serving() -> None:
    code = "import sys, orps_engine.cli\nprint('orps_server' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
