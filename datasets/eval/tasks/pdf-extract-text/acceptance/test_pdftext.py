import re

from fpdf import FPDF

HEADER = re.compile(r"^--- Page (\d+) ---$", re.MULTILINE)


def make_pdf(path, pages):
    pdf = FPDF()
    pdf.set_font("Helvetica", size=14)
    for text in pages:
        pdf.add_page()
        if text:
            pdf.cell(text=text)
    pdf.output(str(path))
    return path


def split_pages(text):
    """{page number: text after its header}"""
    numbers = [int(n) for n in HEADER.findall(text)]
    bodies = HEADER.split(text)[2::2]
    return numbers, dict(zip(numbers, (body.strip() for body in bodies)))


def test_default_output_next_to_the_pdf(run_app, tmp_path):
    pdf = make_pdf(tmp_path / "report.pdf", ["Alpha first", "Bravo second", "Charlie third"])
    result = run_app(pdf)
    assert result.returncode == 0, result.stderr
    text = (tmp_path / "report.txt").read_text(encoding="utf-8")
    numbers, bodies = split_pages(text)
    assert numbers == [1, 2, 3]
    assert "Alpha first" in bodies[1]
    assert "Bravo second" in bodies[2]
    assert "Charlie third" in bodies[3]


def test_output_option_writes_utf8(run_app, tmp_path):
    pdf = make_pdf(tmp_path / "menu.pdf", ["Café déjà vu", "Crème brûlée"])
    out = tmp_path / "out" / "menu text.txt"
    out.parent.mkdir()
    result = run_app(pdf, "-o", out)
    assert result.returncode == 0, result.stderr
    text = out.read_bytes().decode("utf-8")
    assert "Café déjà vu" in text
    assert "Crème brûlée" in text
    assert not (tmp_path / "menu.txt").exists()


def test_page_selection_keeps_real_numbers(run_app, tmp_path):
    pdf = make_pdf(tmp_path / "book.pdf", [f"Chapter {n} text" for n in range(1, 7)])
    result = run_app(pdf, "-o", tmp_path / "part.txt", "--pages", "2-3,5")
    assert result.returncode == 0, result.stderr
    numbers, bodies = split_pages((tmp_path / "part.txt").read_text(encoding="utf-8"))
    assert numbers == [2, 3, 5]
    assert "Chapter 2 text" in bodies[2]
    assert "Chapter 5 text" in bodies[5]
    assert "Chapter 1 text" not in "".join(bodies.values())
    assert "Chapter 4 text" not in "".join(bodies.values())


def test_page_without_text_keeps_its_header_and_warns(run_app, tmp_path):
    pdf = make_pdf(tmp_path / "scan.pdf", ["Typed page", "", "Another typed page"])
    result = run_app(pdf)
    assert result.returncode == 0, result.stderr
    numbers, bodies = split_pages((tmp_path / "scan.txt").read_text(encoding="utf-8"))
    assert numbers == [1, 2, 3]
    assert "typed" not in bodies[2].lower()
    assert "Another typed page" in bodies[3]
    assert result.stderr.strip()


def test_bad_input_creates_nothing(run_app, tmp_path):
    fake = tmp_path / "fake.pdf"
    fake.write_text("this is not a PDF", encoding="utf-8")
    result = run_app(fake)
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "fake.txt").exists()

    result = run_app(tmp_path / "missing.pdf")
    assert result.returncode == 1
    assert not (tmp_path / "missing.txt").exists()

    pdf = make_pdf(tmp_path / "short.pdf", ["one", "two", "three"])
    result = run_app(pdf, "--pages", "2-4")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "short.txt").exists()
