"""Text queries without torch: the BPE tokenizer, the text tower's ONNX export, its checks and the
fall-backs to torch, and a whole CLI search in a process where torch cannot be imported.

Checkpoints are saved here from randomly initialised models; nothing touches the network.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

try:
    import mmsearch_clip  # noqa: F401
except ImportError:  # not installed yet: run from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import clip_tiny
import open_clip
import torch

import mmsearch
from mmsearch.errors import ConfigError
from mmsearch.settings import Settings
from mmsearch_clip import ClipEmbedder, export, textgraph
from mmsearch_clip.bpe import ClipBPE, for_arch, vocab_path
from mmsearch_clip.config import ClipConfig
from mmsearch_clip.noinit import skip_init

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

TINY = "mmsearch-tiny-textgraph"  # a 2-layer CLIP registered with open_clip by these tests
TEXTS = ["a dog", "a red sports car parked in front of an old brick house at night", "Ünïcödé café 日本 🐱",
         "word " * 60, "x"]


def _strings() -> list[str]:
    fixed = ["a cat", "A Photo of  a DOG!!", "naïve café — résumé", "日本語のテキスト", "emoji 🐱🚀 test",
             "&amp;amp; html &lt;b&gt;", "don't you're I'll we've", "x" * 500, " ".join(["word"] * 100), "",
             "   ", "<start_of_text> hi <end_of_text>", "Ünïcödé ÆØÅ ß ﬁ", "12345 3.14 1e-9", "tab\tnew\nline",
             "mojibake Ã©", "Ελληνικά Кириллица عربى", "snake_case and C++ (punctuation)!?", 'plain "quoted" -- dashes... (parens): semi; it\'s 3/4', "Mixed CASE words-with-hyphens"]
    rng = random.Random(0)
    ranges = [(32, 126), (160, 0x2FFF), (0x4E00, 0x4FFF), (0x1F300, 0x1F64F)]
    for _ in range(300):
        fixed.append("".join(chr(rng.randint(*rng.choice(ranges))) for _ in range(rng.randint(0, 120))))
    return fixed


@pytest.fixture(scope="session")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clip_tiny.register(TINY, tmp_path_factory.mktemp("textgraph-config"))
    return clip_tiny.save_random(TINY, tmp_path_factory.mktemp("textgraph-weights") / "tiny.pt", seed=0)


@pytest.fixture(scope="session")
def exported(tiny_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export folder holding the tiny model's checked text tower, made by a first torch query."""
    folder = tmp_path_factory.mktemp("textgraph-exports")
    first = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, export_dir=folder))
    first.embed("text", ["a first query"], query=True)
    assert first._net is not None and len(list(folder.glob("*.onnx"))) == 1
    return folder


def _paths(tiny_file: Path, folder: Path) -> textgraph.ExportPaths:
    embedder = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, export_dir=folder))
    paths = embedder._export_paths()
    assert paths is not None
    return paths


def _torch_vectors(tiny_file: Path, texts: list[str]) -> np.ndarray:
    embedder = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, text_runtime="torch"))
    return embedder.embed("text", texts, query=True)


def test_bpe_ids_equal_open_clips(tiny_file: Path) -> None:
    path = vocab_path()
    assert path is not None
    strings = _strings()
    for context, reference in ((77, open_clip.get_tokenizer("ViT-B-32")), (32, open_clip.get_tokenizer(TINY))):
        ours = ClipBPE(path, context_length=context)(strings)
        theirs = reference(strings).numpy()
        mismatched = [s for s, a, b in zip(strings, ours, theirs) if not np.array_equal(a, b)]
        assert not mismatched, f"{len(mismatched)} strings tokenized differently, e.g. {mismatched[:2]!r}"
    long = ClipBPE(path)(["word " * 200])[0]
    assert long[-1] == 49407 and (long != 0).all()  # cut at 77 with the end token kept last


def test_other_tokenizers_are_not_imitated() -> None:
    assert for_arch({"hf_tokenizer_name": "timm/ViT-B-16-SigLIP"}, "ViT-B-16-SigLIP") is None
    assert for_arch({}, "ViT-B-16-SigLIP2") is None
    assert for_arch({"tokenizer_kwargs": {"reduction_mask": "simple"}}, "x") is None
    assert for_arch({"tokenizer_kwargs": {"clean": "canonicalize"}}, "x") is not None


