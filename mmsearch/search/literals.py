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

Names and amounts are weaker literals (:func:`soft_literals`): a capitalised word inside a query
that is not written in title case ("plumbing invoice for Carla Rossi", "minutes of the August
meeting") and a number of three digits or more that is not a year ("account stood at 2133
pounds"). An outside probe's ten near-identical invoices and ten meeting minutes showed why: the
only file holding the surname, month or amount had keyword evidence 0.5 and lite 0.59, its
siblings lite 0.80-0.84, and noisy-OR fusion followed lite, so a sibling came first. A user
misspells a name or misremembers an amount far more often than a pasted code (MISS_SOFT), and a
common token ("200") held by an unrelated file must not make it a match, so a soft literal

* counts only when some file holds it (nobody holding "200" says nothing: the recipe that says 180
  is still the answer to "bake at 200 degrees");
* lifts a holder's odds by at most SOFT_CAP (an unrelated invoice holding "200" at 0.05 stays
  under the cut);
* counts only when the best text hit of a vector leg or one of its near-copies (SIBLING_COSINE,
  see :meth:`LiteralEvidence.contest`) holds it, and lifts only those: it picks between siblings
  the model cannot tell apart and lowers the rest, but never lifts a loosely related file into a match
  ("notes about Python" put a snake care sheet that says "pythons" at 0.72) nor sinks the answer
  because an unrelated file holds the word ("my Amazon order", a rainforest note).

MISS and MISS_SOFT are stated assumptions about users, not constants fitted here; the effect is
measured on the held-out ``records`` set and an outside probe's documents (mmsearch/eval/RESULTS.md).
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
#: P(the wanted file lacks a name or amount the user typed): misspelt, misremembered, or a name the
#: file writes otherwise ("Bob" for "Robert"). An assumption, like MISS.
MISS_SOFT = 0.2
#: The most a soft literal multiplies a holder's odds by (see the module docstring).
SOFT_CAP = 10.0
#: Cosine of a text hit's vector to the leg's best text hit's at and above which the two are
#: siblings (one template, other names or amounts), among which a soft literal decides. Among
#: near-identical invoices and minutes the model's calibrated scores still spread from 0.04 to 0.76,
#: so siblings are told by the documents' likeness, not by their scores. lite, measured: an outside
#: probe's invoice PDFs 0.89-1.0 to each other; unrelated files sharing a word 0.0-0.35 (Python notes
#: and a python care sheet, an order and a rainforest report), two travel diaries 0.64.
SIBLING_COSINE = 0.8
#: Years are left out of the soft numbers: "annual report 2023" is often a report that never spells it.
YEARS = range(1900, 2100)
MAX_LITERALS = 4
#: Files holding a literal are scored by the vector legs even outside their top k, up to this many.
MAX_HOLDERS = 200
MIN_CHARS = 3
# A literal is a run of word characters joined by the punctuation identifiers use.
_JOINERS = "-./:#_"
_TOKEN = re.compile(r"\w+(?:[-./:#_]\w+)*")
# a time of day or a position in a recording: 2:46, 12:30, 1:02:03
_CLOCK = re.compile(r"\d{1,2}(?::[0-5]\d){1,2}")
# a number with its thousands separators and decimals, standing alone (not inside a word or code)
_NUMBER = re.compile(r"(?<![\w.,:/#-])\d+(?:[,.\u00a0\u202f ]\d{3})*(?:[.,]\d+)?(?![\w/#-]|[.,:]\d)")


@dataclass(frozen=True)
class Literal:
    text: str  # as typed: "SR-20931"
    words: tuple[str, ...]  # its letter-and-digit runs, lower case: ("sr", "20931")
    soft: bool = False  # a name or an amount (MISS_SOFT, SOFT_CAP), not a code

    @property
    def miss(self) -> float:
        return MISS_SOFT if self.soft else MISS


