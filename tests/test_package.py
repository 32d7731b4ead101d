"""``npm run package`` builds the bundle and packs it into the .vsix: the entry script, orps and its
pure-Python dependencies are inside, and nothing the extension does not ship."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).parent.parent
VSCE = REPO / "node_modules" / ".bin" / "vsce"
LIBS = "extension/bundled/libs/"


def test_the_vsix_holds_the_entry_script_and_the_bundled_server() -> None:
    if not VSCE.exists():
        pytest.skip("the extension's node modules are not installed: run `npm ci` first (CI does, before pytest)")
    # python3 for `npm run bundle` is this interpreter's (a virtual environment's, which has pip)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(["npm", "run", "package"], cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    with zipfile.ZipFile(REPO / "orps.vsix") as vsix:
        names = set(vsix.namelist())
        script = vsix.read("extension/bundled/tool/lsp_server.py")
        held = vsix.read(LIBS + "ORPS_BUNDLE").decode().split()
    assert script == (REPO / "bundled" / "tool" / "lsp_server.py").read_bytes()
    for module in ("orps_server/__init__.py", "orps_server/app.py", "orps_engine/__init__.py",
                   "orps_engine/sandbox/runtime/boot.py", "pygls/__init__.py", "lsprotocol/types.py",
                   "cattrs/__init__.py", "attrs/__init__.py", "typing_extensions.py", "tomli/__init__.py"):
        assert LIBS + module in names, module
    assert "orps==0.1.0" in held and not any(name.startswith(("openai", "pydantic", "pytest")) for name in held)
    shipped = {name.split("/")[1] for name in names if name.startswith("extension/")}
    assert shipped == {"package.json", "readme.md", "LICENSE.txt", "dist", "bundled", "docs"}, shipped
    assert {n for n in names if n.startswith("extension/docs/")} <= {f"extension/docs/screenshots/{p.name}" for p in
                                                                    (REPO / "docs" / "screenshots").glob("*.png")}
    assert not [n for n in names if "__pycache__" in n or n.endswith((".so", ".pyc"))]
    assert not [n for n in names if n.startswith("extension/bundled/") and not n.startswith(
        ("extension/bundled/tool/lsp_server.py", LIBS))]  # no requirements file, no build script
