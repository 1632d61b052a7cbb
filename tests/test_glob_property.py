"""The path glob means what ``fnmatch.fnmatchcase`` means, on SQLite and on PostgreSQL alike,
for any name and any pattern (property tests: hypothesis draws both)."""

from __future__ import annotations

import fnmatch
import sqlite3

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mmsearch.search.filters import parse_glob, to_posix_regex, to_sqlite_glob

# Characters that mean something to fnmatch, GLOB or a regex, plus ordinary and far-off ones.
_TRICKY = "ab-z]![^*?\\/.:&~|$()+{}\n é😀A0"
names = st.lists(st.text(st.sampled_from("abz-]^\\/.é😀\n A") | st.characters(exclude_categories=("Cs",), exclude_characters="\x00"),
                         max_size=8), min_size=1, max_size=12)
patterns = st.text(st.sampled_from(_TRICKY) | st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=10)


def _expected(pattern: str, names: list[str]) -> list[bool]:
    try:
        return [fnmatch.fnmatchcase(n, pattern) for n in names]
    except (IndexError, ValueError):  # patterns fnmatch itself cannot translate
        assume(False)
        raise


_SQLITE = sqlite3.connect(":memory:", check_same_thread=False)


@settings(max_examples=300, deadline=None)
@given(patterns, names)
def test_sqlite_glob_agrees_with_fnmatch(pattern: str, names: list[str]) -> None:
    expected = _expected(pattern, names)
    tokens = parse_glob(pattern)
    if tokens is None:
        assert not any(expected)
        return
    glob = to_sqlite_glob(tokens)
    got = [bool(_SQLITE.execute("SELECT ? GLOB ?", (n, glob)).fetchone()[0]) for n in names]
    assert got == expected, glob


@pytest.fixture(scope="module")
def pg():  # type: ignore[no-untyped-def]
    from conftest import PG_URL, REQUIRE_PG, _pg_available

    if not _pg_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required but {PG_URL} does not answer")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    import sqlalchemy

    engine = sqlalchemy.create_engine(PG_URL)
    with engine.connect() as conn:
        yield conn
    engine.dispose()


@pytest.mark.postgres
@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pattern=patterns, names=names)
def test_postgres_regex_agrees_with_fnmatch(pg, pattern: str, names: list[str]) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    expected = _expected(pattern, names)
    tokens = parse_glob(pattern)
    if tokens is None:
        assert not any(expected)
        return
    regex = to_posix_regex(tokens)
    got = pg.execute(text("SELECT n ~ :re FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS t(n, i) ORDER BY i"),
                     {"re": regex, "names": names}).scalars().all()
    assert got == expected, regex


@pytest.mark.parametrize("pattern", ["[z-a]*", "[[:alpha:]]*", "a\x00*", "[!]", "[]-a]*", "*[*]*", "[^a]*"])
def test_known_troublemakers_agree_with_fnmatch(pattern: str) -> None:
    names = ["apple", "[:a]x", "z", "*star*", "^x", "]", "-", "!"]
    expected = [fnmatch.fnmatchcase(n, pattern) for n in names]
    tokens = parse_glob(pattern)
    if tokens is None:
        assert not any(expected)
        return
    with sqlite3.connect(":memory:") as conn:
        assert [bool(conn.execute("SELECT ? GLOB ?", (n, to_sqlite_glob(tokens))).fetchone()[0]) for n in names] == expected
