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


def test_server_module_says_it_is_not_there_yet() -> None:
    out = subprocess.run([sys.executable, "-m", "orps_server"], capture_output=True, text=True)
    assert out.returncode == 2
    assert "not implemented yet" in out.stderr
    assert "Traceback" not in out.stderr
