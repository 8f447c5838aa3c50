"""Russian -> Latin transliteration as in the Russian international passport."""

from translit.core import to_latin

__all__ = ["to_latin"]
