"""One self-contained HTML page for reports (backtest and training): plotly inlined once.

The page inlines ``core/assets/plotly-basic.min.js`` (plotly.js' basic bundle: scatter, bar
and pie traces, ~1.2 MB) exactly once, so a report opens offline and stays near 1.3 MB;
every chart is a ``Plotly.newPlot`` call on JSON data. It records its own rendering outcome
in ``#render-status`` ("ok: N charts" or the first script error), which the tests read back
from headless Chromium. Text is always escaped; numbers are formatted by the callers
(money with :func:`core.money.money`).
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any

PLOTLY_JS = Path(__file__).resolve().parent / "assets" / "plotly-basic.min.js"

_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:1100px;color:#222}"
        "table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 10px;"
        "border-bottom:1px solid #ddd;text-align:right}td:first-child,th:first-child"
        "{text-align:left}.verdict{padding:1em;border-left:6px solid #34495e;"
        "background:#f4f6f7}.caveat{color:#8a5a00}.note{color:#555;font-style:italic}"
        "small{color:#666}")

_STATUS_SCRIPT = """<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
</script>"""

_FINAL_SCRIPT = """<script>
(function () {
  var el = document.getElementById('render-status');
  var plots = document.querySelectorAll('.js-plotly-plot').length;
  el.textContent = window.__errors.length ? ('error: ' + window.__errors[0])
                                          : ('ok: ' + plots + ' charts');
})();
</script>"""


def esc(text: object) -> str:
    """HTML-escaped text of anything."""
    return html.escape(str(text))


class Page:
    """A report page built from escaped text, tables and plotly figures."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.parts: list[str] = [f"<h1>{esc(title)}</h1>"]
        self.charts = 0

    def h2(self, text: str) -> None:
        """A section heading."""
        self.parts.append(f"<h2>{esc(text)}</h2>")

    def p(self, text: str, cls: str | None = None) -> None:
        """A paragraph of plain text (escaped)."""
        attr = f" class='{cls}'" if cls else ""
        self.parts.append(f"<p{attr}>{esc(text)}</p>")

    def raw(self, markup: str) -> None:
        """Markup built by the caller (it must escape its own text)."""
        self.parts.append(markup)

    def table(self, header: list[str] | None, rows: list[list[object]],
              cls: str | None = None) -> None:
        """A table of escaped cells."""
        head = "" if not header else "<tr>" + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"
        body = "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in r) + "</tr>" for r in rows)
        attr = f" class='{cls}'" if cls else ""
        self.parts.append(f"<table{attr}>{head}{body}</table>")

    def figure(self, fig: Any, div_id: str) -> None:
        """A plotly figure: a div and one ``Plotly.newPlot`` call (the library is inlined once)."""
        import plotly.io as pio

        self.parts.append(pio.to_html(fig, full_html=False, include_plotlyjs=False,
                                      div_id=div_id, config={"responsive": True}))
        self.charts += 1

    def render(self) -> str:
        """The whole page as one string."""
        js = PLOTLY_JS.read_text(encoding="utf-8")
        head = (f"<!doctype html><html><head><meta charset='utf-8'><title>{esc(self.title)}"
                f"</title><style>{_CSS}</style>{_STATUS_SCRIPT}"
                f"<script>{js}</script></head><body>")
        return "\n".join([head, *self.parts, "<p id='render-status'>not rendered</p>",
                          _FINAL_SCRIPT, "</body></html>"])


def bars_histogram(values: Any, bins: int = 40) -> tuple[list[float], list[int], float]:
    """Bin centres, counts and bin width of ``values`` (the basic bundle has no histogram)."""
    import numpy as np

    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return [], [], 1.0
    lo, hi = float(v.min()), float(v.max())
    if lo == hi:
        lo, hi = lo - 0.5, hi + 0.5
    counts, edges = np.histogram(v, bins=bins, range=(lo, hi))
    centres = ((edges[:-1] + edges[1:]) / 2).tolist()
    return centres, counts.tolist(), float(edges[1] - edges[0])


def write_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temp file and a rename; return the path."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, p)
    return p
