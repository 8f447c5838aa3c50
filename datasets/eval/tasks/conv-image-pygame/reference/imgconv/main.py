"""imgconv SRC DST [--width W] [--height H]: convert and resize an image with pygame.

The output format follows DST's extension (PNG, JPEG, BMP or TGA). With only one of --width
and --height, the other side keeps the aspect ratio.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pygame  # noqa: E402 - the variable above must be set first

FORMATS = {".png": "PNG", ".jpg": "JPEG", ".jpeg": "JPEG", ".bmp": "BMP", ".tga": "TGA"}


class ImageError(Exception):
    """The image cannot be converted; the message says why."""


def target_size(size: tuple[int, int], width: int | None,
                height: int | None) -> tuple[int, int]:
    """The output size in pixels: as given, or one side scaled to keep the aspect ratio."""
    old_width, old_height = size
    if width is None and height is None:
        return size
    if height is None:
        assert width is not None
        return width, max(1, round(old_height * width / old_width))
    if width is None:
        return max(1, round(old_width * height / old_height)), height
    return width, height


def resized(surface: pygame.Surface, size: tuple[int, int]) -> pygame.Surface:
    """``surface`` scaled to ``size`` (smoothly; palette images are made 32-bit first)."""
    if size == surface.get_size():
        return surface
    if surface.get_bitsize() not in (24, 32):
        canvas = pygame.Surface(surface.get_size(), pygame.SRCALPHA, 32)
        canvas.blit(surface, (0, 0))
        surface = canvas
    return pygame.transform.smoothscale(surface, size)


def convert(source: Path, target: Path, width: int | None, height: int | None) -> None:
    """Read ``source``, resize it, and save it to ``target`` in the format of its extension.

    Raises:
        ImageError: unsupported target format, unreadable source or unwritable target.

    """
    if target.suffix.lower() not in FORMATS:
        raise ImageError(f"unsupported output format {target.suffix or '(none)'}: use one of "
                         f"{', '.join(sorted(FORMATS))}")
    if not source.is_file():
        raise ImageError(f"{source} does not exist")
    if not target.parent.is_dir():
        raise ImageError(f"the folder {target.parent} does not exist")
    try:
        image = pygame.image.load(str(source))
    except (pygame.error, OSError) as exc:
        raise ImageError(f"cannot read {source} as an image: {exc}") from exc
    image = resized(image, target_size(image.get_size(), width, height))
    # Save under a name with the real extension (pygame picks the format from it), then move
    # it into place so a failure never leaves half an image.
    handle, temporary = tempfile.mkstemp(suffix=target.suffix.lower(), dir=target.parent)
    os.close(handle)
    try:
        pygame.image.save(image, temporary)
        os.replace(temporary, target)
    except (pygame.error, OSError) as exc:
        Path(temporary).unlink(missing_ok=True)
        raise ImageError(f"cannot write {target}: {exc}") from exc


def positive(text: str) -> int:
    """An argparse type: a whole number of pixels, at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of pixels, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1 pixel, not {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="imgconv", description=__doc__.splitlines()[0])
    parser.add_argument("source", type=Path, metavar="SRC")
    parser.add_argument("target", type=Path, metavar="DST")
    parser.add_argument("--width", type=positive, metavar="W", help="output width in pixels")
    parser.add_argument("--height", type=positive, metavar="H", help="output height in pixels")
    args = parser.parse_args(argv)
    try:
        convert(args.source, args.target, args.width, args.height)
    except ImageError as exc:
        print(f"imgconv: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
