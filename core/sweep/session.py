"""``run_sweep``: SweepRequest → trials on Dask → analysis → Parquet + HTML (the CLI calls it).

Order of work, and why:

1. check the space against the profile and the signal source (bad input fails before any
   work, naming the key);
2. lay out the folds and the held-out test (:mod:`core.sweep.context`);
3. open the sweep directory: a new one gets a manifest, an existing one is resumed only
   with ``resume=True`` and only if it is the same sweep;
4. run the trials the ledger does not hold yet; each finished trial is appended to the
   ledger the moment it arrives, so a cancel (``should_stop``) or a crash loses at most the
   trials in flight;
5. count every finished trial in the project's trial ledger (for deflated statistics);
6. score the best few on the held-out test — once, after the selection;
7. analyse and write ``trials.parquet``, ``test.parquet``, ``summary.json``, ``report.html``.
"""

from __future__ import annotations

import math
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from core.config import Profile
from core.errors import ConfigError
from core.sweep.analysis import SweepAnalysis, analyse, ledger_counts, rank, test_frame
from core.sweep.apply import apply_profile, profile_raw
from core.sweep.context import SweepSettings, build_context, data_fingerprint
from core.sweep.runner import StopGuard, make_pool
from core.sweep.search import OptunaSearch, planned_points
from core.sweep.space import PROFILE_SECTIONS, SIGNAL_KEYS, Space
from core.sweep.store import SweepStore, ledger_data_hash, trials_frame
from core.sweep.trial import TrialResult


@dataclass
class SweepProgress:
    """Where a sweep is: for progress bars and ETA."""

    done: int
    total: int
    elapsed_s: float
    eta_s: float | None
    best: float | None
    errors: int = 0
    phase: str = "trials"  #: trials | test


@dataclass
class SweepRequest:
    """Everything ``scalpdesk sweep`` decides."""

    bars: pd.DataFrame
    bar_seconds: float
    profile: Profile
    space: Space
    settings: SweepSettings
    out: Path
    data_source: str = ""
    space_text: str = ""
    resume: bool = False
    workers: int | None = None  #: None: a LocalCluster with one worker per core; 0: in-process
    cluster: str | None = None
    storage: str | None = None  #: Optuna RDB URL (default: SQLite in ``out``)
    study: str | None = None  #: Optuna study name (default: derived from the sweep id)
    batch: int = 8  #: Optuna trials asked per synchronous batch
    ledger: Path | None = None  #: the project's trial ledger (default: SCALPDESK_LEDGER)
    report: Path | None = None  #: default: ``out/report.html``
    top_k: int = 5


@dataclass
class SweepOutcome:
    """What a sweep produced."""

    results: list[TrialResult]
    errors: list[TrialResult]
    cancelled: bool
    analysis: SweepAnalysis | None
    paths: dict[str, Path] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    pool: str = ""
    workers: int = 0


def check_space(space: Space, st: SweepSettings, profile: Profile) -> list[str]:
    """Refuse parameters the sweep cannot use; return notes on partly-refused ranges.

    Raises:
        ConfigError: Listing every parameter that can never work, with the fix.
    """
    probs: list[str] = []
    notes: list[str] = []
    try:  # a base profile built in code (not loaded) is held to the loader's rules too
        apply_profile(profile, {"risk.starting_balance": profile.risk.starting_balance},
                      source=f"profile {profile.name}")
    except ConfigError as exc:
        raise ConfigError(f"the base profile {profile.name} breaks a profile rule, so every "
                          "trial would", problems=exc.problems,
                          hint="fix the profile (scalpdesk profile validate NAME)") from None
    for p in space.params:
        at = f'{space.source}: params."{p.key}"'
        if p.section == "model" and st.source != "retrain":
            probs.append(f"{at}: model hyperparameters need --retrain (the model is refitted "
                         "per fold)")
        elif p.section == "signal" and p.name not in SIGNAL_KEYS.get(st.source, ()):
            have = ", ".join(SIGNAL_KEYS.get(st.source, ())) or "none"
            probs.append(f"{at}: not a knob of the {st.source} signals (they have: {have})")
        elif p.section in PROFILE_SECTIONS:
            values = list(p.values) if p.kind == "categorical" else [p.low, p.high]
            if p.kind == "int":
                values = [int(v) for v in values]  # type: ignore[arg-type]
            errs = []
            for v in values:
                try:
                    apply_profile(profile, {p.key: v}, source=f"{at} = {v!r}")
                except ConfigError as exc:
                    errs.append((v, (exc.problems or [exc.message])[0]))
            if errs and len(errs) == len(values):
                probs.append(errs[0][1])
            elif errs:
                notes.append(f"{p.key} = {errs[0][0]!r} breaks a rule of profile "
                             f"{profile.name} on its own; such trials are recorded as refused")
    if st.source == "retrain" and not probs:
        probs += _check_model_params(space, st)
    if probs:
        raise ConfigError(f"{space.source}: {len(probs)} parameter(s) cannot be swept here",
                          problems=probs, hint="fix or remove them; see profiles/README.md "
                          "for profile keys")
    return notes


