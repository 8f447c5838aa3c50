TEXT = ("Съешь же ещё этих мягких французских булок, да выпей чаю.\n"
        "Широкая электрификация южных губерний даст мощный толчок подъёму сельского хозяйства.\n"
        "Москва, ГОСТ 2024, Hello!\n")

ALIASES = {"utf-8": {"utf-8", "utf8"}, "cp1251": {"cp1251", "windows-1251"},
           "koi8-r": {"koi8-r", "koi8_r"}}


def make(folder, name, data):
    path = folder / name
    path.write_bytes(data)
    return path


def reported(result, name):
    lines = [line for line in result.stdout.splitlines() if name in line]
    assert len(lines) == 1, result.stdout
    return lines[0].rsplit(":", 1)[1].strip().lower()


def test_cp1251_file_is_converted_in_place(run_app, tmp_path):
    path = make(tmp_path, "old.txt", TEXT.encode("cp1251"))
    result = run_app(path)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == TEXT.encode("utf-8")
    assert reported(result, "old.txt") in ALIASES["cp1251"]


def test_koi8r_file_is_detected(run_app, tmp_path):
    path = make(tmp_path, "unix.txt", TEXT.encode("koi8-r"))
    result = run_app(path)
    assert result.returncode == 0, result.stderr
    assert path.read_bytes() == TEXT.encode("utf-8")
    assert reported(result, "unix.txt") in ALIASES["koi8-r"]


def test_utf8_is_never_double_encoded_and_bom_is_removed(run_app, tmp_path):
    plain = make(tmp_path, "plain.txt", TEXT.encode("utf-8"))
    bom = make(tmp_path, "bom.txt", b"\xef\xbb\xbf" + TEXT.encode("utf-8"))
    latin = make(tmp_path, "latin.txt", b"just ASCII, nothing else\n")
    result = run_app(plain, bom, latin)
    assert result.returncode == 0, result.stderr
    assert plain.read_bytes() == TEXT.encode("utf-8")
    assert bom.read_bytes() == TEXT.encode("utf-8")
    assert latin.read_bytes() == b"just ASCII, nothing else\n"
    for name in ("plain.txt", "bom.txt", "latin.txt"):
        assert reported(result, name) in ALIASES["utf-8"]


def test_windows_line_endings_are_kept(run_app, tmp_path):
    crlf = TEXT.replace("\n", "\r\n")
    first = make(tmp_path, "dos1251.txt", crlf.encode("cp1251"))
    second = make(tmp_path, "doskoi.txt", crlf.encode("koi8-r"))
    result = run_app(first, second)
    assert result.returncode == 0, result.stderr
    assert first.read_bytes() == crlf.encode("utf-8")
    assert second.read_bytes() == crlf.encode("utf-8")


def test_output_folder_keeps_the_originals(run_app, tmp_path):
    one = make(tmp_path, "one.txt", TEXT.encode("cp1251"))
    two = make(tmp_path, "два.txt", TEXT.encode("koi8-r"))
    out = tmp_path / "converted" / "nested"
    result = run_app(one, two, "-o", out)
    assert result.returncode == 0, result.stderr
    assert one.read_bytes() == TEXT.encode("cp1251")
    assert two.read_bytes() == TEXT.encode("koi8-r")
    assert (out / "one.txt").read_bytes() == TEXT.encode("utf-8")
    assert (out / "два.txt").read_bytes() == TEXT.encode("utf-8")


def test_binary_and_missing_files_are_skipped_and_the_rest_converted(run_app, tmp_path):
    picture = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10\xe0\xf0\xc1"
    binary = make(tmp_path, "picture.png", picture)
    good = make(tmp_path, "good.txt", TEXT.encode("cp1251"))
    result = run_app(binary, tmp_path / "missing.txt", good)
    assert result.returncode == 1
    assert binary.read_bytes() == picture
    assert good.read_bytes() == TEXT.encode("utf-8")
    assert "picture.png" in result.stderr and "missing.txt" in result.stderr
    assert "Traceback" not in result.stderr
