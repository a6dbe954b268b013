"""Where profiles live and how their files combine: shipped, user, ``extends``.

* **Shipped** profiles (``profiles/*.toml`` in the project, or ``$SCALPDESK_PROFILES``) are
  read-only at run time: they are tracked files and other users' defaults.
* **User** profiles live in the user profile directory, ``$SCALPDESK_HOME/profiles`` —
  ``~/.scalpdesk/profiles`` by default — never inside the checkout.
* A profile may start with ``extends = "account_1k"`` (a profile name or a path relative to
  the file) and hold only what it changes: tables merge key by key; arrays of tables (size
  tiers, loss pauses) replace the base's whole array.

This module only reads, merges and writes files; :mod:`core.config` checks the values.
"""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path
from typing import Any

from core.errors import ConfigError

#: The shipped profiles (read-only); overridable for tests and installs.
SHIPPED_DIR = Path(os.environ.get("SCALPDESK_PROFILES",
                                  Path(__file__).resolve().parents[1] / "profiles"))
#: How deep ``extends`` may chain (a → b → c …) before it is taken for a mistake.
MAX_EXTENDS_DEPTH = 8
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def scalpdesk_home() -> Path:
    """``$SCALPDESK_HOME``, else ``~/.scalpdesk`` (the user's own files, never the checkout)."""
    env = os.environ.get("SCALPDESK_HOME")
    return Path(env).expanduser() if env else Path.home() / ".scalpdesk"


def user_profiles_dir() -> Path:
    """The user profile directory: ``$SCALPDESK_HOME/profiles`` (default ``~/.scalpdesk/profiles``)."""
    return scalpdesk_home() / "profiles"


def is_shipped(path: Path) -> bool:
    """Whether ``path`` is one of the shipped (read-only) profile files."""
    try:
        return Path(path).resolve().parent == SHIPPED_DIR.resolve()
    except OSError:
        return False


def known_names() -> list[str]:
    """Every profile name: user profiles and shipped ones (sorted, unique)."""
    names: set[str] = set()
    for d in (user_profiles_dir(), SHIPPED_DIR):
        if d.is_dir():
            names.update(p.stem for p in d.glob("*.toml"))
    return sorted(names)


def find(name_or_path: str | Path, *, relative_to: Path | None = None) -> Path | None:
    """The file of a profile name or path, or None.

    Order: an existing path as given (or relative to ``relative_to``, for ``extends``), then
    ``NAME.toml`` in the current directory, then the user directory, then the shipped one.
    """
    p = Path(name_or_path).expanduser()
    if p.suffix:
        candidates = [p] + ([relative_to / p] if relative_to and not p.is_absolute() else [])
    else:
        candidates = [p.with_suffix(".toml"), user_profiles_dir() / f"{p.name}.toml",
                      SHIPPED_DIR / f"{p.name}.toml"]
        if relative_to is not None:
            candidates.insert(0, relative_to / f"{p.name}.toml")
    return next((c for c in candidates if c.is_file()), None)


