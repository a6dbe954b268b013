"""The console's modal screens: help, re-arm after a kill, and what to do on quit."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

#: The keys, as the help screen and the README show them (one list, one place).
KEYS: list[tuple[str, str, str]] = [
    ("ctrl+k", "KILL: flatten everything and latch HALTED (one chord, no dialog, not a "
               "toggle, not quit)", "scalpdesk ctl kill"),
    ("f", "flatten: cancel orders and close the position (stays armed)", "scalpdesk ctl flatten"),
    ("p", "pause / resume new entries", "scalpdesk ctl pause | resume"),
    ("a", "arm / disarm automatic entries", "scalpdesk ctl arm | disarm"),
    ("r", "re-arm after a kill (a dialog says what it does and does not do)",
     "scalpdesk ctl rearm"),
    ("b", "backtest the model on recent data (in the background)", "scalpdesk backtest"),
    ("q", "quit (asks about orders and positions when this console started the engine)", ""),
    ("ctrl+p", "command palette: every action above, and acknowledge alerts",
     "scalpdesk ctl ack"),
    ("?", "this help", ""),
]

REARM_TEXT = """[b]Re-arm after a kill[/b]

[b]Scope:[/b] lifts the operator's kill switch only. The engine goes back to ACTIVE
if nothing else halts it.

[b]It does NOT:[/b]
  • lift the MLL or any limit halt (daily loss, drawdown, minimum balance) — those
    end with the trading day or the account, never with a key;
  • arm automatic entries — they stay [b]disarmed[/b] until you press [b]a[/b];
  • reopen any position or order the kill closed.

Same as `scalpdesk ctl rearm`."""


class HelpScreen(ModalScreen[None]):
    """The keys and the `scalpdesk ctl` command each one equals."""

    BINDINGS = [Binding("escape,question_mark,q", "dismiss", "close")]

    def compose(self) -> ComposeResult:
        rows = "\n".join(f"  [b]{k:<7}[/b] {what}" + (f"\n          [dim]= {ctl}[/dim]" if ctl
                                                      else "") for k, what, ctl in KEYS)
        with Vertical(id="dialog"):
            yield Static("[b]Keys[/b]  (the console is a client: the engine runs in its own "
                         "process)\n\n" + rows + "\n\n[dim]escape closes[/dim]", id="help-text")

    def action_dismiss(self) -> None:  # type: ignore[override]
        self.dismiss(None)


class RearmScreen(ModalScreen[bool]):
    """Confirm a re-arm; answers True to re-arm."""

    BINDINGS = [Binding("escape,n", "answer(False)", "cancel"),
                Binding("y", "answer(True)", "re-arm")]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(REARM_TEXT, id="rearm-text")
            with Horizontal(classes="buttons"):
                yield Button("Re-arm (y)", id="yes", variant="warning")
                yield Button("Cancel (esc)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


#: Answers of :class:`QuitScreen` (and what the host does with them).
QUIT_CHOICES: list[tuple[str, str, str]] = [
    ("flatten", "1", "Flatten and stop the engine"),
    ("leave", "2", "Leave the position under its brackets and stop the engine"),
    ("detach", "3", "Keep the engine running (detached; `scalpdesk attach` comes back)"),
]


class QuitScreen(ModalScreen[str | None]):
    """Quit with a position or working orders: what happens to them.

    Args:
        summary: What is open (e.g. ``LONG 2 @ 5000.25, 2 working orders``).
        default: The profile's shutdown policy (``flatten`` or ``leave``): the focused answer.
    """

    BINDINGS = [Binding("escape", "answer(None)", "cancel"),
                Binding("1", "answer('flatten')", show=False),
                Binding("2", "answer('leave')", show=False),
                Binding("3", "answer('detach')", show=False)]

    def __init__(self, summary: str, default: str) -> None:
        super().__init__()
        self.summary = summary
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(f"[b]Quit: this console started the engine, which holds[/b]\n"
                         f"  {self.summary}\n\nWhat should happen? (default: the shutdown "
                         f"policy, [b]{self.default}[/b]; escape cancels)", id="quit-text")
            for answer, key, label in QUIT_CHOICES:
                yield Button(f"{key}  {label}", id=answer,
                             variant="primary" if answer == self.default else "default")

    def on_mount(self) -> None:
        self.query_one(f"#{self.default}", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id)

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)
