"""A small time-to-live cache (SQLite, on disk or in memory) and a per-host rate limiter.

No HTTP caching library is installed (hishel would follow HTTP cache headers, which search
engines and the GitHub API mostly forbid); what the web tools need is simpler: keep an answer
for ``ttl_s`` seconds whatever the server says, keyed by method, URL and parameters.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import urlencode

Clock = Callable[[], float]
Sleeper = Callable[[float], None]


def cache_key(method: str, url: str, params: Mapping[str, str | int] | None = None) -> str:
    """``"GET https://host/path?a=1"``: the method, the URL and the sorted parameters."""
    query = urlencode(sorted((k, str(v)) for k, v in (params or {}).items()))
    return f"{method.upper()} {url}" + (f" ?{query}" if query else "")


class TTLCache:
    """Bytes by key, each kept for ``ttl_s`` seconds after it was stored.

    Args:
        path: the SQLite file (created with its folder), or None for an in-memory cache.
        ttl_s: how long an entry stays valid, in seconds (0 disables caching).
        clock: wall-clock time in seconds (tests pass a fake one).

    Thread-safe. Expired entries are removed when read and by :meth:`purge`.

    """

    def __init__(self, path: Path | None = None, ttl_s: float = 3600.0,
                 clock: Clock = time.time) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.ttl_s = ttl_s
        self.clock = clock
        self._lock = threading.Lock()
        self._db = sqlite3.connect(":memory:" if path is None else str(path),
                                   check_same_thread=False)
        self._db.execute("CREATE TABLE IF NOT EXISTS cache (key TEXT PRIMARY KEY,"
                         " expires REAL NOT NULL, value BLOB NOT NULL)")
        self._db.commit()

    def get(self, key: str) -> bytes | None:
        """The stored value, or None when missing or expired."""
        with self._lock:
            row = self._db.execute("SELECT expires, value FROM cache WHERE key = ?",
                                   (key,)).fetchone()
            if row is None:
                return None
            if row[0] <= self.clock():
                self._db.execute("DELETE FROM cache WHERE key = ?", (key,))
                self._db.commit()
                return None
            return bytes(row[1])

    def put(self, key: str, value: bytes) -> None:
        """Store ``value`` under ``key`` for ``ttl_s`` seconds (nothing when ``ttl_s`` is 0)."""
        if self.ttl_s <= 0:
            return
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO cache (key, expires, value) VALUES (?,?,?)",
                             (key, self.clock() + self.ttl_s, value))
            self._db.commit()

    def purge(self) -> int:
        """Remove expired entries; returns how many were removed."""
        with self._lock:
            cursor = self._db.execute("DELETE FROM cache WHERE expires <= ?", (self.clock(),))
            self._db.commit()
            return cursor.rowcount

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()


class RateLimiter:
    """At most one request per ``min_interval_s`` seconds to each host.

    :meth:`wait` blocks until the host may be asked again and books that moment, so
    concurrent callers are spaced out too.

    Args:
        min_interval_s: the minimum time between two requests to one host, in seconds.
        clock: monotonic time in seconds; sleep: blocks for seconds (tests pass fakes).

    """

    def __init__(self, min_interval_s: float = 1.0, clock: Clock = time.monotonic,
                 sleep: Sleeper = time.sleep) -> None:
        self.min_interval_s = min_interval_s
        self.clock = clock
        self.sleep = sleep
        self._next: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, host: str) -> float:
        """Block until a request to ``host`` is allowed; returns the seconds waited."""
        with self._lock:
            now = self.clock()
            start = max(now, self._next.get(host, now))
            self._next[host] = start + self.min_interval_s
        delay = start - now
        if delay > 0:
            self.sleep(delay)
        return delay
