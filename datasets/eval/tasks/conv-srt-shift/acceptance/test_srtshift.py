SAMPLE = """1
00:00:01,000 --> 00:00:03,200
Привет!

2
00:00:04,000 --> 00:00:06,500
<i>Как дела?</i>
— Отлично.

3
00:59:59,500 --> 01:00:01,000
Час прошёл.

4
01:30:00,000 --> 01:30:02,250
Конец.
"""


def write(tmp_path, text=SAMPLE, name="film.srt", newline="\n", bom=False):
    path = tmp_path / name
    data = text.replace("\n", newline).encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def blocks(text):
    text = text.lstrip("\ufeff").replace("\r\n", "\n").strip()
    return [[line.rstrip() for line in block.strip("\n").split("\n")]
            for block in text.split("\n\n")]


def timings(text):
    return [block[1] for block in blocks(text)]


def shifted(run_app, tmp_path, *args, **write_options):
    out = tmp_path / "out.srt"
    result = run_app(write(tmp_path, **write_options), *args, "-o", out)
    assert result.returncode == 0, result.stderr
    return out.read_bytes().decode("utf-8-sig")


def test_shift_forward_to_stdout_keeps_numbers_and_text(run_app, tmp_path):
    result = run_app(write(tmp_path), "2.5")
    assert result.returncode == 0, result.stderr
    assert blocks(result.stdout) == [
        ["1", "00:00:03,500 --> 00:00:05,700", "Привет!"],
        ["2", "00:00:06,500 --> 00:00:09,000", "<i>Как дела?</i>", "— Отлично."],
        ["3", "01:00:02,000 --> 01:00:03,500", "Час прошёл."],
        ["4", "01:30:02,500 --> 01:30:04,750", "Конец."],
    ]


def test_negative_shift_clamps_at_zero(run_app, tmp_path):
    assert timings(shifted(run_app, tmp_path, "-3.5")) == [
        "00:00:00,000 --> 00:00:00,000",
        "00:00:00,500 --> 00:00:03,000",
        "00:59:56,000 --> 00:59:57,500",
        "01:29:56,500 --> 01:29:58,750",
    ]


def test_millisecond_precision_and_carry_over(run_app, tmp_path):
    assert timings(shifted(run_app, tmp_path, "1.001")) == [
        "00:00:02,001 --> 00:00:04,201",
        "00:00:05,001 --> 00:00:07,501",
        "01:00:00,501 --> 01:00:02,001",
        "01:30:01,001 --> 01:30:03,251",
    ]
    assert timings(shifted(run_app, tmp_path, "-0.001"))[2] == "00:59:59,499 --> 01:00:00,999"


def test_from_shifts_only_the_later_subtitles(run_app, tmp_path):
    text = shifted(run_app, tmp_path, "-60", "--from", "3")
    assert timings(text) == [
        "00:00:01,000 --> 00:00:03,200",
        "00:00:04,000 --> 00:00:06,500",
        "00:58:59,500 --> 00:59:01,000",
        "01:29:00,000 --> 01:29:02,250",
    ]
    assert [block[0] for block in blocks(text)] == ["1", "2", "3", "4"]


def test_windows_line_endings_and_bom(run_app, tmp_path):
    text = shifted(run_app, tmp_path, "10", newline="\r\n", bom=True)
    assert blocks(text)[0] == ["1", "00:00:11,000 --> 00:00:13,200", "Привет!"]
    assert blocks(text)[1][2:] == ["<i>Как дела?</i>", "— Отлично."]
    assert len(blocks(text)) == 4


def test_bad_input_is_a_clear_error_and_writes_nothing(run_app, tmp_path):
    broken = SAMPLE.replace("00:59:59,500 --> 01:00:01,000", "00:59:5x,500 -> 01:00:01,000")
    out = tmp_path / "out.srt"
    cases = [
        (write(tmp_path, broken, name="broken.srt"), "2", "3"),
        (tmp_path / "missing.srt", "2", None),
        (write(tmp_path), "abc", None),
    ]
    for path, shift, number in cases:
        result = run_app(path, shift, "-o", out)
        assert result.returncode == 1, (path, shift, result.stderr)
        assert result.stderr.strip() and "Traceback" not in result.stderr
        assert not out.exists()
        if number:
            assert number in result.stderr
