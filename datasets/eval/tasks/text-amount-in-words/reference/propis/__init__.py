"""Amounts of roubles in Russian words (сумма прописью)."""

from propis.words import amount_in_words

__all__ = ["amount_in_words"]
