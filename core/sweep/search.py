"""Which parameter sets to try: the whole grid, a seeded random sequence, or Optuna (TPE).

Grid and random plans are fixed lists known up front (trial ``i`` is always the same point,
so a resumed sweep skips what its ledger holds and runs the rest). Optuna keeps its study
in Optuna's own RDB storage — SQLite in the sweep directory by default, or any SQLAlchemy
URL such as ``postgresql://user@host/db`` so several machines can share one study.

Optuna runs in **synchronous batches**: ask ``batch`` trials, evaluate them anywhere, tell
all of them in trial-number order, ask the next batch with a sampler seeded from the sweep
seed and the number of finished trials. The suggestions therefore depend only on the
study's contents, not on how many workers there are or which trial finished first — so a
fixed seed gives the same sweep locally and on a cluster, and a resumed sweep continues
exactly where it stopped (trials asked but not finished are re-run with their stored
parameters). Trials with fewer validation trades than ``min_trades`` are told to Optuna as at
most 0, so the search is not drawn towards a lucky handful of trades; refused parameter
combinations are told as failed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.sweep.context import SweepSettings
from core.sweep.space import Space
from core.sweep.trial import TrialResult

Task = tuple[int, dict[str, Any]]


def planned_points(space: Space, st: SweepSettings) -> list[dict[str, Any]]:
    """Every point a grid or random sweep will try, trial number = list index.

    Raises:
        ConfigError: A grid larger than ``trials`` (or than the hard cap).
    """
    if st.method == "grid":
        from core.sweep.space import MAX_GRID

        bad = [p.key for p in space.params
               if p.kind == "float" and not p.step and not p.points]
        if bad:
            raise ConfigError(f"{space.source}: a grid needs a step (or points) for float ranges: "
                              f"{', '.join(bad)}", hint="add step = … or points = N to each, or "
                              "use --method random|optuna")
        size = space.grid_size()
        if size > MAX_GRID:
            raise ConfigError(f"{space.source}: the grid has {size:,} points (limit {MAX_GRID:,})",
                              hint="coarsen the steps, or use --method random|optuna")
        if size > st.trials:
            raise ConfigError(f"{space.source}: the grid has {size:,} points but --trials is "
                              f"{st.trials:,}", hint=f"pass --trials {size} (every point), or "
                              "coarsen the steps, or use --method random|optuna")
        return space.grid()
    return space.random_points(st.trials, st.seed)


def check_storage(url: str) -> str:
    """Check an Optuna storage URL is usable here; returns it.

    Raises:
        ConfigError: Unknown scheme or a missing database driver.
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme.startswith("sqlite"):
        return url
    if scheme.startswith("postgresql") or scheme.startswith("postgres"):
        if scheme in ("postgres", "postgresql"):
            driver = "psycopg2"
        else:
            driver = scheme.split("+", 1)[1]
        try:
            __import__("psycopg2" if driver == "psycopg2" else driver)
        except ImportError:
            raise ConfigError(f"--storage {url.split('@')[-1]}: the PostgreSQL driver "
                              f"{driver!r} is not installed",
                              hint="pip install psycopg2-binary (or use the default SQLite "
                                   "storage in the sweep directory)") from None
        return url
    if scheme.startswith("mysql"):
        return url
    raise ConfigError(f"--storage: {scheme!r} is not a database URL Optuna can use",
                      hint="use sqlite:///path/study.db or postgresql://user@host/dbname")


class OptunaSearch:
    """Ask/tell against an Optuna study in batches (see the module docstring)."""

    def __init__(self, space: Space, st: SweepSettings, *, storage: str, study_name: str,
                 sweep_id: str) -> None:
        try:
            import optuna
        except ImportError:  # pragma: no cover - depends on the install
            raise ConfigError("Optuna is not installed",
                              hint="pip install 'scalpdesk[cluster]' or use --method grid|random"
                              ) from None
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        self.optuna = optuna
        self.space = space
        self.st = st
        self.sweep_id = sweep_id
        if storage.startswith("sqlite:///"):
            Path(storage.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.study = optuna.create_study(storage=check_storage(storage),
                                             study_name=study_name, direction="maximize",
                                             load_if_exists=True)
        except Exception as exc:  # SQLAlchemy raises many kinds; name the storage and stop
            raise ConfigError(f"cannot open the Optuna study {study_name!r} at "
                              f"{storage.split('@')[-1]}: {type(exc).__name__}: {exc}",
                              hint="check the storage URL, that the database is reachable, and "
                                   "that the study was made by the same space") from None

    def _ours(self, states: tuple[Any, ...]) -> list[Any]:
        return [t for t in self.study.get_trials(deepcopy=False, states=states)
                if t.user_attrs.get("sweep_id") == self.sweep_id]

    def unfinished(self) -> list[Task]:
        """Trials this sweep asked for but never told (an interruption): re-run them."""
        running = self._ours((self.optuna.trial.TrialState.RUNNING,))
        return [(t.number, {p.key: p.typed(t.params[p.key]) for p in self.space.params
                            if p.key in t.params}) for t in sorted(running, key=lambda t: t.number)]

    def ask(self, n: int) -> list[Task]:
        """``n`` new trials, suggested by a TPE sampler seeded from the study's state."""
        finished = sum(1 for t in self.study.get_trials(deepcopy=False)
                       if t.state.is_finished())
        self.study.sampler = self.optuna.samplers.TPESampler(seed=self.st.seed * 100_003 + finished)
        out = []
        for _ in range(n):
            trial = self.study.ask()
            trial.set_user_attr("sweep_id", self.sweep_id)
            out.append((trial.number, {p.key: p.suggest(trial) for p in self.space.params}))
        return out

    def tell(self, res: TrialResult) -> None:
        """Report a finished trial (see the module docstring for ineligible and refused ones)."""
        state = self.optuna.trial.TrialState
        if res.status == "ok":
            value = res.objective if res.eligible else min(res.objective, 0.0)
            self.study.tell(res.number, float(value), skip_if_finished=True)
        else:
            self.study.tell(res.number, state=state.FAIL, skip_if_finished=True)

    def total_trials(self) -> int:
        """Finished trials in the whole study (other machines' included)."""
        return sum(1 for t in self.study.get_trials(deepcopy=False) if t.state.is_finished())

