import re

WEEK = """# мои напоминания
09:00 Зарядка
пн,ср,пт 18:30 Бассейн

сб-вс 11:00 Завтрак с семьёй
2024-05-10 15:00 Стоматолог
2024-04-01 10:00 Давно прошло
"""

WEEK_EXPECTED = [
    "2024-05-06 09:00 Зарядка",
    "2024-05-06 18:30 Бассейн",
    "2024-05-07 09:00 Зарядка",
    "2024-05-08 09:00 Зарядка",
    "2024-05-08 18:30 Бассейн",
    "2024-05-09 09:00 Зарядка",
    "2024-05-10 09:00 Зарядка",
    "2024-05-10 15:00 Стоматолог",
    "2024-05-10 18:30 Бассейн",
    "2024-05-11 09:00 Зарядка",
    "2024-05-11 11:00 Завтрак с семьёй",
    "2024-05-12 09:00 Зарядка",
    "2024-05-12 11:00 Завтрак с семьёй",
]


def schedule(tmp_path, text, name="plan.txt", encoding="utf-8", newline="\n"):
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode(encoding))
    return path


def shown(result):
    assert result.returncode == 0, result.stderr
    return [line.rstrip() for line in result.stdout.splitlines() if line.strip()]


def test_daily_weekly_and_one_off_for_a_week(run_app, tmp_path):
    path = schedule(tmp_path, WEEK)
    assert shown(run_app(path, "--from", "2024-05-06 00:00", "--days", "7")) == WEEK_EXPECTED
    work = schedule(tmp_path, "пн-пт 08:15 Электричка\n", name="work.txt")
    assert shown(run_app(work, "--from", "2024-05-10 00:00", "--days", "4")) == [
        "2024-05-10 08:15 Электричка", "2024-05-13 08:15 Электричка"]


def test_yearly_dates_and_leap_day(run_app, tmp_path):
    path = schedule(tmp_path, "29.02 10:00 День рождения Васи\n01.03 09:00 Весна\n")
    assert shown(run_app(path, "--from", "2024-02-28 12:00", "--days", "2")) == [
        "2024-02-29 10:00 День рождения Васи", "2024-03-01 09:00 Весна"]
    assert shown(run_app(path, "--from", "2023-02-27 12:00", "--days", "3")) == [
        "2023-03-01 09:00 Весна"]
    assert shown(run_app(path, "--from", "2030-02-27 00:00", "--days", "400")) == [
        "2030-03-01 09:00 Весна", "2031-03-01 09:00 Весна"]


def test_window_includes_start_excludes_end_and_keeps_file_order(run_app, tmp_path):
    path = schedule(tmp_path, "09:00 Полить цветы\n09:00 Вынести мусор\nпт 09:00 Аптека\n")
    assert shown(run_app(path, "--from", "2024-05-10 09:00", "--days", "1")) == [
        "2024-05-10 09:00 Полить цветы", "2024-05-10 09:00 Вынести мусор",
        "2024-05-10 09:00 Аптека"]
    assert shown(run_app(path, "--from", "2024-05-10 09:01")) == [
        "2024-05-11 09:00 Полить цветы", "2024-05-11 09:00 Вынести мусор"]


def test_next_finds_the_nearest_even_years_ahead(run_app, tmp_path):
    path = schedule(tmp_path, "2030-01-01 00:00 Далеко\n22:00 Спать\n")
    assert shown(run_app(path, "--next", "--from", "2024-05-10 22:00")) == [
        "2024-05-10 22:00 Спать"]
    assert shown(run_app(path, "--next", "--from", "2024-05-10 22:01")) == [
        "2024-05-11 22:00 Спать"]
    leap = schedule(tmp_path, "# только Вася\n29.02 10:00 День рождения Васи\n", name="v.txt")
    assert shown(run_app(leap, "--next", "--from", "2024-03-01 00:00")) == [
        "2028-02-29 10:00 День рождения Васи"]
    past = schedule(tmp_path, "2020-01-01 10:00 Было\n", name="past.txt")
    assert shown(run_app(past, "--next", "--from", "2024-03-01 00:00")) == []


def test_notepad_file_with_bom_and_crlf(run_app, tmp_path):
    text = WEEK.removeprefix("# мои напоминания\n")  # the BOM sits right before "09:00"
    path = schedule(tmp_path, text, encoding="utf-8-sig", newline="\r\n")
    result = run_app(path, "--from", "2024-05-06 00:00", "--days", "7")
    assert shown(result) == WEEK_EXPECTED
    assert "\r" not in result.stdout


def test_errors(run_app, tmp_path):
    for bad_line in ("25:00 Подъём", "пн,чх 10:00 Что-то", "31.02 10:00 Нет такого дня",
                     "10:00", "завтра 10:00 Купить хлеб", "2023-02-29 10:00 Нет такого дня"):
        path = schedule(tmp_path, f"09:00 Зарядка\n# комментарий\n{bad_line}\n")
        result = run_app(path, "--from", "2024-05-06 00:00")
        assert result.returncode == 1, (bad_line, result.stdout)
        message = result.stderr.replace(str(path), "").replace(path.name, "")
        assert re.search(r"\b3\b", message), f"the line number is missing: {result.stderr!r}"
        assert "Traceback" not in result.stderr, bad_line
        assert result.stdout.strip() == "", bad_line
    missing = run_app(tmp_path / "нет.txt")
    assert missing.returncode == 1 and missing.stderr.strip()
    assert "Traceback" not in missing.stderr
    good = schedule(tmp_path, "09:00 Зарядка\n", name="good.txt")
    for options in (["--from", "2024-13-01 10:00"], ["--from", "завтра"], ["--days", "0"],
                    ["--days", "abc"]):
        result = run_app(good, *options)
        assert result.returncode == 2, options
        assert "Traceback" not in result.stderr
