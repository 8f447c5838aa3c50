"""bookmarks --db FILE add|list|tags|remove: a tagged bookmark manager on SQLite."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

SCHEMA = """
PRAGMA foreign_keys = ON;
CREATE TABLE IF NOT EXISTS bookmark (
    id INTEGER PRIMARY KEY AUTOINCREMENT,     -- also the order of first addition
    url TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS tag (
    bookmark_id INTEGER NOT NULL REFERENCES bookmark(id) ON DELETE CASCADE,
    name TEXT NOT NULL,                       -- lower case
    PRIMARY KEY (bookmark_id, name)
);
"""


class BadInput(ValueError):
    """A value on the command line is invalid (exit 2)."""


class NotFound(LookupError):
    """The bookmark to act on is not saved (exit 1)."""


def check_url(url: str) -> str:
    """Return ``url`` if it is an absolute http(s) URL. Raises BadInput otherwise."""
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise BadInput(f"not an http(s) URL: {url!r}")
    return url.strip()


def clean_tags(tags: Iterable[str]) -> list[str]:
    """Lower-case, stripped, unique, sorted tags; empty ones dropped."""
    return sorted({tag.strip().lower() for tag in tags if tag.strip()})


def connect(path: Path) -> sqlite3.Connection:
    """Open (creating when needed) the bookmark database."""
    conn = sqlite3.connect(path)
    conn.executescript(SCHEMA)
    return conn


def add(conn: sqlite3.Connection, url: str, title: str | None, tags: list[str]) -> None:
    """Save a bookmark, or merge tags (and a new title) into the saved one."""
    url = check_url(url)
    with conn:
        conn.execute("INSERT INTO bookmark (url, title) VALUES (?, ?) ON CONFLICT(url) DO NOTHING",
                     (url, title or ""))
        if title is not None:
            conn.execute("UPDATE bookmark SET title = ? WHERE url = ?", (title, url))
        (bookmark_id,) = conn.execute("SELECT id FROM bookmark WHERE url = ?", (url,)).fetchone()
        conn.executemany("INSERT OR IGNORE INTO tag (bookmark_id, name) VALUES (?, ?)",
                         [(bookmark_id, tag) for tag in clean_tags(tags)])


def listing(conn: sqlite3.Connection, tags: list[str]) -> list[str]:
    """Rows `URL<TAB>title<TAB>tag,tag` in the order added; only those with every tag."""
    wanted = clean_tags(tags)
    query = "SELECT id, url, title FROM bookmark"
    params: list[object] = []
    if wanted:
        marks = ", ".join("?" * len(wanted))
        query += (f" WHERE id IN (SELECT bookmark_id FROM tag WHERE name IN ({marks})"
                  " GROUP BY bookmark_id HAVING COUNT(*) = ?)")
        params = [*wanted, len(wanted)]
    lines = []
    for bookmark_id, url, title in conn.execute(query + " ORDER BY id", params).fetchall():
        names = [name for (name,) in conn.execute(
            "SELECT name FROM tag WHERE bookmark_id = ? ORDER BY name", (bookmark_id,))]
        lines.append(f"{url}\t{title}\t{','.join(names)}")
    return lines


def tag_counts(conn: sqlite3.Connection) -> list[str]:
    """Rows `tag<TAB>count`, most used first, ties alphabetical."""
    rows = conn.execute("SELECT name, COUNT(*) AS uses FROM tag GROUP BY name"
                        " ORDER BY uses DESC, name").fetchall()
    return [f"{name}\t{uses}" for name, uses in rows]


def remove(conn: sqlite3.Connection, url: str) -> None:
    """Delete a bookmark and its tags. Raises NotFound: it is not saved."""
    with conn:
        if conn.execute("DELETE FROM bookmark WHERE url = ?", (url.strip(),)).rowcount == 0:
            raise NotFound(f"no bookmark for {url}")


def build_parser() -> argparse.ArgumentParser:
    """The command line."""
    parser = argparse.ArgumentParser(prog="bookmarks", description=__doc__)
    parser.add_argument("--db", type=Path, required=True, help="the SQLite file")
    commands = parser.add_subparsers(dest="command", required=True)
    cmd = commands.add_parser("add", help="save a bookmark or add tags to it")
    cmd.add_argument("url")
    cmd.add_argument("--title")
    cmd.add_argument("--tag", action="append", default=[])
    cmd = commands.add_parser("list", help="bookmarks, optionally with all of some tags")
    cmd.add_argument("--tag", action="append", default=[])
    commands.add_parser("tags", help="tags with their counts")
    commands.add_parser("remove", help="delete a bookmark").add_argument("url")
    return parser


def main(argv: list[str] | None = None) -> int:
    """0 on success, 1 when the bookmark is missing or the database fails, 2 on bad input."""
    args = build_parser().parse_args(argv)
    try:
        with closing(connect(args.db)) as conn:
            if args.command == "add":
                add(conn, args.url, args.title, args.tag)
            elif args.command == "remove":
                remove(conn, args.url)
            else:
                lines = listing(conn, args.tag) if args.command == "list" else tag_counts(conn)
                for line in lines:
                    print(line)
    except BadInput as exc:
        print(f"bookmarks: {exc}", file=sys.stderr)
        return 2
    except (NotFound, sqlite3.Error) as exc:
        print(f"bookmarks: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
