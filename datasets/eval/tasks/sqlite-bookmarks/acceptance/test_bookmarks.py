import pytest

PY = "https://docs.python.org/3/"
BORSCH = "https://example.ru/рецепты/борщ"
NEWS = "http://news.example.com/?page=1&sort=new"


@pytest.fixture
def bm(run_app, tmp_path):
    db = tmp_path / "bookmarks.db"

    def run(*args, ok=True):
        result = run_app("--db", db, *args)
        if ok:
            assert result.returncode == 0, (args, result.stderr)
        return result

    return run


def rows(result, width=3):
    return [(line.split("\t") + [""] * width)[:width]
            for line in result.stdout.splitlines() if line.strip()]


def test_list_shows_url_title_and_sorted_lower_case_tags_in_order_added(bm):
    bm("add", PY, "--title", "Python docs", "--tag", "Python", "--tag", "Docs")
    bm("add", BORSCH, "--title", "Борщ по-украински", "--tag", "Кухня", "--tag", "суп",
       "--tag", "СУП")
    bm("add", NEWS)
    assert rows(bm("list")) == [
        [PY, "Python docs", "docs,python"],
        [BORSCH, "Борщ по-украински", "кухня,суп"],
        [NEWS, "", ""],
    ]


def test_adding_a_saved_url_merges_tags_instead_of_duplicating(bm):
    bm("add", PY, "--title", "Docs", "--tag", "python")
    bm("add", NEWS, "--tag", "news")
    bm("add", PY, "--title", "Python 3 documentation", "--tag", "Reference", "--tag", "python")
    bm("add", PY, "--tag", "stdlib")
    assert rows(bm("list")) == [
        [PY, "Python 3 documentation", "python,reference,stdlib"],
        [NEWS, "", "news"],
    ]


def test_several_tags_must_all_match_in_any_case(bm):
    bm("add", PY, "--tag", "python", "--tag", "web")
    bm("add", "https://flask.palletsprojects.com/", "--tag", "Python", "--tag", "Web",
       "--tag", "framework")
    bm("add", "https://developer.mozilla.org/", "--tag", "web")
    bm("add", "https://pypi.org/", "--tag", "python")
    urls = [row[0] for row in rows(bm("list", "--tag", "WEB", "--tag", "python"))]
    assert urls == [PY, "https://flask.palletsprojects.com/"]
    urls = [row[0] for row in rows(bm("list", "--tag", "Framework"))]
    assert urls == ["https://flask.palletsprojects.com/"]
    assert rows(bm("list", "--tag", "web", "--tag", "nothing")) == []


def test_tags_are_counted_most_used_first(bm):
    bm("add", PY, "--tag", "python", "--tag", "docs")
    bm("add", "https://pypi.org/", "--tag", "Python", "--tag", "packages")
    bm("add", "https://realpython.com/", "--tag", "python", "--tag", "Учёба")
    bm("add", "https://docs.djangoproject.com/", "--tag", "docs", "--tag", "django")
    assert rows(bm("tags"), width=2) == [
        ["python", "3"], ["docs", "2"], ["django", "1"], ["packages", "1"], ["учёба", "1"]]


def test_remove_and_errors(bm):
    bm("add", PY, "--tag", "python")
    bm("add", NEWS, "--tag", "news")
    bm("remove", NEWS)
    assert rows(bm("list")) == [[PY, "", "python"]]
    assert rows(bm("tags"), width=2) == [["python", "1"]]
    for bad in ("ftp://files.example.com/a.zip", "example.com", "javascript:alert(1)"):
        result = bm("add", bad, "--tag", "bad", ok=False)
        assert result.returncode == 2, bad
        assert result.stderr.strip() and "Traceback" not in result.stderr
    result = bm("remove", "https://never.saved/", ok=False)
    assert result.returncode == 1
    assert result.stderr.strip() and "Traceback" not in result.stderr
    assert rows(bm("list")) == [[PY, "", "python"]]
