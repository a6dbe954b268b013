"""``python -m console`` runs the scalpdesk CLI (used by the demo to run its own commands)."""

from console.cli.app import main

main()
