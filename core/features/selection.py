"""A model's own columns: a researcher's chosen subset of a feature set.

``scalpdesk train --features LIST`` fits on some columns of a feature set only (a
hypothesis such as "a volume burst continues the bar's direction" is
``ret_1m,bar_dir,volume_rel_1h``). The feature set is still computed whole — the same
kernel, batch and streaming — and the model reads its columns by position, so live
inference, the backtest and ``train --update`` give the numbers training saw.

Why this exists (issue 11): with all 49 columns LightGBM finds a 1.4 %-of-bars volume
trigger on 4 of 20 bench seeds; shown the trigger's inputs it finds it on 17 of 20, and
noise still reads "no edge" (README → Research). Each list tried is a trial in the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from core.errors import ConfigError, ModelError

#: Prefix that names a whole group (``group:microstructure``); a bare group name works too.
GROUP_PREFIX = "group:"


def parse_feature_list(text: str | Sequence[str] | None) -> list[str] | None:
    """``"a, b,c"`` → ``["a", "b", "c"]``; None/empty → None (all columns)."""
    if text is None:
        return None
    items = text.split(",") if isinstance(text, str) else list(text)
    out = [s.strip() for s in items if s and s.strip()]
    return out or None


def resolve_features(feature_set: str, wanted: Sequence[str]) -> list[str]:
    """The columns of ``feature_set`` that ``wanted`` names, in the set's own order.

    Args:
        feature_set: A registered feature set (``default``, ``default_1m``, ``crypto_1m``).
        wanted: Feature names and/or group names (``microstructure`` or
            ``group:microstructure``).

    Raises:
        ConfigError: An item names no feature or group of the set (the message lists them).
    """
    from core.features.registry import feature_defs

    defs = feature_defs(feature_set)
    names = [d.name for d in defs]
    groups: dict[str, list[str]] = {}
    for d in defs:
        groups.setdefault(d.group, []).append(d.name)
    chosen: set[str] = set()
    unknown: list[str] = []
    for item in wanted:
        key = item[len(GROUP_PREFIX):] if item.startswith(GROUP_PREFIX) else item
        if item in names:
            chosen.add(item)
        elif key in groups:
            chosen.update(groups[key])
        else:
            unknown.append(item)
    if unknown:
        raise ConfigError(
            f"--features: {', '.join(repr(u) for u in unknown)} "
            f"{'is' if len(unknown) == 1 else 'are'} not in the feature set {feature_set!r}",
            hint=f"use names from: {', '.join(names)}; or groups: {', '.join(groups)}")
    if not chosen:
        raise ConfigError("--features names no column", hint="e.g. --features ret_1m,bar_dir")
    return [n for n in names if n in chosen]


def column_index(set_names: Sequence[str], model_names: Sequence[str], *, subset: bool,
                 where: str) -> np.ndarray | None:
    """Positions of a model's columns in its feature set's row; None when it uses them all.

    Args:
        set_names: The feature set's columns as computed today.
        model_names: The columns the model was fitted on (its config's ``feature_names``).
        subset: True when the model was trained with ``--features`` (a chosen subset).
        where: The model's path, for the message.

    Raises:
        ModelError: The set changed since training (a whole-set model's columns differ, or a
            chosen column no longer exists).
    """
    set_names, model_names = list(set_names), list(model_names)
    if not subset:
        if set_names != model_names:
            raise ModelError(f"{where}: the feature set changed since this model was trained",
                             hint="retrain the model with `scalpdesk train`")
        return None
    pos = {n: i for i, n in enumerate(set_names)}
    missing = [n for n in model_names if n not in pos]
    if missing:
        raise ModelError(f"{where}: its features {', '.join(missing)} are no longer in the "
                         "feature set", hint="retrain the model with `scalpdesk train`")
    return np.array([pos[n] for n in model_names], dtype=np.int64)
