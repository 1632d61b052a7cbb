"""``mmsearch eval`` and ``Engine.evaluate`` on a tiny tagged library with the HashEmbedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from mmsearch import Engine
from mmsearch.cli import cli
from mmsearch.testing import HashEmbedder, fake_plugin

LABELS = [
    {"id": "cat", "query": "kitten whiskers", "relevant": ["photos/cat.png"]},
    {"id": "rocket", "query": "rocket launch", "relevant": ["photos/rocket.png"]},
    {"id": "pasta", "query": "boil spaghetti", "relevant": ["docs/pasta.txt"]},
    {"id": "volcano-wrong", "query": "beach sand", "relevant": ["docs/volcano.md"]},  # labelled wrong on purpose: a miss
    {"id": "absent-1", "query": "submarine periscope", "kind": "absent"},
    {"id": "gib-1", "query": "zorblat quenx", "kind": "gibberish"},
]


@pytest.fixture
def labels(tmp_path: Path) -> Path:
    path = tmp_path / "labels.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in LABELS), encoding="utf-8")
    return path


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("MMSEARCH_PLUGINS", "mmsearch.testing.plugin")
    monkeypatch.delenv("MMSEARCH_INDEX", raising=False)

    def invoke(*args: str) -> Result:
        return CliRunner().invoke(cli, ["--index", str(tmp_path / "index"), "--embedder", "hash", *args])

    return invoke


def test_eval_json_reports_ranking_cut_numbers_and_every_query(run, library: Path, labels: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("eval", str(labels), "--library", str(library), "--json", "--min-score", "0.5")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"labelled_set", "k", "cut", "seconds", "overall", "per_modality", "absent", "best_cut", "queries"}
    overall = data["overall"]
    assert overall["n"] == 4 and data["cut"] == 0.5
    assert {"r@1", "r@5", "r@10", "mrr", "ndcg10", "false_abstention", "first_right", "r1_at_cut"} <= set(overall)
    by_id = {q["id"]: q for q in data["queries"]}
    assert by_id["cat"]["right_rank"] == 1 and by_id["cat"]["top_path"] == "photos/cat.png"
    assert by_id["volcano-wrong"]["right_rank"] != 1  # the mislabelled query is a miss, so R@1 < 1
    assert overall["r@1"] == pytest.approx(sum(q["right_rank"] == 1 for q in by_id.values()) / 4)
    assert set(data["per_modality"]) == {"image", "text"}
    assert set(data["absent"]) == {"absent", "gibberish", "all"} and data["absent"]["all"]["n"] == 2
    assert 0.0 <= data["best_cut"]["cut"] <= 1.0 and "fitted on this set" in data["best_cut"]["note"]


def test_eval_table_names_the_numbers_and_the_fitted_cut(run, library: Path, labels: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run("eval", str(labels), "--library", str(library), "--save", str(tmp_path / "report.json"))
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "report.json").read_text())["overall"]["n"] == 4  # the table run also saved the JSON
    for word in ("R@1", "MRR", "nDCG@10", "false abst.", "false alarms", "gibberish", "Best cut for this set", "Fitted on this set"):
        assert word in result.stdout


def test_eval_saves_into_a_new_folder_and_refuses_an_unwritable_target_before_searching(run, library: Path, labels: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "runs" / "today" / "report.json"  # the folders do not exist yet
    result = run("eval", str(labels), "--library", str(library), "--json", "--save", str(target))
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["overall"]["n"] == 4
    folder = tmp_path / "a-folder"
    folder.mkdir()
    result = run("eval", str(labels), "--library", str(library), "--save", str(folder))
    assert result.exit_code == 2 and str(folder) in result.stderr and "is a directory" in result.stderr
    assert "Library" not in result.output  # refused before indexing or searching anything


def test_eval_refuses_a_relevant_file_the_index_lacks(run, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    labels = tmp_path / "bad.jsonl"
    labels.write_text('{"query": "a cat", "relevant": ["photos/cat.png"]}\n{"query": "a dog", "relevant": ["photos/dog.png"]}\n')
    result = run("eval", str(labels), "--library", str(library))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (f"Error: {labels}:2: relevant file 'photos/dog.png' is not in the index under {library}; "
                                     "index the library folder first (mmsearch index DIR) or fix the path")


def test_eval_bad_line_is_one_line_error(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    labels = tmp_path / "bad.jsonl"
    labels.write_text('{"query": "a cat", "relevant": ["cat.png"]}\n{"query": \n')
    result = run("eval", str(labels))
    assert result.exit_code == 1 and result.stderr.startswith(f"Error: {labels}:2: not valid JSON")
    assert len(result.stderr.strip().splitlines()) == 1


def test_engine_evaluate_matches_time_ranges_with_slack(tmp_path: Path) -> None:
    """A timed relevant item counts only when the hit links inside its range (give or take the slack)."""
    from mmsearch.eval.labels import LabelledQuery, LabelledSet, Relevant
    from mmsearch.eval.run import _matches
    from mmsearch.types import Evidence, Hit, Locator

    def hit(start: float) -> Hit:
        ev = Evidence(1, "text", Locator(start=start, end=start + 3), "words", "leg", 0.9, 0.5)
        return Hit(1, "talk.mp3", str(tmp_path / "talk.mp3"), "audio", 0.9, (ev,))

    rel = Relevant("talk.mp3", 20.0, 24.0)
    assert _matches(hit(19.2), rel, None, 1.0) and _matches(hit(24.9), rel, None, 1.0)
    assert not _matches(hit(7.9), rel, None, 1.0)  # the whole file matched, but the link goes to the wrong sentence
    assert not _matches(hit(19.2), rel, None, 0.0)
    assert _matches(hit(21.0), rel, tmp_path, 1.0) and not _matches(hit(21.0), rel, tmp_path / "other", 1.0)
    assert LabelledSet("x", (LabelledQuery("a", "q", (rel,)),)).answered  # the dataclasses are what evaluate() takes


def test_engine_evaluate_from_python(tmp_path: Path, library: Path, labels: Path, db_url: str | None) -> None:
    with Engine.open(tmp_path / "idx", db=db_url, embedders=["hash"], plugins=[fake_plugin(HashEmbedder())],
                     settings={"search.min_score": 0.0}) as engine:
        engine.index([library])
        report = engine.evaluate(labels)
    assert report.cut == 0.0 and report.overall.n == 4
    assert report.absent["all"].false_alarm == 1.0  # with no cut every absent query shows something
    assert report.overall.false_abstention == 0.0
    strict = report.at(1.01)  # a cut nothing reaches: no alarms, every right first answer hidden
    assert strict.cut == 1.01 and strict.absent["all"].false_alarm == 0.0
    assert strict.overall.false_abstention == 1.0 and strict.overall.recall == report.overall.recall


def test_eval_names_the_line_of_a_query_the_query_language_refuses(run, library: Path, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    labels = tmp_path / "bad.jsonl"
    labels.write_text('{"query": "a cat", "relevant": ["photos/cat.png"]}\n{"query": "a dog after:yesterday", "kind": "absent"}\n')
    result = run("eval", str(labels), "--library", str(library))
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: {labels}:2: ")
