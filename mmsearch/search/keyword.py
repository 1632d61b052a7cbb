"""The keyword leg: full-text search over segment text and file names, calibrated to [0, 1].

SQLite uses the FTS5 tables of migration 0003 (bm25 ranking); PostgreSQL its GIN-indexed
``to_tsvector`` expressions (``websearch_to_tsquery``, ``ts_rank``). Both return, per row, a
backend rank and which query terms the row contains; calibration is the same for both:
P(relevant) = sigmoid(a·coverage + b·share + c) with constants fitted per kind (CURVES), where
``coverage`` is the IDF-weighted share of the query's terms the row contains and ``share`` the
row's rank over the best one's. So a file-name match is evidence on the same scale as the vector
legs, not a fixed cap; nonsense words match nothing at all. Both backends stem (SQLite: FTS5
``porter`` tokenizer of migration 0003; PostgreSQL: the ``english`` configuration), so "trees"
finds tree.png.
"""

from __future__ import annotations

import itertools
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Connection, Engine, bindparam, case, cast, column, exists, func, literal_column, or_, select, table, text
from sqlalchemy.dialects.postgresql import TSQUERY

from ..embedder import script_of
from ..store.models import Media
from ..store.models import Segment as SegmentRow

#: P(relevant) = sigmoid(a·coverage + b·share + c) per kind, on the same scale as the vector legs'
#: curves (0.5: the default cut). Fitted by ``python -m mmsearch_lite.keyword_fit`` on the clip-art
#: TRAINING split (file names; SVG description prose for text); figures in mmsearch/eval/RESULTS.md.
#: Fitted on best hits, where ``share`` is always 1, so only coverage carries weight: a file name
#: holding every query word scores 0.87 (training: 7 % of absent queries' best name match passes
#: 0.5, 12 % of right first ones do not); a document holding every word 0.5, at the cut.
CURVES: dict[str, tuple[float, float, float]] = {"name": (7.128, 0.0, -5.185), "text": (6.604, 0.0, -6.604)}
MAX_TERMS = 12
NAME = "name"  # the evidence kind of a file-name match

# Words too common to be evidence on their own (both backends would rank them near zero anyway).
STOPWORDS = frozenset(
    "a an and are as at be but by for from has have how i in is it its of on or that the their this to was "
    "were what when where which who why will with you your about into over than then there these those".split()
)

# Words that name the kind of file rather than what is in it.
CONTAINER_WORDS = frozenset(
    "note notes file files document documents doc docs email emails mail mails letter letters message messages memo "
    "memos pdf pdfs photo photos picture pictures pic pics image images video videos recording recordings audio scan "
    "scans screenshot screenshots page pages "
    # their stems, as PostgreSQL's english configuration gives them
    "messag pictur imag record".split()
)

PG_SEGMENT_TSV = "to_tsvector('english', coalesce(segments.text, ''))"  # as indexed by migration 0003
PG_MEDIA_TSV = "to_tsvector('english', translate(media.relpath, '/._-', '    '))"


@dataclass(frozen=True)
class KeywordHit:
    row_id: int  # segment id, or media id when ``kind`` is NAME
    media_id: int
    kind: str  # "text" or NAME
    raw: float  # the backend's rank (higher is better)
    score: float  # calibrated, in [0, 1]


def terms(query: str) -> list[str]:
    words = [w for w in re.findall(r"\w+", query.lower()) if w not in STOPWORDS]
    return list(dict.fromkeys(words))[:MAX_TERMS]


#: Scripts written without spaces between words: both full-text indexes take a whole run of them
#: ("今天我们去北京开会") as one token, so a word inside it ("北京") never matched.
UNSPACED = ("CJK", "HIRAGANA", "KATAKANA", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN",
            "HANGUL")  # Korean spaces words, but glues particles on: "서울에서" holds "서울"


