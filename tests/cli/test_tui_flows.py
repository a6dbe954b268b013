"""Pilot tests of the console's flows against the control stand-in over a real socket:
kill flattens and latches, pause blocks entries, the re-arm dialog, quit with a position,
and the help screen. (Attach to a real headless engine: test_tui_hosting.py.)"""

from __future__ import annotations

from console.tui.app import ConsoleApp
from console.tui.dialogs import QuitScreen, RearmScreen
from tests.cli.test_tui_console import screen_text, until
from tests.unit.control_fixtures import FakeEngine, ServerThread, short_dir

SIZE = (150, 45)


async def test_ctrl_k_kills_flattens_and_latches_without_a_dialog() -> None:
    with short_dir() as d:
        eng = FakeEngine()
        eng.armed = True
        with ServerThread(eng, d / "e.sock"):
            app = ConsoleApp(d / "e.sock", poll_s=0.1)
            async with app.run_test(size=SIZE) as pilot:
                await until(lambda: app.status.get("position") == 2, pilot)
                await pilot.press("ctrl+k")
                await until(lambda: app.status.get("mode") == "HALTED", pilot)
                assert not app.screen_stack[-1:] or not isinstance(app.screen, RearmScreen)
                assert eng.killed and eng.position == 0 and not eng.armed
                await pilot.pause(0.2)
                text = screen_text(app)
                assert "HALTED" in text and "FLAT" in text and "KILLED" in text
                await pilot.press("ctrl+k")                  # not a toggle: still killed
                await until(lambda: eng.calls.count("kill") == 2, pilot)
                assert eng.killed and app.status.get("mode") == "HALTED"
                await pilot.press("a")                       # arming a killed engine: refused
                await until(lambda: "arm refused" in "\n".join(
                    str(x) for x in app.query_one("#log").lines), pilot)
                assert not eng.armed
                assert app.is_running                        # ctrl+k is not quit


async def test_pause_blocks_entries_and_p_resumes() -> None:
    with short_dir() as d:
        eng = FakeEngine()
        with ServerThread(eng, d / "e.sock"):
            app = ConsoleApp(d / "e.sock", poll_s=0.1)
            async with app.run_test(size=SIZE) as pilot:
                await until(lambda: app.status.get("mode") == "ACTIVE", pilot)
                await pilot.press("p")
                await until(lambda: app.status.get("mode") == "PAUSED", pilot)
                assert eng.mode == "PAUSED"
                await until(lambda: "PAUSED  operator pause" in screen_text(app), pilot)
                await pilot.press("p")
                await until(lambda: app.status.get("mode") == "ACTIVE", pilot)
                assert eng.calls == ["pause", "resume"]


async def test_rearm_asks_states_its_scope_and_never_arms() -> None:
    with short_dir() as d:
        eng = FakeEngine()
        eng.killed, eng.mode = True, "HALTED"
        with ServerThread(eng, d / "e.sock"):
            app = ConsoleApp(d / "e.sock", poll_s=0.1)
            async with app.run_test(size=SIZE) as pilot:
                await until(lambda: app.status.get("killed"), pilot)
                await pilot.press("r")
                await until(lambda: isinstance(app.screen, RearmScreen), pilot)
                text = screen_text(app)
                assert "Scope:" in text and "It does NOT:" in text
                assert "lift the MLL or any limit halt" in text
                assert "disarmed" in text
                await pilot.press("escape")                   # cancel: nothing sent
                await until(lambda: not isinstance(app.screen, RearmScreen), pilot)
                await pilot.pause(0.2)
                assert "rearm" not in eng.calls
                await pilot.press("r")
                await until(lambda: isinstance(app.screen, RearmScreen), pilot)
                await pilot.press("y")
                await until(lambda: "rearm" in eng.calls, pilot)
                await until(lambda: app.status.get("mode") == "ACTIVE", pilot)
                assert not eng.armed and not app.status.get("armed")   # `a` is a separate step


async def test_quit_with_a_position_asks_when_hosted() -> None:
    with short_dir() as d:
        eng = FakeEngine()
        with ServerThread(eng, d / "e.sock"):
            app = ConsoleApp(d / "e.sock", poll_s=0.1, hosted=True, on_exit="leave")
            async with app.run_test(size=SIZE) as pilot:
                await until(lambda: app.status.get("position") == 2, pilot)
                await pilot.press("q")
                await until(lambda: isinstance(app.screen, QuitScreen), pilot)
                text = screen_text(app)
                assert "LONG 2 @ 5000.25, 2 working orders" in text
                assert "default: the shutdown policy, leave" in text
                await pilot.press("escape")                    # cancel: still running
                await until(lambda: not isinstance(app.screen, QuitScreen), pilot)
                assert app.is_running
                await pilot.press("q")
                await until(lambda: isinstance(app.screen, QuitScreen), pilot)
                await pilot.press("enter")                     # the focused default
            assert app.return_value == "leave"
            assert eng.calls == []                             # the host acts, not the app


async def test_quit_when_attached_never_stops_the_engine() -> None:
    with short_dir() as d:
        eng = FakeEngine()
        with ServerThread(eng, d / "e.sock"):
            app = ConsoleApp(d / "e.sock", poll_s=0.1)
            async with app.run_test(size=SIZE) as pilot:
                await until(lambda: app.status.get("position") == 2, pilot)
                await pilot.press("q")
            assert app.return_value is None and eng.calls == []


async def test_help_lists_every_key_with_its_ctl_command() -> None:
    with short_dir() as d:
        with ServerThread(FakeEngine(), d / "e.sock"):
            app = ConsoleApp(d / "e.sock", poll_s=0.1)
            async with app.run_test(size=SIZE) as pilot:
                await pilot.press("question_mark")
                await pilot.pause(0.2)
                text = screen_text(app)
                for key in ("ctrl+k", "f ", "p ", "a ", "r ", "b ", "q ", "ctrl+p"):
                    assert key in text
                assert "scalpdesk ctl kill" in text and "scalpdesk ctl rearm" in text


async def test_b_runs_the_backtest_on_a_worker_with_progress_and_failures_toast() -> None:
    import threading

    from console.tui.backtest_pane import BacktestPane, BacktestView

    gate = threading.Event()
    calls: list[str] = []

    def runner(progress):  # noqa: ANN001, ANN202 - the BacktestRunner shape
        calls.append("run")
        progress("backtest", 0.5)
        gate.wait(10)
        if len(calls) > 1:
            raise ValueError("no bars for MES in the catalog")
        return BacktestView(state="done", title="t", metrics=[("trades", "3")],
                            equity=[0, 1, 2], baseline_pct=61.0, verdict="inconclusive: x")

    with short_dir() as d:
        with ServerThread(FakeEngine(), d / "e.sock"):
            app = ConsoleApp(d / "e.sock", poll_s=0.1, backtest=runner)
            async with app.run_test(size=SIZE) as pilot:
                pane = app.query_one(BacktestPane)
                await pilot.press("b")
                await until(lambda: pane.view.step == "backtest", pilot)
                assert pane.view.state == "running" and app.is_running  # the UI is not blocked
                gate.set()
                await until(lambda: pane.view.state == "done", pilot)
                await pilot.pause(0.1)
                assert "beats 61% of random entries" in screen_text(app)
                await pilot.press("b")                                # a failing run
                await until(lambda: pane.view.state == "failed", pilot)
                assert "no bars for MES" in pane.view.error
