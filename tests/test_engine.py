"""The Python API an application embeds: open/close, search results, filters, paging, spaces."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import mmsearch
from mmsearch.testing import HashEmbedder, fake_plugin
from conftest import OpenEngine, tagged_png


def test_results_are_frozen_dataclasses_with_evidence(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    hits = engine.search("how to cook pasta")
    top = hits[0]
    assert top.path == "docs/pasta.txt" and top.modality == "text"
    assert top.abspath == str(library / "docs" / "pasta.txt")
    assert top.best is not None and top.best.kind == "text" and top.best.locator.char_start == 0
    assert "spaghetti" in (top.best.text or "")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    with pytest.raises(dataclasses.FrozenInstanceError):
        top.score = 1.0  # type: ignore[misc]
    assert "docs/pasta.txt" in top.explain() and "raw=" in top.explain()


def test_search_by_example_image(library: Path, open_engine: OpenEngine, tmp_path: Path) -> None:
    engine = open_engine()
    engine.index([library])
    query = tagged_png(tmp_path / "query.png", "rocket launch space", size=32)
    assert engine.search(image=query)[0].path == "photos/rocket.png"


def test_out_of_range_k_or_offset_is_a_query_error_not_an_overflow(library: Path, open_engine: OpenEngine) -> None:
    from mmsearch.errors import QueryError

    engine = open_engine()
    engine.index([library])
    for kwargs in ({"k": 0}, {"k": 10**20}, {"offset": -1}, {"offset": 2**63}):
        with pytest.raises(QueryError, match="k must be from 1 to 1000 and offset from 0 to 100000"):
            engine.search("kitten", **kwargs)
    assert engine.search("kitten", k=1000, offset=100_000) == []  # the deepest page allowed is just empty


def test_one_path_given_alone_means_that_path_not_its_characters(library: Path, open_engine: OpenEngine) -> None:
    """``remove("/lib/a.txt")`` iterated the string: "/" resolved to the root and the whole index went."""
    engine = open_engine()
    assert engine.index(str(library)).added == 5 and engine.status().roots == (str(library),)
    assert engine.remove(str(library / "docs" / "pasta.txt")) == 1
    assert engine.remove(library / "photos" / "cat.png") == 1
    assert sum(engine.status().media.values()) == 3
    for bad in (b"/tmp", [b"/tmp"], 42, [library, 7]):
        with pytest.raises(mmsearch.ArgumentError, match=r"Engine.remove\(\)"):
            engine.remove(bad)  # type: ignore[arg-type]
        with pytest.raises(TypeError, match=r"Engine.index\(\)"):
            engine.index(bad)  # type: ignore[arg-type]
    assert sum(engine.status().media.values()) == 3


def test_an_empty_path_is_refused_not_read_as_the_working_directory(library: Path, open_engine: OpenEngine,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """``remove("")`` resolved to the working directory and forgot everything under it."""
    engine = open_engine()
    assert engine.index(library).added == 5
    monkeypatch.chdir(library)
    for bad in ("", [""], [library / "docs", ""]):
        with pytest.raises(mmsearch.ArgumentError, match=r"Engine.remove\(\): an empty path was given.*'\.' for the current folder"):
            engine.remove(bad)
        with pytest.raises(mmsearch.ArgumentError, match=r"Engine.index\(\): an empty path was given"):
            engine.index(bad)
    assert sum(engine.status().media.values()) == 5 and engine.status().roots == (str(library),)


def test_a_missing_path_among_several_records_no_library(library: Path, tmp_path: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    with pytest.raises(mmsearch.MMSearchError, match="Documnets: no such file or folder"):
        engine.index([library, tmp_path / "Documnets"])
    assert engine.status().roots == () and engine.status().media == {}


def test_search_arguments_of_the_wrong_type_are_named(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    assert {h.path for h in engine.search("pasta volcano", types="text", min_score=0)} == {"docs/pasta.txt", "docs/volcano.md"}
    assert {h.modality for h in engine.search("cat", types="image,text", min_score=0)} == {"image", "text"}
    assert [h.path for h in engine.search("how to cook pasta", k=np.int64(1), min_score=np.float32(0))] == ["docs/pasta.txt"]
    bad: list[tuple[dict[str, Any], str]] = [
        ({"k": "5"}, "k and offset must be whole numbers"), ({"k": 1.5}, "k and offset"), ({"offset": None}, "k and offset"),
        ({"types": None}, "types must be modality names"), ({"types": [1]}, "types must be"),
        ({"min_score": "0.5"}, "min_score must be a number"), ({"path": 3}, "path must be a glob"),
        ({"image": b"x.png"}, "image must be a path"),
    ]
    for kwargs, message in bad:
        with pytest.raises(mmsearch.ArgumentError, match=message):
            engine.search("pasta", **kwargs)
    with pytest.raises(mmsearch.ArgumentError, match="query must be a str"):
        engine.search(b"pasta")  # type: ignore[arg-type]
    with pytest.raises(mmsearch.QueryError, match="unknown type photo; installed modalities: .*image"):
        engine.search("pasta", types=["photo"])  # matched nothing, silently, before
    with pytest.raises(mmsearch.ArgumentError, match="settings must be a mapping"):  # a bare TypeError before (an app probe)
        mmsearch.Engine.open(engine.index_dir, settings="search.min_score=0.4")  # type: ignore[arg-type]


def test_a_cut_outside_0_1_is_refused_not_an_empty_answer(library: Path, open_engine: OpenEngine, monkeypatch: pytest.MonkeyPatch) -> None:
    from mmsearch.errors import ConfigError, QueryError

    engine = open_engine()
    engine.index([library])
    for bad in (float("nan"), 1.5, -0.1):
        with pytest.raises(QueryError, match="min_score must be a number from 0 to 1"):
            engine.search("kitten", min_score=bad)
    for bad in ("nan", "2.5", "high"):  # what the environment or mmsearch.toml may hold
        monkeypatch.setenv("MMSEARCH_SEARCH_MIN_SCORE", bad)
        with pytest.raises(ConfigError, match=r"setting 'search.min_score' \(env MMSEARCH_SEARCH_MIN_SCORE\) must be a number from 0 to 1"):
            engine.search("kitten")
    monkeypatch.setenv("MMSEARCH_SEARCH_MIN_SCORE", "0")
    assert engine.search("kitten")[0].path == "photos/cat.png"


def test_an_example_that_is_in_the_library_finds_itself_for_certain(library: Path, open_engine: OpenEngine, tmp_path: Path) -> None:
    import shutil

    from mmsearch.search.identical import IDENTICAL

    engine = open_engine()
    engine.index([library])
    copy = tmp_path / "copy-of-beach.png"  # the same bytes under another name, outside the library
    shutil.copy(library / "photos" / "beach.png", copy)
    top = engine.search(image=copy, min_score=0.99)
    assert [h.path for h in top] == ["photos/beach.png"] and top[0].score == 1.0
    assert IDENTICAL in {e.kind for e in top[0].evidence}
    assert engine.search(image=copy, types=["text"], min_score=0.99) == []  # filters still apply
    other = tagged_png(tmp_path / "retouched.png", "beach sand sea", (231, 210, 150))  # same words, other bytes
    assert all(IDENTICAL not in {e.kind for e in h.evidence} for h in engine.search(image=other, min_score=0))


def test_an_example_file_over_the_size_limit_is_refused_and_a_long_one_is_read_in_part(library: Path, open_engine: OpenEngine,
                                                                                   tmp_path: Path) -> None:
    """A 50 MB text file given as an example never finished (minutes of embedding every chunk);
    the indexing limit applies to examples too, and a long example is judged by its first segments."""
    engine = open_engine(settings={"text.max_bytes": 20_000})
    engine.index([library])
    big = tmp_path / "big.txt"
    big.write_text("volcano lava ash " * 2000)  # 34 kB
    with pytest.raises(mmsearch.QueryError, match=r"big.txt: 0.0 MB is over the text limit of 0.0 MB; raise the setting "
                                                  r"text.max_bytes \(env MMSEARCH_TEXT_MAX_BYTES\) to search with it"):
        engine.search(image=big)
    long = tmp_path / "long.txt"
    long.write_text("A volcano erupts lava, ash and gas.\n\n" * 500)  # 18 kB: hundreds of chunks, under the limit
    assert engine.search(image=long, min_score=0, k=1)[0].path == "docs/volcano.md"


def test_type_filter_is_applied_before_search_and_fills_k(tmp_path: Path, open_engine: OpenEngine) -> None:
    lib = tmp_path / "many"
    lib.mkdir()
    for i in range(60):  # documents that match the query far better than any image
        (lib / f"doc{i:02d}.txt").write_text(f"red car number {i}")
    for i in range(4):
        tagged_png(lib / f"img{i}.png", f"blue boat {i}")
    engine = open_engine()
    engine.index([lib])
    hits = engine.search("red car", k=4, types=["image"])
    assert len(hits) == 4 and {h.modality for h in hits} == {"image"}


def test_path_filter_matches_relative_paths_and_names(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    assert {h.path for h in engine.search("cat", k=50, path="docs/*")} == {"docs/pasta.txt", "docs/volcano.md"}
    assert [h.path for h in engine.search("cat", k=50, path="*.md")] == ["docs/volcano.md"]
    assert engine.search("cat", path="nothing/*") == []


def test_pages_are_stable_and_do_not_overlap(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    everything = [h.path for h in engine.search("cat", k=50)]
    paged = [h.path for off in range(0, len(everything), 2) for h in engine.search("cat", k=2, offset=off)]
    assert paged == everything and len(everything) == 5


def test_min_score_drops_weak_results(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    scores = [h.score for h in engine.search("kitten", k=50)]
    cut = (scores[0] + scores[1]) / 2
    assert [h.path for h in engine.search("kitten", k=50, min_score=cut)] == ["photos/cat.png"]


def test_close_is_idempotent_and_closed_engine_says_so(tmp_path: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.close()
    engine.close()
    with pytest.raises(mmsearch.MMSearchError, match="closed"):
        engine.search("x")


def test_context_manager_persists_between_opens(library: Path, tmp_path: Path) -> None:
    with mmsearch.Engine.open(tmp_path / "idx", embedders=["hash"], plugins=[fake_plugin()]) as engine:
        engine.index([library])
    with mmsearch.Engine.open(tmp_path / "idx", plugins=[fake_plugin()]) as engine:
        assert engine.search("volcano lava")[0].path == "docs/volcano.md"


def test_index_refuses_a_different_model(tmp_path: Path) -> None:
    with mmsearch.Engine.open(tmp_path / "idx", embedders=["hash"], plugins=[fake_plugin(HashEmbedder(dim=64))]):
        pass
    with pytest.raises(mmsearch.SpaceMismatchError, match=r"built with hash:hash-64 \(64-d\).*hash:hash-32"):
        mmsearch.Engine.open(tmp_path / "idx", plugins=[fake_plugin(HashEmbedder(dim=32))])
    with pytest.raises(mmsearch.SpaceMismatchError, match="no installed plugin provides"):
        mmsearch.Engine.open(tmp_path / "idx")


def test_an_index_holding_nothing_takes_the_embedder_asked_for_next(tmp_path: Path, library: Path) -> None:
    """The CLI probe's first run with `--embedder clip` failed offline (no weights): the empty index
    then refused `--embedder lite` forever ("was built with clip"). An index holding anything is
    still refused another model."""

    class Other(HashEmbedder):
        name = "other"

    plugins = [fake_plugin(HashEmbedder(), Other())]
    with mmsearch.Engine.open(tmp_path / "idx", embedders=["hash"], plugins=plugins):
        pass  # the run that failed before indexing anything
    with mmsearch.Engine.open(tmp_path / "idx", embedders=["other"], plugins=plugins) as engine:
        assert [e.name for e in engine.embedders] == ["other"]
        engine.index([library])
    with pytest.raises(mmsearch.SpaceMismatchError, match="built with other"):
        mmsearch.Engine.open(tmp_path / "idx", embedders=["hash"], plugins=plugins)


def test_remove_forgets_media_but_keeps_files(library: Path, open_engine: OpenEngine) -> None:
    engine = open_engine()
    engine.index([library])
    assert engine.remove([library / "docs"]) == 3  # two documents and the failed one
    assert engine.status().media == {"image": 3}
    assert (library / "docs" / "pasta.txt").exists()


def test_missing_path_is_a_clear_error(open_engine: OpenEngine, tmp_path: Path) -> None:
    with pytest.raises(mmsearch.MMSearchError, match="no such file or folder"):
        open_engine().index([tmp_path / "nope"])


def test_empty_query_is_a_clear_error(open_engine: OpenEngine) -> None:
    with pytest.raises(mmsearch.QueryError, match="nothing to search for"):
        open_engine().search("   ")


def test_settings_file_in_index_dir_is_read(tmp_path: Path, library: Path) -> None:
    index = tmp_path / "idx"
    index.mkdir()
    (index / "mmsearch.toml").write_text('embedders = "hash"\n[text]\nchunk_chars = 20\nchunk_overlap = 0\n')
    with mmsearch.Engine.open(index, plugins=[fake_plugin()]) as engine:
        engine.index([library / "docs"])
        assert engine.status().segments > 2  # 20-character chunks split each document


def test_bad_settings_file_names_the_file(tmp_path: Path) -> None:
    index = tmp_path / "idx"
    index.mkdir()
    (index / "mmsearch.toml").write_text("this is = = not toml")
    with pytest.raises(mmsearch.ConfigError, match="mmsearch.toml: not valid TOML"):
        mmsearch.Engine.open(index, plugins=[fake_plugin()])


def test_a_bad_value_in_the_settings_file_points_to_the_file_not_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index = tmp_path / "idx"
    index.mkdir()
    (index / "mmsearch.toml").write_text('embedders = "hash"\n[search]\nmin_score = "high"\n')
    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)
    with pytest.raises(mmsearch.ConfigError) as caught:  # at open, not at the first search (README, Typed settings)
        mmsearch.Engine.open(index, plugins=[fake_plugin()])
    assert str(caught.value) == f"setting 'search.min_score' (in {index / 'mmsearch.toml'}) must be a number from 0 to 1, got 'high'"


def test_nonsense_worker_and_batch_counts_are_refused(tmp_path: Path, library: Path) -> None:
    for line, wanted in (("workers = -3", "at least 0"), ("batch_size = 0", "at least 1")):
        index = tmp_path / line.split()[0]
        index.mkdir()
        (index / "mmsearch.toml").write_text(f'embedders = "hash"\n{line}\n')
        with pytest.raises(mmsearch.ConfigError, match=rf"setting '{line.split()[0]}' \(in .*mmsearch.toml\) must be a whole number of {wanted}"):
            with mmsearch.Engine.open(index, plugins=[fake_plugin()]) as engine:  # a plugin may read it as it loads
                engine.index([library])


def test_the_only_document_of_its_kind_can_still_be_a_strong_match(tmp_path: Path, open_engine: OpenEngine) -> None:
    """A library with one transcript among photos: no other text to compare it with, so its
    baseline comes from generic queries; it must not be scored against itself into oblivion."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for i, words in enumerate(["cat kitten", "rocket launch", "beach sand", "forest trees"]):
        tagged_png(lib / f"img{i}.png", words)
    (lib / "talk.txt").write_text("at midnight the volcano erupted and lava flowed to the village")
    engine = open_engine()
    engine.index([lib])
    top = engine.search("volcano erupted lava")[0]
    assert top.path == "talk.txt"
    assert top.legs['"volcano erupted lava"@hash'] > 0.5  # the vector leg, not only the keyword leg


