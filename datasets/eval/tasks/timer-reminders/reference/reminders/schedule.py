"""The schedule file: parsing its lines and finding when reminders happen (no I/O here)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")  # index = date.weekday()
TIME = r"(?P<hh>\d{1,2}):(?P<mm>\d{2})"
TEXT = r"\s+(?P<text>\S.*)"
DAILY = re.compile(rf"{TIME}{TEXT}")
WEEKLY = re.compile(rf"(?P<days>[а-яё,\-]+)\s+{TIME}{TEXT}", re.IGNORECASE)
ONCE = re.compile(rf"(?P<y>\d{{4}})-(?P<mo>\d{{2}})-(?P<d>\d{{2}})\s+{TIME}{TEXT}")
YEARLY = re.compile(rf"(?P<d>\d{{1,2}})\.(?P<mo>\d{{1,2}})\s+{TIME}{TEXT}")
LEAP_YEAR = 2000  # a leap year, to check that a day such as 29.02 exists at all
MAX_YEARS_AHEAD = 9  # 29 February can be 8 years away (2096 → 2104)


class ScheduleError(ValueError):
    """A line of the schedule cannot be understood; ``line`` is its 1-based number."""

    def __init__(self, line: int, text: str, reason: str) -> None:
        super().__init__(f"строка {line}: {reason}: {text!r}")
        self.line = line


@dataclass(frozen=True)
class Reminder:
    """One line of the schedule.

    Attributes:
        line: the 1-based line number (also the tie-break order).
        at: the time of day.
        text: what to remind.
        weekdays: the weekdays (0 = Monday) it happens on, for daily/weekly reminders.
        once: the one date it happens on, for one-off reminders.
        yearly: (month, day) for yearly reminders.

    """

    line: int
    at: time
    text: str
    weekdays: frozenset[int] = frozenset()
    once: date | None = None
    yearly: tuple[int, int] | None = None

    def happens_on(self, day: date) -> bool:
        """True when the reminder fires on ``day``."""
        if self.once is not None:
            return day == self.once
        if self.yearly is not None:
            return (day.month, day.day) == self.yearly
        return day.weekday() in self.weekdays


def _time(match: re.Match[str], line: int, raw: str) -> time:
    hours, minutes = int(match["hh"]), int(match["mm"])
    if hours > 23 or minutes > 59:
        raise ScheduleError(line, raw, "нет такого времени")
    return time(hours, minutes)


def _weekdays(spec: str, line: int, raw: str) -> frozenset[int]:
    days: set[int] = set()
    for part in spec.split(","):
        ends = part.split("-")
        if len(ends) > 2 or any(end not in WEEKDAYS for end in ends):
            raise ScheduleError(line, raw, f"непонятные дни недели «{part}»")
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        if last < first:
            raise ScheduleError(line, raw, f"диапазон «{part}» идёт назад")
        days.update(range(first, last + 1))
    return frozenset(days)


def parse_line(raw: str, line: int) -> Reminder | None:
    """One line of the file as a reminder; None for blank lines and # comments.

    Raises:
        ScheduleError: the line is not in any of the four forms, or names an impossible
            time or date.

    """
    text = raw.strip()
    if not text or text.startswith("#"):
        return None
    if match := ONCE.fullmatch(text):
        try:
            day = date(int(match["y"]), int(match["mo"]), int(match["d"]))
        except ValueError:
            raise ScheduleError(line, raw, "нет такой даты") from None
        return Reminder(line, _time(match, line, raw), match["text"].strip(), once=day)
    if match := YEARLY.fullmatch(text):
        month, day_of_month = int(match["mo"]), int(match["d"])
        try:
            date(LEAP_YEAR, month, day_of_month)
        except ValueError:
            raise ScheduleError(line, raw, "нет такой даты") from None
        return Reminder(line, _time(match, line, raw), match["text"].strip(),
                        yearly=(month, day_of_month))
    if match := DAILY.fullmatch(text):
        return Reminder(line, _time(match, line, raw), match["text"].strip(),
                        weekdays=frozenset(range(7)))
    if match := WEEKLY.fullmatch(text):
        return Reminder(line, _time(match, line, raw), match["text"].strip(),
                        weekdays=_weekdays(match["days"].lower(), line, raw))
    raise ScheduleError(line, raw, "непонятная строка, нужно «ЧЧ:ММ текст», «пн,ср ЧЧ:ММ текст»,"
                                   " «ГГГГ-ММ-ДД ЧЧ:ММ текст» или «ДД.ММ ЧЧ:ММ текст»")


def parse(lines: Iterable[str]) -> list[Reminder]:
    """Every reminder of the file, in file order.

    Raises:
        ScheduleError: the first line that cannot be understood.

    """
    reminders = []
    for number, raw in enumerate(lines, start=1):
        reminder = parse_line(raw, number)
        if reminder is not None:
            reminders.append(reminder)
    return reminders


def between(reminders: list[Reminder], start: datetime, end: datetime
            ) -> Iterator[tuple[datetime, Reminder]]:
    """Occurrences with ``start <= when < end``, by time, ties in file order."""
    found = []
    day = start.date()
    while day <= end.date():
        for reminder in reminders:
            when = datetime.combine(day, reminder.at)
            if start <= when < end and reminder.happens_on(day):
                found.append((when, reminder))
        day += timedelta(days=1)
    found.sort(key=lambda item: (item[0], item[1].line))
    return iter(found)


def next_after(reminders: list[Reminder], start: datetime) -> tuple[datetime, Reminder] | None:
    """The first occurrence at or after ``start`` (ties in file order), or None."""
    best: tuple[datetime, Reminder] | None = None
    for reminder in reminders:
        when = _first(reminder, start)
        if when is not None and (best is None or (when, reminder.line) < (best[0], best[1].line)):
            best = (when, reminder)
    return best


def _first(reminder: Reminder, start: datetime) -> datetime | None:
    if reminder.once is not None:
        when = datetime.combine(reminder.once, reminder.at)
        return when if when >= start else None
    if reminder.yearly is not None:
        month, day_of_month = reminder.yearly
        for year in range(start.year, start.year + MAX_YEARS_AHEAD + 1):
            try:
                when = datetime.combine(date(year, month, day_of_month), reminder.at)
            except ValueError:  # 29 February of a common year
                continue
            if when >= start:
                return when
        return None
    for offset in range(8):
        day = start.date() + timedelta(days=offset)
        when = datetime.combine(day, reminder.at)
        if when >= start and reminder.happens_on(day):
            return when
    return None
