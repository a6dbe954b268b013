"""The sweep space: a TOML file naming the parameters to vary and their ranges.

Format (an annotated example ships as ``profiles/sweeps/sweep_example.toml``)::

    [sweep]                          # defaults; the command line wins
    method = "random"                # grid | random | optuna
    trials = 200                     # random/optuna: how many; grid: every point (≤ trials)
    folds = 6                        # validation folds (walk-forward)
    seed = 7
    objective = "sharpe"             # sharpe | net_pnl | expectancy | profit_factor
    min_trades = 30                  # validation trades a trial needs to be called "best"
    holdout = 0.2                    # share of bars at the end kept as the held-out test
    strategy = "sma-cross"           # sma-cross | random (or --model / --retrain)
    heatmap = ["strategy.stop_ticks", "strategy.target_ticks"]   # optional axes

    [params]
    "strategy.stop_ticks" = { low = 4, high = 16, step = 2 }     # whole numbers → int
    "risk.min_confidence" = { low = 0.55, high = 0.8, step = 0.05 }
    "strategy.target_ticks" = { values = [6, 8, 12, 16] }        # a list → categorical
    "model.learning_rate" = { low = 0.01, high = 0.2, log = true } # --retrain only

Keys: ``costs.*``, ``risk.*``, ``schedule.*``, ``strategy.*``, ``topstep.*`` are profile keys
(profiles/README.md; scalar keys only); ``signal.*`` are the built-in strategy's own knobs
(sma-cross: ``fast``, ``slow``; random: ``rate``); ``model.*`` are model hyperparameters and
need ``--retrain``. Labels cannot be swept (the dataset is built once per sweep).

A range is ``int`` when low, high (and step) are whole numbers, else ``float``; ``log =
true`` samples on a log scale; a float range on a grid needs ``step`` or ``points``.
"""

from __future__ import annotations

import difflib
import hashlib
import itertools
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigError

PROFILE_SECTIONS = ("costs", "risk", "schedule", "strategy", "topstep")
METHODS = ("grid", "random", "optuna")
OBJECTIVES = ("sharpe", "net_pnl", "expectancy", "profit_factor")
SIGNAL_KEYS: dict[str, tuple[str, ...]] = {"sma-cross": ("fast", "slow"), "random": ("rate",)}
#: Model hyperparameters a sweep may set (LightGBM's constructor arguments and booster
#: parameters). A closed list so a misspelt name is an error, not a silently ignored key.
MODEL_KEYS = ("num_boost_round", "early_stopping_rounds", "balanced", "learning_rate",
              "num_leaves", "min_data_in_leaf", "feature_fraction", "bagging_fraction",
              "bagging_freq", "lambda_l1", "lambda_l2", "max_depth", "max_bin",
              "min_gain_to_split", "min_sum_hessian_in_leaf", "extra_trees", "path_smooth")
#: Keys of ``[sweep]`` and their types.
SETTINGS: dict[str, type | tuple[type, ...]] = {
    "method": str, "trials": int, "folds": int, "seed": int, "objective": str,
    "min_trades": int, "holdout": (int, float), "strategy": str, "heatmap": list}
#: A grid larger than this is refused (it would run for days and mostly fit noise).
MAX_GRID = 100_000


