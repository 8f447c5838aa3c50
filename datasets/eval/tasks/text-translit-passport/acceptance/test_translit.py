from translit import to_latin


def lat(text):
    result = to_latin(text)
    assert isinstance(result, str)
    return result.upper()


def test_plain_letters():
    assert lat("Петров Борис") == "PETROV BORIS"
    assert lat("Сергеева Анна") == "SERGEEVA ANNA"
    assert lat("Федор Глебов") == "FEDOR GLEBOV"


def test_hissing_letters():
    assert lat("Жуков") == "ZHUKOV"
    assert lat("Харитонов") == "KHARITONOV"
    assert lat("Цветков") == "TSVETKOV"
    assert lat("Чехов") == "CHEKHOV"
    assert lat("Шишкин") == "SHISHKIN"
    assert lat("Щукин") == "SHCHUKIN"


def test_short_i_yo_and_iotated_vowels():
    assert lat("Юрий") == "IURII"
    assert lat("Яна Майя") == "IANA MAIIA"
    assert lat("Королёв Артём") == "KOROLEV ARTEM"
    assert lat("Крылов Эдуард") == "KRYLOV EDUARD"


def test_hard_and_soft_signs():
    assert lat("Подъячев") == "PODIEIACHEV"
    assert lat("Соловьёв Ильин") == "SOLOVEV ILIN"


def test_other_characters_are_kept():
    assert lat("Римский-Корсаков Николай, 1844 г.") == "RIMSKII-KORSAKOV NIKOLAI, 1844 G."
    assert lat("John Smith") == "JOHN SMITH"
    assert lat("") == ""


def test_upper_and_lower_case_input():
    assert lat("ЩЕРБАКОВА ЮЛИЯ") == "SHCHERBAKOVA IULIIA"
    assert lat("щербакова юлия") == "SHCHERBAKOVA IULIIA"
