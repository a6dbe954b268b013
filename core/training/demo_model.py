"""The demo's model and replay data: trained once on synthetic bars, cached in the user's directory.

``scalpdesk demo`` (and ``scalpdesk live --profile demo`` in tests and examples) needs a model
that *trades* the simulator — the bench model trades nothing on noise, which is honest but shows
nothing. So the demo trains a quick LightGBM on synthetic MES 1-second bars with the generator's
**planted pattern** (:data:`core.datasets.synth.PLANTED_PATTERN`) turned up to
:attr:`DemoRecipe.strength`, and generates the bars the simulator replays from a *different seed*
and later dates of the same process, so the engine trades out of sample.

Nothing here lowers the profile's confidence floor or touches confidences: the model is trained
and calibrated by the normal pipeline (:func:`core.training.pipeline.train`), and the share of
out-of-sample bars whose calibrated UP/DOWN confidence reaches the floor is measured and stored
next to the model (``demo.json``) so the demo can say how often it expects to trade.

Layout (``$SCALPDESK_HOME/cache/demo/<key>/``, never in the checkout)::

    mes_demo_lgbm/  the model artifact (same format as ``models/NAME``)
    replay.parquet  the simulator's bars (1-second, RTH, planted pattern, other seed)
    demo.json       the recipe, the training summary and the out-of-sample figures

The directory is built in a temporary sibling and renamed into place, so an interrupted build
leaves nothing a later run would mistake for a cache.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import CoreError, ModelError

#: Bumped when the layout or the meaning of the cache changes (old caches are rebuilt).
CACHE_VERSION = 2
#: The model's directory name (the console's model pane shows it).
MODEL_NAME = "mes_demo_lgbm"

Progress = Callable[[str], None] | None


@dataclass(frozen=True, slots=True)
class DemoRecipe:
    """How the demo model and its replay data are made (part of the cache key).

    Attributes:
        strength: Scale of the planted pattern (1 = the documented weak pattern). 3.0 makes a
            LightGBM trained in seconds reach the demo profile's 60 % floor on a real share of
            out-of-sample bars (about 4 % of the walk-forward test bars, ~1,800 bars, 68
            backtested trades); at 1-2 the engine may trade once in several replay minutes.
        train_days: Trading days (RTH only) of training bars.
        train_seed: Seed of the training bars.
        replay_days: Trading days the simulator gets: all but the last are served as history
            (the model's feature warm-up), the last one is replayed.
        replay_seed: Seed of the replay bars; must differ from ``train_seed``.
        replay_start: First calendar date of the replay (after the training bars end).
        folds: Walk-forward folds (plus the final holdout).
        threads: LightGBM threads. One: on a loaded 2-core machine two OpenMP threads took
            59 s where one took 13 s (they spin waiting for each other).
        profile: Profile whose label, costs and risk rules the training uses.
    """

    strength: float = 3.0
    train_days: int = 6
    train_seed: int = 11
    replay_days: int = 2
    replay_seed: int = 20_260
    replay_start: str = "2024-03-04"
    folds: int = 2
    threads: int = 1
    profile: str = "demo"

    def key(self) -> str:
        """A short stable name for this recipe's cache directory."""
        blob = json.dumps({"v": CACHE_VERSION, **asdict(self)}, sort_keys=True)
        return f"v{CACHE_VERSION}-{hashlib.sha256(blob.encode()).hexdigest()[:12]}"


RECIPE = DemoRecipe()


@dataclass(frozen=True, slots=True)
class DemoAssets:
    """A ready demo: where the model and the replay bars are, and what training found.

    Attributes:
        root: The cache directory holding both.
        model: The model directory (pass it to ``scalpdesk live --model``).
        replay: The simulator's bars (pass it to ``scalpdesk live --sim-data``).
        info: Contents of ``demo.json`` (recipe, pattern, out-of-sample figures).
        built: True when this call trained the model (False: taken from the cache).
    """

    root: Path
    model: Path
    replay: Path
    info: dict[str, Any] = field(default_factory=dict)
    built: bool = False

    def describe(self) -> list[str]:
        """What the demo trades on, in words (printed by ``scalpdesk demo``)."""
        i = self.info
        oos = i.get("out_of_sample", {})
        share = oos.get("share_at_floor")
        lines = [
            f"data: SYNTHETIC MES 1-second bars with a planted pattern, strength "
            f"{i.get('recipe', {}).get('strength', '?')} (1 = the documented weak pattern): "
            f"{i.get('pattern', '')}",
            f"model: LightGBM trained on {i.get('train_rows', 0):,} bars (seed "
            f"{i.get('recipe', {}).get('train_seed')}); the simulator replays other bars "
            f"(seed {i.get('recipe', {}).get('replay_seed')}, from "
            f"{i.get('recipe', {}).get('replay_start')}), so every trade is out of sample",
        ]
        if share is not None:
            lines.append(
                f"out of sample, {share:.0%} of bars had a calibrated UP/DOWN confidence at or "
                f"above the profile's {oos.get('floor', 0.6):.0%} floor "
                f"({oos.get('trades', 0)} backtested trades, {oos.get('expectancy', 0.0):+.2f} $/trade"
                f" after costs)")
        if i.get("verdict"):
            lines.append(f"training verdict: {i['verdict']}")
        lines.append("a planted pattern is not a market: this shows the machinery, not an edge")
        return lines


def demo_cache_dir() -> Path:
    """``$SCALPDESK_HOME/cache/demo`` (default ``~/.scalpdesk/cache/demo``)."""
    from core.profile_files import scalpdesk_home
    return scalpdesk_home() / "cache" / "demo"


def _is_complete(root: Path) -> bool:
    """Whether ``root`` holds a finished build whose model this version can load."""
    from core.ml.artifacts import ARTIFACT_VERSION
    try:
        info = json.loads((root / "demo.json").read_text(encoding="utf-8"))
        config = json.loads((root / MODEL_NAME / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (info.get("cache_version") == CACHE_VERSION
            and config.get("artifact_version") == ARTIFACT_VERSION
            and (root / "replay.parquet").is_file())


def load_demo_assets(root: Path) -> DemoAssets | None:
    """The assets in ``root`` when complete, else None."""
    if not _is_complete(root):
        return None
    info = json.loads((root / "demo.json").read_text(encoding="utf-8"))
    return DemoAssets(root=root, model=root / MODEL_NAME, replay=root / "replay.parquet",
                      info=info)


def ensure_demo_model(cache_dir: Path | None = None, *, recipe: DemoRecipe = RECIPE,
                      fresh: bool = False, progress: Progress = None) -> DemoAssets:
    """Return the demo model and replay bars, training them first if the cache lacks them.

    Args:
        cache_dir: Where demo builds live (default :func:`demo_cache_dir`); each recipe gets
            its own subdirectory.
        recipe: How to build (tests use a smaller one).
        fresh: Rebuild even when a cached build exists (the old one is replaced atomically).
        progress: Called with one line per step while building (nothing when cached).

    Returns:
        The assets; ``built`` says whether this call trained.

    Raises:
        ModelError: The build failed (nothing is left in the cache).
    """
    if recipe.replay_seed == recipe.train_seed:
        raise ModelError("the demo's replay seed equals its training seed",
                         hint="the replay must come from another seed so trades are out of sample")
    base = Path(cache_dir) if cache_dir is not None else demo_cache_dir()
    root = base / recipe.key()
    if not fresh:
        found = load_demo_assets(root)
        if found is not None:
            return found
    say = progress or (lambda _line: None)
    base.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", suffix=".tmp", dir=base))
    try:
        info = _build(tmp, recipe, say)
        _publish(tmp, root)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, CoreError | KeyboardInterrupt | SystemExit):
            raise
        raise ModelError(f"building the demo model in {base} failed: {exc}",
                         hint="run `scalpdesk demo --fresh` to retry; check free disk space") from exc
    return DemoAssets(root=root, model=root / MODEL_NAME, replay=root / "replay.parquet",
                      info=info, built=True)


def _publish(tmp: Path, root: Path) -> None:
    """Rename the finished build into place (replacing an older build of the same recipe)."""
    if root.exists():
        # Move the old one aside first: a rename onto a non-empty directory fails.
        old = root.with_name(f".{root.name}.old-{os.getpid()}")
        try:
            os.replace(root, old)
        except OSError:
            old = None  # type: ignore[assignment]
        try:
            os.replace(tmp, root)
        except OSError:
            # Another process published the same recipe meanwhile: theirs is as good as ours.
            shutil.rmtree(tmp, ignore_errors=True)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return
    try:
        os.replace(tmp, root)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not _is_complete(root):
            raise


def _build(tmp: Path, recipe: DemoRecipe, say: Callable[[str], None]) -> dict[str, Any]:
    """Generate, train, measure and write everything into ``tmp``; return demo.json's content."""
    from core.config import load_profile
    from core.datasets.synth import PLANTED_PATTERN, generate, write_parquet
    from core.training.pipeline import TrainRequest, train

    t0 = time.perf_counter()
    say(f"generating {recipe.train_days} days of synthetic MES 1-second bars "
        f"(planted pattern, strength {recipe.strength:g}, seed {recipe.train_seed})")
    frame = generate(recipe.train_days, seed=recipe.train_seed, planted=True,
                     strength=recipe.strength, rth_only=True)
    say(f"training LightGBM on {len(frame):,} bars ({recipe.folds} walk-forward folds + holdout)")
    prof = load_profile(recipe.profile)
    req = TrainRequest(profile=prof, model_kind="lightgbm", folds=recipe.folds,
                       seed=recipe.train_seed, num_threads=recipe.threads)
    out = train(frame, 1, req, name=MODEL_NAME, models_dir=tmp,
                data_source=f"synthetic {recipe.train_days} days (planted pattern, strength "
                            f"{recipe.strength:g}, seed {recipe.train_seed}, RTH only)")
    last = frame["timestamp"].iloc[-1]
    say(f"generating {recipe.replay_days} replay days (seed {recipe.replay_seed}, from "
        f"{recipe.replay_start})")
    replay = generate(recipe.replay_days, seed=recipe.replay_seed, planted=True,
                      strength=recipe.strength, rth_only=True, start=recipe.replay_start)
    if int(replay["timestamp"].iloc[0]) <= int(last):
        raise ModelError(f"the demo replay starts {recipe.replay_start}, inside the training bars",
                         hint="choose a replay_start after the training days")
    write_parquet(replay, tmp / "replay.parquet")
    floor = float(prof.risk.min_confidence)
    info = {
        "cache_version": CACHE_VERSION,
        "recipe": asdict(recipe),
        "pattern": PLANTED_PATTERN,
        "train_rows": int(len(frame)),
        "train_end_ns": int(last),
        "replay_rows": int(len(replay)),
        "verdict": out.summary.verdict,
        "out_of_sample": _oos_figures(out.results, floor),
        "build_seconds": round(time.perf_counter() - t0, 1),
    }
    (tmp / "demo.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    say(f"demo model ready ({info['build_seconds']:.0f} s)")
    return info


def _oos_figures(results: list[Any], floor: float) -> dict[str, Any]:
    """Share of out-of-sample bars (walk-forward test folds) at or above the floor, and trades.

    The share counts bars whose calibrated top class is UP or DOWN with confidence >= floor —
    the bars the risk kernel would consider for an entry.
    """
    bars = at_floor = trades = 0
    pnl = 0.0
    for r in results:
        if r.is_holdout or not r.diagnostics:
            continue
        bars += len(r.diagnostics["confidence"])
        at_floor += int(np.count_nonzero(r.diagnostics["dir_confidence"] >= floor))
        if r.trading is not None:
            trades += int(r.trading.trades)
            pnl += float(r.trading.net_pnl)
    return {"floor": floor, "bars": bars, "bars_at_floor": at_floor,
            "share_at_floor": at_floor / bars if bars else 0.0, "trades": trades,
            "expectancy": pnl / trades if trades else 0.0}
