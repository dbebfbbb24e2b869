"""Word-prefix matching, as Exchange's content index answers KQL/AQS terms.

Exchange breaks text and query terms into words at spaces and punctuation (quotes, ``@``,
``.``, ``-`` included) and matches each query word against the start of an indexed word: a
search for ``invoice`` finds "Invoice-2026" and "invoices" but not "reinvoiced", and
``'invoice'`` is the word ``invoice``. A term of several words (a phrase) matches where its
words start consecutive words of the text.
"""

from __future__ import annotations

import functools
import re

_WORD = re.compile(r"\w+")


@functools.lru_cache(maxsize=8192)
def split(text: str) -> tuple[str, ...]:
    """The words of ``text``, case-folded, in order."""
    return tuple(_WORD.findall(text.casefold()))


def match(term: str, text: str) -> bool:
    """True when the words of ``term`` start consecutive words of ``text``; a term without
    any word (only punctuation) is matched as a substring."""
    wanted = split(term)
    if not wanted:
        return bool(term.strip()) and term.strip().casefold() in text.casefold()
    have = split(text)
    last = len(have) - len(wanted)
    return any(
        all(have[start + i].startswith(word) for i, word in enumerate(wanted))
        for start in range(last + 1)
    )
