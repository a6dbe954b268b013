"""The demo's model cache (core.training.demo_model): built once, atomically, out of sample."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from core.errors import ModelError
from core.training import demo_model
from core.training.demo_model import DemoRecipe, ensure_demo_model, load_demo_assets

#: Small enough to train in a few seconds; same process as the shipped recipe.
SMALL = DemoRecipe(train_days=3, replay_days=2, folds=2, threads=1)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory,
          ) -> tuple[Path, demo_model.DemoAssets, list[str]]:
    cache = tmp_path_factory.mktemp("demo-cache")
    lines: list[str] = []
    return cache, ensure_demo_model(cache, recipe=SMALL, progress=lines.append), lines


def test_build_is_complete_and_out_of_sample(built) -> None:
    cache, assets, lines = built
    assert assets.built and lines and "strength 3" in lines[0]
    assert (assets.model / "config.json").is_file() and assets.replay.is_file()
    info = json.loads((assets.root / "demo.json").read_text())
    assert info["recipe"]["strength"] == SMALL.strength
    assert info["recipe"]["replay_seed"] != info["recipe"]["train_seed"]
    # the replay starts after the training bars end (and comes from another seed)
    replay = pd.read_parquet(assets.replay)
    assert int(replay["timestamp"].iloc[0]) > info["train_end_ns"]
    oos = info["out_of_sample"]
    assert oos["floor"] == 0.60 and oos["bars"] > 0 and 0 < oos["share_at_floor"] < 1
    text = "\n".join(assets.describe())
    assert "SYNTHETIC" in text and "planted pattern, strength 3.0" in text
    # nothing but the finished build in the cache directory (no temp leftovers)
    assert [p.name for p in cache.iterdir()] == [SMALL.key()]


def test_second_call_uses_the_cache(built) -> None:
    cache, first, _ = built
    lines: list[str] = []
    again = ensure_demo_model(cache, recipe=SMALL, progress=lines.append)
    assert not again.built and not lines and again.model == first.model


def test_a_failed_build_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(tmp: Path, recipe: DemoRecipe, say) -> dict:
        (tmp / "model").mkdir()
        (tmp / "replay.parquet").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(demo_model, "_build", boom)
    with pytest.raises(ModelError, match="disk full"):
        ensure_demo_model(tmp_path, recipe=SMALL)
    assert list(tmp_path.iterdir()) == []


def test_an_incomplete_directory_is_not_a_cache(tmp_path: Path) -> None:
    root = tmp_path / SMALL.key()
    (root / demo_model.MODEL_NAME).mkdir(parents=True)
    (root / "replay.parquet").write_bytes(b"x")
    assert load_demo_assets(root) is None


def test_replay_seed_must_differ(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="replay seed"):
        ensure_demo_model(tmp_path, recipe=DemoRecipe(train_seed=5, replay_seed=5))