class SynonymQueries(HashEmbedder):
    """An asymmetric embedder: queries are embedded unlike indexed text (a word is read as its
    synonym), as E5-style models do with a "query:" prefix."""

    name = "synonyms"

    def embed_query_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        return self.embed_batch(kind, [p.replace("kitty", "cat") if isinstance(p, str) else p for p in payloads])


def test_queries_are_embedded_with_the_embedders_query_form(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "pets.txt").write_text("the cat sleeps on the sofa")
    (library / "cars.txt").write_text("the car is parked on the street")
    with mmsearch.Engine.open(tmp_path / "idx", embedders=["synonyms"], plugins=[fake_plugin(SynonymQueries())]) as engine:
        engine.index([library])
        hits = engine.search("kitty", min_score=0)
        assert hits and hits[0].path == "pets.txt" and hits[0].best.raw_score > 0.3


def test_an_example_that_holds_nothing_says_so(library: Path, open_engine: OpenEngine, tmp_path: Path) -> None:
    """A tone without speech given with --image was 'no embedding space of this index can take
    tone.wav', as if the index were the problem (a probe's find)."""
    engine = open_engine()
    engine.index([library])
    blank = tmp_path / "blank.txt"
    blank.write_text("   \n\n  ")
    with pytest.raises(mmsearch.QueryError, match=r"blank.txt: the text plugin found nothing in it to search with"):
        engine.search(image=blank)


