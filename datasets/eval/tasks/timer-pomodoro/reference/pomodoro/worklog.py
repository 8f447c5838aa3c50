"""The work log: ``pomodoro_log.csv`` with one row per finished work session."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

LOG_NAME = "pomodoro_log.csv"
HEADER = ("date", "time", "minutes")


def append(log_dir: Path, minutes: int, finished: datetime | None = None) -> Path:
    """Append one session (finished now unless given) and return the log's path.

    Raises:
        OSError: the folder cannot be created or the file written.

    """
    when = finished or datetime.now()
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_NAME
    is_new = not path.exists() or path.stat().st_size == 0
    with path.open("a", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        if is_new:
            writer.writerow(HEADER)
        writer.writerow((when.strftime("%Y-%m-%d"), when.strftime("%H:%M"), minutes))
    return path
