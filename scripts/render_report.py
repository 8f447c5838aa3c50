"""Render a run's report to PNG images, to look at it as a person would.

Usage::

    uv run python scripts/render_report.py RUN_ID [--out DIR] [--dpi 70] [--pages 3]
    uv run python scripts/render_report.py path/to/report.pdf
    uv run python scripts/render_report.py path/to/report.html

With a RUN_ID, the run's HTML and PDF reports are written first (``multicoder report``'s code,
with the settings of the environment: ``MULTICODER_DATA_DIR`` ...). The PDF's pages become
``report-pdf-page-N.png`` (pypdfium2, a dev dependency). The HTML becomes ``report-html.png``
through a headless Chromium (``chromium --headless --screenshot``) when one is installed;
without one the script says which package to install (Debian/Ubuntu: ``chromium``) and renders
the PDF only. Exit code 0 when every requested image was made, 1 otherwise, 2 on bad input.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BROWSERS = ("chromium", "chromium-browser", "chromium-headless-shell", "headless_shell",
            "google-chrome", "google-chrome-stable", "chrome")


def render_pdf(pdf: Path, out_dir: Path, dpi: int, pages: int | None, colors: int = 0
               ) -> list[Path]:
    """Each page of ``pdf`` (the first ``pages``; all when None) as ``report-pdf-page-N.png``.

    ``colors`` > 0 reduces each image to that many colours (much smaller files for the docs).
    """
    import pypdfium2

    document = pypdfium2.PdfDocument(str(pdf))
    written = []
    try:
        count = len(document) if pages is None else min(pages, len(document))
        for number in range(count):
            image = document[number].render(scale=dpi / 72).to_pil()
            if colors:
                image = image.quantize(colors=colors)
            target = out_dir / f"report-pdf-page-{number + 1}.png"
            image.save(target, optimize=True)
            written.append(target)
    finally:
        document.close()
    return written


def find_browser() -> str | None:
    """The path of an installed Chromium or Chrome, or None."""
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def render_html(html: Path, out_dir: Path, width: int, height: int) -> Path | None:
    """A screenshot of ``html`` (``width`` x ``height`` CSS pixels) as ``report-html.png``.

    Returns None (after saying why on stderr) when no browser is installed or it failed.
    """
    browser = find_browser()
    if browser is None:
        print("no Chromium or Chrome found: the HTML is not rendered. Install one, e.g."
              " `apt-get install chromium` (Debian/Ubuntu) or `chromium-headless-shell`.",
              file=sys.stderr)
        return None
    target = out_dir / "report-html.png"
    with tempfile.TemporaryDirectory(prefix="multicoder-chromium-") as profile:
        command = [browser, "--headless", "--disable-gpu", "--hide-scrollbars",
                   "--no-first-run", f"--user-data-dir={profile}",
                   f"--window-size={width},{height}", f"--screenshot={target}",
                   html.resolve().as_uri()]
        if hasattr(__import__("os"), "geteuid") and __import__("os").geteuid() == 0:
            command.insert(1, "--no-sandbox")  # Chromium refuses to run as root otherwise
        result = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                check=False)
    if result.returncode != 0 or not target.is_file():
        print(f"{browser} failed ({result.returncode}): {result.stderr.strip()[-500:]}",
              file=sys.stderr)
        return None
    return target


def write_reports(run_id: str, out_dir: Path) -> tuple[Path, Path]:
    """The run's HTML and PDF reports, written into ``out_dir``.

    Raises:
        graph.InputError: no such run.

    """
    sys.path.insert(0, str(ROOT))
    from graph import Settings
    from graph.reports import write_run_report

    settings = Settings()
    html = write_run_report(settings, run_id, "html", out_dir / "report.html")
    pdf = write_run_report(settings, run_id, "pdf", out_dir / "report.pdf")
    return html, pdf


def main() -> int:
    """Parse the arguments, write the reports if needed, render them; returns the exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("target", help="a run id, or a report's .pdf or .html file")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir())
                        / "multicoder-report-images", help="folder for the images")
    parser.add_argument("--dpi", type=int, default=70, help="resolution of the PDF pages")
    parser.add_argument("--pages", type=int, default=None, help="only the first N pages")
    parser.add_argument("--colors", type=int, default=0,
                        help="reduce the PDF images to N colours (smaller files), e.g. 64")
    parser.add_argument("--width", type=int, default=1200, help="browser width (HTML)")
    parser.add_argument("--height", type=int, default=2400, help="browser height (HTML)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    target = Path(args.target)
    html: Path | None = None
    pdf: Path | None = None
    if target.suffix.lower() == ".pdf" and target.is_file():
        pdf = target
    elif target.suffix.lower() in (".html", ".htm") and target.is_file():
        html = target
    else:
        from graph import InputError

        try:
            html, pdf = write_reports(args.target, args.out)
        except InputError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    ok = True
    if pdf is not None:
        for image in render_pdf(pdf, args.out, args.dpi, args.pages, args.colors):
            print(image)
    if html is not None:
        image = render_html(html, args.out, args.width, args.height)
        ok = image is not None
        if image is not None:
            print(image)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
