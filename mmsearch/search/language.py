"""Is a text query written in a language the embedding model never learnt?

An English sentence model places any two French texts close together: an outside probe's "lettre
de démission" (no such letter in the library) scored a crêpe recipe 0.84, and "receta de paella
valenciana" a Barcelona travel plan 0.83, while the right French recipe ranked 26th for its English
description. ``Embedder.languages`` names what the text side learnt; a query that is almost surely
in another language gets the same treatment as one in an unlearnt script (``legs.UNREAD_CAP``):
its vector scores still order results, but only a found word (the keyword leg) shows a match.

The test is naive Bayes over word frequencies (``words.tsv.gz``, built from wordfreq by
``scripts/build_language_table.py``): the model's own languages start with PRIOR of the belief,
and a query is unread when, after its words, they keep less than DECIDE. Only words found in some
language's list count, and at least MIN_KNOWN of them: a name, a typo or a single loanword
("croissant", "kindergarten") never decides. A word a language's list lacks counts at that list's
rarest frequency less FLOOR_MARGIN. Measured on the 1,522 queries of every eval set (absent and
gibberish included) and the 6,417 clip-art titles of the lite data: the only queries found unread
were the four German, French and Spanish ones of an outside probe's set; 69 titles were, all but a
few of them Italian or French (the few: "yin yang", "são tomé & príncipe flag"). A loan phrase of
two known words ("el niño", "café au lait") is taken as foreign: its words still find files.
"""

from __future__ import annotations

import functools
import gzip
import math
import re
import unicodedata
from pathlib import Path

TABLE = Path(__file__).with_name("words.tsv.gz")
PRIOR = 0.9
DECIDE = 0.01
MIN_KNOWN = 2
FLOOR_MARGIN = 0.5
_WORD = re.compile(r"[^\W\d_]+")


@functools.cache
def _table() -> tuple[dict[str, dict[str, float]], dict[str, float]]:
    languages: dict[str, dict[str, float]] = {}
    for line in gzip.decompress(TABLE.read_bytes()).decode("utf-8").splitlines():
        if line and not line.startswith("#"):
            code, words, tenths = line.split("\t")
            languages[code] = dict(zip(words.split(" "), (-int(t) / 10 for t in tenths.split(" "))))
    floors = {code: min(words.values()) - FLOOR_MARGIN for code, words in languages.items()}
    return languages, floors


def model_language_share(text: str, languages: frozenset[str]) -> float | None:
    """P(``text`` is in one of ``languages`` | its words), or None when its words cannot tell
    (fewer than MIN_KNOWN known words, or none of ``languages`` is in the table)."""
    table, floors = _table()
    own = [code for code in languages if code in table]
    if not own:
        return None
    others = len(table) - len(own)
    words = [w for w in _WORD.findall(unicodedata.normalize("NFKC", text).lower()) if any(w in t for t in table.values())]
    if len(words) < MIN_KNOWN:
        return None
    log_odds = {code: sum(table[code].get(w, floors[code]) for w in words) for code in table}
    # the prior: PRIOR spread over the model's languages, the rest over the others (base 10 logs)
    for code in log_odds:
        log_odds[code] += math.log10(PRIOR / len(own)) if code in own else math.log10((1.0 - PRIOR) / max(others, 1))
    top = max(log_odds.values())
    weights = {code: 10.0 ** (v - top) for code, v in log_odds.items()}
    return sum(weights[code] for code in own) / sum(weights.values())


def reads(text: str, languages: frozenset[str] | None) -> bool:
    """False only when ``text`` is almost surely in a language outside ``languages`` (None: any)."""
    if languages is None:
        return True
    share = model_language_share(text, languages)
    return share is None or share >= DECIDE
