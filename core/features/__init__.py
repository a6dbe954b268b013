"""Causal features with identical batch and streaming forms.

Public API::

    FEATURE_SET_VERSION                       # version of the feature machinery
    feature_names(feature_set="default")      # column names, in order
    feature_versions(feature_set="default")   # {name: int version}
    feature_defs(feature_set="default")       # FeatureDef per column (group, params, warm-up)
    required_history(feature_set="default")   # (bars, seconds) of history to warm up
    feature_set_for(bar_seconds)              # 'default' (1 s bars) or 'default_1m'
    compute_features(frame, feature_set="default", *, progress=None) -> (X float32, names)
    iter_features(frame, feature_set, *, chunk_rows) -> (first_row, X_chunk) ...  # bounded memory
    FeatureStream(feature_set="default").update(ts_ns, o, h, l, c, v) -> float32 row
    Normalizer().fit(X_train).transform(X)    # fitted on training folds only
    check_causal(feature_fn, frame, ...)      # lookahead detector (core.features.causality)

Feature sets: ``"default"`` targets 1-second bars, ``"default_1m"`` 1-minute bars,
``"crypto_1m"`` 24/7 1-minute bars without calendar features (see
``registry.py`` for every definition and its window in seconds or bars).
"""

from core.features.compute import FeatureStream, bar_arrays, compute_features, iter_features
from core.features.normalize import Normalizer
from core.features.registry import (
    FEATURE_SET_VERSION,
    FeatureDef,
    FeatureSetSpec,
    feature_defs,
    feature_set_for,
    feature_names,
    feature_set_fingerprint,
    feature_set_names,
    feature_set_spec,
    feature_versions,
    required_history,
)

__all__ = [
    "FEATURE_SET_VERSION", "FeatureDef", "FeatureSetSpec", "FeatureStream", "Normalizer",
    "bar_arrays", "compute_features", "iter_features", "feature_defs", "feature_names",
    "feature_set_fingerprint", "feature_set_for", "feature_set_names", "feature_set_spec", "feature_versions",
    "required_history",
]
