"""download URL -o FILE [--sha256 HEX]: a resumable HTTP download with a checksum."""

from __future__ import annotations

import argparse
import hashlib
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import BinaryIO, TextIO

CHUNK = 64 * 1024
TIMEOUT_S = 30


class DownloadError(Exception):
    """The download failed; the message says why, for the user."""


class Progress:
    """Percent done on one stderr line; nothing when the size is unknown."""

    def __init__(self, total: int | None, stream: TextIO = sys.stderr) -> None:
        self.total = total
        self.stream = stream
        self.shown = -1

    def update(self, done: int) -> None:
        """Show ``done`` bytes of ``total`` if the whole percent changed."""
        if not self.total:
            return
        percent = min(100, done * 100 // self.total)
        if percent != self.shown:
            self.shown = percent
            self.stream.write(f"\r{percent:3d}%")
            self.stream.flush()

    def finish(self) -> None:
        """End the progress line."""
        if self.shown >= 0:
            self.stream.write("\n")


def part_path(target: Path) -> Path:
    """Where the unfinished download lives: FILE.part."""
    return target.with_name(target.name + ".part")


def fetch(url: str, part: Path) -> None:
    """Download ``url`` into ``part``, resuming from its current size when possible.

    Raises:
        DownloadError: an HTTP error, no connection, or the transfer broke off.

    """
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:  # noqa: S310
            if response.status == 206:
                mode, done = "ab", offset
            else:  # the server sent the whole file: start over
                mode, done = "wb", 0
            length = response.headers.get("Content-Length")
            total = done + int(length) if length and length.isdigit() else None
            with part.open(mode) as out:
                copy(response, out, done, total)
    except urllib.error.HTTPError as exc:
        raise DownloadError(f"сервер ответил {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(f"не удалось скачать {url}: {reason}") from None


def copy(response: BinaryIO, out: BinaryIO, done: int, total: int | None) -> None:
    """Copy the body to ``out`` in chunks, showing progress; check the length at the end."""
    progress = Progress(total)
    progress.update(done)
    while chunk := response.read(CHUNK):
        out.write(chunk)
        done += len(chunk)
        progress.update(done)
    progress.finish()
    if total is not None and done < total:
        raise DownloadError(f"соединение оборвалось: получено {done} из {total} байт, "
                            "запустите ещё раз, чтобы докачать")


def sha256_of(path: Path) -> str:
    """The file's SHA-256 as 64 lower-case hex digits."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


def download(url: str, target: Path, expected: str | None) -> str:
    """Download to ``target`` via ``target.part``; return the SHA-256.

    Raises:
        DownloadError: the download failed, or the hash differs (both files removed).

    """
    part = part_path(target)
    fetch(url, part)
    digest = sha256_of(part)
    if expected is not None and digest != expected.strip().lower():
        part.unlink(missing_ok=True)
        target.unlink(missing_ok=True)
        raise DownloadError(f"SHA-256 не совпадает: ожидали {expected}, получили {digest}; "
                            "скачанный файл удалён")
    part.replace(target)
    return digest


def main(argv: list[str] | None = None) -> int:
    """0 when the file is downloaded (and verified), 1 on any failure."""
    parser = argparse.ArgumentParser(prog="download", description=__doc__)
    parser.add_argument("url")
    parser.add_argument("-o", "--output", type=Path, required=True, help="куда сохранить")
    parser.add_argument("--sha256", help="ожидаемый SHA-256 (hex)")
    args = parser.parse_args(argv)
    try:
        print(download(args.url, args.output, args.sha256))
    except DownloadError as exc:
        print(f"download: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ndownload: прервано, запустите ещё раз, чтобы докачать", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
