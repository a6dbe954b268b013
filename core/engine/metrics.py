"""Prometheus metrics of the live engine (``scalpdesk live --metrics-port N``).

A subscriber like the journal and the control socket: it reads the engine's events and its
status, never the other way round. Its own registry (not the process-global one), so two
engines in one process — tests — never collide.
"""

from __future__ import annotations

from typing import Any

MODES = ("ACTIVE", "REDUCING", "PAUSED", "HALTED")


class EngineMetrics:
    """Gauges and counters of one engine, served on ``port`` (127.0.0.1 by default)."""

    def __init__(self, port: int | None = None, *, host: str = "127.0.0.1") -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

        r = self.registry = CollectorRegistry()
        self.position = Gauge("scalpdesk_position_contracts", "Signed position", registry=r)
        self.balance = Gauge("scalpdesk_balance_dollars", "Realised balance", registry=r)
        self.day_pnl = Gauge("scalpdesk_day_pnl_dollars", "Today's P&L incl. open", registry=r)
        self.open_pnl = Gauge("scalpdesk_open_pnl_dollars", "Open P&L", registry=r)
        self.mode = Gauge("scalpdesk_risk_mode", "1 for the risk mode in force", ["mode"],
                          registry=r)
        self.armed = Gauge("scalpdesk_armed", "Automatic entries on", registry=r)
        self.bars = Gauge("scalpdesk_bars_total", "Bars closed", registry=r)
        self.heartbeat = Gauge("scalpdesk_heartbeat_seconds", "Engine time of the last "
                               "heartbeat (a frozen engine stops moving it)", registry=r)
        self.events = Counter("scalpdesk_events_total", "Engine events", ["type"], registry=r)
        self.orders = Counter("scalpdesk_order_updates_total", "Order updates by state",
                              ["state"], registry=r)
        self.drops = Gauge("scalpdesk_dropped_events", "Events not passed on, by reason "
                           "(quotes coalesced, bad payloads, duplicates ignored)", ["reason"],
                           registry=r)
        self.alerts = Counter("scalpdesk_alerts_total", "Alerts by level", ["level"], registry=r)
        self.inference = Histogram("scalpdesk_inference_seconds", "Model inference per bar",
                                   buckets=(1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 1e-2, 0.1),
                                   registry=r)
        self.port = port
        if port is not None:
            from prometheus_client import start_http_server

            start_http_server(port, addr=host, registry=r)

    def on_event(self, ev: dict[str, Any]) -> None:
        """Count one published engine event."""
        t = str(ev.get("type", "?"))
        self.events.labels(t).inc()
        if t == "OrderUpdated":
            self.orders.labels(str(ev.get("state"))).inc()
        elif t == "Alert":
            self.alerts.labels(str(ev.get("level"))).inc()
        elif t == "PredictionMade":
            self.inference.observe(float(ev.get("latency_us", 0.0)) / 1e6)
        elif t == "Heartbeat":
            self.heartbeat.set(float(ev.get("ts_ns", 0)) / 1e9)

    def on_status(self, st: dict[str, Any]) -> None:
        """Refresh the gauges from an engine status."""
        self.position.set(st.get("position") or 0)
        self.balance.set(st.get("balance") or 0.0)
        self.day_pnl.set(st.get("day_pnl") or 0.0)
        self.open_pnl.set(st.get("open_pnl") or 0.0)
        self.armed.set(1 if st.get("armed") else 0)
        self.bars.set(st.get("bars") or 0)
        for m in MODES:
            self.mode.labels(m).set(1 if st.get("mode") == m else 0)
        for reason, n in (st.get("drops") or {}).items():
            self.drops.labels(str(reason)).set(n)

    def text(self) -> str:
        """The exposition text (what a scrape returns)."""
        from prometheus_client import generate_latest

        return generate_latest(self.registry).decode()
