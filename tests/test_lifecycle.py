"""An index over weeks of use (found by an outside probe): edits that hide from size and mtime,
a second database on the same index folder, dates past 2262, an unmounted drive, an unreadable
folder, and a file renamed to a type nothing reads."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import mmsearch


def test_an_edit_keeping_size_and_mtime_is_picked_up(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    lib.mkdir()
    note = lib / "g.txt"
    note.write_text("Planting tomatoes: water the seedlings every morning.\n")
    engine = open_engine()
    engine.index(lib)
    before = note.stat()
    note.write_text("Submarine sonar: torpedo fired at periscope depth!!!!\n")  # same length
    os.utime(note, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert note.stat().st_size == before.st_size and note.stat().st_mtime_ns == before.st_mtime_ns
    summary = engine.index(lib)
    assert summary.updated == 1, summary
    assert [h.path for h in engine.search("submarine torpedo", k=1, min_score=0.5)] == ["g.txt"]
    assert engine.index(lib).unchanged == 1  # and it is not re-read on every run after
    os.chmod(note, 0o600)  # the change time moves, the content does not: hashed, not re-embedded
    summary = engine.index(lib)
    assert (summary.updated, summary.unchanged) == (0, 1), summary


def test_a_second_database_on_one_index_folder_never_answers_from_the_firsts_vectors(tmp_path: Path) -> None:
    from mmsearch.testing import fake_plugin

    a, b = tmp_path / "A", tmp_path / "B"
    for folder, texts in ((a, {"violin.txt": "violin concerto in D major", "basil.txt": "growing basil on a windowsill"}),
                          (b, {"faucet.txt": "repairing a leaking faucet", "castle.txt": "medieval castle architecture"})):
        folder.mkdir()
        for name, text in texts.items():
            (folder / name).write_text(text + "\n")
    index, other = tmp_path / "idx", f"sqlite:///{tmp_path / 'other.db'}"
    with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()]) as engine:
        engine.index(a)
    with mmsearch.Engine.open(index, db=other, embedders=["hash"], plugins=[fake_plugin()]) as engine:
        engine.index(b)
    for _ in range(2):  # each opens the folder's cache last written for the other database
        with mmsearch.Engine.open(index, embedders=["hash"], plugins=[fake_plugin()]) as engine:
            assert [h.path for h in engine.search("violin concerto", k=1)] == ["violin.txt"]
        with mmsearch.Engine.open(index, db=other, embedders=["hash"], plugins=[fake_plugin()]) as engine:
            assert [h.path for h in engine.search("leaking faucet", k=1)] == ["faucet.txt"]
            assert all(h.score < 0.5 for h in engine.search("violin concerto", k=2, min_score=0)), "B answered from A's vectors"


def test_a_file_dated_after_2262_is_indexed_and_the_run_goes_on(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.txt").write_text("an ordinary note about knots\n")
    (lib / "b.txt").write_text("a note from the far future about rockets\n")
    far = 10_500_000_000  # the year 2302, in seconds: in ns past a signed 64-bit integer
    try:
        os.utime(lib / "b.txt", (far, far))
    except (OverflowError, OSError):
        pytest.skip("this filesystem cannot hold a date past 2262")
    engine = open_engine()
    summary = engine.index(lib)
    assert (summary.added, summary.failed) == (2, 0), summary.failures
    assert engine.index(lib).unchanged == 2
    assert [h.path for h in engine.search("rockets", k=1)] == ["b.txt"]


def test_an_emptied_library_folder_keeps_its_files_and_says_why(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """An unmounted drive leaves an empty mount point: every file was removed without a word, and
    re-embedded (hours of Whisper) when the drive came back."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(3):
        (lib / f"n{i}.txt").write_text(f"note {i} on sailing knots\n")
    engine = open_engine()
    engine.index(lib)
    lib.rename(tmp_path / "lib.offline")
    lib.mkdir()
    os.utime(lib, (1e9, 1e9))  # a mount point: a folder that has not changed since before the drive was indexed
    summary = engine.index(lib)
    assert summary.removed == 0 and summary.skipped == 1, summary
    assert "empty" in summary.failures[0].error and "mmsearch remove" in summary.failures[0].error
    assert len(engine.search("sailing knots", k=5, min_score=0)) == 3
    lib.rmdir()
    (tmp_path / "lib.offline").rename(lib)  # the drive is back: nothing to re-embed
    summary = engine.index(lib)
    assert (summary.unchanged, summary.added, summary.removed) == (3, 0, 0), summary
    engine.remove(lib)  # deleting them on purpose still works
    assert engine.search("sailing knots", k=5, min_score=0) == []


