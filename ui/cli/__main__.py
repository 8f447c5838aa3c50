"""Run as ``python -m ui.cli``."""

from ui.cli.app import main

main()
