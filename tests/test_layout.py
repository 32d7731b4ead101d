"""The layout the product card fixes: what is packaged, and what the engine may import."""

from __future__ import annotations

import ast
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


# -- imports: no cycles, and the server over the engine's public API only ----------------------------
PACKAGES = {"orps_engine": REPO / "orps_engine", "orps_server": REPO / "server"}


def _modules() -> dict[str, Path]:
    """Every module of both packages by its dotted name (a package by its own name)."""
    found = {}
    for package, folder in PACKAGES.items():
        for path in folder.rglob("*.py"):
            parts = [package, *path.relative_to(folder).with_suffix("").parts]
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _runtime_imports(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import the module can execute, lazy ones in functions included; not those under
    ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    pending: list[ast.AST] = [tree]
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            pending.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append(node)
        pending.extend(ast.iter_child_nodes(node))
    return found


def _imported(name: str, modules: dict[str, Path]) -> set[str]:
    """The modules of both packages that module ``name`` imports. ``from PKG import sub`` is an
    import of ``PKG.sub`` (not of PKG's ``__init__``, which Python has run already as a parent)."""
    tree = ast.parse(modules[name].read_text(encoding="utf-8"))
    here = name if _is_package(name, modules) else name.rpartition(".")[0]
    out: set[str] = set()
    for node in _runtime_imports(tree):
        if isinstance(node, ast.Import):
            out |= {alias.name for alias in node.names}
            continue
        base = node.module or ""
        if node.level:
            anchor = here.split(".")
            anchor = anchor[: len(anchor) - (node.level - 1)]
            base = ".".join([*anchor, *([node.module] if node.module else [])])
        for alias in node.names:
            sub = f"{base}.{alias.name}"
            out.add(sub if sub in modules else base)
    return {m for m in out if m in modules and m != name}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_in_the_python_packages() -> None:
    modules = _modules()
    graph = {name: _imported(name, modules) for name in modules}
    assert _cycles(graph) == []


def test_the_cycle_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_server_imports_only_the_engines_public_api() -> None:
    modules = _modules()
    for name in (m for m in modules if m.startswith("orps_server")):
        engine = {m for m in _imported(name, modules) if m.startswith("orps_engine")}
        assert engine <= {"orps_engine"}, f"{name} reaches into {sorted(engine - {'orps_engine'})}"


def test_no_server_feature_imports_another() -> None:
    from orps_server.app import FEATURES

    features = {module.__name__ for module in FEATURES}
    modules = _modules()
    for name in features:
        siblings = _imported(name, modules) & (features | {"orps_server.app"})
        assert not siblings, f"{name} imports {sorted(siblings)}"


def test_every_public_name_of_the_engine_loads_from_the_module_its_table_names() -> None:
    """``orps_engine`` imports its public names on first use (``_LAZY``): the table, ``__all__`` and
    the modules must agree, or a name would fail only when someone first uses it."""
    import orps_engine

    assert set(orps_engine.__all__) == {*orps_engine._LAZY, "__version__"}
    for name in orps_engine.__all__:
        assert getattr(orps_engine, name) is not None, name
