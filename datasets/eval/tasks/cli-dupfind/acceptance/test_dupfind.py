def put(root, rel, data):
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data if isinstance(data, bytes) else data.encode("utf-8"))


def groups(result):
    assert result.returncode == 0, result.stderr
    blocks = result.stdout.strip().split("\n\n")
    return [[line.strip() for line in block.strip().splitlines()] for block in blocks]


def test_identical_files_in_subfolders_form_groups(run_app, tmp_path):
    root = tmp_path / "data"
    put(root, "a.txt", "hello!")
    put(root, "sub/b.txt", "hello!")
    put(root, "sub/deep/c.txt", "hello!")
    put(root, "d.txt", "world")
    put(root, "e.txt", "world")
    put(root, "f.txt", "unique")
    assert groups(run_app(root)) == [["a.txt", "sub/b.txt", "sub/deep/c.txt"],
                                     ["d.txt", "e.txt"]]


def test_biggest_files_first(run_app, tmp_path):
    root = tmp_path / "data"
    put(root, "small1.bin", b"x" * 10)
    put(root, "small2.bin", b"x" * 10)
    put(root, "big/one.bin", b"y" * 20000)
    put(root, "big/two.bin", b"y" * 20000)
    assert groups(run_app(root)) == [["big/one.bin", "big/two.bin"],
                                     ["small1.bin", "small2.bin"]]


def test_same_size_different_content_is_not_a_duplicate(run_app, tmp_path):
    root = tmp_path / "data"
    body = bytes(range(256)) * 4000
    put(root, "one.bin", body + b"A")
    put(root, "two.bin", body + b"B")
    put(root, "x.txt", "abc1")
    put(root, "y.txt", "abc2")
    result = run_app(root)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1
    for name in ("one.bin", "two.bin", "x.txt", "y.txt"):
        assert name not in result.stdout


def test_empty_and_small_files_are_ignored(run_app, tmp_path):
    root = tmp_path / "data"
    put(root, "empty1", b"")
    put(root, "empty2", b"")
    put(root, "tiny1", b"abc")
    put(root, "tiny2", b"abc")
    put(root, "ten1", b"0123456789")
    put(root, "ten2", b"0123456789")
    put(root, "more1", b"0123456789ab")
    put(root, "more2", b"0123456789ab")
    assert groups(run_app(root, "--min-size", "10")) == [["more1", "more2"], ["ten1", "ten2"]]
    assert groups(run_app(root)) == [["more1", "more2"], ["ten1", "ten2"], ["tiny1", "tiny2"]]


def test_unicode_names_with_spaces(run_app, tmp_path):
    root = tmp_path / "архив"
    put(root, "отчёт 2024.txt", "квартальный отчёт")
    put(root, "копии/отчёт 2024 (1).txt", "квартальный отчёт")
    assert groups(run_app(root)) == [["копии/отчёт 2024 (1).txt", "отчёт 2024.txt"]]


def test_missing_dir_is_an_error(run_app, tmp_path):
    result = run_app(tmp_path / "nowhere")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
