"""The labelled-set builders: loadable output, enough absent and gibberish queries that really have
no answer in their library, the same files on every build."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mmsearch.eval.labels import load
from mmsearch.eval.sets import BUILDERS
from mmsearch.eval.sets.common import CONCEPTS, absent_concepts, content_words, gibberish


def test_absent_concepts_share_no_word_with_the_library():
    library = ["a cat on a sofa", "two red apples", "the penguins of the zoo"]
    chosen = absent_concepts(library, n=30)
    assert len(chosen) == 30 == len(set(chosen))
    assert "a penguin" not in chosen  # "penguins" in the library rules out "penguin"
    vocabulary = set().union(*(content_words(t) for t in library))
    assert all(not content_words(c) & vocabulary for c in chosen)
    assert chosen == absent_concepts(library, n=30)  # seeded


def test_too_few_concepts_left_is_a_clear_error():
    with pytest.raises(RuntimeError, match="absent concepts left"):
        absent_concepts(CONCEPTS, n=1)


def test_gibberish_is_seeded_and_avoids_library_words():
    words = gibberish(["a cat"], n=40)
    assert len(set(words)) == 40 and words == gibberish(["a cat"], n=40)
    assert words != gibberish(["a cat"], n=40, seed=1)
    assert all(w.replace(" ", "").isalpha() for w in words)


def _check_set(out: Path) -> list[dict]:
    labelled = load(out / "labels.jsonl")
    kinds = [q.kind for q in labelled.queries]
    assert kinds.count("absent") >= 30 and kinds.count("gibberish") >= 30
    library = out / "library"
    for q in labelled.answered:
        for rel in q.relevant:
            assert (library / rel.path).is_file(), rel.path
    return [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]


def test_photos_set_is_complete_and_deterministic(tmp_path: Path):
    pytest.importorskip("skimage")
    build, _ = BUILDERS["photos"]
    build(tmp_path / "a")
    build(tmp_path / "b")
    lines = _check_set(tmp_path / "a")
    assert (tmp_path / "a" / "labels.jsonl").read_bytes() == (tmp_path / "b" / "labels.jsonl").read_bytes()
    answered = [x for x in lines if "relevant" in x]
    assert len(answered) >= 40 and len({x["relevant"][0] for x in answered}) >= 15


@pytest.mark.slow
@pytest.mark.parametrize("name", ["clipart", "mixed", "speech", "documents"])
def test_package_sets_build_quickly_and_completely(tmp_path: Path, name: str):
    build, missing = BUILDERS[name]
    if missing():
        pytest.skip(missing())
    build(tmp_path)
    lines = _check_set(tmp_path)
    answered = [x for x in lines if "relevant" in x]
    if name == "speech":
        assert all("t" in x["relevant"][0] for x in answered)  # every right answer is a time range
    if name in ("clipart", "mixed"):
        from mmsearch_lite.data import split_of

        assert len(answered) >= 150
        assert all(split_of(x["lite_id"]) == "test" for x in answered)  # never an image the lite space trained on
    if name == "documents":  # as the probe wrote it: 68 files, 64 answered, 32 absent, 31 gibberish
        assert sum(1 for p in (tmp_path / "library").rglob("*") if p.is_file()) == 68 and len(answered) == 64
        assert sum(x.get("kind") == "absent" for x in lines) == 32 and sum(x.get("kind") == "gibberish" for x in lines) == 31
    if name == "mixed":
        assert len(list((tmp_path / "library" / "documents").iterdir())) == 20
        assert sum(x.get("near_document", False) for x in answered) >= 20


def test_example_sets_are_altered_copies_of_their_right_answers(tmp_path: Path):
    """Each example is a changed copy (not the file itself: the identical-file leg would answer it)
    of its right answer, and the query reads as an example file."""
    pytest.importorskip("skimage")
    from PIL import Image

    from mmsearch.eval.sets import examples
    from mmsearch.search.query import FILE, Query

    BUILDERS["photos"][0](tmp_path / "photos")
    out = examples.build(tmp_path, "photos")
    lines = [json.loads(line) for line in (out / "labels.jsonl").read_text().splitlines()]
    assert len(lines) == len({x["relevant"][0] for x in lines}) >= 15
    library = tmp_path / "photos" / "library"
    for line in lines:
        example, original = Path(line["query"]), library / line["relevant"][0]
        assert Query.parse(line["query"]).parts[0].kind == FILE
        assert example.read_bytes() != original.read_bytes()
        with Image.open(example) as copy, Image.open(original) as source:
            assert copy.format == "JPEG" and copy.size == (int(source.width * 0.8), int(source.height * 0.8)), line
    assert examples.build(tmp_path, "photos").joinpath("labels.jsonl").read_text() == (out / "labels.jsonl").read_text()
