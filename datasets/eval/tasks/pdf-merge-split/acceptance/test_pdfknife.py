from fpdf import FPDF
from pypdf import PdfReader


def make_pdf(path, labels):
    pdf = FPDF()
    pdf.set_font("Helvetica", size=16)
    for label in labels:
        pdf.add_page()
        pdf.cell(text=label)
    pdf.output(str(path))
    return path


def labels(path):
    return [(page.extract_text() or "").strip() for page in PdfReader(path).pages]


def assert_error(result):
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr


def test_merge_keeps_the_order_given(run_app, tmp_path):
    a = make_pdf(tmp_path / "a.pdf", ["A1", "A2"])
    b = make_pdf(tmp_path / "b.pdf", ["B1"])
    out = tmp_path / "итог.pdf"
    result = run_app("merge", "-o", out, b, a, b)
    assert result.returncode == 0, result.stderr
    assert labels(out) == ["B1", "A1", "A2", "B1"]
    assert labels(a) == ["A1", "A2"]


def test_split_into_numbered_parts(run_app, tmp_path):
    source = make_pdf(tmp_path / "report.pdf", ["P1", "P2", "P3", "P4", "P5"])
    result = run_app("split", source, "--every", "2", "-d", tmp_path / "parts" / "май")
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "parts" / "май"
    assert sorted(p.name for p in folder.iterdir()) == [
        "report_001.pdf", "report_002.pdf", "report_003.pdf"]
    assert labels(folder / "report_001.pdf") == ["P1", "P2"]
    assert labels(folder / "report_002.pdf") == ["P3", "P4"]
    assert labels(folder / "report_003.pdf") == ["P5"]

    result = run_app("split", source)
    assert result.returncode == 0, result.stderr
    assert [labels(tmp_path / f"report_{n:03d}.pdf") for n in range(1, 6)] == [
        ["P1"], ["P2"], ["P3"], ["P4"], ["P5"]]
    assert not (tmp_path / "report_006.pdf").exists()


def test_pages_by_ranges_in_the_order_written(run_app, tmp_path):
    source = make_pdf(tmp_path / "book.pdf", [f"P{n}" for n in range(1, 13)])
    result = run_app("pages", source, "3,1,5-6,11-", "-o", tmp_path / "picked.pdf")
    assert result.returncode == 0, result.stderr
    assert labels(tmp_path / "picked.pdf") == ["P3", "P1", "P5", "P6", "P11", "P12"]


def test_info_counts_pages(run_app, tmp_path):
    folder = tmp_path / "мои документы"
    folder.mkdir()
    first = make_pdf(folder / "отчёт за май.pdf", ["1", "2", "3"])
    second = make_pdf(tmp_path / "b.pdf", ["1", "2"])
    result = run_app("info", first, second)
    assert result.returncode == 0, result.stderr
    lines = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    assert lines == ["отчёт за май.pdf: 3", "b.pdf: 2", "Всего: 5"]


def test_bad_ranges_write_nothing(run_app, tmp_path):
    source = make_pdf(tmp_path / "doc.pdf", ["P1", "P2", "P3"])
    for number, spec in enumerate(("2-4", "abc")):
        out = tmp_path / f"out-{number}.pdf"
        assert_error(run_app("pages", source, spec, "-o", out))
        assert not out.exists(), spec
    assert labels(source) == ["P1", "P2", "P3"]


def test_missing_or_invalid_inputs_write_nothing(run_app, tmp_path):
    good = make_pdf(tmp_path / "good.pdf", ["G1"])
    fake = tmp_path / "fake.pdf"
    fake.write_text("not a pdf at all", encoding="utf-8")
    out = tmp_path / "merged.pdf"
    assert_error(run_app("merge", "-o", out, good, tmp_path / "missing.pdf"))
    assert not out.exists()
    assert_error(run_app("merge", "-o", out, good, fake))
    assert not out.exists()


def test_existing_output_needs_force(run_app, tmp_path):
    a = make_pdf(tmp_path / "a.pdf", ["A1"])
    out = tmp_path / "out.pdf"
    out.write_bytes(b"my precious old file")
    assert_error(run_app("merge", "-o", out, a, a))
    assert out.read_bytes() == b"my precious old file"
    result = run_app("merge", "-o", out, a, a, "--force")
    assert result.returncode == 0, result.stderr
    assert labels(out) == ["A1", "A1"]
