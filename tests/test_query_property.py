"""The query parser never fails with anything but a one-line QueryError, whatever is typed, and
what it understood can be written back and parsed to the same query (property tests)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import OpenEngine
from mmsearch.errors import QueryError
from mmsearch.search.parse import parse, unparse
from mmsearch.search.query import Filters, Query, QueryPart

_GRAMMAR = ['"', "-", "+", ":", "2:", "0:", "1e400:", "9" * 30 + ":", "type:", "path:", "after:", "before:", "size:",
            "file:", "~", "/", "./", "..", ">", "<=", "TB", "[", "*", "\x00", " ", "\n", "0000", "9999-12-31", "é"]
typed = st.lists(st.sampled_from(_GRAMMAR) | st.text(max_size=6), max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(typed)
def test_the_parser_raises_only_query_errors(text: str) -> None:
    try:
        query = parse(text)
    except QueryError as exc:
        assert "\n" not in str(exc)  # one line, even for a query with a newline in it
        return
    assert query.positive  # a parsed query always has something to search for


words = st.text(st.characters(exclude_characters='"', exclude_categories=("Cs", "Cc")), min_size=1, max_size=12).map(
    lambda t: " ".join(t.split())).filter(bool)
weights = st.integers(1, 100_000).map(lambda i: i / 100)
parts = st.lists(st.tuples(words, weights, st.booleans()), min_size=1, max_size=4).filter(lambda ps: any(not neg for _, _, neg in ps))
days = st.dates(min_value=datetime(1, 1, 1).date(), max_value=datetime(9999, 12, 31).date()).map(lambda d: datetime(d.year, d.month, d.day))
sizes = st.none() | st.integers(0, 2**63 - 1)


@st.composite
def queries(draw: st.DrawFn) -> Query:
    drawn = draw(parts)
    after, before = draw(st.none() | days), draw(st.none() | days)
    if after and before and after >= before:
        after = None
    low, high = draw(sizes), draw(sizes)
    if low is not None and high is not None and low > high:  # a reversed range is an error, as for dates
        low = None
    filters = Filters(frozenset(draw(st.sets(st.sampled_from(["image", "text", "audio", "video"]), max_size=2))),
                      draw(st.none() | words), after, before, low, high, draw(st.none() | words), draw(st.none() | words))
    return Query(tuple(QueryPart("text", w, -x if neg else x) for w, x, neg in drawn), filters)


@settings(max_examples=300, deadline=None)
@given(queries())
def test_a_query_round_trips_through_its_text(query: Query) -> None:
    assert parse(unparse(query)) == query


@pytest.mark.parametrize("text, message", [
    ("cat after:0000", "not a valid date"),
    ("1" + "0" * 400 + ':"cat"', "too large"),
    ("2000:cat", "too large"),
])
def test_filters_and_weights_out_of_range_are_one_line_errors(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(text)


def test_python_callers_cannot_pass_an_infinite_weight() -> None:
    with pytest.raises(QueryError, match="weights must lie between"):
        Query((QueryPart("text", "cat", float("inf")),))


@pytest.mark.parametrize("query", [
    "cat before:9999-12-31", "cat after:0001", "cat size:>99999999999999999999999999TB", "cat size:<99999999999999999999999999TB",
    'cat path:"[z-a]*"', 'cat path:"[[:alpha:]]*"', 'cat path:"a\x00*"', 'cat path:"[!]"', "cat\x00dog", 'cat path:"[^c]*"',
    'cat title:"a\x00"', 'cat author:"\x00"',
])
def test_extreme_filters_give_the_same_answer_on_every_backend(query: str, library: Path, open_engine: OpenEngine, db_url: str | None,
                                                               tmp_path: Path) -> None:
    from fnmatch import fnmatchcase

    engine = open_engine(db=db_url)
    engine.index([library])
    paths = sorted(h.path for h in engine.search(query, k=50))
    every = sorted(h.path for h in engine.search("cat", k=50))
    q = parse(query)
    if q.filters.path is not None:
        glob = q.filters.path
        expected = sorted(p for p in every if "\x00" not in glob and (fnmatchcase(p, glob) or fnmatchcase(Path(p).name, glob)))
    elif "title:" in query or "author:" in query:
        expected = []  # no stored title holds NUL
    elif "before" in query or "<" in query or "\x00" in query or "after" in query:
        expected = every
    else:
        expected = []
    assert paths == expected