def test_hits_can_be_put_in_sets_and_used_as_keys(library: Path, open_engine: OpenEngine) -> None:
    """An app probe: every Hit raised "unhashable type: 'dict'" (its legs) in a set or as a key."""
    engine = open_engine()
    engine.index([library])
    hits = engine.search("volcano lava", k=5, min_score=0)
    again = engine.search("volcano lava", k=5, min_score=0)
    assert hits == again and set(hits) == set(again) and len(set(hits + again)) == len(hits)
    assert {hit: hit.score for hit in hits}[again[0]] == again[0].score


def test_one_name_given_alone_is_that_name_not_its_letters(library: Path, tmp_path: Path, open_engine: OpenEngine) -> None:
    """``embedders='hash'`` was read as the embedders h, a, s, h; ``Query.build(files='x.png')`` as files x, ., p, …"""
    engine = open_engine(tmp_path / "one-name", embedders="hash")
    assert [e.name for e in engine.embedders] == ["hash"]
    engine.index(library)
    example = str(library / "photos" / "rocket.png")
    query = mmsearch.Query.build(text="launch", files=example, types="image", negative="night")
    assert [p.value for p in query.parts] == ["launch", example, "night"] and query.filters.types == {"image"}
    assert engine.search(query)[0].path == "photos/rocket.png"
    for plugins, message in (("image", "plugins must be a list of plugin objects"), ([object()], "implements no mmsearch hook"),
                             (["image"], "plugins must be plugin objects")):
        with pytest.raises(mmsearch.ArgumentError, match=message):  # accepted silently, doing nothing, before
            mmsearch.Engine.open(tmp_path / "plugins", plugins=plugins)


