"""Whether a kept answer's quote is really the text it quotes.

Kept wrong answers (``tests/docs/mistakes/``, ``tests/student/step_mistakes.toml``)
each quote the sentence of the lesson or stub they go against. A quote may drop
markdown marks, line breaks and capitals, but not change a word.
"""

from __future__ import annotations

import re


def words(text: str) -> str:
    """``text`` as its words only, lower-case, one space apart."""
    return " ".join(re.findall(r"[a-z0-9_.]+", text.lower()))


def quotes(quote: str, text: str) -> bool:
    """Whether ``quote`` (not empty) is word for word in ``text``."""
    return bool(words(quote)) and words(quote) in words(text)