def test_onnx_text_tower_matches_torch(tiny_file: Path, exported: Path) -> None:
    paths = _paths(tiny_file, exported)
    bpe = for_arch(clip_tiny.CONFIG["text_cfg"], TINY)
    assert bpe is not None
    tower = textgraph.OnnxTextTower(paths, bpe, threads=1)
    assert tower.trimmed  # the causal tower runs on the query's own length, not on 32 padded tokens
    texts = [*TEXTS, *_strings()[:40]]
    got = tower.embed(texts)
    net = open_clip.create_model(TINY, pretrained=str(tiny_file)).eval()
    with torch.no_grad():
        want = net.encode_text(open_clip.get_tokenizer(TINY)(texts)).numpy()
    cosine = np.sum(got * want, axis=1) / (np.linalg.norm(got, axis=1) * np.linalg.norm(want, axis=1))
    assert cosine.min() >= 0.999


def test_a_later_query_loads_neither_torch_model_nor_image_tower(tiny_file: Path, exported: Path) -> None:
    later = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, export_dir=exported))
    vectors = later.embed("text", TEXTS, query=True)
    assert later._net is None and isinstance(later._onnx, textgraph.OnnxTextTower)
    np.testing.assert_allclose(vectors, _torch_vectors(tiny_file, TEXTS), atol=1e-3)
    assert later.input_length("text", "a photo of a dog") == 7  # the BPE count, with no model loaded
    later.embed("image", [Image.new("RGB", (80, 60), (200, 10, 10))])  # images still load the whole model
    assert later._net is not None


def test_without_onnxruntime_queries_use_torch(
    tiny_file: Path, exported: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if not installed: importing it fails
    embedder = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, export_dir=exported))
    vectors = embedder.embed("text", TEXTS, query=True)
    assert embedder._net is not None and embedder._onnx is None
    np.testing.assert_allclose(vectors, _torch_vectors(tiny_file, TEXTS), atol=1e-5)


def test_a_wrong_export_is_refused_and_replaced(tiny_file: Path, exported: Path, tmp_path: Path) -> None:
    for source in exported.iterdir():
        (tmp_path / source.name).write_bytes(source.read_bytes())
    paths = _paths(tiny_file, tmp_path)
    meta = json.loads(paths.meta.read_text())
    meta["probe_vectors"][0] = [-v for v in meta["probe_vectors"][0]]  # torch "said" the opposite vector
    paths.meta.write_text(json.dumps(meta))
    embedder = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, export_dir=tmp_path))
    vectors = embedder.embed("text", TEXTS, query=True)
    assert embedder._net is not None  # answered through torch, with torch's vectors
    np.testing.assert_allclose(vectors, _torch_vectors(tiny_file, TEXTS), atol=1e-5)
    again = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, export_dir=tmp_path))
    again.embed("text", ["a dog"], query=True)
    assert again._net is None  # the refused export was written again, and now passes its check


def test_an_export_for_rewritten_weights_replaces_the_old_one(tiny_file: Path, tmp_path: Path) -> None:
    weights = tmp_path / "w.pt"
    weights.write_bytes(tiny_file.read_bytes())
    folder = tmp_path / "exports"
    ClipEmbedder(ClipConfig(arch=TINY, weights=weights, export_dir=folder)).embed("text", ["a"], query=True)
    first = sorted(p.name for p in folder.iterdir())
    os.utime(weights, ns=(1, 1))  # the same file, rewritten: its export key changes
    ClipEmbedder(ClipConfig(arch=TINY, weights=weights, export_dir=folder)).embed("text", ["a"], query=True)
    second = sorted(p.name for p in folder.iterdir())
    assert len(first) == len(second) == 2 and first != second  # one graph and its sidecar, the new ones


def test_a_failed_export_is_not_retried(tiny_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    attempts: list[int] = []

    def broken(*args: Any, **kwargs: Any) -> None:
        attempts.append(1)
        raise RuntimeError("exporter broke")

    monkeypatch.setattr(torch.onnx, "export", broken)
    for _ in range(2):
        embedder = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, export_dir=tmp_path))
        vectors = embedder.embed("text", TEXTS, query=True)
        np.testing.assert_allclose(vectors, _torch_vectors(tiny_file, TEXTS), atol=1e-5)
    assert len(attempts) == 1 and not list(tmp_path.glob("*.onnx"))
    assert "exporter broke" in next(tmp_path.glob("*.failed.json")).read_text()


def test_a_process_that_loaded_the_model_first_does_not_export(tiny_file: Path, tmp_path: Path) -> None:
    embedder = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, export_dir=tmp_path))
    embedder.ensure_loaded()  # as indexing, `mmsearch serve` and the demo do
    embedder.embed("text", ["a dog"], query=True)
    assert not list(tmp_path.iterdir())  # its queries never wait for an export


