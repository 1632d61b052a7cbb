"""A cold search opens the ONNX graphs the last search of the same index opened in a background
thread (mmsearch.warm), while it imports the engine; the session it hands over must be for the very
same file, and nothing about the search may change when the hint is stale, damaged or absent."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest

onnx = pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from onnx import TensorProto, helper  # noqa: E402

from mmsearch import warm  # noqa: E402


def _graph(path: Path, scale: float) -> Path:
    """A one-node graph, y = x * scale, so each file's session is recognisable by its output."""
    const = helper.make_tensor("s", TensorProto.FLOAT, [1], [scale])
    node = helper.make_node("Mul", ["x", "s"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], [const])
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)]), str(path))
    return path


def _output(session: object) -> float:
    return float(session.run(None, {"x": np.ones(1, dtype=np.float32)})[0][0])  # type: ignore[attr-defined]


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """A new process's state of the module, hints under tmp_path/hints."""
    monkeypatch.setenv("MMSEARCH_WARM_DIR", str(tmp_path / "hints"))
    _new_process(monkeypatch)
    return tmp_path


def _new_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(warm, "_pending", {})
    monkeypatch.setattr(warm, "_opened", [])
    monkeypatch.setattr(warm, "_remembered", None)
    monkeypatch.setattr(warm, "_stats", {"preloaded": 0, "opened": 0})
    monkeypatch.setattr(warm, "_thread", None)


def _search_once(index: Path, graph: Path) -> tuple[float, dict[str, int]]:
    """What a search command does: start preloading, open the tower's graph, remember."""
    warm.start(index)
    value = _output(warm.onnx_session(graph, 1))
    warm.remember(index)
    warm.finish()
    return value, warm.stats()


def test_the_second_search_gets_the_session_the_preload_opened(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = _graph(fresh / "tower.onnx", 3.0)
    index = fresh / "index"
    assert _search_once(index, graph) == (3.0, {"preloaded": 0, "opened": 1})
    _new_process(monkeypatch)
    opened_in: list[str] = []
    real = warm._create
    monkeypatch.setattr(warm, "_create", lambda *a: opened_in.append(threading.current_thread().name) or real(*a))
    assert _search_once(index, graph) == (3.0, {"preloaded": 1, "opened": 0})
    assert opened_in == ["mmsearch-warm"]  # opened off the main thread, once


def test_a_replaced_graph_is_not_preloaded_and_the_hint_follows_it(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = _graph(fresh / "tower.onnx", 3.0)
    index = fresh / "index"
    _search_once(index, graph)
    _graph(graph, 5.0)  # new weights exported under the same name
    os.utime(graph, ns=(1, 1))  # a different modification time even on coarse clocks
    _new_process(monkeypatch)
    assert _search_once(index, graph) == (5.0, {"preloaded": 0, "opened": 1})
    _new_process(monkeypatch)
    assert _search_once(index, graph) == (5.0, {"preloaded": 1, "opened": 0})


def test_a_session_for_other_threads_is_not_handed_over(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = _graph(fresh / "tower.onnx", 3.0)
    _search_once(fresh / "index", graph)
    _new_process(monkeypatch)
    warm.start(fresh / "index")
    warm.onnx_session(graph, 2)  # the tower asks for 2 threads now: the preloaded 1-thread session is not it
    warm.finish()
    assert warm.stats() == {"preloaded": 0, "opened": 1}


def test_a_new_index_gets_the_last_search_s_graphs_but_only_the_one_it_asks_for(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    clip, lite = _graph(fresh / "clip.onnx", 3.0), _graph(fresh / "lite.onnx", 7.0)
    _search_once(fresh / "photos", clip)
    _new_process(monkeypatch)
    assert _search_once(fresh / "new-photos", clip) == (3.0, {"preloaded": 1, "opened": 0})  # same model: guessed
    _new_process(monkeypatch)
    assert _search_once(fresh / "notes", lite) == (7.0, {"preloaded": 0, "opened": 1})  # another model: not handed over
    _new_process(monkeypatch)
    assert _search_once(fresh / "notes", lite) == (7.0, {"preloaded": 1, "opened": 0})  # its own hint now
    _new_process(monkeypatch)
    assert _search_once(fresh / "photos", clip) == (3.0, {"preloaded": 1, "opened": 0})  # each index keeps its own


def test_an_unchanged_search_writes_nothing(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = _graph(fresh / "tower.onnx", 3.0)
    index = fresh / "index"
    _search_once(index, graph)
    hint = warm.hint_file(index)
    assert hint is not None and hint.is_file()
    os.utime(hint, ns=(1, 1))
    _new_process(monkeypatch)
    _search_once(index, graph)
    assert hint.stat().st_mtime_ns == 1


@pytest.mark.parametrize("damage", ["{not json", '{"format": 1, "onnx": [{"path": 3}]}', '{"format": 1, "onnx": 7}',
                                    '{"format": 99, "onnx": []}', "[]"])
def test_a_damaged_hint_only_costs_the_preload(fresh: Path, monkeypatch: pytest.MonkeyPatch, damage: str) -> None:
    graph = _graph(fresh / "tower.onnx", 3.0)
    index = fresh / "index"
    hint = warm.hint_file(index)
    assert hint is not None
    hint.parent.mkdir(parents=True)
    hint.write_text(damage)
    assert _search_once(index, graph) == (3.0, {"preloaded": 0, "opened": 1})
    assert json.loads(hint.read_text())["onnx"][0]["path"] == str(graph)  # replaced by a good one


def test_a_preload_that_fails_leaves_the_error_to_the_normal_open(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = _graph(fresh / "tower.onnx", 3.0)
    index = fresh / "index"
    _search_once(index, graph)
    _new_process(monkeypatch)
    calls: list[int] = []
    real = warm._create

    def flaky(path: str, threads: int) -> object:
        calls.append(threads)
        if len(calls) == 1:
            raise RuntimeError("out of memory, say")
        return real(path, threads)

    monkeypatch.setattr(warm, "_create", flaky)
    assert _search_once(index, graph) == (3.0, {"preloaded": 0, "opened": 1})
    assert len(calls) == 2


def test_no_cache_folder_means_no_preload(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("MMSEARCH_WARM_DIR", str(blocker / "hints"))  # cannot be created
    _new_process(monkeypatch)
    graph = _graph(tmp_path / "tower.onnx", 3.0)
    assert _search_once(tmp_path / "index", graph) == (3.0, {"preloaded": 0, "opened": 1})
