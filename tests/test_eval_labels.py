"""The labelled-set format of ``mmsearch eval``: what loads, and one-line errors for what does not."""

from __future__ import annotations

import json

import pytest

from mmsearch.eval.labels import LabelError, Relevant, load


def write(tmp_path, *lines):
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_loads_queries_time_ranges_pages_and_absent_queries(tmp_path):
    path = write(
        tmp_path,
        "# a comment",
        json.dumps({"id": "a", "query": "a cat", "relevant": ["pets/cat.png"], "source": "mine"}),
        json.dumps({"query": "the weather", "relevant": [{"path": "talk.mp3", "t": [12, 15.5]}]}),
        "",
        json.dumps({"id": "c", "query": "tax", "relevant": {"path": "./guide.pdf", "page": 3}}),
        json.dumps({"id": "d", "query": "a submarine", "kind": "absent"}),
        json.dumps({"id": "e", "query": "vorple quandish", "kind": "gibberish"}),
    )
    labelled = load(path)
    assert [q.id for q in labelled.queries] == ["a", "line-3", "c", "d", "e"]
    assert labelled.queries[0].meta == {"source": "mine"}
    assert labelled.queries[1].relevant == (Relevant("talk.mp3", 12.0, 15.5),)
    assert labelled.queries[2].relevant == (Relevant("guide.pdf", page=3),)
    assert [q.id for q in labelled.absent] == ["d", "e"] and len(labelled.answered) == 3


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "must be a JSON object"),
        ('{"relevant": ["a.png"]}', '"query" must be'),
        ('{"query": "a cat"}', "needs \"relevant\""),
        ('{"query": "a cat", "kind": "absent", "relevant": ["a.png"]}', "cannot list"),
        ('{"query": "a cat", "relevant": ["/abs/a.png"]}', "relative to the library root"),
        ('{"query": "a cat", "relevant": [{"path": "a.mp3", "t": [5, 2]}]}', "[t0, t1]"),
        ('{"query": "a cat", "relevant": [{"path": "a.pdf", "page": 0}]}', "page number"),
    ],
)
def test_a_bad_line_is_one_line_error_naming_file_and_line(tmp_path, line, reason):
    path = write(tmp_path, '{"query": "fine", "relevant": ["x.png"]}', line)
    with pytest.raises(LabelError) as info:
        load(path)
    message = str(info.value)
    assert message.startswith(f"{path}:2: ") and reason in message and "\n" not in message


def test_duplicate_ids_and_empty_or_missing_files_are_refused(tmp_path):
    path = write(tmp_path, '{"id": "x", "query": "a", "relevant": ["a.png"]}', '{"id": "x", "query": "b", "kind": "absent"}')
    with pytest.raises(LabelError, match=r":2: id 'x' already used on line 1"):
        load(path)
    with pytest.raises(LabelError, match="no queries"):
        load(write(tmp_path, "# only a comment"))
    with pytest.raises(LabelError, match="cannot read"):
        load(tmp_path / "missing.jsonl")


def test_a_deeply_nested_line_is_a_label_error_naming_file_and_line(tmp_path):
    """json's decoder recurses per bracket: such a line crashed eval and calibrate with RecursionError."""
    deep = '{"query": "pasta", "relevant": ["docs/pasta.md"], "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = write(tmp_path, '{"query": "cats", "relevant": ["cat.png"]}', deep)
    with pytest.raises(LabelError, match=r"labels\.jsonl:2: JSON nested too deeply"):
        load(path)
