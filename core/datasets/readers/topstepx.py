"""TopstepX (ProjectX Gateway) ``History/retrieveBars`` JSON reader.

Accepts the response envelope ``{"bars": [...], "success": true, "errorCode": 0, ...}`` or a
bare list of bars; each bar is ``{"t": ISO-8601 bar start, "o", "h", "l", "c", "v"}``.
Stamps may carry 7 fractional-second digits (``…T14:03:26.1199235+00:00``): arrow's ISO
parser takes them (nanosecond precision), no truncation needed.

The API documents **newest-first** order, so re-sorting oldest-first here is legitimate and
is said in the notes (unlike file readers, which never sort).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from core.datasets.readers._common import RawBars, to_categorical
from core.errors import DataError

_CONTRACT = re.compile(r"CON\.F\.US\.([A-Z0-9]+)\.([FGHJKMNQUVXZ])(\d{1,2})", re.I)


def read_topstepx_bars(path: Path, *, symbol: str | None, notes: list[str]) -> RawBars:
    """Read a retrieveBars response (or a bare list of bars) into arrays, oldest first.

    Raises:
        DataError: Not JSON, an unsuccessful response, or bars without the fields.
    """
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"{path}: not valid JSON ({exc})",
                        hint="save the raw History/retrieveBars response body") from None
    if isinstance(doc, dict):
        if doc.get("success") is False:
            raise DataError(f"{path}: the response reports failure (errorCode "
                            f"{doc.get('errorCode')}, {doc.get('errorMessage')!r})",
                            hint="request the bars again (1 = contract not found, 2/3 = bad "
                                 "unit, 4 = limit above 20,000)")
        bars = doc.get("bars")
        sym = symbol or _symbol_from(doc.get("contractId")) or _symbol_from(path.name)
    else:
        bars = doc
        sym = symbol or _symbol_from(path.name)
    if not isinstance(bars, list):
        raise DataError(f"{path}: no 'bars' list in the JSON",
                        hint="expected the retrieveBars response or a list of bars")
    if not bars:
        raise DataError(f"{path}: no bars (empty list)",
                        hint="the range had no trading; request another range")
    if not sym:
        raise DataError(f"{path}: the bars carry no symbol",
                        hint="pass symbol='MESZ5' (CLI: --symbol MESZ5) or keep the contract "
                             "id (CON.F.US.MES.Z25) in the file name")
    need = ("t", "o", "h", "l", "c", "v")
    for i, b in enumerate(bars):
        if not isinstance(b, dict) or any(k not in b for k in need):
            got = sorted(b) if isinstance(b, dict) else type(b).__name__
            raise DataError(f"{path}: bar {i + 1} lacks fields {need} (has {got})",
                            hint="expected bars like {'t': ..., 'o': ..., 'h': ..., ...}")
    try:
        ts = pc.cast(pa.array([str(b["t"]) for b in bars]), pa.timestamp("ns", tz="UTC"))
    except pa.ArrowInvalid as exc:
        raise DataError(f"{path}: unreadable bar time ({exc})",
                        hint="bar times must be ISO-8601 with an offset") from None
    t = ts.cast(pa.int64()).to_numpy(zero_copy_only=False)
    cols = {k: np.asarray([np.nan if b[k] is None else float(b[k]) for b in bars],
                          dtype=np.float64) for k in ("o", "h", "l", "c")}
    missing_v = [i for i, b in enumerate(bars) if b["v"] is None]
    if missing_v:
        raise DataError(f"{path}: bar {missing_v[0] + 1} has no volume ('v' is null; "
                        f"{len(missing_v)} bar(s))", hint="request the bars again")
    vol = np.asarray([int(b["v"]) for b in bars], dtype=np.int64)
    order = np.argsort(t, kind="stable")
    if len(t) > 1 and not (order == np.arange(len(t))).all():
        notes.append("bars re-sorted oldest-first (the API returns newest first)")
    sym_cat = pd.Categorical.from_codes(np.zeros(len(t), dtype=np.int8),
                                        categories=[sym.upper()])
    return RawBars(t[order], cols["o"][order], cols["h"][order], cols["l"][order],
                   cols["c"][order], vol[order], to_categorical(sym_cat))


def _symbol_from(text: object) -> str | None:
    """``CON.F.US.MES.Z25`` → ``MESZ25``; None if there is no contract id."""
    if not isinstance(text, str):
        return None
    m = _CONTRACT.search(text)
    if not m:
        return None
    root = {"EP": "ES", "ENQ": "NQ"}.get(m.group(1).upper(), m.group(1).upper())
    return f"{root}{m.group(2).upper()}{m.group(3)}"