def _descriptive(word: str) -> bool:
    return word in CONTAINER_WORDS or (word.isdigit() and len(word) <= 4)


def _is_unspaced(char: str) -> bool:
    return script_of(char) in UNSPACED


def unspaced(query: str) -> bool:
    return any(_is_unspaced(c) for c in query)


def substring_terms(query: str) -> list[str]:
    """Character bigrams of each unspaced run (the usual indexing unit for Chinese and Japanese;
    a lone character stays one term), and the other words as they are."""
    out: list[str] = []
    for word in terms(query):
        for is_unspaced, chars in itertools.groupby(word, key=_is_unspaced):
            run = "".join(chars)
            out += [run[i : i + 2] for i in range(len(run) - 1)] if is_unspaced and len(run) > 1 else [run]
    return list(dict.fromkeys(out))[:MAX_TERMS]


def supported(db: Engine) -> bool:
    return db.dialect.name in ("sqlite", "postgresql")


def search(db: Engine, query: str, condition: ColumnElement[bool], limit: int) -> list[KeywordHit]:
    """Top ``limit`` segments and top ``limit`` file names for ``query`` among allowed media."""
    if not terms(query) or not supported(db):
        return []
    backend: _Sqlite | _Postgres | _Substring = _Sqlite() if db.dialect.name == "sqlite" else _Postgres()
    if unspaced(query):
        backend = _Substring(db.dialect.name)
    hits: list[KeywordHit] = []
    with db.connect() as conn:
        for kind in ("text", NAME):
            words = backend.terms(conn, kind, query)
            if not words:
                continue
            rows = backend.top(conn, kind, words, condition, limit)  # (row id, media id, rank)
            if not rows:
                continue
            total, df = backend.frequencies(conn, kind, words)
            if kind == "text":
                # A word naming the kind of file ("notes from Kowalczyk", "email from the bank") or
                # a year or quantity ("ubuntu install 2024") that no text holds describes the file,
                # not words in it; as the rarest word it weighed most and buried the right file.
                words = [w for w in words if df.get(w, 0) or not _descriptive(w)] or words
            contains = backend.contains(conn, kind, words, [r[0] for r in rows])
            hits.extend(_calibrate(kind, rows, words, total, df, contains))
    return hits


def features(rows: Sequence[tuple[int, int, float]], words: list[str], total: int, df: dict[str, int],
             contains: dict[str, set[int]]) -> list[tuple[float, float]]:
    """Per row: ``coverage`` (the IDF-weighted share of the query's terms the row contains) and
    ``share`` (the backend's rank over the best row's), both in [0, 1]."""
    idf = {w: math.log(1.0 + (total - df.get(w, 0) + 0.5) / (df.get(w, 0) + 0.5)) for w in words}
    best = max(r[2] for r in rows) or 1.0
    whole = sum(idf.values()) or 1.0
    return [(sum(idf[w] for w in words if row_id in contains.get(w, ())) / whole, max(0.0, rank) / best if best > 0 else 1.0)
            for row_id, _, rank in rows]


def _calibrate(kind: str, rows: Sequence[tuple[int, int, float]], words: list[str], total: int,
               df: dict[str, int], contains: dict[str, set[int]]) -> list[KeywordHit]:
    curve = CURVES[kind]
    out = []
    for (row_id, media_id, rank), (coverage, share) in zip(rows, features(rows, words, total, df, contains)):
        score = float(1.0 / (1.0 + math.exp(-(curve[0] * coverage + curve[1] * share + curve[2]))))
        out.append(KeywordHit(int(row_id), int(media_id), kind, float(rank), score))
    return out


def _collection_size(conn: Connection, kind: str) -> int:
    """How many documents IDF counts against. The largest id, read from the primary key, stands
    in for count(*), which scans the whole table on every query (8 ms at 100k segments); IDF
    only takes its logarithm, so ids freed by deletions barely move it."""
    table = "segments" if kind == "text" else "media"
    return int(conn.scalar(text(f"SELECT max(id) FROM {table}")) or 0)