def read_toml(path: Path) -> dict[str, Any]:
    """One profile file as parsed TOML (no merging).

    Raises:
        ConfigError: Not valid TOML (the message names the file and the parser's line).
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}",
                          hint="check quotes, brackets and '=' on the line shown") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text", hint="save the profile as UTF-8") from None


def merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """``child`` over ``base``: tables merge key by key, everything else is replaced."""
    out = dict(base)
    for key, value in child.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


def read_merged(path: Path, _chain: tuple[Path, ...] = ()) -> tuple[dict[str, Any], list[Path]]:
    """A profile file with its ``extends`` chain merged in.

    Returns:
        ``(merged TOML mapping without 'extends', [path, base, base's base, …])``.

    Raises:
        ConfigError: Bad TOML, a missing or circular base, or a chain deeper than
            :data:`MAX_EXTENDS_DEPTH`.
    """
    return merge_extends(read_toml(path), path, _chain)


def merge_extends(raw: dict[str, Any], path: Path, _chain: tuple[Path, ...] = ()
                  ) -> tuple[dict[str, Any], list[Path]]:
    """:func:`read_merged` for an already-parsed mapping of the file ``path`` (edited text)."""
    raw = dict(raw)
    base_ref = raw.pop("extends", None)
    chain = [path]
    if base_ref is None:
        return raw, chain
    if not isinstance(base_ref, str) or not base_ref.strip():
        raise ConfigError(f"{path}: extends: expected a profile name such as \"account_1k\", "
                          f"got {base_ref!r}", hint='write extends = "account_1k" at the top')
    if len(_chain) >= MAX_EXTENDS_DEPTH:
        raise ConfigError(f"{path}: extends: more than {MAX_EXTENDS_DEPTH} profiles deep",
                          hint="extend a shipped profile directly")
    base = find(base_ref, relative_to=path.parent)
    if base is None:
        import difflib
        close = difflib.get_close_matches(base_ref, known_names(), n=1, cutoff=0.6)
        raise ConfigError(
            f"{path}: extends: profile not found: {base_ref}"
            + (f" (did you mean '{close[0]}'?)" if close else ""),
            hint=f"extend one of: {', '.join(known_names()) or '(none)'}")
    seen = {p.resolve() for p in (*_chain, path)}
    if base.resolve() in seen:
        raise ConfigError(f"{path}: extends: {base_ref} leads back to {path.name} (a circle)",
                          hint="extend a shipped profile instead")
    base_raw, base_chain = read_merged(base, (*_chain, path))
    head = base_raw.get("profile")
    if isinstance(head, dict):  # a profile's name is its own (the file's stem by default)
        head.pop("name", None)
    return merge(base_raw, raw), chain + base_chain


def check_new_name(name: str) -> None:
    """A user profile name: letters, digits, ``_`` and ``-``; not the name of a shipped one.

    Raises:
        ConfigError: The name is unusable or would shadow a shipped profile.
    """
    if not _NAME_RE.match(name):
        raise ConfigError(f"profile name {name!r} is not usable",
                          hint="use letters, digits, '_' and '-', e.g. mine or account_1k_tight")
    if (SHIPPED_DIR / f"{name}.toml").is_file():
        raise ConfigError(f"{name} is the name of a shipped profile",
                          hint=f"pick another name, e.g. {name}_mine")


def new_profile_text(name: str, base: str, description: str | None = None) -> str:
    """The TOML of a new user profile that extends ``base`` and changes nothing yet."""
    desc = description or f"{base} with my changes"
    return (f"# scalpdesk user profile {name!r}, created from {base}.\n"
            f"# Only what you change lives here; every other setting comes from {base}\n"
            f"# (`scalpdesk profile show {name}` prints them all).\n"
            f"# Change a value:  scalpdesk profile set {name} risk.max_daily_loss 40\n"
            f"extends = {_quote(base)}\n\n"
            f"[profile]\nname = {_quote(name)}\ndescription = {_quote(desc)}\n")


def _quote(text: str) -> str:
    import json
    return json.dumps(text, ensure_ascii=False)


def write_atomic(path: Path, text: str, *, exclusive: bool = False) -> None:
    """Write ``text`` through a temp file and a rename (never half a file).

    Args:
        path: Target file.
        text: Its new content.
        exclusive: Refuse to replace an existing file (``profile new``).

    Raises:
        ConfigError: ``exclusive`` and the file exists.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    if exclusive:
        try:
            os.link(tmp, path)  # atomic "create if absent"
        except FileExistsError:
            tmp.unlink(missing_ok=True)
            raise ConfigError(f"profile {path.stem} already exists: {path}",
                              hint=f"change it with `scalpdesk profile set {path.stem} KEY VALUE`, "
                                   "or pick another name") from None
        tmp.unlink(missing_ok=True)
        return
    os.replace(tmp, path)


def render_toml(prof: Any) -> str:
    """Every setting of a loaded profile as valid, commented TOML (``profile show``).

    Each value set neither in the file nor in a base is marked ``# default``; a value that
    comes from the extended profile is marked ``# from BASE``. Unset optional values and
    unused sections are shown as comments, since TOML has no "none". Loading the output as
    a profile gives the same settings.
    """
    import dataclasses

    import tomlkit

    own: dict[str, Any] = read_toml(prof.path) if prof.path else {}
    own.pop("extends", None)
    inherited: dict[str, Any] = {}
    if prof.extends and prof.path:
        base = find(prof.extends, relative_to=prof.path.parent)
        inherited = read_merged(base)[0] if base else {}
    shipped = bool(prof.path) and is_shipped(prof.path)

    def origin(section: str, key: str) -> str | None:
        if key in (own.get(section) or {}):
            return None
        if key in (inherited.get(section) or {}):
            return f"from {prof.extends}"
        return "default"

    doc = tomlkit.document()
    doc.add(tomlkit.comment(f"profile {prof.name}: {prof.description}"))
    where = "shipped, read-only" if shipped else "user profile" if prof.path else "built in"
    doc.add(tomlkit.comment(f"file: {prof.path} ({where})"))
    if prof.extends:
        doc.add(tomlkit.comment(f"extends {prof.extends}: lines marked 'from {prof.extends}' "
                                "come from it"))
    doc.add(tomlkit.comment("every setting, defaults included; valid TOML that loads as this "
                            "profile (see profiles/README.md for each key)"))
    head = tomlkit.table()
    for key in ("name", "description", "instrument"):
        head.add(key, getattr(prof, key))
    doc.add("profile", head)
    for section in ("costs", "risk", "schedule", "topstep", "strategy", "label", "venue"):
        obj = getattr(prof, section)
        if obj is None:
            doc.add(tomlkit.nl())
            doc.add(tomlkit.comment(f"[{section}] is not used by this profile"))
            continue
        tab = tomlkit.table()
        doc_line = (type(obj).__doc__ or "").strip().splitlines()[0]
        tab.comment(doc_line)
        arrays = []
        for f in dataclasses.fields(obj):
            value, mark = getattr(obj, f.name), origin(section, f.name)
            if value is None:
                tab.add(tomlkit.comment(f"{f.name} is not set" + (f" ({mark})" if mark else "")))
            elif isinstance(value, tuple):
                arrays.append((f.name, value, mark))
            else:
                item = tomlkit.item(value)
                if mark:
                    item.comment(mark)
                tab.add(f.name, item)
        for name, rows, mark in arrays:  # after the plain keys: TOML needs them last
            if not rows:
                item = tomlkit.array()
                if mark:
                    item.comment(mark)
                tab.add(name, item)
                continue
            aot = tomlkit.aot()
            for row in rows:
                t = tomlkit.table()
                for rf in dataclasses.fields(row):
                    t.add(rf.name, getattr(row, rf.name))
                aot.append(t)
            if mark:
                tab.add(tomlkit.comment(f"{name}: {mark}"))
            tab.add(name, aot)
        doc.add(tomlkit.nl())
        doc.add(section, tab)
    return tomlkit.dumps(doc)
