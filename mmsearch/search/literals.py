"""Literal tokens: the identifiers in a text query (``invoice 48245``, ``SR-20931``, ``v3.14.2``,
``2024-03-15``) are evidence the embedders cannot weigh.

A sentence embedder places "Invoice 48253" as close to the query "invoice 48245" as "Invoice
48245" itself, so among thirty invoices the vector legs score the wrong ones as confident matches
(0.91) and the one holding the number fourth. Whether a document holds the identifier the user
typed is a plain fact the index can look up, so the vector legs' text evidence is weighed by it
with Bayes' rule, per literal ``t`` and media ``m`` (independent literals multiply):

* P(m holds t | m is the answer) = 1 − MISS: a user who types an identifier copies it from the
  file they want, except for a typo or a misremembered digit (MISS, one in fifty);
* P(m holds t | m is not) = df/N: the share of the library's text media that hold it.

So a text segment's odds are multiplied by (1 − MISS)·N/df when its media holds the literal and by
MISS/(1 − df/N) when it does not (neither factor is allowed to turn the evidence around: ≥ 1 and
≤ 1 respectively). An identifier nobody holds (df = 0) leaves every text hit at MISS times its
odds: "invoice 99999" in a folder of invoices is no longer answered by invoice 48253 at 0.91.
Several literals in one query are alternatives (see :meth:`LiteralEvidence.factor`).

The keyword leg's text hits are only ever lowered by it (a file holding "2024" and "15" apart is
not holding "2024-03-15"; one holding the literal already has its words' coverage). Only text
segments are weighed: an image or a recording's frames say nothing about which number is
printed on them (their OCR text and transcripts are text segments, and are weighed). Literals are
codes, not quantities (:func:`is_identifier`): "bake at 200 degrees", "report 2023" or "mp3
player" hold none, as a recipe that says 180 or a report that never spells its year is still the
answer (an outside probe saw such files sink to 0.25 when every number counted).

MISS is a stated assumption about users, not a constant fitted here; the effect is measured on the
held-out ``records`` set (mmsearch/eval/RESULTS.md).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from .keyword import PG_MEDIA_TSV, PG_SEGMENT_TSV

#: P(the file a user wants lacks the identifier the user typed): one identifier in fifty typed or
#: remembered wrong. An assumption, not a fit; the held-out figures at 0.05 are in RESULTS.md.
MISS = 0.02
MAX_LITERALS = 4
#: Files holding a literal are scored by the vector legs even outside their top k, up to this many.
MAX_HOLDERS = 200
MIN_CHARS = 3
# A literal is a run of word characters joined by the punctuation identifiers use.
_JOINERS = "-./:#_"
_TOKEN = re.compile(r"\w+(?:[-./:#_]\w+)*")


@dataclass(frozen=True)
class Literal:
    text: str  # as typed: "SR-20931"
    words: tuple[str, ...]  # its letter-and-digit runs, lower case: ("sr", "20931")


@dataclass(frozen=True)
class LiteralEvidence:
    """Per literal, the media that hold it; ``total``: the library's media with text."""

    holders: Mapping[Literal, frozenset[int]]
    total: int

    def factor(self, media_id: int) -> float:
        """The odds multiplier of a text segment of ``media_id`` (1.0: no literal in the query).

        Several literals are alternatives, not all required (a pasted list of invoice numbers asks
        for any of them): a file holding some gains for each one it holds and loses nothing for
        the rest; one holding none loses once, by MISS over the chance of holding none."""
        n = max(self.total, 1)
        shares = {lit: min(len(holders), n) / n for lit, holders in self.holders.items()}
        held = [lit for lit, holders in self.holders.items() if media_id in holders]
        if held:
            return math.prod(max(1.0, (1.0 - MISS) / shares[lit]) for lit in held)
        none = math.prod(1.0 - s for s in shares.values())
        return min(1.0, MISS / max(none, 1.0 / n))

    def weigh(self, media_id: int, score: float, boost: bool = True) -> float:
        """``score`` with its odds multiplied by :meth:`factor`; ``boost=False`` only lowers it (the
        keyword leg, whose coverage already counts a held literal's words)."""
        factor = self.factor(media_id) if boost else min(1.0, self.factor(media_id))
        if factor == 1.0 or score <= 0.0 or score >= 1.0:
            return score
        odds = score / (1.0 - score) * factor
        return float(odds / (1.0 + odds)) if math.isfinite(odds) else 1.0