def _has_segments() -> ColumnElement[bool]:
    # A file with no segments (silence, noise) has nothing to show as evidence: not a result.
    return exists().where(SegmentRow.media_id == Media.id)


class _Sqlite:
    TABLES = {"text": "segments_fts", NAME: "media_fts"}

    def terms(self, conn: Connection, kind: str, query: str) -> list[str]:
        return terms(query)  # \w+ words are what the unicode61 tokenizer makes of text and names

    def _match(self, words: list[str]) -> str:
        return " OR ".join(f'"{w}"' for w in words)  # \w+ words: no quote can break out

    def top(self, conn: Connection, kind: str, words: list[str], condition: ColumnElement[bool], limit: int) -> list[tuple[int, int, float]]:
        name = self.TABLES[kind]
        fts = table(name, column("rowid"))
        rank = (-func.bm25(literal_column(name))).label("r")  # bm25() is lower-is-better
        if kind == "text":
            query = (select(fts.c.rowid, SegmentRow.media_id, rank).select_from(fts)
                     .join(SegmentRow, SegmentRow.id == fts.c.rowid).join(Media, Media.id == SegmentRow.media_id))
        else:
            query = select(fts.c.rowid, Media.id, rank).select_from(fts).join(Media, Media.id == fts.c.rowid).where(_has_segments())
        query = query.where(text(f"{name} MATCH :q")).where(condition).order_by(literal_column("r").desc()).limit(limit)
        return [tuple(r) for r in conn.execute(query, {"q": self._match(words)})]

    def frequencies(self, conn: Connection, kind: str, words: list[str]) -> tuple[int, dict[str, int]]:
        table = self.TABLES[kind]
        df = {w: int(conn.scalar(text(f"SELECT count(*) FROM {table} WHERE {table} MATCH :q"), {"q": f'"{w}"'}) or 0) for w in words}
        return _collection_size(conn, kind), df

    def contains(self, conn: Connection, kind: str, words: list[str], ids: list[int]) -> dict[str, set[int]]:
        table = self.TABLES[kind]
        sql = text(f"SELECT rowid FROM {table} WHERE {table} MATCH :q AND rowid IN (SELECT value FROM json_each(:ids))")
        return {w: set(conn.scalars(sql, {"q": f'"{w}"', "ids": json.dumps(ids)})) for w in words}


class _Postgres:
    """Terms are the lexemes PostgreSQL's own parser makes of the query, as it did of the text: it
    keeps an e-mail, a decimal or a version as one lexeme and reads "ORD-77091" as ``ord``,
    ``-77091``, so \\w+ words ("77091") matched nothing it had indexed; and the ``english``
    configuration drops its stop words ("does", "not"), which then counted as missing words."""

    TSV = {"text": PG_SEGMENT_TSV, NAME: PG_MEDIA_TSV}
    # A lexeme is already normalised: cast it, quoted, to a tsquery instead of parsing it again.
    MATCH = "CAST(:q AS tsquery)"

    def terms(self, conn: Connection, kind: str, query: str) -> list[str]:
        source = "translate(:q, '/._-', '    ')" if kind == NAME else ":q"  # as PG_MEDIA_TSV reads names
        sql = text(f"SELECT lexeme FROM unnest(to_tsvector('english', {source})) ORDER BY positions[1]")
        return list(dict.fromkeys(conn.scalars(sql, {"q": query})))[:MAX_TERMS]

    def top(self, conn: Connection, kind: str, words: list[str], condition: ColumnElement[bool], limit: int) -> list[tuple[int, int, float]]:
        tsv = self.TSV[kind]
        rank = func.ts_rank(literal_column(tsv), cast(bindparam("q"), TSQUERY)).label("r")
        if kind == "text":
            query = select(SegmentRow.id, SegmentRow.media_id, rank).join(Media, Media.id == SegmentRow.media_id)
        else:
            query = select(Media.id, Media.id, rank).where(_has_segments())
        query = query.where(text(f"{tsv} @@ {self.MATCH}")).where(condition).order_by(literal_column("r").desc()).limit(limit)
        return [tuple(r) for r in conn.execute(query, {"q": " | ".join(map(_operand, words))})]

    def frequencies(self, conn: Connection, kind: str, words: list[str]) -> tuple[int, dict[str, int]]:
        table = "segments" if kind == "text" else "media"
        sql = text(f"SELECT count(*) FROM {table} WHERE {self.TSV[kind]} @@ {self.MATCH}")
        return _collection_size(conn, kind), {w: int(conn.scalar(sql, {"q": _operand(w)}) or 0) for w in words}

    def contains(self, conn: Connection, kind: str, words: list[str], ids: list[int]) -> dict[str, set[int]]:
        table = "segments" if kind == "text" else "media"
        sql = text(f"SELECT id FROM {table} WHERE id = ANY(:ids) AND {self.TSV[kind]} @@ {self.MATCH}")
        return {w: set(conn.scalars(sql, {"q": _operand(w), "ids": ids})) for w in words}


