"""`train --features`: resolving a researcher's feature list and mapping a saved model's columns
onto its feature set's row (core.features.selection)."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ConfigError, ModelError
from core.features.registry import feature_defs, feature_names
from core.features.selection import column_index, parse_feature_list, resolve_features


def test_parse_splits_commas_and_drops_blanks() -> None:
    assert parse_feature_list(" ret_1m, bar_dir ,,volume_rel_1h ") == \
        ["ret_1m", "bar_dir", "volume_rel_1h"]
    assert parse_feature_list(None) is None
    assert parse_feature_list(" , ") is None


def test_names_come_back_in_the_sets_own_order_without_duplicates() -> None:
    got = resolve_features("default_1m", ["volume_rel_1h", "ret_1m", "bar_dir", "ret_1m"])
    assert got == ["ret_1m", "bar_dir", "volume_rel_1h"]


@pytest.mark.parametrize("item", ["microstructure", "group:microstructure"])
def test_a_group_name_selects_the_whole_group(item: str) -> None:
    want = [d.name for d in feature_defs("default_1m") if d.group == "microstructure"]
    assert resolve_features("default_1m", [item]) == want
    assert resolve_features("default_1m", [item, "ret_1m"]) == ["ret_1m", *want]


def test_unknown_names_are_named_with_the_valid_choices() -> None:
    with pytest.raises(ConfigError) as e:
        resolve_features("default_1m", ["ret_1m", "volume_z", "nope"])
    msg = str(e.value) + " " + (e.value.hint or "")
    assert "'volume_z'" in msg and "'nope'" in msg and "default_1m" in msg
    assert "volume_rel_1h" in msg and "microstructure" in msg   # what to use instead
    # A 1-second name on 1-minute bars is not silently mapped to a neighbour.
    with pytest.raises(ConfigError, match="ret_1s"):
        resolve_features("default_1m", ["ret_1s"])
    # Calendar features do not exist in the 24/7 crypto set.
    with pytest.raises(ConfigError, match="tod_sin"):
        resolve_features("crypto_1m", ["tod_sin"])


def test_column_index_of_a_whole_set_model_is_none_and_checks_equality() -> None:
    names = feature_names("default_1m")
    assert column_index(names, names, subset=False, where="m") is None
    with pytest.raises(ModelError, match="changed"):
        column_index(names, names[:-1], subset=False, where="m")


def test_column_index_maps_a_subset_and_refuses_a_vanished_column() -> None:
    names = feature_names("default_1m")
    idx = column_index(names, ["ret_1m", "bar_dir", "volume_rel_1h"], subset=True, where="m")
    row = np.arange(len(names), dtype=np.float64)
    assert [names[int(i)] for i in row[idx]] == ["ret_1m", "bar_dir", "volume_rel_1h"]
    with pytest.raises(ModelError, match="volume_z") as e:
        column_index(names, ["ret_1m", "volume_z"], subset=True, where="models/vb")
    assert "models/vb" in str(e.value)
