"""Enforce the boundaries of ARCHITECTURE.md with an AST scan of every import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UI_PACKAGES = {"console", "textual", "typer", "rich"}
NETWORK_PACKAGES = {"aiohttp", "signalrcore"}
WALL_CLOCK_CALLS = {("time", "time"), ("time", "time_ns"), ("datetime", "now"),
                    ("datetime", "utcnow"), ("date", "today"), ("datetime", "today")}


def _py_files(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> list[tuple[str, int, bool]]:
    """Return (top-level module, line, is_inside_function) for every import in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[str, int, bool]] = []

    def visit(node: ast.AST, in_func: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inner = in_func or isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
            if isinstance(child, ast.Import):
                for alias in child.names:
                    found.append((alias.name.split(".")[0], child.lineno, in_func))
            elif isinstance(child, ast.ImportFrom) and child.module and child.level == 0:
                found.append((child.module.split(".")[0], child.lineno, in_func))
            visit(child, inner)

    visit(tree, False)
    return found


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def test_core_never_imports_ui() -> None:
    bad = [f"{_rel(p)}:{line} imports {mod}" for p in _py_files("core")
           for mod, line, _ in _imports(p) if mod in UI_PACKAGES]
    assert not bad, "core must stay headless:\n" + "\n".join(bad)


def test_network_libraries_only_in_venues_and_control() -> None:
    allowed = ("core/venues/", "core/control/")
    bad = [f"{_rel(p)}:{line} imports {mod}" for p in _py_files("core")
           for mod, line, _ in _imports(p)
           if mod in NETWORK_PACKAGES and not _rel(p).startswith(allowed)]
    bad += [f"{_rel(p)}:{line} imports {mod}" for p in _py_files("console")
            for mod, line, _ in _imports(p) if mod in NETWORK_PACKAGES]
    assert not bad, "aiohttp/signalrcore belong under core/venues or core/control:\n" + "\n".join(bad)


def test_torch_only_lazily_under_ml() -> None:
    bad = []
    for p in _py_files("core") + _py_files("console"):
        for mod, line, in_func in _imports(p):
            if mod != "torch":
                continue
            if not _rel(p).startswith("core/ml/"):
                bad.append(f"{_rel(p)}:{line} imports torch outside core/ml")
            elif not in_func:
                bad.append(f"{_rel(p)}:{line} imports torch at module level (import it lazily)")
    assert not bad, "\n".join(bad)


def test_domain_imports_nothing_else_from_project() -> None:
    bad = []
    for p in _py_files("core/domain"):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            mods: list[str] = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                mods = [node.module] if node.level == 0 else []
            for m in mods:
                if (m.startswith("core.") and not m.startswith("core.domain")) or m == "core" \
                        or m.startswith("console"):
                    bad.append(f"{_rel(p)}:{node.lineno} imports {m}")
    assert not bad, "core/domain must import nothing else from the project:\n" + "\n".join(bad)


def test_journal_imports_only_domain_and_stdlib() -> None:
    # The journal must be readable without the engine (and must never drag a venue in).
    bad = []
    for p in _py_files("core/journal"):
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            mods: list[str] = []
            if isinstance(node, ast.Import):
                mods = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                mods = [node.module or ""] if node.level == 0 else []
                if node.level:
                    bad.append(f"{_rel(p)}:{node.lineno} uses a relative import")
            for m in mods:
                top = m.split(".")[0]
                ok = (m == "core.domain" or m.startswith(("core.domain.", "core.journal"))
                      or (top in sys.stdlib_module_names and top != "core"))
                if not ok:
                    bad.append(f"{_rel(p)}:{node.lineno} imports {m}")
    assert _py_files("core/journal"), "core/journal is missing"
    assert not bad, "core/journal may import only core.domain and the stdlib:\n" + "\n".join(bad)


def test_only_clock_reads_wall_time() -> None:
    bad = []
    for p in _py_files("core"):
        if _rel(p) == "core/clock.py":
            continue
        tree = ast.parse(p.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                owner = node.func.value
                name = owner.id if isinstance(owner, ast.Name) else (
                    owner.attr if isinstance(owner, ast.Attribute) else None)
                if (name, node.func.attr) in WALL_CLOCK_CALLS:
                    bad.append(f"{_rel(p)}:{node.lineno} calls {name}.{node.func.attr}()")
    assert not bad, "only core/clock.py may read wall time (inject a Clock):\n" + "\n".join(bad)


@pytest.mark.parametrize("module", ["core", "core.datasets", "core.calendar", "core.config"])
def test_importing_core_pulls_in_no_ui_package(module: str) -> None:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'textual','typer','rich','console','torch'}); print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         cwd=ROOT, check=True)
    assert out.stdout.strip() == "", f"importing {module} pulled in: {out.stdout.strip()}"
