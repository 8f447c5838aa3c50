DOC = """# Project

Intro text.

## Install
### From PyPI
### From source ###
#### Details
## Usage
#hashtag is not a heading
```bash
# a comment, not a heading
```
~~~
## Not a heading either
~~~
## FAQ
"""

TOC = [
    "- [Project](#project)",
    "  - [Install](#install)",
    "    - [From PyPI](#from-pypi)",
    "    - [From source](#from-source)",
    "  - [Usage](#usage)",
    "  - [FAQ](#faq)",
]


def write(tmp_path, text, name="README.md"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def toc_lines(result):
    assert result.returncode == 0, result.stderr
    return [line.rstrip() for line in result.stdout.splitlines() if line.strip()]


def test_nested_list_of_headings(run_app, tmp_path):
    assert toc_lines(run_app(write(tmp_path, DOC))) == TOC


def test_max_level(run_app, tmp_path):
    path = write(tmp_path, DOC)
    assert toc_lines(run_app(path, "--max-level", "2")) == [
        line for line in TOC if "From" not in line]
    assert toc_lines(run_app(path, "--max-level", "4")) == [
        *TOC[:4], "      - [Details](#details)", *TOC[4:]]


def test_code_blocks_and_hashtags_are_not_headings(run_app, tmp_path):
    text = ("## Real\n```\n## Fake one\n```\n#tag\n~~~python\n# fake two\n~~~\n"
            "## Also real\n")
    assert toc_lines(run_app(write(tmp_path, text))) == [
        "- [Real](#real)", "- [Also real](#also-real)"]


def test_github_anchors(run_app, tmp_path):
    text = ("## What's new in 2.0?\n## C++ & Python\n## Привет, мир!\n## Using `mdtoc`\n"
            "## snake_case name\n## Examples\n## Examples\n## Examples\n")
    assert toc_lines(run_app(write(tmp_path, text))) == [
        "- [What's new in 2.0?](#whats-new-in-20)",
        "- [C++ & Python](#c--python)",
        "- [Привет, мир!](#привет-мир)",
        "- [Using `mdtoc`](#using-mdtoc)",
        "- [snake_case name](#snake_case-name)",
        "- [Examples](#examples)",
        "- [Examples](#examples-1)",
        "- [Examples](#examples-2)",
    ]


def test_in_place_between_markers(run_app, tmp_path):
    before = "# Guide\n\nSome intro.\n\n"
    after = "\n## Setup\n\nText.\n\n## Раздел\n"
    path = write(tmp_path, before + "<!-- toc -->\n- [Old](#old)\n<!-- tocstop -->\n" + after)
    assert run_app(path, "--in-place").returncode == 0
    text = path.read_text(encoding="utf-8")
    assert text.startswith(before + "<!-- toc -->\n")
    assert text.endswith("<!-- tocstop -->\n" + after)
    inside = text[len(before + "<!-- toc -->\n"): -len("<!-- tocstop -->\n" + after)]
    assert [line for line in inside.splitlines() if line.strip()] == [
        "- [Guide](#guide)", "  - [Setup](#setup)", "  - [Раздел](#раздел)"]
    assert run_app(path, "--in-place").returncode == 0
    assert path.read_text(encoding="utf-8") == text


def test_missing_markers_or_file_are_errors(run_app, tmp_path):
    path = write(tmp_path, "# Title\n\n## Part\n")
    result = run_app(path, "--in-place")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert path.read_text(encoding="utf-8") == "# Title\n\n## Part\n"
    result = run_app(tmp_path / "missing.md")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
