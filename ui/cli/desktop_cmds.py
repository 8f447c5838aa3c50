"""``multicoder desktop``: start the desktop app (U4).

PySide6 and the app are imported inside the command, so ``multicoder --help`` stays fast and
the CLI works where Qt is not installed.
"""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer, runs_app: typer.Typer) -> None:
    """Add ``desktop`` to the CLI (``runs_app`` unused)."""
    app.command("desktop")(desktop)


def desktop(
    smoke: Annotated[bool, typer.Option(
        "--smoke", help="Start, wait for the first paint and the engine, print one line with"
                        " both times and exit (0 ok, 1 the engine failed)")] = False,
    language: Annotated[str | None, typer.Option(
        "--language", help="Interface language: en, ru or auto (default: the settings')")
    ] = None,
    theme: Annotated[str | None, typer.Option(
        "--theme", help="Colour theme: system, light or dark (default: the settings')")
    ] = None,
) -> None:
    """Open the desktop app: chats, settings, status of all systems, the task manager.

    Example: multicoder desktop --language ru --theme dark
    """
    from ui.cli.app import fail

    if language is not None and language not in ("auto", "en", "ru"):
        raise fail(f"unknown language {language!r}: use en, ru or auto")
    if theme is not None and theme not in ("system", "light", "dark"):
        raise fail(f"unknown theme {theme!r}: use system, light or dark")
    try:
        from ui.desktop.app import main
    except ImportError as exc:
        raise fail(f"the desktop app cannot load: {exc} (install MultiCoder with its"
                   " desktop dependencies: uv sync)") from None
    argv = ["--smoke"] if smoke else []
    if language is not None:
        argv += ["--language", language]
    if theme is not None:
        argv += ["--theme", theme]
    raise typer.Exit(main(argv))
