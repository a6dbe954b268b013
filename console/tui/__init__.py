"""The Textual trading console: a client of the engine's control socket (never its host)."""