def is_identifier(token: str) -> bool:
    """A code, not a quantity: digits joined by punctuation (``SR-20931``, ``2024-03-15``,
    ``v3.14.2``), five digits or more (``48245``, a phone number), or four characters or more
    mixing letters and digits (``A7X22``, ``h264``). A number of up to four digits is a quantity
    or a year ("bake at 200 degrees", "report 2023"), which a file may well not spell out."""
    if not any(c.isdigit() for c in token) or len(token) < MIN_CHARS:
        return False
    if any(c in _JOINERS for c in token):
        return True
    if token.isdigit():
        return len(token) >= 5
    return len(token) >= 4


def literals(query: str) -> list[Literal]:
    """The identifier-like tokens of ``query``, at most MAX_LITERALS, each once."""
    found: dict[str, Literal] = {}
    for match in _TOKEN.finditer(unicodedata.normalize("NFKC", query)):  # full-width digits are digits
        token = match.group(0)
        if is_identifier(token):
            words = tuple(w.lower() for w in re.findall(r"[^\W_]+", token))  # FTS5 splits at "_" too
            found.setdefault(" ".join(words), Literal(token, words))
    return list(found.values())[:MAX_LITERALS]


def evidence(db: Engine, query: str) -> LiteralEvidence | None:
    """Which indexed media hold each literal of ``query`` (in a text segment or in the file's
    name), or None when the query has none or the backend has no full-text index."""
    wanted = literals(query)
    if not wanted or db.dialect.name not in ("sqlite", "postgresql"):
        return None
    with db.connect() as conn:
        lookup = _sqlite_holders if db.dialect.name == "sqlite" else _postgres_holders
        holders = {lit: frozenset(lookup(conn, lit)) for lit in wanted}
        total = int(conn.scalar(text(
            "SELECT count(*) FROM media WHERE status = 'indexed' AND EXISTS "
            "(SELECT 1 FROM segments WHERE segments.media_id = media.id AND segments.text IS NOT NULL)")) or 0)
    return LiteralEvidence(holders, total)


def _sqlite_holders(conn: Connection, literal: Literal) -> set[int]:
    phrase = '"' + " ".join(literal.words) + '"'  # letters and digits only: no quote can break out
    sql = text(
        "SELECT segments.media_id FROM segments_fts JOIN segments ON segments.id = segments_fts.rowid "
        "WHERE segments_fts MATCH :q UNION SELECT rowid FROM media_fts WHERE media_fts MATCH :q")
    return {int(m) for m in conn.scalars(sql, {"q": phrase})}


def _postgres_holders(conn: Connection, literal: Literal) -> set[int]:
    # The same parser on both sides: a date parses as '2024' <-> '-03' <-> '-15' in text and query;
    # names are indexed with /._- turned into spaces (keyword.PG_MEDIA_TSV), so the literal is too.
    # "SR-20931" indexes "-20931", a negative integer: a code typed from its digits ("20931")
    # matches that form too.
    signed = f" OR {PG_SEGMENT_TSV} @@ phraseto_tsquery('english', '-' || :q)" if literal.text[:1].isdigit() else ""
    sql = text(
        f"SELECT media_id FROM segments WHERE {PG_SEGMENT_TSV} @@ phraseto_tsquery('english', :q){signed} "
        f"UNION SELECT id FROM media WHERE {PG_MEDIA_TSV} @@ phraseto_tsquery('english', translate(:q, '/._-', '    '))")
    return {int(m) for m in conn.scalars(sql, {"q": literal.text})}
