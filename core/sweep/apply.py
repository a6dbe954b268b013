"""Turn one trial's parameter values into what runs: a checked profile, strategy knobs, model
hyperparameters.

Profile values go through the profile loader itself (:func:`core.config.profile_from_dict`),
so a trial is held to exactly the rules a hand-edited profile is: a combination such as
``risk.max_risk_per_trade`` above ``risk.max_daily_loss`` is refused with the loader's own
message, and the trial is recorded as *invalid* instead of trading under limits that
silently switch a rule off.
"""

from __future__ import annotations

from typing import Any

from core.config import Profile, profile_from_dict, profile_to_dict
from core.sweep.space import PROFILE_SECTIONS

_SECTIONS = ("costs", "risk", "schedule", "topstep", "strategy", "label", "venue")


def split_params(params: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """``(profile values, signal knobs, model hyperparameters)`` of one trial's parameters."""
    prof, sig, model = {}, {}, {}
    for key, value in params.items():
        section, _, name = key.partition(".")
        if section in PROFILE_SECTIONS:
            prof[key] = value
        elif section == "signal":
            sig[name] = value
        elif section == "model":
            model[name] = value
    return prof, sig, model


def _clean(x: Any) -> Any:
    """A profile dict as TOML would hold it: no None values, lists instead of tuples."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items() if v is not None}
    if isinstance(x, (list, tuple)):
        return [_clean(v) for v in x]
    return x


def profile_raw(profile: Profile) -> dict[str, Any]:
    """The TOML-shaped mapping of a loaded profile (what ``profile_from_dict`` reads)."""
    d = profile_to_dict(profile)
    raw: dict[str, Any] = {"profile": {"name": d["name"], "description": d["description"],
                                       "instrument": d["instrument"]}}
    for s in _SECTIONS:
        if d.get(s) is not None:
            raw[s] = _clean(d[s])
    return raw


def apply_profile(profile: Profile, values: dict[str, Any], *, source: str) -> Profile:
    """``profile`` with dotted ``values`` set, checked by the profile loader.

    Args:
        profile: The base profile.
        values: ``{"strategy.stop_ticks": 10, ...}`` (profile sections only).
        source: Names the trial in error messages (e.g. ``"space.toml, trial 17"``).

    Raises:
        ConfigError: The combination breaks a profile rule (the message names the key).
    """
    if not values:
        return profile
    raw = profile_raw(profile)
    for key, value in values.items():
        section, _, name = key.partition(".")
        raw.setdefault(section, {})[name] = plain(value)
    return profile_from_dict(raw, source=source, path=profile.path, extends=profile.extends)


def plain(value: Any) -> Any:
    """numpy scalars → Python scalars (the profile checks ``isinstance(value, int)``)."""
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value
