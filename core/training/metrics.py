"""Classification metrics that cannot be fooled by class imbalance (requirements §10).

Headline accuracy is deliberately absent: a model that always says FLAT scores 60 % on
MES 1-second bars. Balanced accuracy, per-class precision/recall, the *directional* AUC
(UP vs DOWN among bars that moved; one-vs-rest AUC also rewards predicting volatility,
which says nothing about direction), one-vs-rest AUC per class, log loss against the
no-skill prior, calibration error and the confusion matrix are reported.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from core.ml.calibration import expected_calibration_error

EPS = 1e-7


@dataclass
class ClassificationMetrics:
    """Out-of-sample classification quality of one fold."""

    n: int
    log_loss: float
    log_loss_prior: float  #: log loss of predicting the training class frequencies
    balanced_accuracy: float
    auc: float  #: directional AUC: UP vs DOWN among rows that moved (binary: the AUC)
    auc_by_class: dict[str, float]  #: one-vs-rest AUC per directional class
    precision: dict[str, float]
    recall: dict[str, float]
    support: dict[str, int]
    ece: float
    confusion: list[list[int]]  #: rows true class, columns predicted class
    classes: list[int] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return asdict(self)


CLASS_NAMES = {-1: "DOWN", 0: "FLAT", 1: "UP"}


def class_name(value: int) -> str:
    """DOWN / FLAT / UP for direction labels, the number otherwise."""
    return CLASS_NAMES.get(int(value), str(value))


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    if y.min() == y.max():
        return float("nan")
    return float(roc_auc_score(y, score))


def classification_metrics(proba: np.ndarray, y_idx: np.ndarray, classes: np.ndarray,
                           prior: np.ndarray | None = None) -> ClassificationMetrics:
    """All metrics for calibrated ``proba`` (n×K) against true indices ``y_idx``.

    Args:
        proba: Probabilities, columns in ``classes`` order.
        y_idx: True class indices.
        classes: Class values (``[-1, 0, 1]``).
        prior: Training class frequencies, for the no-skill log-loss reference.
    """
    y_idx = np.asarray(y_idx, dtype=np.int64)
    K = len(classes)
    n = len(y_idx)
    p_true = np.clip(proba[np.arange(n), y_idx], EPS, 1.0)
    ll = float(-np.mean(np.log(p_true))) if n else float("nan")
    if prior is None:
        prior = np.bincount(y_idx, minlength=K) / max(n, 1)
    ll_prior = float(-np.mean(np.log(np.clip(np.asarray(prior)[y_idx], EPS, 1.0)))) if n else float("nan")
    pred = proba.argmax(axis=1)
    conf = np.zeros((K, K), dtype=np.int64)
    np.add.at(conf, (y_idx, pred), 1)
    names = [class_name(c) for c in classes]
    support = conf.sum(axis=1)
    predicted = conf.sum(axis=0)
    recall = {names[k]: (float(conf[k, k] / support[k]) if support[k] else float("nan"))
              for k in range(K)}
    precision = {names[k]: (float(conf[k, k] / predicted[k]) if predicted[k] else float("nan"))
                 for k in range(K)}
    present = [r for k, r in enumerate(recall.values()) if support[k]]
    bal = float(np.mean(present)) if present else float("nan")
    auc_by: dict[str, float] = {}
    if n:
        if K == 2:
            auc_by[names[1]] = _auc((y_idx == 1).astype(int), proba[:, 1])
        else:
            for k, c in enumerate(classes):
                if c != 0:  # the directional classes are what a trader acts on
                    auc_by[names[k]] = _auc((y_idx == k).astype(int), proba[:, k])
    auc = float("nan")
    if n and K == 2:
        auc = auc_by[names[1]]
    elif n and -1 in list(classes) and 1 in list(classes):
        # One-vs-rest AUC of UP also rewards spotting *volatility* (UP and DOWN both beat
        # FLAT when the market is busy): the directional AUC asks only "up or down?".
        up, dn = list(classes).index(1), list(classes).index(-1)
        moved = (y_idx == up) | (y_idx == dn)
        if moved.any():
            auc = _auc((y_idx[moved] == up).astype(int), proba[moved, up] - proba[moved, dn])
    else:
        vals = [v for v in auc_by.values() if np.isfinite(v)]
        auc = float(np.mean(vals)) if vals else float("nan")
    return ClassificationMetrics(
        n=n, log_loss=ll, log_loss_prior=ll_prior, balanced_accuracy=bal,
        auc=auc, auc_by_class=auc_by,
        precision=precision, recall=recall,
        support={names[k]: int(support[k]) for k in range(K)},
        ece=expected_calibration_error(proba, y_idx) if n else float("nan"),
        confusion=conf.tolist(), classes=[int(c) for c in classes])
