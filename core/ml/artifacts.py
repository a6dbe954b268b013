"""Model artifacts on disk: ``models/NAME/`` (layout documented in ``models/README.md``).

::

    models/NAME/
      model/              the learner's own files (model.txt | weights.pt, model_config.json[, scaler.json])
      calibration.json    probability calibrator fitted on the final validation period
      scaler.json         feature scaler fitted on the final training rows (nets use it;
                          for trees it records the training distribution for drift checks)
      config.json         what inference needs: features, label, classes, class moves, bar size
      model_card.json     provenance: data span + hash, features + versions, label, parameters,
                          per-fold metrics, the verdict, library versions, code revision
      report.txt          the training report as printed

A directory is written to a temp sibling and renamed into place (never half-written).
"""

from __future__ import annotations

import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from core.domain import Prediction
from core.errors import ModelError
from core.ml.base import Model, atomic_dir, read_json, write_json
from core.ml.calibration import Calibrator
from core.ml.registry import load_model

#: Bumped when the layout changes incompatibly.
ARTIFACT_VERSION = 1


def default_models_dir() -> Path:
    """``$SCALPDESK_MODELS`` or ``models/`` in the project."""
    import os
    return Path(os.environ.get("SCALPDESK_MODELS", Path(__file__).resolve().parents[2] / "models"))


def library_versions() -> dict[str, str]:
    """Versions of the libraries a model's numbers depend on."""
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "pandas", "lightgbm", "scikit-learn", "torch", "dask", "distributed"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            pass
    return out


def code_revision() -> str | None:
    """``git rev-parse HEAD`` of the checkout (None outside git), ``+dirty`` if modified."""
    root = Path(__file__).resolve().parents[2]
    try:
        rev = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "core"], cwd=root,
                               capture_output=True, text=True, timeout=5).stdout.strip()
        return rev + ("+dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def save_artifact(path: Path, *, model: Model, calibrator: Calibrator, scaler: Any,
                  config: dict[str, Any], card: dict[str, Any], report: str) -> Path:
    """Write a complete model directory atomically (replacing an older one)."""

    def fill(tmp: Path) -> None:
        (tmp / "model").mkdir()
        model.save(tmp / "model")
        write_json(tmp / "calibration.json", calibrator.to_dict())
        write_json(tmp / "scaler.json", scaler.to_dict())
        write_json(tmp / "config.json", {**config, "artifact_version": ARTIFACT_VERSION})
        write_json(tmp / "model_card.json", card)
        (tmp / "report.txt").write_text(report + "\n", encoding="utf-8")

    atomic_dir(Path(path), fill)
    return Path(path)


@dataclass
class Bundle:
    """A loaded model directory: model + calibrator + config, ready to predict."""

    path: Path
    model: Model
    calibrator: Calibrator
    scaler: Any  #: core.features.Normalizer
    config: dict[str, Any]
    card: dict[str, Any]

    @property
    def classes(self) -> np.ndarray:
        """Class values in probability-column order."""
        return np.asarray(self.model.classes)

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Calibrated probabilities for a batch of feature rows."""
        return self.calibrator.apply(self.model.predict_proba(X))

    def to_prediction(self, ts: int, proba: np.ndarray) -> Prediction:
        """A :class:`~core.domain.Prediction` from one row of calibrated probabilities.

        ``predicted_move`` is Σ p(class) × mean training move of that class (ticks) and
        ``volatility`` Σ p(class) × mean absolute move (ticks over the label lookahead).
        """
        k = int(np.argmax(proba))
        moves = self.config["class_moves"]
        return Prediction(
            ts=int(ts), direction=int(np.sign(self.classes[k])), confidence=float(proba[k]),
            predicted_move=float(np.dot(proba, moves["mean"])),
            volatility=float(np.dot(proba, moves["abs"])),
            probabilities=tuple(float(p) for p in proba))


def load_artifact(path: Path, device: str = "cpu") -> Bundle:
    """Load ``models/NAME`` (or any model directory) for inference."""
    path = Path(path)
    if not path.is_dir():
        raise ModelError(f"{path}: no such model directory",
                         hint="list models with `scalpdesk models list`")
    from core.features import Normalizer

    config = read_json(path / "config.json")
    if config.get("artifact_version") != ARTIFACT_VERSION:
        raise ModelError(f"{path}: artifact version {config.get('artifact_version')} is not "
                         f"{ARTIFACT_VERSION}", hint="retrain the model with this version")
    return Bundle(path=path, model=load_model(path / "model", device=device),
                  calibrator=Calibrator.from_dict(read_json(path / "calibration.json")),
                  scaler=Normalizer.from_dict(read_json(path / "scaler.json")), config=config,
                  card=read_json(path / "model_card.json"))


def list_artifacts(root: Path | None = None) -> list[dict[str, Any]]:
    """One summary dict per model directory under ``root`` (bad ones flagged, not fatal)."""
    root = Path(root) if root else default_models_dir()
    out = []
    if not root.is_dir():
        return out
    for d in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if not (d / "model_card.json").is_file():
            continue
        try:
            card = read_json(d / "model_card.json")
            out.append({"name": d.name, "path": str(d), "kind": card.get("model", {}).get("kind"),
                        "instrument": card.get("data", {}).get("instrument"),
                        "label": card.get("label", {}).get("kind"),
                        "bar_seconds": card.get("data", {}).get("bar_seconds"),
                        "created": card.get("created"), "verdict": card.get("verdict", ""),
                        "edge": card.get("summary", {}).get("edge")})
        except ModelError as exc:
            out.append({"name": d.name, "path": str(d), "error": str(exc)})
    return out


def resolve_model_dir(model: str | Path) -> Path:
    """``models/NAME`` for a bare name, or the directory given (same rule as the backtester)."""
    path = Path(model)
    return path if path.is_dir() else default_models_dir() / str(model)


def model_bar_seconds(model: str | Path) -> int:
    """The bar size (seconds) a saved model was trained on, from its ``config.json``.

    Raises:
        ModelError: No such model, or its config lacks the bar size.
    """
    path = resolve_model_dir(model)
    if not (path / "config.json").is_file():
        raise ModelError(f"no model {str(model)!r} (looked in {path})",
                         hint="list models with `scalpdesk models list`, or pass a model directory")
    try:
        return int(read_json(path / "config.json")["bar_seconds"])
    except (KeyError, TypeError, ValueError):
        raise ModelError(f"{path / 'config.json'}: no bar_seconds recorded",
                         hint="retrain the model with `scalpdesk train`") from None
