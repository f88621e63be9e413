"""The emulator's token model: a word with its punctuation, a lone run of punctuation, or space.

Every count the emulator reports (`input_tokens`, `output_tokens`, `max_tokens` cut-offs) uses
this one split, so usage always agrees with what was streamed.
"""

from __future__ import annotations

import re

# Leading whitespace rides with the token that follows it, so joining the tokens gives the text
# back exactly.
_TOKEN = re.compile(r"\s*[\w'\u2019]+[^\w\s]*|\s*[^\w\s]+|\s+")


def split_tokens(text: str) -> list[str]:
    """The text cut into tokens; `"".join(split_tokens(t)) == t`."""
    return _TOKEN.findall(text)


def count_tokens(text: str) -> int:
    """How many tokens `text` is."""
    return sum(1 for _ in _TOKEN.finditer(text))
