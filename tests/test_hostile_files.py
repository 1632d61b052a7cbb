"""Libraries as they really are: symbolic link loops, links out of the library, names that are
not UTF-8, folders that cannot be read, files too big to be worth reading."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from conftest import OpenEngine, tagged_png
from mmsearch.paths import decode_relpath, encode_relpath


def _reasons(summary) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {f.path: f.error or "" for f in summary.failures}


def test_symlink_loops_are_skipped_with_a_reason_and_the_run_goes_on(library: Path, open_engine: OpenEngine) -> None:
    (library / "photos" / "back-up").symlink_to(library)  # a folder linking to its ancestor
    (library / "self.txt").symlink_to(library / "self.txt")  # a link to itself
    (library / "a.txt").symlink_to(library / "b.txt")
    (library / "b.txt").symlink_to(library / "a.txt")
    for follow in ("inside", "all", "none"):
        engine = open_engine(library.parent / f"index-{follow}", settings={"follow_symlinks": follow})
        summary = engine.index([library])
        assert summary.added == 5 and summary.failed == 2, follow
        reasons = _reasons(summary)
        if follow == "none":
            assert all("follow_symlinks" in reasons[name] for name in ("self.txt", "a.txt", "photos/back-up"))
        else:
            assert all("loop" in reasons[name] for name in ("self.txt", "a.txt", "b.txt")), reasons
            assert "photos/back-up" in reasons
        assert engine.search("kitten whiskers")[0].path == "photos/cat.png"


def test_a_folder_that_cannot_be_read_is_skipped_with_the_reason(library: Path, open_engine: OpenEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests run as root, which chmod 000 does not stop: refuse the folder the way the OS would.
    real_scandir = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path).name == "docs":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr("mmsearch.indexing.scan.os.scandir", scandir)
    summary = open_engine().index([library])
    assert summary.added == 3  # the three photos
    assert _reasons(summary)["docs"] == "cannot read folder: Permission denied"


def test_a_symlink_out_of_the_library_is_not_followed_by_default(library: Path, open_engine: OpenEngine, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "passwd.txt").write_text("root:x:0:0:secret account password\n")
    (outside / "album").mkdir()
    tagged_png(outside / "album" / "owl.png", "owl feathers night")
    (library / "passwd.txt").symlink_to(outside / "passwd.txt")
    (library / "album").symlink_to(outside / "album")
    (library / "docs" / "pasta-link.txt").symlink_to(library / "docs" / "pasta.txt")  # inside: followed
    engine = open_engine()
    summary = engine.index([library])
    reasons = _reasons(summary)
    assert 'outside the library; set follow_symlinks = "all"' in reasons["passwd.txt"]
    assert "outside the library" in reasons["album"]
    paths = {h.path for h in engine.search("secret account password owl feathers pasta", k=50)}
    assert "passwd.txt" not in paths and not any(p.startswith("album") for p in paths)
    assert "docs/pasta-link.txt" in paths

    everything = open_engine(tmp_path / "index-all", settings={"follow_symlinks": "all"})
    assert everything.index([library]).added == 8
    assert {"passwd.txt", "album/owl.png"} <= {h.path for h in everything.search("secret account password owl", k=50)}


def test_a_bad_follow_symlinks_value_names_the_choices(library: Path, open_engine: OpenEngine) -> None:
    from mmsearch.errors import ConfigError

    with pytest.raises(ConfigError, match="follow_symlinks.*'inside', 'all', 'none'.*sometimes"):
        open_engine(settings={"follow_symlinks": "sometimes"}).index([library])


def test_names_that_are_not_utf8_are_stored_losslessly_and_fail_nothing_else(tmp_path: Path, open_engine: OpenEngine, db_url: str | None) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(29):
        (lib / f"note{i:02d}.txt").write_text(f"ordinary note number {i}\n")
    bad = os.fsdecode(b"caf\xe9 \\ menu.txt")  # Latin-1 é, not UTF-8, and a literal backslash
    (lib / bad).write_text("espresso and croissant\n")
    engine = open_engine(db=db_url)
    summary = engine.index([lib])
    assert (summary.added, summary.failed) == (30, 0)
    hit = engine.search("espresso croissant", k=1)[0]
    assert hit.path == "caf\\xe9 \\\\ menu.txt"  # shown escaped, as `ls -b` would
    assert hit.abspath == str(lib / bad) and Path(hit.abspath).read_text() == "espresso and croissant\n"
    assert engine.index([lib]).unchanged == 30  # the stored name matches the file on the next run


@pytest.mark.parametrize("raw", [b"plain.txt", b"caf\xc3\xa9.txt", b"\xff\xfe", b"a\\xff", b"\\", b"x\\\\y\x80"])
def test_relpath_escaping_round_trips(raw: bytes) -> None:
    name = os.fsdecode(raw)
    stored = encode_relpath(name)
    stored.encode("utf-8")  # valid text for any database
    assert decode_relpath(stored) == name


def test_a_file_over_the_size_limit_is_skipped_naming_the_setting(library: Path, open_engine: OpenEngine) -> None:
    (library / "docs" / "huge.txt").write_text("word " * 50_000)  # 250 KB
    engine = open_engine(settings={"text.max_bytes": 100_000})
    summary = engine.index([library])
    assert summary.skipped == 1 and summary.added == 5
    assert _reasons(summary)["docs/huge.txt"] == (
        "0.2 MB is over the text limit of 0.1 MB; raise the setting text.max_bytes (env MMSEARCH_TEXT_MAX_BYTES) to index it")
    assert open_engine(library.parent / "index2", settings={"text.max_bytes": 0}).index([library]).added == 6


def test_the_text_limit_defaults_to_50_mb(library: Path, open_engine: OpenEngine) -> None:
    big = library / "docs" / "sparse.txt"
    with big.open("wb") as fh:  # a sparse 51 MB file costs no disk
        fh.truncate(51 * 2**20)
    summary = open_engine().index([library])
    assert "over the text limit of 50.0 MB" in _reasons(summary)["docs/sparse.txt"]


def test_text_is_chunked_window_by_window_with_true_offsets(tmp_path: Path) -> None:
    from mmsearch.testing.contracts import source_for
    from mmsearch_text.modality import TextModality

    words = [f"w{i}" + ("." if i % 13 == 0 else "") + ("\n\n" if i % 97 == 0 else "") for i in range(20_000)]
    text = "Crème " + " ".join(words)
    path = tmp_path / "long.txt"
    path.write_text(text, encoding="utf-8")
    streamed = list(TextModality(chunk_chars=300, overlap=60, window_chars=1500).segments(source_for(path)))
    assert len(streamed) > 300
    for seg in streamed:  # offsets index the whole text, across window seams
        assert text[seg.locator.char_start:seg.locator.char_end] == seg.text
    spans = [(s.locator.char_start, s.locator.char_end) for s in streamed]
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(b0 < a1 and b0 > a0 for (a0, a1), (b0, _) in zip(spans, spans[1:]))  # every seam overlaps
    assert max(e - s for s, e in spans) <= 300


def test_a_large_text_file_is_read_in_bounded_memory(tmp_path: Path) -> None:
    import tracemalloc

    from mmsearch.testing.contracts import source_for
    from mmsearch_text.modality import TextModality

    path = tmp_path / "big.txt"
    line = ("The quick brown fox jumps over the lazy dog near the riverbank. " * 4 + "\n").encode()
    with path.open("wb") as fh:
        for _ in range(24 * 2**20 // len(line)):  # 24 MB
            fh.write(line)
    tracemalloc.start()
    try:
        count = sum(1 for _ in TextModality().segments(source_for(path)))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count > 24_000
    assert peak < 12 * 2**20, f"peak {peak / 2**20:.1f} MB while reading a 24 MB file"


def test_a_file_the_database_refuses_fails_alone(library: Path, open_engine: OpenEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy.exc import DataError

    from mmsearch.indexing import writer

    real = writer._upsert_media

    def picky(session, item, stamp):  # type: ignore[no-untyped-def]
        if item.job.found.relpath == "docs/pasta.txt" and item.error is None:
            raise DataError("INSERT INTO media ...", {}, Exception("value too long for type character varying"))
        return real(session, item, stamp)

    monkeypatch.setattr(writer, "_upsert_media", picky)
    engine = open_engine()
    summary = engine.index([library])
    assert (summary.added, summary.failed) == (4, 3)
    assert _reasons(summary)["docs/pasta.txt"].startswith("cannot be stored in the index database:")
    assert {h.path for h in engine.search("volcano cat rocket beach", k=50)} == {
        "docs/volcano.md", "photos/cat.png", "photos/rocket.png", "photos/beach.png"}
    assert "pasta.txt" in {Path(f.path).name for f in engine.status().failures}