def test_text_runtime_setting(tiny_file: Path, exported: Path) -> None:
    forced = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, export_dir=exported, text_runtime="torch"))
    forced.embed("text", ["a dog"], query=True)
    assert forced._net is not None
    with pytest.raises(ConfigError, match="clip.text_runtime"):
        ClipConfig.from_settings(Settings(environ={"MMSEARCH_CLIP_TEXT_RUNTIME": "tensorrt"}))


def test_skip_init_builds_the_same_model(tiny_file: Path) -> None:
    plain = open_clip.create_model(TINY, pretrained=str(tiny_file)).eval()
    embedder = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, text_runtime="torch"))
    embedder.ensure_loaded()
    fast = embedder._net.state_dict()
    assert all(torch.equal(value, fast[key]) for key, value in plain.state_dict().items())
    with skip_init():
        kept = torch.nn.init.normal_(torch.zeros(3))
    assert torch.equal(kept, torch.zeros(3)) and torch.nn.init.normal_(torch.zeros(3)).abs().sum() > 0


def _library(root: Path) -> Path:
    root.mkdir()
    rng = np.random.default_rng(3)
    for i in range(5):
        Image.fromarray(rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)).save(root / f"p{i}.png")
    return root


def _search_json(index: Path, env: dict[str, str], script: str = "") -> tuple[list[dict[str, Any]], str]:
    code = script + "\nfrom mmsearch.cli import main\nmain()"
    argv = [sys.executable, "-c", code, "--index", str(index), "search", "--json", "--min-score", "0", "a dog"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), done.stderr


def test_cli_text_search_never_imports_torch(tiny_file: Path, exported: Path, tmp_path: Path) -> None:
    """A whole ``mmsearch search`` in a child process where importing torch or open_clip fails,
    ranking exactly as the torch path does."""
    index = tmp_path / "index"
    settings = {"clip.model": TINY, "clip.weights": str(tiny_file), "clip.export_dir": str(exported)}
    with mmsearch.Engine.open(index, embedders=["clip"], settings=settings) as engine:
        engine.index([_library(tmp_path / "lib")])
    configs = tmp_path / "configs"
    configs.mkdir()
    clip_tiny.register(TINY, configs)
    env = dict(os.environ, HF_HUB_OFFLINE="1", MMSEARCH_CLIP_MODEL=TINY, MMSEARCH_CLIP_WEIGHTS=str(tiny_file),
               MMSEARCH_CLIP_EXPORT_DIR=str(exported))
    env.pop("MMSEARCH_CLIP_TEXT_RUNTIME", None)
    watched = textwrap.dedent(f"""
        import atexit, sys
        from pathlib import Path
        import mmsearch_clip.config as c
        c._config_folder = lambda: Path({str(configs)!r})  # the tiny architecture's JSON, where open_clip's would be
        heavy = ("torch", "open_clip", "torchvision")
        atexit.register(lambda: print("imported:", sorted(m for m in heavy if m in sys.modules), file=sys.stderr))
    """)
    fast, said = _search_json(index, env, watched)
    assert "imported: []" in said
    # The next cold search of this index opens the same graph in a thread while it imports (mmsearch.warm).
    counted = watched + "\nfrom mmsearch import warm\natexit.register(lambda: print('warm:', warm.stats(), file=sys.stderr))"
    again, said = _search_json(index, env, counted)
    assert "warm: {'preloaded': 1, 'opened': 0}" in said and again == fast
    with_torch = f"import open_clip; open_clip.add_model_config({str(configs)!r})"
    slow, _ = _search_json(index, dict(env, MMSEARCH_CLIP_TEXT_RUNTIME="torch"), with_torch)
    assert [h["path"] for h in fast] == [h["path"] for h in slow] and len(fast) == 5
    np.testing.assert_allclose([h["score"] for h in fast], [h["score"] for h in slow], atol=1e-3)


@pytest.mark.slow  # a random ViT-B-32 checkpoint (600 MB) and its export: a minute
def test_vit_b32_export_matches_torch(tmp_path: Path) -> None:
    weights = clip_tiny.save_random("ViT-B-32", tmp_path / "vit-b-32.pt", seed=0)
    first = ClipEmbedder(ClipConfig(arch="ViT-B-32", tag="", weights=weights, export_dir=tmp_path / "exports"))
    want = first.embed("text", _strings()[:60], query=True)
    later = ClipEmbedder(ClipConfig(arch="ViT-B-32", tag="", weights=weights, export_dir=tmp_path / "exports"))
    got = later.embed("text", _strings()[:60], query=True)
    assert later._net is None and isinstance(later._onnx, textgraph.OnnxTextTower)
    assert np.sum(got * want, axis=1).min() >= 0.999
    assert export.exportable(first._net)
