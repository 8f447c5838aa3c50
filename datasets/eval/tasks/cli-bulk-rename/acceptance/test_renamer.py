def make(folder, *names):
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / name).write_text(name, encoding="utf-8")
    return folder


def listing(folder):
    return sorted(p.name for p in folder.iterdir())


def pairs(result):
    return [tuple(part.strip() for part in line.split(" -> "))
            for line in result.stdout.splitlines() if " -> " in line]


def test_renames_with_groups_and_reports_sorted(run_app, tmp_path):
    folder = make(tmp_path / "photos", "IMG_010.jpg", "IMG_002.jpg", "notes.txt")
    result = run_app(folder, r"IMG_(\d+)\.jpg", r"photo-\1.jpg")
    assert result.returncode == 0, result.stderr
    assert pairs(result) == [("IMG_002.jpg", "photo-002.jpg"), ("IMG_010.jpg", "photo-010.jpg")]
    assert listing(folder) == ["notes.txt", "photo-002.jpg", "photo-010.jpg"]
    assert (folder / "photo-010.jpg").read_text(encoding="utf-8") == "IMG_010.jpg"


def test_dry_run_changes_nothing(run_app, tmp_path):
    folder = make(tmp_path / "photos", "IMG_2.jpg", "IMG_1.jpg", "notes.txt")
    result = run_app(folder, r"IMG_(\d)\.jpg", r"\1-holiday.jpg", "--dry-run")
    assert result.returncode == 0, result.stderr
    assert pairs(result) == [("IMG_1.jpg", "1-holiday.jpg"), ("IMG_2.jpg", "2-holiday.jpg")]
    assert listing(folder) == ["IMG_1.jpg", "IMG_2.jpg", "notes.txt"]


def test_only_files_directly_in_the_folder(run_app, tmp_path):
    folder = make(tmp_path / "docs", "draft-a.txt")
    make(folder / "draft-dir")
    make(folder / "sub", "draft-b.txt")
    result = run_app(folder, "draft", "final")
    assert result.returncode == 0, result.stderr
    assert listing(folder) == ["draft-dir", "final-a.txt", "sub"]
    assert listing(folder / "sub") == ["draft-b.txt"]
    assert pairs(result) == [("draft-a.txt", "final-a.txt")]


def test_every_match_is_replaced_in_russian_names(run_app, tmp_path):
    folder = make(tmp_path / "отпуск", "Отпуск 2023 день 1.txt", "Море и горы.jpg")
    result = run_app(folder, " ", "_")
    assert result.returncode == 0, result.stderr
    assert listing(folder) == ["Море_и_горы.jpg", "Отпуск_2023_день_1.txt"]
    assert ("Отпуск 2023 день 1.txt", "Отпуск_2023_день_1.txt") in pairs(result)


def test_name_clash_renames_nothing(run_app, tmp_path):
    folder = make(tmp_path / "clash", "a1.txt", "a2.txt", "b.txt")
    result = run_app(folder, r"\d", "")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert listing(folder) == ["a1.txt", "a2.txt", "b.txt"]

    folder = make(tmp_path / "taken", "report.bak", "report.txt", "other.bak")
    result = run_app(folder, r"\.bak$", ".txt")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert listing(folder) == ["other.bak", "report.bak", "report.txt"]
    assert (folder / "report.txt").read_text(encoding="utf-8") == "report.txt"


def test_bad_pattern_and_missing_folder(run_app, tmp_path):
    folder = make(tmp_path / "files", "a.txt")
    result = run_app(folder, "(unclosed", "x")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert listing(folder) == ["a.txt"]
    result = run_app(tmp_path / "nowhere", "a", "b")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
