"""Create and load models by kind (the only place that knows every model class)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.errors import ModelError
from core.ml.base import MODEL_KINDS, Model, read_json


def make_model(kind: str, *, params: dict[str, Any] | None = None, seed: int = 7,
               num_threads: int = 1, device: str = "cpu", checkpoint_dir: Path | None = None,
               resume: bool = False) -> Model:
    """A fresh, untrained model of ``kind`` (see :data:`MODEL_KINDS`).

    ``params`` go to the model's constructor (LightGBM: ``params``/``num_boost_round``/...;
    torch: ``epochs``, ``window``, ``lr``, ``arch``...).
    """
    params = dict(params or {})
    try:
        if kind == "lightgbm":
            from core.ml.lgbm import LightGBMModel
            if device != "cpu":
                raise ModelError("LightGBM here trains on the CPU only", hint="drop --device")
            return LightGBMModel(seed=seed, num_threads=num_threads, **params)
        if kind in MODEL_KINDS:
            from core.ml.torch_model import TorchModel
            return TorchModel(kind, seed=seed, num_threads=num_threads, device=device,
                              checkpoint_dir=checkpoint_dir, resume=resume, **params)
    except TypeError as exc:
        raise ModelError(f"unknown parameter for a {kind} model: {exc}",
                         hint="check the model parameters (e.g. epochs, window, lr for nets; "
                              "num_boost_round, params for lightgbm)") from None
    raise ModelError(f"unknown model kind {kind!r}", hint=f"use one of {', '.join(MODEL_KINDS)}")


def load_model(directory: Path, device: str = "cpu") -> Model:
    """Load a model saved by ``model.save(directory)``."""
    directory = Path(directory)
    kind = read_json(directory / "model_config.json").get("kind")
    if kind == "lightgbm":
        from core.ml.lgbm import LightGBMModel
        return LightGBMModel.load(directory)
    if kind in MODEL_KINDS:
        from core.ml.torch_model import TorchModel
        return TorchModel.load(directory, device=device)
    raise ModelError(f"{directory}: unknown model kind {kind!r}",
                     hint="the artifact was written by a newer/older version; retrain it")
