"""The console's panes: widgets that only render the state pushed to them.

Each pane has ``show(status, …)``; it rebuilds its text and touches the screen only when the
text changed (a quiet engine costs no repaint). Tables (orders, limits) are small DataTables
updated cell by cell: :func:`sync_rows` adds, removes and rewrites only what differs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from console.tui import fmt
from console.tui.chart import render_chart

BOOK_STYLE = {"live": "bold white on red", "paper": "bold black on yellow",
              "simulator": "bold black on green"}
MODE_STYLE = {"ACTIVE": "bold green", "REDUCING": "bold yellow", "PAUSED": "bold yellow",
              "HALTED": "bold white on red"}


class TextPane(Static):
    """A Static that repaints only when its text changes."""

    def __init__(self, *, id: str, title: str,  # noqa: A002 - Textual's name
                 classes: str = "pane") -> None:
        super().__init__("", id=id, classes=classes)
        self.border_title = title
        self._last: str | None = None

    def set_text(self, text: Text | str) -> None:
        """Show ``text`` (no repaint when it equals what is shown)."""
        key = text.markup if isinstance(text, Text) else text
        if key != self._last:
            self._last = key
            self.update(text)


def sync_rows(table: DataTable, rows: Mapping[str, Sequence[str]]) -> int:
    """Make ``table`` show ``rows`` (key → cells), touching only the cells that changed.

    Returns:
        How many cells were written (rows added count all their cells).
    """
    written = 0
    cols = list(table.columns)
    for key in [k.value for k in list(table.rows)]:
        if key not in rows:
            table.remove_row(key)
    for key, cells in rows.items():
        if key not in table.rows:
            table.add_row(*cells, key=key)
            written += len(cells)
            continue
        current = table.get_row(key)
        for col, old, new in zip(cols, current, cells, strict=False):
            if old != new:
                table.update_cell(key, col, new)
                written += 1
    return written


# ---------------------------------------------------------------------------- header
def header_text(st: Mapping[str, Any], *, heartbeat_age: float | None, frozen: bool,
                fps: float, error: str = "") -> Text:
    """Profile, account, WHICH BOOK, venue, the engine's heartbeat and the console's own."""
    book = str(st.get("book") or "").lower()
    t = Text()
    t.append(" scalpdesk ", style="bold")
    t.append(f" {st.get('profile') or fmt.DASH} ", style="bold cyan")
    t.append(f"account {st.get('account') or st.get('account_id') or fmt.DASH}  ")
    t.append(f" {(book or 'book ?').upper()} ", style=BOOK_STYLE.get(book, "reverse"))
    t.append(f"  venue {st.get('venue') or fmt.DASH}  ")
    mode = str(st.get("mode") or "?")
    t.append(f" {mode} ", style=MODE_STYLE.get(mode, "bold"))
    if error:
        t.append("  engine UNREACHABLE ", style="bold white on red")
    elif frozen:
        t.append(f"  engine FROZEN ({fmt.duration(heartbeat_age)} without a heartbeat) ",
                 style="bold white on red")
    elif heartbeat_age is None:
        t.append("  engine: waiting for its heartbeat", style="yellow")
    else:
        # Whole seconds: the header then repaints about once a second, not every frame.
        t.append(f"  engine ♥ {int(heartbeat_age)} s ago", style="green")
    t.append(f"  console ♥ {fps:.0f} fps", style="dim")
    return t


# ---------------------------------------------------------------------------- quotes
class QuotesPane(TextPane):
    """Last, bid, ask, change, volume and a price chart."""

    def __init__(self) -> None:
        super().__init__(id="quotes", title="quotes")
        self.prices: deque[float] = deque(maxlen=240)

    def show(self, quote: Mapping[str, Any] | None, prices: Sequence[float] = ()) -> None:
        """Render the newest quote; ``prices`` are appended to the chart."""
        self.prices.extend(prices)
        q = quote or {}
        chg = q.get("change")
        t = Text()
        t.append(f"last {fmt.price(q.get('last'))}", style="bold")
        t.append(f"   bid {fmt.price(q.get('bid'))}  ask {fmt.price(q.get('ask'))}\n")
        style = "green" if (chg or 0) > 0 else ("red" if (chg or 0) < 0 else "")
        t.append(f"change {'' if chg is None else f'{float(chg):+.2f}'}", style=style)
        vol = q.get("volume")
        t.append(f"   volume {fmt.DASH if vol is None else f'{int(vol):,}'}\n")
        width = max((self.size.width or 40) - 4, 10)
        height = max((self.size.height or 8) - 2, 1)
        t.append("\n".join(render_chart(list(self.prices), width, height)), style="cyan")
        self.set_text(t)


# ---------------------------------------------------------------------------- model
def _model_block(m: Mapping[str, Any] | None, now_ns: Any, title: str) -> list[str]:
    # Narrow on purpose (≤ 22 columns): the shadow model is drawn beside it.
    if not m:
        return [f"{title}: {fmt.DASH}"]
    rows = [f"{title} {m.get('name') or ''}"[:22]]
    probs = list(m.get("probs") or [])[:3]
    for word, p in zip(("DOWN", "FLAT", "UP"), probs + [None] * (3 - len(probs)), strict=True):
        bar, _ = fmt.gauge(p, 1.0, width=8)
        rows.append(f"{word:<4} {bar} {fmt.DASH if p is None else f'{float(p):.0%}':>4}")
    conf = m.get("confidence")
    rows.append(f"conf {fmt.DASH if conf is None else f'{float(conf):.2f}'}")
    rows.append(f"signal {fmt.side_word(m.get('signal'))} {fmt.age(m.get('ts_ns'), now_ns)} ago")
    lat = m.get("latency_ms")
    rows.append(f"latency {fmt.DASH if lat is None else f'{float(lat):.2f} ms'}")
    return rows


class ModelPane(TextPane):
    """The model's probabilities, confidence, last signal and its age, latency; the shadow."""

    def __init__(self) -> None:
        super().__init__(id="model", title="model")

    def show(self, st: Mapping[str, Any]) -> None:
        """Render the status's ``model`` (and ``shadow`` beside it when one runs)."""
        now = st.get("ts_ns")
        left = _model_block(st.get("model"), now, "model")
        shadow = st.get("shadow")
        if not shadow:
            self.set_text(Text("\n".join(left)))
            return
        right = _model_block(shadow, now, "shadow")
        n = max(len(left), len(right))
        rows = [f"{a:<23}{b}" for a, b in zip(left + [""] * (n - len(left)),
                                               right + [""] * (n - len(right)), strict=True)]
        self.set_text(Text("\n".join(rows)))


