"""Render the app icon's raster files from ``ui/desktop/icons/multicoder.svg``.

Usage: ``uv run python -m ui.desktop.packaging.make_icons`` (rewrites the files in
``ui/desktop/packaging/icons/``; run it after changing the SVG and keep the results).

Writes ``multicoder-<N>.png`` for N in :data:`PNG_SIZES` (Linux and macOS executables, desktop
files, the README) and ``multicoder.ico`` (Windows) holding the sizes of :data:`ICO_SIZES`.
Each size is drawn from the SVG by Qt, not scaled from another bitmap, so small sizes stay
sharp. The ``.ico`` container is written here (PNG-compressed entries, allowed since Windows
Vista): six bytes of header, sixteen per entry, then the PNG files; no imaging library needed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QRectF, Qt
from PySide6.QtGui import QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

__all__ = ["ICO_SIZES", "OUT_DIR", "PNG_SIZES", "SVG", "ico_bytes", "main", "render_png"]

SVG = Path(__file__).resolve().parent.parent / "icons" / "multicoder.svg"
OUT_DIR = Path(__file__).resolve().parent / "icons"
PNG_SIZES = (16, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)


def render_png(renderer: QSvgRenderer, size: int) -> bytes:
    """The SVG drawn at ``size``×``size`` pixels, as PNG bytes (transparent background).

    Raises:
        ValueError: ``size`` is not between 1 and 4096.

    """
    if not 1 <= size <= 4096:
        raise ValueError(f"icon size {size} is outside 1..4096 pixels")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    image.save(buffer, "PNG")  # type: ignore[call-overload]  # the stubs want bytes, Qt a str
    buffer.close()
    return bytes(data.data())


def ico_bytes(pngs: dict[int, bytes]) -> bytes:
    """A Windows icon file holding the given PNG images.

    Args:
        pngs: square size in pixels (1..256) -> PNG bytes of that size.

    Raises:
        ValueError: no images, or a size outside 1..256 (the format's limit).

    """
    if not pngs:
        raise ValueError("an .ico needs at least one image")
    sizes = sorted(pngs)
    if sizes[0] < 1 or sizes[-1] > 256:
        raise ValueError(f"an .ico holds sizes 1..256 pixels, not {sizes}")
    header = (0).to_bytes(2, "little") + (1).to_bytes(2, "little") \
        + len(sizes).to_bytes(2, "little")
    offset = len(header) + 16 * len(sizes)
    entries = b""
    for size in sizes:
        data = pngs[size]
        side = (size % 256).to_bytes(1, "little")  # 0 means 256
        entries += (side + side + b"\x00" + b"\x00"  # width, height, palette, reserved
                    + (1).to_bytes(2, "little") + (32).to_bytes(2, "little")  # planes, bpp
                    + len(data).to_bytes(4, "little") + offset.to_bytes(4, "little"))
        offset += len(data)
    return header + entries + b"".join(pngs[size] for size in sizes)


def main(argv: list[str] | None = None) -> int:
    """Write the PNG and ICO files into ``--out`` (default :data:`OUT_DIR`); returns 0.

    Raises:
        SystemExit: the SVG cannot be read (exit code 2, with the reason).

    """
    parser = argparse.ArgumentParser(description="Render MultiCoder's raster icons.")
    parser.add_argument("--out", type=Path, default=OUT_DIR, help="output folder")
    args = parser.parse_args(argv)
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    renderer = QSvgRenderer(str(SVG))
    if not renderer.isValid():
        parser.exit(2, f"make_icons: {SVG} is not a valid SVG file\n")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    pngs = {size: render_png(renderer, size) for size in PNG_SIZES}
    for size, data in pngs.items():
        (out / f"multicoder-{size}.png").write_bytes(data)
    (out / "multicoder.ico").write_bytes(ico_bytes({s: pngs[s] for s in ICO_SIZES}))
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