def _check_model_params(space: Space, st: SweepSettings) -> list[str]:
    """Build (not fit) a model with each model.* range end, so a bad value fails now."""
    from core.errors import ModelError
    from core.ml.registry import make_model
    from core.sweep.trial import model_kwargs

    probs = []
    for p in space.params:
        if p.section != "model":
            continue
        for v in (list(p.values) if p.kind == "categorical" else [p.low, p.high]):
            v = int(v) if p.kind == "int" else v  # type: ignore[arg-type]
            try:
                make_model(st.model_kind, params=model_kwargs(st.model_kind, {p.name: v}))
            except (ModelError, TypeError, ValueError) as exc:
                probs.append(f'{space.source}: params."{p.key}" = {v!r}: {exc}')
                break
    return probs


def _manifest(req: SweepRequest, sweep_id: str, storage: str | None, study: str | None
              ) -> dict[str, Any]:
    from core.clock import LiveClock

    return {"version": 1, "sweep_id": sweep_id, "created_ns": LiveClock().now_ns(),
            "identity": req.settings.identity(), "trials": req.settings.trials,
            "space": {"params": [p.to_dict() for p in req.space.params]},
            "space_text": req.space_text, "space_source": req.space.source,
            "data": {"fingerprint": data_fingerprint(req.bars), "rows": len(req.bars),
                     "bar_seconds": req.bar_seconds},
            "data_source": req.data_source, "profile": profile_raw(req.profile),
            "profile_name": req.profile.name,
            # A database URL may hold a password: only the SQLite default is remembered.
            "storage": storage if storage and storage.startswith("sqlite") else None,
            "study": study}


def _open_store(req: SweepRequest) -> tuple[SweepStore, dict[str, Any]]:
    store = SweepStore(req.out)
    sweep_id = uuid.uuid4().hex[:12]
    if store.exists():
        old = store.read_manifest()
        if not req.resume:
            n = len(store.results())
            raise ConfigError(f"{req.out} already holds a sweep ({n} trials done)",
                              hint="add --resume to continue it, or choose another --out")
        sweep_id = old["sweep_id"]
        manifest = _manifest(req, sweep_id, old.get("storage"), old.get("study"))
        store.check_resume(manifest)
        manifest["created_ns"] = old.get("created_ns")
        manifest["storage"], manifest["study"] = old.get("storage"), old.get("study")
        store.write_manifest(manifest)  # trials may have grown
        return store, manifest
    if req.resume:
        store.read_manifest()  # raises "no sweep to resume here"
    if req.out.exists() and any(req.out.iterdir()):
        raise ConfigError(f"--out {req.out} is not empty and holds no sweep",
                          hint="choose a new or empty directory (its files would be mixed up "
                               "with the sweep's)")
    manifest = _manifest(req, sweep_id, None, None)
    return store, manifest


class _Tracker:
    """Counts finished trials and works out the ETA from this session's pace."""

    def __init__(self, total: int, already: int, progress: Callable[[SweepProgress], None] | None,
                 best: float | None) -> None:
        self.total, self.already, self.done = total, already, 0
        self.progress, self.best, self.errors = progress, best, 0
        self.started = time.perf_counter()

    def see(self, res: TrialResult) -> None:
        self.done += 1
        if res.status == "error":
            self.errors += 1
        elif res.status == "ok" and res.eligible and math.isfinite(res.objective):
            self.best = res.objective if self.best is None else max(self.best, res.objective)
        self.report()

    def report(self, phase: str = "trials") -> None:
        if self.progress is None:
            return
        el = time.perf_counter() - self.started
        left = max(0, self.total - self.already - self.done)
        eta = el / self.done * left if self.done else None
        self.progress(SweepProgress(self.already + self.done, self.total, el, eta, self.best,
                                    self.errors, phase))


