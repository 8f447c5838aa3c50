"""Spell an amount of roubles in Russian words, as on invoices and payment orders."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

MAX_AMOUNT = Decimal("999999999999.99")

ONES_MASCULINE = ("", "один", "два", "три", "четыре", "пять", "шесть", "семь", "восемь",
                  "девять")
ONES_FEMININE = ("", "одна", "две", *ONES_MASCULINE[3:])
TEENS = ("десять", "одиннадцать", "двенадцать", "тринадцать", "четырнадцать", "пятнадцать",
         "шестнадцать", "семнадцать", "восемнадцать", "девятнадцать")
TENS = ("", "", "двадцать", "тридцать", "сорок", "пятьдесят", "шестьдесят", "семьдесят",
        "восемьдесят", "девяносто")
HUNDREDS = ("", "сто", "двести", "триста", "четыреста", "пятьсот", "шестьсот", "семьсот",
            "восемьсот", "девятьсот")

# (forms for 1, 2-4 and 5+, feminine?) from the billions down to the units.
SCALES = (
    (("миллиард", "миллиарда", "миллиардов"), False),
    (("миллион", "миллиона", "миллионов"), False),
    (("тысяча", "тысячи", "тысяч"), True),
)
ROUBLES = ("рубль", "рубля", "рублей")
KOPECKS = ("копейка", "копейки", "копеек")


def plural(number: int, forms: tuple[str, str, str]) -> str:
    """The noun form for ``number``: 1 рубль, 2 рубля, 5 рублей, 11 рублей, 21 рубль."""
    if 11 <= number % 100 <= 19:
        return forms[2]
    if number % 10 == 1:
        return forms[0]
    if 2 <= number % 10 <= 4:
        return forms[1]
    return forms[2]


def triad(number: int, feminine: bool) -> list[str]:
    """The words for 0 <= ``number`` <= 999 (none for zero)."""
    hundreds, rest = divmod(number, 100)
    words = [HUNDREDS[hundreds]]
    if 10 <= rest <= 19:
        words.append(TEENS[rest - 10])
    else:
        tens, ones = divmod(rest, 10)
        words += [TENS[tens], (ONES_FEMININE if feminine else ONES_MASCULINE)[ones]]
    return [word for word in words if word]


def integer_in_words(number: int) -> str:
    """``number`` (0 <= number < 10**12) in words, masculine: «один миллион две тысячи три»."""
    if number == 0:
        return "ноль"
    words: list[str] = []
    for index, (forms, feminine) in enumerate(SCALES):
        scale = 1000 ** (len(SCALES) - index)
        count = number // scale % 1000
        if count:
            words += [*triad(count, feminine), plural(count, forms)]
    words += triad(number % 1000, feminine=False)
    return " ".join(words)


def to_decimal(amount: object) -> Decimal:
    """The amount as a Decimal; floats are read as printed (``repr``), commas as points.

    Raises:
        ValueError: not a number.

    """
    if isinstance(amount, bool):
        raise ValueError(f"{amount!r} is not an amount of money")
    if isinstance(amount, Decimal):
        value = amount
    elif isinstance(amount, int | float):
        value = Decimal(repr(amount))
    elif isinstance(amount, str):
        try:
            value = Decimal(amount.strip().replace(",", ".").replace(" ", "").replace("\u00a0", ""))
        except InvalidOperation:
            raise ValueError(f"{amount!r} is not a number") from None
    else:
        raise ValueError(f"{amount!r} is not an amount of money")
    if not value.is_finite() or abs(value) >= 10**15:  # rounding a huge one is InvalidOperation
        raise ValueError(f"{amount!r} is not a finite number" if not value.is_finite() else f"the amount must not be negative: {amount!r}" if value < 0 else f"the amount is too big (at most 999 999 999 999,99): {amount!r}")
    return value


def amount_in_words(amount: int | float | Decimal | str) -> str:
    """The amount in roubles spelled out: «Одна тысяча двести тридцать четыре рубля 56 копеек».

    Args:
        amount: 0 <= amount <= 999 999 999 999.99 as an int, float, Decimal or a string
            ("1234.56" or "1234,56"); kopecks are rounded half up.

    Returns:
        Roubles in words with a capital letter, then kopecks as two digits.

    Raises:
        ValueError: not a number, negative, or bigger than 999 999 999 999.99.

    """
    value = to_decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError(f"the amount must not be negative: {amount!r}")
    if value > MAX_AMOUNT:
        raise ValueError(f"the amount is too big (at most 999 999 999 999,99): {amount!r}")
    roubles = int(value)
    kopecks = int((value - roubles) * 100)
    text = (f"{integer_in_words(roubles)} {plural(roubles, ROUBLES)} "
            f"{kopecks:02d} {plural(kopecks, KOPECKS)}")
    return text[0].upper() + text[1:]
