"""The passport transliteration table (MVD order 889 of 2014, after ICAO Doc 9303)."""

from __future__ import annotations

TABLE: dict[str, str] = {
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
    "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
    "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
    "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e", "ю": "iu",
    "я": "ia",
}


def _is_upper_word(text: str, index: int) -> bool:
    """True when the letter at ``index`` stands in an all-capitals word (ЩУКИН, not Щукин)."""
    neighbours = [text[i] for i in (index - 1, index + 1)
                  if 0 <= i < len(text) and text[i].isalpha()]
    return any(ch.isupper() for ch in neighbours)


def to_latin(text: str) -> str:
    """Transliterate Russian letters in ``text``; every other character is kept.

    Case follows the source: ``Щукин`` -> ``Shchukin``, ``ЩУКИН`` -> ``SHCHUKIN``.

    Args:
        text: any string.

    Returns:
        The string with Cyrillic letters replaced by Latin ones (ь disappears).

    """
    out: list[str] = []
    for index, ch in enumerate(text):
        latin = TABLE.get(ch.lower())
        if latin is None:
            out.append(ch)
        elif not ch.isupper():
            out.append(latin)
        elif _is_upper_word(text, index):
            out.append(latin.upper())
        else:
            out.append(latin.capitalize())
    return "".join(out)