@dataclass(frozen=True)
class LiteralEvidence:
    """Per literal, the media that hold it; ``total``: the library's media with text."""

    holders: Mapping[Literal, frozenset[int]]
    total: int

    @property
    def soft_held(self) -> bool:
        """Whether some file holds one of the query's names or amounts (else they change nothing)."""
        return any(lit.soft and holders for lit, holders in self.holders.items())

    def contest(self, siblings: frozenset[int]) -> frozenset[int]:
        """The media a soft literal may lift: ``siblings`` (a leg's best text hit and its
        near-copies) if one of them holds a soft literal; else none, and then the soft literals
        count for no file of the leg."""
        soft = [holders for lit, holders in self.holders.items() if lit.soft and holders]
        return siblings if any(siblings & holders for holders in soft) else frozenset()

    def factor(self, media_id: int, soft: bool = True, lift: bool = True) -> float:
        """The odds multiplier of a text segment of ``media_id`` (1.0: no literal in the query).

        Several codes are alternatives, not all required (a pasted list of invoice numbers asks
        for any of them): a file holding some gains for each one it holds and loses nothing for
        the rest; one holding none loses once, by MISS over the chance of holding none. Names and
        amounts describe the one wanted file together ("James Miller"), so each counts on its own
        (see the module docstring for the ones nobody holds). ``soft=False``: codes only;
        ``lift=False``: a soft literal held does not lift (only leaders are lifted)."""
        n = max(self.total, 1)
        share = {lit: min(len(holders), n) / n for lit, holders in self.holders.items()}
        codes = [lit for lit in self.holders if not lit.soft]
        factor = 1.0
        if codes:
            held = [lit for lit in codes if media_id in self.holders[lit]]
            if held:
                factor = math.prod(max(1.0, (1.0 - MISS) / share[lit]) for lit in held)
            else:
                none = math.prod(1.0 - share[lit] for lit in codes)
                factor = min(1.0, MISS / max(none, 1.0 / n))
        for lit, holders in self.holders.items():
            if soft and lit.soft and holders:  # a name or amount nobody holds says nothing (misspelt, misremembered)
                if media_id in holders:
                    factor *= min(SOFT_CAP, max(1.0, (1.0 - MISS_SOFT) / share[lit])) if lift else 1.0
                else:
                    factor *= min(1.0, MISS_SOFT / max(1.0 - share[lit], 1.0 / n))
        return factor

    def weigh(self, media_id: int, score: float, boost: bool = True, soft: bool = False, lift: bool = True) -> float:
        """``score`` with its odds multiplied by :meth:`factor`; ``boost=False`` only lowers it (the
        keyword leg, whose coverage already counts a held literal's words); ``soft``: the soft
        literals count too, ``lift``: and lift this media if it holds them (:meth:`contest`)."""
        factor = self.factor(media_id, soft, lift) if boost else min(1.0, self.factor(media_id, soft, lift))
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
    if _CLOCK.fullmatch(token):  # "jupiter at 2:46" is a moment of a recording, which no transcript spells out
        return False
    if any(c in _JOINERS for c in token):
        return True
    if token.isdigit():
        return len(token) >= 5
    return len(token) >= 4


def literals(query: str) -> list[Literal]:
    """The identifier-like tokens of ``query``, then its soft literals (:func:`soft_literals`), at
    most MAX_LITERALS, each once."""
    found: dict[str, Literal] = {}
    normal = unicodedata.normalize("NFKC", query)  # full-width digits are digits
    for match in _TOKEN.finditer(normal):
        token = match.group(0)
        if is_identifier(token):
            words = tuple(w.lower() for w in re.findall(r"[^\W_]+", token))  # FTS5 splits at "_" too
            found.setdefault(" ".join(words), Literal(token, words))
    for token in soft_literals(normal):
        found.setdefault(token.lower(), Literal(token, (token.lower(),), soft=True))
    return list(found.values())[:MAX_LITERALS]


def soft_literals(query: str) -> list[str]:
    """Names and amounts in ``query``: capitalised words (the first only when the next one is too,
    "Brian O'Neill", or when it is the whole query), unless a query of three words or more has most
    of them capitalised (title case or shouting says nothing by its capitals); and numbers of three
    or four digits that are not a year."""
    found = [(m.group(0), query[: m.start()].rstrip()[-1:]) for m in re.finditer(r"[^\W\d_]+", query) if len(m.group(0)) > 1]
    lettered = [w for w, _ in found]  # "I" is capitalised in any query
    capital = [w[0].isupper() and any(c.islower() for c in w[1:]) for w in lettered]
    out = []
    if not (len(lettered) >= 3 and 2 * sum(capital) > len(lettered)):
        first = len(lettered) == 1 or (len(capital) > 1 and capital[1])
        # a capital after a sentence's end ("A wheelie bin! Give me…") opens a sentence, like the first word's
        out += [w for i, ((w, before), cap) in enumerate(zip(found, capital))
                if cap and len(w) >= 3 and (first if i == 0 else before not in (".", "!", "?"))]
    for match in _NUMBER.finditer(query):  # "1,250" and "45 000" are one amount, not "250" or "000"
        token = match.group(0)
        if token.isdigit() and 3 <= len(token) < 5 and int(token) not in YEARS:
            out.append(token)
    return out


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