# ---------------------------------------------------------------------------- positions
ORDER_COLUMNS = ("role", "side", "type", "size", "price", "status")


class PositionsPane(Vertical):
    """The position and open P&L, and the working orders with their bracket legs."""

    def __init__(self) -> None:
        super().__init__(id="positions", classes="pane")
        self.border_title = "position & orders"
        self.line = TextPane(id="position-line", title="", classes="")
        self.table: DataTable = DataTable(id="orders", show_cursor=False, zebra_stripes=False)

    def compose(self) -> ComposeResult:
        yield self.line
        yield self.table

    def on_mount(self) -> None:
        for c in ORDER_COLUMNS:
            self.table.add_column(c, key=c)

    def show(self, st: Mapping[str, Any]) -> None:
        """Render position, average price, open P&L and the orders table."""
        pos = st.get("position") or 0
        t = Text()
        t.append("FLAT" if not pos else f"{'LONG' if pos > 0 else 'SHORT'} {abs(pos)}",
                 style="bold" if not pos else ("bold green" if pos > 0 else "bold red"))
        if pos:
            t.append(f" @ {fmt.price(st.get('avg_price'))}")
        pnl = st.get("open_pnl")
        t.append("   open ")
        t.append(fmt.money(pnl, sign=True),
                 style="green" if (pnl or 0) > 0 else ("red" if (pnl or 0) < 0 else ""))
        t.append(f"\nlast {fmt.price(st.get('last_price'))}   bars {st.get('bars', fmt.DASH)}"
                 f"   trades {st.get('trades', fmt.DASH)}")
        self.line.set_text(t)
        orders = st.get("orders")
        if orders is None:       # an engine without the orders field: its working tags
            orders = [{"tag": tag, "role": fmt.DASH} for tag in st.get("working_orders") or []]
        rows = {}
        for o in orders:
            size = o.get("size")
            rows[str(o.get("tag") or o.get("id"))] = (
                str(o.get("role") or fmt.DASH), str(o.get("side") or fmt.DASH),
                str(o.get("type") or fmt.DASH), fmt.DASH if size is None else str(size),
                fmt.price(o.get("price")), str(o.get("status") or fmt.DASH))
        sync_rows(self.table, rows)