def test_every_public_argument_of_the_wrong_type_is_an_argument_error(library: Path, open_engine: OpenEngine) -> None:
    """Bare UnicodeEncodeError, TypeError and AttributeError came from deep inside (some mid-run)."""
    engine = open_engine()
    engine.index([library])
    calls: list[tuple[Any, str]] = [
        (lambda: engine.search("pasta", path="\ud800"), r"Engine.search\(\): path holds a lone surrogate"),
        (lambda: engine.search("pasta", fuser=3), "fuser must be a fuser's name"),
        (lambda: engine.search("\ud800 pasta"), "query holds a lone surrogate"),
        (lambda: engine.index(library, progress=1), r"Engine.index\(\): progress .* must be a function"),
        (lambda: engine.index(library, retry_failed="no"), "retry_failed must be True or False"),
        (lambda: engine.remove("/tmp/\ud800"), r"Engine.remove\(\): the path .* lone surrogate"),
        (lambda: engine.evaluate(3), r"Engine.evaluate\(\): labelled_set must be a path"),
        (lambda: engine.calibrate("labels.jsonl", features=[1]), r"Engine.calibrate\(\): features must be"),
        (lambda: mmsearch.Engine.open(engine.index_dir, db=5), r"Engine.open\(\): db .* must be a str"),
        (lambda: mmsearch.Engine.open(engine.index_dir, embedders=3), r"Engine.open\(\): embedders must be"),
        (lambda: mmsearch.Query.parse(1), r"Query.parse\(\): text .* must be a str"),
        (lambda: mmsearch.Query.build(text=1), r"Query.build\(\): text must be a str or None"),
        (lambda: mmsearch.Query.build(text="a", files=[3]), r"Query.build\(\): 3 is not a path"),
        (lambda: mmsearch.Query.build(text="a", after="2021"), "after must be a datetime"),
        (lambda: mmsearch.Query.build(text="a", min_size="1MB"), "min_size must be a whole number"),
        (lambda: mmsearch.Query.build(text="a", path="\ud800"), "path holds a lone surrogate"),
    ]
    for call, message in calls:
        with pytest.raises(mmsearch.ArgumentError, match=message):
            call()
    assert engine.status().media  # nothing was forgotten or half-indexed on the way


def test_an_empty_index_path_is_refused_not_the_working_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(mmsearch.ArgumentError, match="index is empty; give a folder path, or None"):
        mmsearch.Engine.open("", embedders=["hash"], plugins=[fake_plugin()])
    assert list(tmp_path.iterdir()) == []  # no index was made here
