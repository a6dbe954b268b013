"""Venues are reached through core/venues/base.py and factory.py only (ARCHITECTURE.md,
"Boundaries"): the engine, journal, control socket and console never build a TopstepX client
or a simulator by hand, so ``venue.kind`` is honoured everywhere and no ``if simulated:`` grows
outside the factory."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
#: The doors: the interface, the factory, and the simulator settings the factory takes.
DOORS = ("core.venues", "core.venues.base", "core.venues.factory", "core.venues.sim.launch")
#: Modules that are the venues' own tools and may reach inside them.
TOOLS = {
    "console/cli/venue.py",  # `venue check` runs the TopstepX client's own check steps
    "console/cli/bench_venue.py",  # measures the client's wire path
    # Builds a bare SimGateway to time kill → flat; should move to open_venue (issue 9 note).
    "core/bench/engine.py",
}


def _venue_imports(path: Path) -> list[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    out = []
    for node in ast.walk(tree):
        mods: list[str] = []
        if isinstance(node, ast.Import):
            mods = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            mods = [node.module]
        out += [(m, node.lineno) for m in mods if m == "core.venues" or m.startswith("core.venues.")]
    return out


def test_venues_are_reached_only_through_base_and_factory() -> None:
    bad = []
    for pkg in ("core", "console"):
        for path in sorted((ROOT / pkg).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith("core/venues/") or rel in TOOLS:
                continue
            bad += [f"{rel}:{line} imports {mod}" for mod, line in _venue_imports(path)
                    if mod not in DOORS]
    assert not bad, ("reach venues through core.venues.base / core.venues.factory "
                     "(open_venue(profile)):\n" + "\n".join(bad))


def test_the_tool_list_holds_no_stale_entries() -> None:
    for rel in TOOLS:
        path = ROOT / rel
        assert path.exists() and any(m not in DOORS for m, _ in _venue_imports(path)), \
            f"{rel} no longer reaches inside the venues: drop it from TOOLS"
