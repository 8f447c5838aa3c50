"""textstats: statistics of a text file — characters, words, sentences, reading time."""

__version__ = "1.0.0"
