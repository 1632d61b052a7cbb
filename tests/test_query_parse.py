"""The query language: parts, weights, negatives, files, filters, and errors that point at the spot."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from mmsearch import QueryError
from mmsearch.search.parse import parse, unparse
from mmsearch.search.query import FILE, MAX_PARTS, MAX_TEXT_CHARS, Query, QueryPart


def test_unquoted_words_form_one_text_part() -> None:
    assert parse("a red car at night").parts == (QueryPart("text", "a red car at night"),)


def test_parts_weights_and_negatives(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ref.jpg").write_bytes(b"x")
    query = parse('"red car" + ./ref.jpg - "night" 2:"golden retriever" -fog 0.5:blue sky')
    assert query.parts == (
        QueryPart("text", "red car"), QueryPart(FILE, str(tmp_path / "ref.jpg")), QueryPart("text", "night", -1.0),
        QueryPart("text", "golden retriever", 2.0), QueryPart("text", "fog", -1.0), QueryPart("text", "blue sky", 0.5),
    )
    assert [p.label for p in query.parts] == ['"red car"', "ref.jpg", '-"night"', '2:"golden retriever"', '-"fog"', '0.5:"blue sky"']


def test_an_existing_file_is_a_file_part_and_words_stay_words(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "clip.wav").write_bytes(b"x")
    assert parse("clip.wav").parts[0].kind == FILE
    assert parse(f"file:{tmp_path / 'clip.wav'} t-shirt 12:30").parts[1] == QueryPart("text", "t-shirt 12:30")


def test_filters_anywhere() -> None:
    query = parse('type:image,video cat path:"my photos/*" after:2021 before:2022-06-15 size:>10MB type:audio')
    f = query.filters
    assert query.parts == (QueryPart("text", "cat"),)
    assert f.types == {"image", "video", "audio"} and f.path == "my photos/*"
    assert f.after == datetime(2021, 1, 1) and f.before == datetime(2022, 6, 15)
    assert f.min_size == 10 * 1024**2 + 1 and f.max_size is None
    assert (parse("x size:<=500KB").filters.max_size, parse("x size:1MB..2MB").filters.min_size) == (500 * 1024, 1024**2)


def test_a_word_ending_in_a_colon_is_text_not_a_filter() -> None:
    """A subject line or a note ("Re: meeting minutes", "TODO: call plumber") is what people
    paste; it was refused as an unknown filter 'Re'."""
    assert parse("Re: meeting minutes").parts == (QueryPart("text", "Re: meeting minutes"),)
    assert parse("TODO: call plumber type:text").parts == (QueryPart("text", "TODO: call plumber"),)
    assert parse("TODO: call plumber type:text").filters.types == {"text"}


@pytest.mark.parametrize("text, message, column", [
    ("red tpye:image", "unknown filter 'tpye'", 5),
    ('cat "unclosed', "never closed", 5),
    ("cat -", "followed by nothing", 5),
    ("cat after:2021-13", "not a valid date", 11),
    ("cat after:yesterday", "not a date", 11),
    ("cat size:10MB", "needs a comparison", 10),
    ("cat size:>ten", "not a size", 11),
    ("cat ./missing.jpg", "no such file", 5),
    ("0:cat", "weight of 0", 1),
    ("cat - type:image dog", "must precede a part", 5),
    ("2:", "a weight is followed by nothing", 1),
    ("cat 2:  ", "a weight is followed by nothing", 5),
    ("1e400:cat", "too large", 1),
])
def test_errors_say_what_and_where(text: str, message: str, column: int) -> None:
    with pytest.raises(QueryError, match=message) as info:
        parse(text)
    assert f"at column {column}: {text[: column - 1]}^{text[column - 1:]}" in str(info.value)


def test_queries_need_a_positive_part() -> None:
    with pytest.raises(QueryError, match="nothing to search for.*filters only narrow"):
        parse("type:image")
    with pytest.raises(QueryError, match="at least one positive part"):
        parse("-night")
    # the user's own negative parts, not the README's example (an outside probe was told of -"night")
    with pytest.raises(QueryError, match=r'negative parts \(-"wind farm", -"sea"\) only push results down'):
        parse('-"wind farm" -sea')
    with pytest.raises(QueryError, match="after:2022-01-01 is not before"):
        parse("x after:2022 before:2021")


def test_structured_queries_match_parsed_ones() -> None:
    built = Query.build(text="red car", negative=["night"], types=["image"], after=datetime(2021, 1, 1))
    assert built == parse("red car - night type:image after:2021")


@pytest.mark.parametrize("text, weight", [('1e3:"giraffe"', 1000.0), ("5e-1:giraffe", 0.5), ("2.5E+2:giraffe", 250.0), ("1e-05:giraffe", 1e-05)])
def test_a_weight_may_be_written_in_scientific_notation(text: str, weight: float) -> None:
    assert parse(text).parts == (QueryPart("text", "giraffe", weight),)
    assert parse(unparse(parse(text))) == parse(text)  # unparse writes a tiny weight as 1e-05


def test_a_colon_after_a_number_inside_words_stays_text() -> None:
    assert parse("chapter 2: the beginning").parts == (QueryPart("text", "chapter 2: the beginning"),)


@pytest.mark.parametrize("text", ["giraffe size:10MB..1KB", "giraffe size:>1KB size:<1KB"])
def test_a_reversed_size_range_is_an_error_like_a_reversed_date_range(text: str) -> None:
    with pytest.raises(QueryError, match=r"the size filters ask for at least \d+ B and at most \d+ B; no file can match "
                                         r"\(write the smaller size first"):
        parse(text)
    assert parse("giraffe size:1KB..1KB").filters.min_size == 1024  # one exact size is a range too


def test_a_query_of_too_many_parts_is_refused_with_the_limit() -> None:
    assert len(Query.parse(" + ".join(["cat"] * MAX_PARTS)).parts) == MAX_PARTS
    with pytest.raises(QueryError, match=rf"a query may combine at most {MAX_PARTS} parts, this one has 200"):
        Query.parse(" + ".join(["cat"] * 200))  # took a minute on the CLI, and held a server meanwhile


def test_a_text_part_longer_than_any_model_reads_is_refused_with_the_limit() -> None:
    """A 60,000-character query answered 12 MB for k=100: every hit repeats its part's text."""
    assert Query.parse("a" * MAX_TEXT_CHARS).parts[0].value == "a" * MAX_TEXT_CHARS
    with pytest.raises(QueryError, match=rf"at most {MAX_TEXT_CHARS} characters, this one has 60000"):
        Query.parse("a" * 60_000)


def test_a_query_typed_in_a_latin1_terminal_is_a_clear_error(open_engine) -> None:  # type: ignore[no-untyped-def]
    latin1 = b"caf\xe9".decode("utf-8", "surrogateescape")  # how Python hands such argv bytes over
    with pytest.raises(QueryError, match=r"the query 'caf\\xe9' is not valid UTF-8; set the terminal to UTF-8"):
        open_engine().search(latin1)
