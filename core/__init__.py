"""scalpdesk core: the headless library (no UI imports; see ARCHITECTURE.md)."""

__version__ = "0.1.0"