def run_sweep(req: SweepRequest, *, progress: Callable[[SweepProgress], None] | None = None,
              should_stop: Callable[[], bool] | None = None) -> SweepOutcome:
    """Run (or resume) a sweep and write its results (see the module docstring).

    Raises:
        ConfigError / DataError: Bad space, settings, data or sweep directory.
    """
    started = time.perf_counter()
    stop = should_stop or (lambda: False)
    st = req.settings
    notes = check_space(req.space, st, req.profile)
    ctx = build_context(req.bars, req.bar_seconds, req.profile, st)
    notes += ctx.notes
    store, manifest = _open_store(req)
    plan = planned_points(req.space, st) if st.method != "optuna" else None
    search = None
    if st.method == "optuna":
        storage = req.storage or manifest.get("storage") or \
            f"sqlite:///{(req.out / 'study.db').resolve()}"
        study = req.study or manifest.get("study") or f"scalpdesk-{manifest['sweep_id']}"
        manifest["storage"] = storage if storage.startswith("sqlite") else None
        manifest["study"] = study
        search = OptunaSearch(req.space, st, storage=storage, study_name=study,
                              sweep_id=manifest["sweep_id"])
    store.write_manifest(manifest)
    store.repair_ledger()
    done = store.results()
    errors: list[TrialResult] = []
    guard = StopGuard()
    total = len(plan) if plan is not None else st.trials
    best0 = max((r.objective for r in done.values() if r.status == "ok" and r.eligible
                 and math.isfinite(r.objective)), default=None)
    tracker = _Tracker(total, min(len(done), total), progress, best0)

    def on_result(res: TrialResult) -> None:
        if res.status == "error":
            errors.append(res)
        else:
            store.append(res)
            done[res.number] = res
        if search is not None:
            search.tell(res)
        guard.see(res)
        tracker.see(res)

    def halted() -> bool:
        return stop() or guard.tripped

    pool = make_pool(ctx, workers=req.workers, cluster=req.cluster)
    tests: list[TrialResult] = []
    cancelled = False
    try:
        tracker.report()
        if plan is not None:
            tasks = [(i, p) for i, p in enumerate(plan) if i not in done]
            cancelled = not pool.run(tasks, on_result, halted)
        else:
            assert search is not None
            pending = [t for t in search.unfinished() if t[0] not in done]
            for number, _ in search.unfinished():
                if number in done:  # finished and logged, but the tell was lost
                    search.tell(done[number])
            while not cancelled:
                mine = sum(1 for r in done.values())
                batch = pending or search.ask(min(req.batch, st.trials - mine))
                pending = []
                if not batch:
                    break
                cancelled = not pool.run(batch, on_result, halted)
        if guard.tripped:
            first = guard.first
            raise ConfigError(f"{guard.streak} trials in a row failed; the first: "
                              f"{first.message if first else '?'}",
                              hint="fix the cause and rerun with --resume (finished trials "
                                   "are kept)")
        results = sorted(done.values(), key=lambda r: r.number)
        data_hash = ledger_data_hash(req.bars)
        signals = st.source if st.source != "model" else f"model {st.model}"
        store.sync_global_ledger(results, sweep_id=manifest["sweep_id"], data_hash=data_hash,
                                 profile=req.profile.name, signals=signals, path=req.ledger)
        paths = {"dir": req.out, "ledger": store.ledger_path}
        if cancelled:
            paths["trials"] = store.write_parquet("trials.parquet",
                                                  trials_frame(results, req.space.keys))
            return SweepOutcome(results, errors, True, None, paths, notes,
                                time.perf_counter() - started, pool.address, pool.workers)
        top = rank(results, req.top_k)
        if top:
            tracker.report("test")
            pool.run([(r.number, r.params) for r in top], tests.append, lambda: False,
                     role="test")
            order = {r.number: i for i, r in enumerate(top)}
            tests.sort(key=lambda t: order[t.number])
    finally:
        store.sync()
        pool.close()
    n_ledger, sr_var = ledger_counts(req.ledger, data_hash)
    n_trials = max(n_ledger, len(results), search.total_trials() if search else 0)
    analysis = analyse(results, tests, req.space, objective=st.objective,
                       min_trades=st.min_trades, n_trials=n_trials, sr_variance=sr_var,
                       top_k=req.top_k, seed=st.seed)
    paths["trials"] = store.write_parquet("trials.parquet", analysis.frame)
    paths["test"] = store.write_parquet("test.parquet", test_frame(tests, req.space.keys))
    paths["summary"] = store.write_json("summary.json", {
        **analysis.summary(), "settings": asdict(st), "notes": notes,
        "errors": [{"trial": e.number, "message": e.message} for e in errors],
        "layout": _layout(ctx)})
    from core.sweep.report import write_report

    paths["report"] = write_report(req.report or req.out / "report.html", analysis, req.space,
                                   st, layout=_layout(ctx), notes=notes,
                                   title=f"Sweep · {req.profile.name} · {req.data_source or 'data'}")
    return SweepOutcome(results, errors, False, analysis, paths, notes,
                        time.perf_counter() - started, pool.address, pool.workers)


def _layout(ctx: Any) -> dict[str, Any]:
    """Fold and test spans as UTC times (for the summary and the report)."""
    def iso(ns: int) -> str:
        return pd.Timestamp(ns, tz="UTC").strftime("%Y-%m-%d %H:%M")

    return {"validation": [{"fold": s.fold, "bars": s.hi - s.lo, "from": iso(s.start_ns),
                            "to": iso(s.end_ns)} for s in ctx.spans],
            "test": {"bars": ctx.test.hi - ctx.test.lo, "from": iso(ctx.test.start_ns),
                     "to": iso(ctx.test.end_ns)},
            "buckets": ctx.n_buckets, "validation_days": ctx.n_val_days,
            "test_days": ctx.n_test_days}
