"""Host-side reads and writes of files that sandboxed code can reach, without following links.

Generated code runs with the workspace (and the run's ``dist`` folder) writable, so any name
there may be a symbolic link it planted (``requirements.txt -> /etc/shadow``,
``dist/build.log -> ~/.bashrc``) or a FIFO that blocks a reader forever. MultiCoder's own
process reads and writes such names through these two functions only:

* :func:`read_regular_file` refuses a link, a file resolving outside the given root, and
  anything that is not a regular file; it opens with ``O_NOFOLLOW`` so a link planted after
  the check is refused too.
* :func:`write_file_atomic` writes a fresh temporary file (``mkstemp``: ``O_CREAT|O_EXCL``, so
  never through a link) in the resolved parent folder, then renames it over the name; a
  rename replaces a link itself, never its target.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


class UnsafePathError(OSError):
    """A path was refused: a symbolic link, outside its root, or not a regular file."""


_READ_FLAGS = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))


def _inside(path: Path, root: Path | None) -> Path:
    """``path``'s parent, resolved; it must be ``root`` or inside it when ``root`` is given."""
    parent = path.parent.resolve(strict=True)
    if root is not None and not parent.is_relative_to(root.resolve()):
        raise UnsafePathError(f"{path} leads outside {root} (a symbolic link on the way)")
    return parent


def read_regular_file(path: Path, *, root: Path | None = None,
                      max_bytes: int = 1_000_000) -> bytes:
    """The bytes of ``path``, which must be a regular file that is not a symbolic link.

    Args:
        path: the file to read.
        root: when given, the file's resolved folder must be ``root`` or inside it.
        max_bytes: largest size accepted, in bytes.

    Returns:
        The whole content.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        UnsafePathError: ``path`` is a symbolic link, its folder resolves outside ``root``,
            it is not a regular file (FIFO, device, folder), or it is larger than
            ``max_bytes``.
        OSError: any other error of the file system.

    """
    if path.is_symlink():
        raise UnsafePathError(f"{path.name} is a symbolic link; it must be a regular file")
    parent = _inside(path, root)
    try:
        fd = os.open(parent / path.name, _READ_FLAGS)
    except OSError as exc:
        if path.is_symlink():  # planted between the check and the open (ELOOP)
            raise UnsafePathError(
                f"{path.name} is a symbolic link; it must be a regular file") from exc
        raise
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise UnsafePathError(f"{path.name} is not a regular file")
        if info.st_size > max_bytes:
            raise UnsafePathError(f"{path.name} is larger than {max_bytes} bytes")
        data = handle.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise UnsafePathError(f"{path.name} is larger than {max_bytes} bytes")
    return data


def write_file_atomic(path: Path, data: bytes, *, root: Path | None = None,
                      mode: int = 0o644) -> Path:
    """Create or replace ``path`` with ``data`` without ever writing through a link.

    The data goes to a new temporary file in ``path``'s resolved folder, which is then
    renamed over ``path``.

    Args:
        path: the file to write (its folder must exist).
        data: the new content.
        root: when given, the resolved folder must be ``root`` or inside it.
        mode: permission bits of the new file.

    Returns:
        The path written (the resolved folder joined with ``path.name``).

    Raises:
        UnsafePathError: ``path`` is a symbolic link (refused, left as it is) or its folder
            resolves outside ``root``.
        OSError: the folder is missing or the file system refused the write.

    """
    if path.is_symlink():
        raise UnsafePathError(f"{path} is a symbolic link; refusing to write through it")
    parent = _inside(path, root)
    fd, temporary = tempfile.mkstemp(dir=parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), mode)
        final = parent / path.name
        Path(temporary).replace(final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return final