def test_a_folder_emptied_by_deleting_or_moving_its_files_loses_them(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """Deleting a folder's last file, or moving everything out of an inbox, changes the folder (an
    unmount does not): the deleted file was still found at 1.000 and the moved ones twice, under
    their old and new paths (an outside probe)."""
    lib = tmp_path / "lib"
    for folder in ("x", "inbox", "sorted"):
        (lib / folder).mkdir(parents=True)
    (lib / "x" / "w.txt").write_text("a walrus on the ice floe\n")
    for i, words in enumerate(("sailing knots", "sourdough starter", "tax return")):
        (lib / "inbox" / f"n{i}.txt").write_text(f"note {i} about {words}\n")
    engine = open_engine()
    engine.index(lib)
    (lib / "x" / "w.txt").unlink()
    for i in range(3):
        (lib / "inbox" / f"n{i}.txt").rename(lib / "sorted" / f"n{i}.txt")
    summary = engine.index(lib)
    assert (summary.removed, summary.renamed, summary.added, summary.skipped) == (1, 3, 0, 0), summary
    assert [h.path for h in engine.search("walrus", k=5, min_score=0) if h.path.startswith("x/")] == []
    assert sorted(h.path for h in engine.search("note about", k=10, min_score=0)) == [f"sorted/n{i}.txt" for i in range(3)]


def _with_private_folder(tmp_path: Path, open_engine):  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    (lib / "private").mkdir(parents=True)
    (lib / "open.txt").write_text("a walk by the river\n")
    (lib / "private" / "d.txt").write_text("an alpine lake at dawn\n")
    engine = open_engine()
    engine.index(lib)
    return lib, engine


def test_an_emptied_folder_inside_a_library_keeps_its_files(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """A drive mounted inside the library (Media/usbdrive) leaves an empty folder when unmounted;
    only the folder given to `index` was protected, and its 3 files were removed."""
    lib = tmp_path / "lib"
    (lib / "usbdrive").mkdir(parents=True)
    (lib / "local.txt").write_text("notes on the local disk\n")
    for i in range(3):
        (lib / "usbdrive" / f"n{i}.txt").write_text(f"note {i} on sailing knots\n")
    (lib / "empty").mkdir()  # never held anything: nothing to report
    engine = open_engine()
    engine.index(lib)
    (lib / "usbdrive").rename(tmp_path / "offline")
    (lib / "usbdrive").mkdir()
    os.utime(lib / "usbdrive", (1e9, 1e9))  # a mount point, unchanged since before the drive was indexed
    summary = engine.index(lib)
    assert (summary.removed, summary.unchanged, summary.skipped) == (0, 1, 1), summary
    assert summary.failures[0].path == "usbdrive" and "empty" in (summary.failures[0].error or "")
    assert sum(h.path.startswith("usbdrive/") for h in engine.search("sailing knots", k=5, min_score=0)) == 3
    (lib / "usbdrive").rmdir()  # deleting the folder itself still removes its files
    summary = engine.index(lib)
    assert (summary.removed, summary.skipped) == (3, 0), summary


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_what_is_stored_below_an_unreadable_folder_is_kept(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    lib, engine = _with_private_folder(tmp_path, open_engine)
    (lib / "private").chmod(0)
    try:
        summary = engine.index(lib)
    finally:
        (lib / "private").chmod(0o755)
    assert summary.removed == 0 and "cannot read folder" in summary.failures[0].error, summary
    assert [h.path for h in engine.search("alpine lake", k=1)] == ["private/d.txt"]


def test_unreadable_folder_filter_keeps_stored_files_as_root_does_not_see_it(tmp_path: Path, open_engine,  # type: ignore[no-untyped-def]
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """The same as above where the suite runs as root (which reads every folder): the walk is made
    to find the folder unreadable."""
    from mmsearch.indexing import scan

    lib, engine = _with_private_folder(tmp_path, open_engine)
    real = os.scandir

    def scandir(path):  # type: ignore[no-untyped-def]
        if Path(path).name == "private":
            raise PermissionError(13, "Permission denied")
        return real(path)

    monkeypatch.setattr(scan.os, "scandir", scandir)
    summary = engine.index(lib)
    assert summary.removed == 0 and summary.unchanged == 1 and "cannot read folder" in summary.failures[0].error, summary
    assert [h.path for h in engine.search("alpine lake", k=1)] == ["private/d.txt"]


def test_a_file_renamed_to_a_name_nothing_reads_leaves_the_index(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "ski.txt").write_text("Skiing in Norway.\n")
    engine = open_engine()
    engine.index(lib)
    (lib / "ski.txt").rename(lib / "ski.txt.bak")
    summary = engine.index(lib)
    assert (summary.removed, summary.renamed, summary.skipped) == (1, 0, 1), summary
    assert engine.search("skiing Norway", k=3, min_score=0) == []


def test_a_file_renamed_to_another_kind_is_read_as_that_kind(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """o.txt -> o.png was counted as a rename: the text stayed searchable as a "png" and passed
    type:image filters, while a fresh index fails the file (an outside probe)."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "o.txt").write_text("Skiing in Norway.\n")
    engine = open_engine()
    engine.index(lib)
    (lib / "o.txt").rename(lib / "o.png")
    summary = engine.index(lib)
    assert (summary.removed, summary.renamed, summary.failed) == (1, 0, 1), summary
    assert "o.png" in summary.failures[0].path and "not a readable image" in (summary.failures[0].error or "")
    assert engine.search("skiing Norway", k=3, min_score=0) == []


def test_another_index_inside_the_library_is_not_indexed(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """A served index in media/idx-a held thumbnails (JPEGs); indexing media with another index
    took them for photos."""
    media = tmp_path / "media"
    media.mkdir()
    (media / "note.txt").write_text("a note about herons\n")
    inner = open_engine(media / "idx-a")
    inner.index(media)  # writes idx-a/index.db and its lock file
    (media / "idx-a" / "thumbs" / "ab").mkdir(parents=True)
    (media / "idx-a" / "thumbs" / "ab" / "tile.txt").write_text("a tile that is not the user's\n")
    outer = open_engine(tmp_path / "idx-b")
    summary = outer.index(media)
    assert summary.added == 1 and summary.skipped == 0, summary
    assert [h.path for h in outer.search("tile", k=5, min_score=0)] == ["note.txt"]


def test_the_thumbnail_cache_is_pruned_to_its_newest_tiles(tmp_path: Path) -> None:
    from mmsearch.server import thumbs

    for i in range(12):
        tile = tmp_path / f"{i:02d}"[:2] / f"tile{i}.jpg"
        tile.parent.mkdir(exist_ok=True)
        tile.write_bytes(b"x")
        os.utime(tile, (1_000_000 + i, 1_000_000 + i))
    assert thumbs.prune(tmp_path, keep=5) == 7
    assert sorted(p.name for p in tmp_path.glob("*/*.jpg")) == sorted(f"tile{i}.jpg" for i in range(7, 12))


def test_a_long_lived_engine_notices_its_database_was_replaced(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """It went on reading the unlinked file, and what it indexed there was lost to every other process."""
    import shutil

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "one.txt").write_text("Penguins on ice.\n")
    engine = open_engine(tmp_path / "idx")
    engine.index(lib)
    shutil.rmtree(tmp_path / "idx")
    with open_engine(tmp_path / "idx") as fresh:
        fresh.index(lib)
    (lib / "two.txt").write_text("Blacksmith and anvil.\n")
    with pytest.raises(mmsearch.MMSearchError, match="deleted or replaced since this process opened it"):
        engine.index(lib)
    with pytest.raises(mmsearch.MMSearchError, match="open the index again"):
        engine.search("penguins")


def test_reextract_brings_a_changed_setting_to_files_already_indexed(tmp_path: Path) -> None:
    """The index records no extraction settings per file: a smaller text.chunk_chars reached only
    new and changed files, and the index mixed chunk sizes. --reextract reads them all again."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "long.txt").write_text(" ".join(f"word{i}" for i in range(600)) + "\n")  # about 4,800 characters
    from mmsearch.testing import fake_plugin

    open_ = lambda chars: mmsearch.Engine.open(tmp_path / "idx", embedders=["hash"], plugins=[fake_plugin()],  # noqa: E731
                                               settings={"text.chunk_chars": chars, "text.chunk_overlap": 0})
    with open_(2000) as engine:
        assert engine.index(lib).segments == 3
    with open_(500) as engine:
        assert engine.index(lib).unchanged == 1  # the setting alone changes nothing
        summary = engine.index(lib, reextract=True)
        assert (summary.updated, summary.unchanged, summary.segments) == (1, 0, 10), summary
        assert engine.status().segments == 10


@pytest.mark.slow  # the CLI opens the real lite space
def test_a_moved_library_is_flagged_by_status_and_forgotten_by_remove(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from mmsearch.cli import cli

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "p.txt").write_text("cook pasta al dente\n")
    run = lambda *args: CliRunner().invoke(cli, ["--index", str(tmp_path / "idx"), "--embedder", "lite", *args])  # noqa: E731
    assert run("index", str(lib)).exit_code == 0
    lib.rename(tmp_path / "lib2")
    status = run("status")
    assert status.exit_code == 0 and f"missing: {lib} is not a folder now" in status.output, status.output
    assert "Removed 1 files" in run("remove", str(lib)).output
    status = run("status")
    assert "Libraries: none yet" in status.output and "missing" not in status.output, status.output


def test_a_hidden_folder_indexed_by_name_stays_when_its_library_is_indexed(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """Hidden folders are not walked; one the user indexed by naming it was removed again by the
    next run over its library (and added back by the next run over it)."""
    lib = tmp_path / "lib"
    (lib / ".private").mkdir(parents=True)
    (lib / "open.txt").write_text("a walk by the river\n")
    (lib / ".private" / "d.txt").write_text("an alpine lake at dawn\n")
    engine = open_engine()
    assert engine.index(lib).added == 1
    assert engine.index(lib / ".private").added == 1
    summary = engine.index(lib)
    assert (summary.removed, summary.unchanged) == (0, 1), summary
    assert [h.path for h in engine.search("alpine lake", k=1)] == [".private/d.txt"]
    (lib / ".private" / "d.txt").unlink()  # really gone: removed
    assert engine.index(lib).removed == 1


def test_a_folder_given_twice_or_inside_another_given_is_indexed_once(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """`index ov ov/sub` embedded ov/sub's files twice, counted them twice and reported constraint
    failures for them (an outside probe)."""
    lib = tmp_path / "ov"
    (lib / "sub").mkdir(parents=True)
    (lib / "a.txt").write_text("a note about herons\n")
    for i in range(3):
        (lib / "sub" / f"n{i}.txt").write_text(f"note {i} on sailing knots\n")
    engine = open_engine()
    summary = engine.index([lib, lib / "sub", lib / "sub" / "n0.txt", lib])
    assert (summary.added, summary.failed, summary.skipped) == (4, 0, 0), summary
    assert len(engine.search("sailing knots", k=10, min_score=0)) == 4
    summary = engine.index([lib / "sub", lib])
    assert (summary.unchanged, summary.added, summary.failed) == (4, 0, 0), summary


def test_indexing_a_deleted_file_or_folder_of_a_library_forgets_it(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """`index lib/old` after deleting lib/old said "no such file or folder" and kept its files;
    bringing that part of the library up to date removes them. A typo still changes nothing."""
    lib = tmp_path / "lib"
    (lib / "old").mkdir(parents=True)
    (lib / "keep.txt").write_text("a note about herons\n")
    (lib / "gone.txt").write_text("a walrus on the ice\n")
    for i in range(2):
        (lib / "old" / f"n{i}.txt").write_text(f"note {i} on sailing knots\n")
    engine = open_engine()
    engine.index(lib)
    for path in (lib / "old" / "n0.txt", lib / "old" / "n1.txt", lib / "gone.txt"):
        path.unlink()
    (lib / "old").rmdir()
    summary = engine.index([lib / "old", lib / "gone.txt"])
    assert (summary.removed, summary.added) == (3, 0), summary
    assert [h.path for h in engine.search("note", k=10, min_score=0)] == ["keep.txt"]
    with pytest.raises(mmsearch.MMSearchError, match="no such file or folder"):
        engine.index(lib / "olld")


def test_a_library_folder_moved_and_indexed_at_its_new_place_keeps_its_vectors_once(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """The CLI probe moved its library folder: every file was embedded again ("2000 added") and
    every result came twice, once under the old folder, kept as an unplugged drive's would be."""
    lib = tmp_path / "Photos"
    lib.mkdir()
    for i in range(3):
        (lib / f"n{i}.txt").write_text(f"note {i} on sailing knots\n")
    engine = open_engine()
    engine.index(lib)
    (tmp_path / "Pictures").mkdir()
    lib.rename(tmp_path / "Pictures" / "Photos")
    summary = engine.index(tmp_path / "Pictures")
    assert (summary.renamed, summary.added) == (3, 0), summary
    hits = engine.search("sailing knots", k=10, min_score=0)
    assert sorted(h.abspath for h in hits) == [str(tmp_path / "Pictures" / "Photos" / f"n{i}.txt") for i in range(3)]
    assert list(engine.status().roots) == [str(tmp_path / "Pictures")]  # the vanished library is gone for good


def _unplug(folder: Path, away: Path, leave: str | None = None) -> None:
    """An unmounted drive: its files gone, its mount point an old, unchanged folder."""
    folder.rename(away)
    folder.mkdir()
    if leave:
        (folder / leave).write_text("")
    os.utime(folder, (1e9, 1e9))


def test_an_unplugged_drive_keeps_its_files_whatever_is_indexed_meanwhile(tmp_path: Path, open_engine,  # type: ignore[no-untyped-def]
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A second lifecycle probe: copies of an unplugged drive's file in another library under a name
    no plugin reads or as another kind removed the drive's file; indexing a subfolder of the
    unmounted drive removed it; a mount point holding only .DS_Store was not empty; and a library
    folder that could not be checked made every run with new files crash."""
    drive, other = tmp_path / "drive", tmp_path / "other"
    (drive / "sub").mkdir(parents=True)
    other.mkdir()
    (drive / "z.txt").write_text("a zebra crossing the savanna\n")
    (drive / "sub" / "s.txt").write_text("notes on sailing knots\n")
    engine = open_engine()
    engine.index([drive, other])
    _unplug(drive, tmp_path / "offline", leave=".DS_Store")
    assert engine.index(drive).removed == 0  # only a hidden file in the mount point: still empty
    with pytest.raises(mmsearch.MMSearchError, match="has not changed since it was indexed"):
        engine.index(drive / "sub")
    shutil.copy(tmp_path / "offline" / "z.txt", other / "z.txt.bak")
    shutil.copy(tmp_path / "offline" / "z.txt", other / "z.png")
    summary = engine.index(other)
    assert summary.removed == 0, summary
    held = {h.abspath for h in engine.search("zebra savanna sailing", k=10, min_score=0)}
    assert {str(drive / "z.txt"), str(drive / "sub" / "s.txt")} <= held
    real_is_dir = Path.is_dir

    def locked(self: Path) -> bool:
        if self == drive:
            raise PermissionError(13, "Permission denied")
        return real_is_dir(self)

    shutil.rmtree(drive)  # now the library folder cannot even be checked
    drive.mkdir()
    monkeypatch.setattr(Path, "is_dir", locked)
    (other / "new.txt").write_text("a heron by the river\n")
    assert engine.index(other).added == 1


def test_a_drive_remounted_elsewhere_and_unplugged_again_keeps_its_files(tmp_path: Path, open_engine) -> None:  # type: ignore[no-untyped-def]
    """Found moved to a new mount point, the files kept the time they were first indexed, so the
    new mount point (made after that) looked changed when the drive was unplugged: all removed."""
    import time

    lib = tmp_path / "lib"
    (lib / "mnt1").mkdir(parents=True)
    for name in ("a", "b"):
        (lib / "mnt1" / f"{name}.txt").write_text(f"notes {name} on sailing knots\n")
    engine = open_engine()
    engine.index(lib)
    time.sleep(0.05)
    (lib / "mnt2").mkdir()
    made = (lib / "mnt2").stat().st_mtime
    for name in ("a", "b"):
        (lib / "mnt1" / f"{name}.txt").rename(lib / "mnt2" / f"{name}.txt")
    (lib / "mnt1").rmdir()
    time.sleep(0.05)
    assert engine.index(lib).renamed == 2
    (lib / "mnt2").rename(tmp_path / "offline")
    (lib / "mnt2").mkdir()
    os.utime(lib / "mnt2", (made, made))  # the mount point as it was before the drive was mounted on it
    summary = engine.index(lib)
    assert summary.removed == 0, summary
