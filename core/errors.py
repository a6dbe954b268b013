"""The error hierarchy of the core.

Every error raised on purpose by the core derives from :class:`CoreError`. The console
turns any ``CoreError`` into one clear message and exit code 2 (no traceback), so messages
must name the file, row or key involved and say how to fix it.
"""

from __future__ import annotations


class CoreError(Exception):
    """Base class of every deliberate error raised by the core.

    Args:
        message: What went wrong, naming the file/row/key involved.
        hint: How to fix it (shown on its own line by the console).
    """

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  fix: {self.hint}"
        return self.message


class ConfigError(CoreError):
    """A profile or setting is missing, malformed or out of range."""

    def __init__(self, message: str, *, hint: str | None = None,
                 problems: list[str] | None = None) -> None:
        super().__init__(message, hint=hint)
        #: Every problem found (config loading reports all of them at once).
        self.problems: list[str] = list(problems or [])

    def __str__(self) -> str:
        text = self.message
        if self.problems:
            text += "\n" + "\n".join(f"  - {p}" for p in self.problems)
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text


class DataError(CoreError):
    """Market data cannot be read or fails validation."""


class VenueError(CoreError):
    """A broker/venue operation failed."""


class RetryableVenueError(VenueError):
    """Transient failure (rate limit, 5xx, timeout before acceptance): safe to retry reads."""


class NonRetryableVenueError(VenueError):
    """The venue rejected the request (bad order, unknown contract): do not retry."""


class FatalVenueError(VenueError):
    """Authentication or account state makes further trading impossible: halt."""


class ModelError(CoreError):
    """A model artifact is missing, incompatible or cannot be trained."""