class _Substring:
    """For queries in scripts written without spaces, on either database: a term matches where
    the text (or the file's path) contains it, ignoring case. A scan, not an index lookup; only
    such queries pay for it."""

    def __init__(self, dialect: str) -> None:
        # PostgreSQL's lower() knows Unicode; on SQLite, store.db registers casefold().
        self.fold = func.casefold if dialect == "sqlite" else func.lower

    def _column(self, kind: str) -> ColumnElement[str]:
        return self.fold(SegmentRow.text if kind == "text" else Media.relpath)

    def terms(self, conn: Connection, kind: str, query: str) -> list[str]:
        return [w.casefold() for w in substring_terms(query)]

    def top(self, conn: Connection, kind: str, words: list[str], condition: ColumnElement[bool], limit: int) -> list[tuple[int, int, float]]:
        column = self._column(kind)
        held = [column.contains(w, autoescape=True) for w in words]
        rank = sum((case((h, 1.0), else_=0.0) for h in held), literal_column("0.0")).label("r")
        if kind == "text":
            query = select(SegmentRow.id, SegmentRow.media_id, rank).join(Media, Media.id == SegmentRow.media_id)
        else:
            query = select(Media.id, Media.id, rank).where(_has_segments())
        query = query.where(or_(*held)).where(condition).order_by(literal_column("r").desc()).limit(limit)
        return [tuple(r) for r in conn.execute(query)]

    def frequencies(self, conn: Connection, kind: str, words: list[str]) -> tuple[int, dict[str, int]]:
        table = SegmentRow if kind == "text" else Media
        column = self._column(kind)
        return _collection_size(conn, kind), {w: int(conn.scalar(select(func.count()).select_from(table).where(column.contains(w, autoescape=True))) or 0)
                                              for w in words}

    def contains(self, conn: Connection, kind: str, words: list[str], ids: list[int]) -> dict[str, set[int]]:
        key = SegmentRow.id if kind == "text" else Media.id
        column = self._column(kind)
        return {w: set(conn.scalars(select(key).where(key.in_(ids)).where(column.contains(w, autoescape=True)))) for w in words}


def _operand(lexeme: str) -> str:
    """A lexeme as a tsquery operand. A number also matches its signed form: the parser reads the
    "-20931" of "SR-20931" as a negative integer, so "20931" alone found nothing on PostgreSQL."""
    return f"({_quoted(lexeme)} | {_quoted('-' + lexeme)})" if lexeme.isdigit() else _quoted(lexeme)


def _quoted(lexeme: str) -> str:
    """A lexeme as a tsquery operand: quoted, so no operator or weight inside it is read as one."""
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"