@dataclass(frozen=True)
class Param:
    """One swept parameter: an int or float range, or a list of values."""

    key: str
    kind: str  #: "int" | "float" | "categorical"
    low: float | None = None
    high: float | None = None
    step: float | None = None
    log: bool = False
    points: int | None = None
    values: tuple[Any, ...] = ()

    @property
    def section(self) -> str:
        """``strategy`` of ``strategy.stop_ticks``."""
        return self.key.partition(".")[0]

    @property
    def name(self) -> str:
        """``stop_ticks`` of ``strategy.stop_ticks``."""
        return self.key.partition(".")[2]

    def grid(self) -> list[Any]:
        """Every value on the grid (categorical values, stepped ranges, ``points`` spacing)."""
        if self.kind == "categorical":
            return list(self.values)
        lo, hi = float(self.low), float(self.high)  # type: ignore[arg-type]
        step = self.step or (1 if self.kind == "int" and not self.points else None)
        if step:
            n = int(math.floor((hi - lo) / step + 1e-9)) + 1
            vals = [lo + i * step for i in range(n)]
        else:
            pts = int(self.points or 0)
            if self.log:
                vals = list(np.geomspace(lo, hi, pts))
            else:
                vals = list(np.linspace(lo, hi, pts))
        return [self.typed(v) for v in vals]

    def sample(self, rng: np.random.Generator) -> Any:
        """One random value (uniform, or log-uniform with ``log``; snapped to ``step``)."""
        if self.kind == "categorical":
            return self.values[int(rng.integers(len(self.values)))]
        if self.step:
            g = self.grid()
            return g[int(rng.integers(len(g)))]
        lo, hi = float(self.low), float(self.high)  # type: ignore[arg-type]
        x = math.exp(rng.uniform(math.log(lo), math.log(hi))) if self.log else rng.uniform(lo, hi)
        return self.typed(min(max(x, lo), hi))

    def suggest(self, trial: Any) -> Any:
        """Ask an Optuna trial for this parameter's value."""
        if self.kind == "categorical":
            return trial.suggest_categorical(self.key, list(self.values))
        if self.kind == "int":
            return int(trial.suggest_int(self.key, int(self.low), int(self.high),  # type: ignore[arg-type]
                                         step=int(self.step or 1), log=self.log))
        return self.typed(trial.suggest_float(self.key, float(self.low), float(self.high),  # type: ignore[arg-type]
                                              step=self.step, log=self.log))

    def typed(self, x: Any) -> Any:
        """``x`` as this parameter's type (categorical values unchanged, floats de-noised)."""
        if self.kind == "categorical":
            return x
        if self.kind == "int":
            return int(round(x))
        # Round away float noise from stepping (0.55 + 3 * 0.05 = 0.7000000000000001).
        return float(round(float(x), 10))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description."""
        return {"key": self.key, "kind": self.kind, "low": self.low, "high": self.high,
                "step": self.step, "log": self.log, "points": self.points,
                "values": list(self.values)}


@dataclass(frozen=True)
class Space:
    """A parsed space file: the parameters and the ``[sweep]`` defaults."""

    params: tuple[Param, ...]
    settings: dict[str, Any] = field(default_factory=dict)
    source: str = "<space>"

    @property
    def keys(self) -> list[str]:
        """Parameter keys in file order."""
        return [p.key for p in self.params]

    def grid_size(self) -> int:
        """How many points the full grid has."""
        return math.prod(len(p.grid()) for p in self.params)

    def grid(self) -> list[dict[str, Any]]:
        """Every grid point, in a fixed order (the first parameter varies slowest)."""
        return [dict(zip(self.keys, combo))
                for combo in itertools.product(*(p.grid() for p in self.params))]

    def random_points(self, n: int, seed: int) -> list[dict[str, Any]]:
        """The first ``n`` random draws of the seeded sequence, without repeats.

        The sequence depends only on ``seed``, so a resumed or extended sweep (more
        ``--trials``) continues it instead of starting over.
        """
        rng = np.random.default_rng(seed)
        seen: set[str] = set()
        out: list[dict[str, Any]] = []
        misses = 0
        while len(out) < n:
            pt = {p.key: p.sample(rng) for p in self.params}
            sig = json.dumps(pt, sort_keys=True)
            if sig in seen:
                misses += 1
                if misses > 1000:  # a small discrete space is exhausted: stop, don't spin
                    break
                continue
            seen.add(sig)
            out.append(pt)
        return out

    def fingerprint(self) -> str:
        """A hash of the parameters (the ``[sweep]`` defaults excluded)."""
        text = json.dumps([p.to_dict() for p in self.params], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def _did_you_mean(word: str, options: list[str] | tuple[str, ...]) -> str:
    m = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean '{m[0]}'?)" if m else ""


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(float(x))


def _parse_param(key: str, spec: Any, where: str, probs: list[str]) -> Param | None:
    """One ``[params]`` entry; problems are appended to ``probs``."""
    at = f'{where}: params."{key}"'
    if not isinstance(spec, dict):
        probs.append(f"{at}: expected a table such as {{ low = 4, high = 16, step = 2 }} or "
                     f"{{ values = [6, 8, 12] }}, got {spec!r}")
        return None
    unknown = [k for k in spec if k not in ("low", "high", "step", "log", "points", "values", "type")]
    for k in unknown:
        probs.append(f"{at}: unknown field {k!r}"
                     + _did_you_mean(k, ("low", "high", "step", "log", "points", "values")))
    if "values" in spec:
        vals = spec["values"]
        if not isinstance(vals, list) or not vals:
            probs.append(f"{at}: values must be a non-empty list")
            return None
        if any(isinstance(v, (dict, list)) for v in vals):
            probs.append(f"{at}: values must be plain numbers, strings or booleans")
            return None
        if len({json.dumps(v) for v in vals}) != len(vals):
            probs.append(f"{at}: values repeat; list each value once")
        return Param(key, "categorical", values=tuple(vals))
    lo, hi, step = spec.get("low"), spec.get("high"), spec.get("step")
    if not (_number(lo) and _number(hi)):
        probs.append(f"{at}: needs low and high (numbers) or values = [...]")
        return None
    if hi <= lo:
        probs.append(f"{at}: high ({hi}) must be above low ({lo})")
        return None
    log = spec.get("log", False)
    if not isinstance(log, bool):
        probs.append(f"{at}: log must be true or false")
        log = False
    if log and lo <= 0:
        probs.append(f"{at}: a log range needs low > 0, got {lo}")
    if step is not None and (not _number(step) or step <= 0):
        probs.append(f"{at}: step must be a positive number, got {step!r}")
        step = None
    if step is not None and log:
        probs.append(f"{at}: use either step or log, not both")
    points = spec.get("points")
    if points is not None and (not isinstance(points, int) or isinstance(points, bool) or points < 2):
        probs.append(f"{at}: points must be a whole number >= 2, got {points!r}")
        points = None
    whole = all(isinstance(v, int) and not isinstance(v, bool) for v in (lo, hi, step) if v is not None)
    kind = spec.get("type") or ("int" if whole else "float")
    if kind not in ("int", "float"):
        probs.append(f"{at}: type must be int or float, got {kind!r}")
        return None
    if kind == "int" and not whole:
        probs.append(f"{at}: type int needs whole-number low, high and step")
    return Param(key, kind, low=lo, high=hi, step=step, log=log, points=points)


def _check_key(key: str, where: str, probs: list[str]) -> None:
    """The namespace and (for profile sections) the key name."""
    from dataclasses import fields as dc_fields

    from core import config

    section, _, name = key.partition(".")
    at = f'{where}: params."{key}"'
    allowed = (*PROFILE_SECTIONS, "signal", "model")
    if not name or section not in allowed:
        hint = "label.* cannot be swept (the dataset is built once); " if section == "label" else ""
        probs.append(f"{at}: keys look like section.key with section one of "
                     f"{', '.join(allowed)}; {hint}e.g. strategy.stop_ticks")
        return
    if section == "model":
        if name not in MODEL_KEYS:
            probs.append(f"{at}: unknown model parameter" + _did_you_mean(name, MODEL_KEYS)
                         + f"; one of {', '.join(MODEL_KEYS)}")
        return
    if section == "signal":
        known = sorted({k for ks in SIGNAL_KEYS.values() for k in ks})
        if name not in known:
            probs.append(f"{at}: unknown strategy knob" + _did_you_mean(name, known)
                         + "; sma-cross has fast, slow; random has rate")
        return
    cls = {"costs": config.CostSettings, "risk": config.RiskSettings,
           "schedule": config.ScheduleSettings, "strategy": config.StrategySettings,
           "topstep": config.TopstepSettings}[section]
    names = [f.name for f in dc_fields(cls)]
    if name not in names:
        probs.append(f"{at}: unknown profile key"
                     + _did_you_mean(key, [f"{section}.{n}" for n in names])
                     + " (see profiles/README.md)")
    elif name in ("size_tiers", "confidence_steps", "loss_pauses"):
        probs.append(f"{at}: {key} is a list of tables and cannot be swept; sweep a scalar key")


def _check_settings(table: Any, where: str, probs: list[str]) -> dict[str, Any]:
    if table is None:
        return {}
    if not isinstance(table, dict):
        probs.append(f"{where}: [sweep] must be a table")
        return {}
    out: dict[str, Any] = {}
    for k, v in table.items():
        tp = SETTINGS.get(k)
        if tp is None:
            probs.append(f"{where}: sweep.{k}: unknown setting" + _did_you_mean(k, list(SETTINGS)))
            continue
        if isinstance(v, bool) or not isinstance(v, tp):
            probs.append(f"{where}: sweep.{k}: expected {getattr(tp, '__name__', 'a number')}, "
                         f"got {v!r}")
            continue
        out[k] = v
    if out.get("method") not in (None, *METHODS):
        probs.append(f"{where}: sweep.method: {out['method']!r} is not one of {', '.join(METHODS)}")
    if out.get("objective") not in (None, *OBJECTIVES):
        probs.append(f"{where}: sweep.objective: {out['objective']!r} is not one of "
                     f"{', '.join(OBJECTIVES)}")
    if "holdout" in out and not 0.05 <= float(out["holdout"]) <= 0.5:
        probs.append(f"{where}: sweep.holdout must be between 0.05 and 0.5, got {out['holdout']}")
    for k in ("trials", "folds"):
        if k in out and out[k] < 1:
            probs.append(f"{where}: sweep.{k} must be >= 1, got {out[k]}")
    if "folds" in out and out["folds"] > 50:
        probs.append(f"{where}: sweep.folds must be <= 50, got {out['folds']}")
    if "seed" in out and out["seed"] < 0:
        probs.append(f"{where}: sweep.seed must be >= 0, got {out['seed']}")
    if "min_trades" in out and out["min_trades"] < 0:
        probs.append(f"{where}: sweep.min_trades must be >= 0")
    hm = out.get("heatmap")
    if hm is not None and (len(hm) != 2 or not all(isinstance(x, str) for x in hm)):
        probs.append(f"{where}: sweep.heatmap must name two parameters, e.g. "
                     '["strategy.stop_ticks", "strategy.target_ticks"]')
    return out


def parse_space(raw: dict[str, Any], *, source: str = "<space>") -> Space:
    """Check a parsed space mapping; every problem is reported at once.

    Raises:
        ConfigError: Listing each problem with the file and key.
    """
    probs: list[str] = []
    for k in raw:
        if k not in ("sweep", "params"):
            probs.append(f"{source}: unknown table [{k}]" + _did_you_mean(k, ("sweep", "params")))
    settings = _check_settings(raw.get("sweep"), source, probs)
    table = raw.get("params")
    params: list[Param] = []
    if not isinstance(table, dict) or not table:
        probs.append(f"{source}: no [params] table: name at least one parameter, e.g. "
                     '"strategy.stop_ticks" = { low = 4, high = 16, step = 2 }')
    else:
        for key, spec in table.items():
            _check_key(key, source, probs)
            p = _parse_param(key, spec, source, probs)
            if p is not None:
                params.append(p)
    hm = settings.get("heatmap")
    if hm and params:
        for k in hm:
            if k not in [p.key for p in params]:
                probs.append(f"{source}: sweep.heatmap: {k!r} is not a swept parameter"
                             + _did_you_mean(k, [p.key for p in params]))
    if probs:
        n = len(probs)
        raise ConfigError(f"{source}: {n} problem{'s' if n != 1 else ''} in the sweep space",
                          problems=probs, hint="fix every line above; the format is described "
                          "in profiles/sweeps/sweep_example.toml")
    return Space(params=tuple(params), settings=settings, source=source)


def load_space(path: str | Path) -> Space:
    """Read and check a space file (see the module docstring for the format).

    A bare name such as ``sweep_example`` finds the shipped example.

    Raises:
        ConfigError: Missing file, bad TOML or bad contents (naming the key and the fix).
    """
    p = Path(path)
    if not p.exists() and not p.suffix:
        shipped = Path(__file__).resolve().parents[2] / "profiles" / "sweeps" / f"{p.name}.toml"
        if shipped.exists():
            p = shipped
    if not p.is_file():
        raise ConfigError(f"sweep space not found: {path}",
                          hint="pass a TOML file (start from profiles/sweeps/sweep_example.toml)")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML: {exc}",
                          hint="check quotes, brackets and '=' on the line shown") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{p}: not UTF-8 text", hint="save the file as UTF-8") from None
    return parse_space(raw, source=str(p))