# ---------------------------------------------------------------------------- risk
class RiskPane(TextPane):
    """Mode, every limit as a gauge, MLL headroom and its reconciliation, streak, timers."""

    def __init__(self) -> None:
        super().__init__(id="risk", title="risk")

    def show(self, st: Mapping[str, Any], error: str = "") -> None:
        """Render the risk state of a status answer (``error``: the engine is unreachable)."""
        now = st.get("ts_ns")
        mode = str(st.get("mode") or "?")
        t = Text()
        t.append(f" {mode} ", style=MODE_STYLE.get(mode, "bold"))
        t.append(f" {st.get('reason') or ''}")
        t.append(f"\narmed {'yes' if st.get('armed') else 'no'}")
        if st.get("killed"):
            t.append("   KILLED (r re-arms)", style="bold red")
        t.append(f"\nbalance {fmt.money(st.get('balance'))}   day "
                 f"{fmt.money(st.get('day_pnl'), sign=True)}\n")
        for lim in st.get("limits") or []:
            bar, frac = fmt.gauge(lim.get("used"), lim.get("limit"), width=8)
            style = "red" if frac >= 0.8 else ("yellow" if frac >= 0.5 else "green")
            t.append(f"{str(lim.get('name', '?'))[:16]:<16} ")
            t.append(bar, style=style)
            # A day in profit has used none of a loss limit: show $0, not a negative.
            used = lim.get("used")
            used = max(float(used), 0.0) if isinstance(used, (int, float)) else used
            t.append(f" {fmt.money0(used)}/{fmt.money0(lim.get('limit'))}\n")
        t.append(f"MLL headroom {fmt.money0(st.get('mll_headroom'))}, reconciled "
                 f"{fmt.age(st.get('reconciled_ns'), now)} ago\n")
        pause = st.get("pause_until_ns")
        t.append(f"loss streak {st.get('loss_streak', fmt.DASH)}   pause "
                 f"{'—' if not pause else 'until ' + fmt.utc_clock(pause) + ' (' + fmt.duration((int(pause) - int(now or pause)) / 1e9) + ' left)'}\n")
        t.append(f"flatten {fmt.deadline(st.get('flatten_at_ns'), now)}")
        if st.get("entries_blocked"):
            t.append(f"\nentries blocked: {st['entries_blocked']}", style="bold red")
        if error:
            t.append(f"\nengine unreachable: {error}", style="bold red")
        self.set_text(t)


# ---------------------------------------------------------------------------- feeds
class FeedsPane(TextPane):
    """Per-hub health and staleness, and the drop counters (engine's and this console's)."""

    def __init__(self) -> None:
        super().__init__(id="feeds", title="feeds")

    def show(self, st: Mapping[str, Any], *, received: int = 0, coalesced: int = 0) -> None:
        """Render feeds; ``received``/``coalesced``: quotes this console got / merged."""
        now = st.get("ts_ns")
        t = Text()
        feeds = st.get("feeds") or {}
        q = st.get("quote") or {}
        for name, state in feeds.items():
            ok = str(state) in ("connected", "resynced")
            t.append(f"{name:<7}", style="bold")
            t.append(f" {state}", style="green" if ok else "bold red")
            if name == "market":
                t.append(f"  last quote {fmt.age(q.get('ts_ns'), now)} ago")
            t.append("\n")
        if not feeds:
            t.append(f"feeds {fmt.DASH}\n")
        if st.get("feed_block"):
            t.append(f"entries blocked by feeds: {st['feed_block']}\n", style="red")
        drops = dict(st.get("drops") or {})
        drops.setdefault("quotes_coalesced", st.get("quotes_coalesced"))
        t.append("engine drops " + ", ".join(f"{k} {fmt.DASH if v is None else v}"
                                             for k, v in drops.items()) + "\n")
        ctl = st.get("control") or {}
        dropped = sum((ctl.get("dropped") or {}).values())
        t.append(f"socket dropped {dropped}, coalesced {ctl.get('coalesced', 0)}\n")
        t.append(f"console quotes {received:,}, merged per frame {coalesced:,}")
        self.set_text(t)


# ---------------------------------------------------------------------------- alerts
class AlertsPane(TextPane):
    """Alerts, those awaiting acknowledgement first (reconciliation, repairs, rejections)."""

    def __init__(self) -> None:
        super().__init__(id="alerts", title="alerts")

    def show(self, st: Mapping[str, Any]) -> None:
        """Render the status's alerts."""
        alerts = sorted(st.get("alerts") or [], key=lambda a: not a.get("needs_ack"))
        t = Text()
        if not alerts:
            t.append("none")
        for a in alerts[:8]:
            need = a.get("needs_ack")
            lvl = str(a.get("level") or "info")
            style = "bold red" if lvl == "critical" else ("yellow" if lvl == "warning" else "")
            t.append(("ACK? " if need else "     "), style="bold reverse" if need else "")
            t.append(f"{a.get('alert_id', '?')}: {a.get('message', '')}\n", style=style)
        if len(alerts) > 8:
            t.append(f"… {len(alerts) - 8} more (`scalpdesk ctl status`)")
        self.border_subtitle = "ack all: command palette" if any(
            a.get("needs_ack") for a in alerts) else ""
        self.set_text(t)
