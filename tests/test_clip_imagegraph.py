"""Indexing without torch: the image tower's ONNX export, its preprocessing, its checks and the
fall-backs to torch, and a whole CLI indexing run in a process where torch cannot be imported.

Checkpoints are saved here from randomly initialised models; nothing touches the network.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

try:
    import mmsearch_clip  # noqa: F401
except ImportError:  # not installed yet: run from the source tree
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

import clip_tiny
from open_clip.transform import PreprocessCfg, image_transform_v2

import mmsearch
from mmsearch.errors import ConfigError
from mmsearch.settings import Settings
from mmsearch_clip import ClipEmbedder, imagegraph
from mmsearch_clip.config import ClipConfig
from mmsearch_clip.pilprep import PilPrepare
from mmsearch_clip.preprocess import SplitTransform

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

TINY = "mmsearch-tiny-imagegraph"  # a 2-layer CLIP registered with open_clip by these tests


@pytest.fixture(scope="session")
def tiny_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    clip_tiny.register(TINY, tmp_path_factory.mktemp("imagegraph-config"))
    return clip_tiny.save_random(TINY, tmp_path_factory.mktemp("imagegraph-weights") / "tiny.pt", seed=1)


def _images(count: int = 6, seed: int = 0) -> list[Image.Image]:
    rng = np.random.default_rng(seed)
    sizes = [(100, 80), (64, 64), (300, 500), (33, 200), (1, 90), (257, 129)]
    out = []
    for i in range(count):
        h, w = sizes[i % len(sizes)]
        out.append(Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)))
    return out


def _embedder(tiny_file: Path, exports: Path, **config: object) -> ClipEmbedder:
    return ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_file, export_dir=exports, **config))  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def exported(tiny_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export folder holding the tiny model's checked image tower, made by a first torch run."""
    folder = tmp_path_factory.mktemp("imagegraph-exports")
    first = _embedder(tiny_file, folder)
    first.embed("image", _images(2))
    assert first._net is not None and isinstance(first._image, imagegraph.OnnxImageTower)
    assert len(list(folder.glob("*-image-*.onnx"))) == 1
    return folder


@pytest.mark.parametrize("mode", ["shortest", "squash"])
@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear"])
@pytest.mark.parametrize("size", [64, 224])
def test_pil_crops_equal_open_clips_transform(mode: str, interpolation: str, size: int) -> None:
    """Byte for byte what open_clip's own eval transform gives, on odd shapes, before it normalises."""
    cfg = PreprocessCfg(size=size, interpolation=interpolation, resize_mode=mode)
    theirs = SplitTransform(image_transform_v2(cfg, is_train=False))
    ours = PilPrepare(size, interpolation, mode)
    rng = np.random.default_rng(size)
    shapes = [(size, size), (size + 1, size), (3, 1000), (1000, 3), (479, 640), (640, 479), (1, 1), (size // 2, size * 3)]
    for h, w in shapes:
        image = Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8))
        np.testing.assert_array_equal(ours(image), theirs.prepare(image), err_msg=f"{h}x{w} {mode} {interpolation}")


def test_onnx_image_tower_matches_torch(tiny_file: Path, exported: Path, tmp_path: Path) -> None:
    torch_side = _embedder(tiny_file, tmp_path, image_runtime="torch")
    want = torch_side.embed("image", _images(6, seed=5))
    later = _embedder(tiny_file, exported)
    got = later.embed("image", _images(6, seed=5))
    assert later.runtime == "onnxruntime" and later._net is None  # torch never built a model here
    assert np.sum(got * want, axis=1).min() >= 0.999
    assert not list(tmp_path.iterdir())  # "torch" never exports


def test_the_first_run_switches_to_the_export_it_wrote(tiny_file: Path, tmp_path: Path) -> None:
    """The batches after the export go through onnxruntime, with vectors that agree with torch's."""
    first = _embedder(tiny_file, tmp_path)
    a = first.embed("image", _images(3))
    b = first.embed("image", _images(3))
    assert isinstance(first._image, imagegraph.OnnxImageTower)
    assert np.sum(a * b, axis=1).min() >= 0.999


def test_text_still_works_beside_the_image_tower(tiny_file: Path, exported: Path) -> None:
    """No text export here: the text side loads torch on demand, after images ran without it."""
    embedder = _embedder(tiny_file, exported, text_runtime="torch")
    embedder.embed("image", _images(2))
    assert embedder._net is None
    text = embedder.embed("text", ["a dog", "a cat"], query=True)
    assert embedder._net is not None and text.shape == (2, 32)
    torch_only = _embedder(tiny_file, exported, text_runtime="torch", image_runtime="torch")
    np.testing.assert_allclose(text, torch_only.embed("text", ["a dog", "a cat"], query=True), atol=1e-5)


def test_a_wrong_export_is_refused(tiny_file: Path, exported: Path, tmp_path: Path) -> None:
    copy = tmp_path / "exports"
    copy.mkdir()
    for path in exported.glob("*-image-*"):
        (copy / path.name).write_bytes(path.read_bytes())
    meta = next(copy.glob("*-image-*.json"))
    record = json.loads(meta.read_text())
    record["probe_vectors"] = (-np.asarray(record["probe_vectors"])).tolist()  # as if the graph disagreed
    meta.write_text(json.dumps(record))
    embedder = _embedder(tiny_file, copy)
    assert embedder._image_tower() is None  # refused: images go through torch
    vectors = embedder.embed("image", _images(2))
    assert embedder.runtime == "torch" and vectors.shape == (2, 32)


def test_no_onnx_path_where_torch_would_use_a_gpu_or_low_precision(tiny_file: Path, exported: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    assert _embedder(tiny_file, exported, device="cuda")._image_tower() is None
    assert _embedder(tiny_file, exported, precision="bf16")._image_tower() is None
    from mmsearch import cores as module

    monkeypatch.setattr(module, "_dev_names", lambda: ["null", "nvidia0", "nvidiactl"])
    assert _embedder(tiny_file, exported)._image_tower() is None  # "auto" may pick the GPU: torch decides
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert _embedder(tiny_file, exported)._image_tower() is not None


def test_text_and_image_exports_keep_each_other(tiny_file: Path, tmp_path: Path) -> None:
    embedder = _embedder(tiny_file, tmp_path)
    embedder.embed("image", _images(2))
    fresh = _embedder(tiny_file, tmp_path)
    fresh.embed("text", ["a dog"], query=True)  # through torch: writes the text export
    names = sorted(p.name for p in tmp_path.glob("*.onnx"))
    assert len(names) == 2 and sum("-image-" in n for n in names) == 1, names


def test_image_runtime_setting() -> None:
    assert ClipConfig.from_settings(Settings(environ={"MMSEARCH_CLIP_IMAGE_RUNTIME": "torch"})).image_runtime == "torch"
    with pytest.raises(ConfigError, match="clip.image_runtime"):
        ClipConfig.from_settings(Settings(environ={"MMSEARCH_CLIP_IMAGE_RUNTIME": "tensorrt"}))


def test_cli_index_never_imports_torch(tiny_file: Path, exported: Path, tmp_path: Path) -> None:
    """A whole ``mmsearch index`` of photos in a child process where torch is never imported,
    storing the vectors the torch path gives."""
    library = tmp_path / "lib"
    library.mkdir()
    for i, image in enumerate(_images(6, seed=9)):
        image.save(library / f"p{i}.png")
    configs = tmp_path / "configs"
    configs.mkdir()
    clip_tiny.register(TINY, configs)
    env = dict(os.environ, HF_HUB_OFFLINE="1", MMSEARCH_CLIP_MODEL=TINY, MMSEARCH_CLIP_WEIGHTS=str(tiny_file),
               MMSEARCH_CLIP_EXPORT_DIR=str(exported), MMSEARCH_OCR="never", MMSEARCH_CLIP_IMAGE_RUNTIME="auto")
    watched = textwrap.dedent(f"""
        import atexit, sys
        from pathlib import Path
        import mmsearch_clip.config as c
        c._config_folder = lambda: Path({str(configs)!r})
        heavy = ("torch", "open_clip", "torchvision")
        atexit.register(lambda: print("imported:", sorted(m for m in heavy if m in sys.modules), file=sys.stderr))
        from mmsearch.cli import main
        main()
    """)
    index = tmp_path / "index"
    argv = [sys.executable, "-c", watched, "--index", str(index), "--embedder", "clip", "index", str(library)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "imported: []" in done.stderr and "6 added" in done.stdout + done.stderr
    settings = {"clip.model": TINY, "clip.weights": str(tiny_file), "clip.export_dir": str(exported), "ocr": "never"}
    torch_index = tmp_path / "torch-index"
    with mmsearch.Engine.open(torch_index, embedders=["clip"], settings=dict(settings, **{"clip.image_runtime": "torch"})) as engine:
        engine.index([library])
    answers = []
    for where, runtime in ((index, "auto"), (torch_index, "torch")):
        with mmsearch.Engine.open(where, settings=dict(settings, **{"clip.image_runtime": runtime})) as engine:
            answers.append(engine.search(str(library / "p3.png"), k=6, min_score=0))
    fast, slow = answers
    assert [Path(h.path).name for h in fast] == [Path(h.path).name for h in slow] and len(fast) == 6
    assert Path(fast[0].path).name == "p3.png"
    np.testing.assert_allclose([h.score for h in fast], [h.score for h in slow], atol=1e-3)


@pytest.mark.slow  # a random ViT-B-32 checkpoint (600 MB) and its image export: about a minute
def test_vit_b32_image_export_matches_torch(tmp_path: Path) -> None:
    weights = clip_tiny.save_random("ViT-B-32", tmp_path / "vit-b-32.pt", seed=0)
    config = ClipConfig(arch="ViT-B-32", tag="", weights=weights, export_dir=tmp_path / "exports")
    images = _images(6, seed=11)
    first = ClipEmbedder(config)
    want = first.embed("image", images)  # through torch; the export follows the first batch
    later = ClipEmbedder(config)
    got = later.embed("image", images)
    assert later.runtime == "onnxruntime" and later._net is None
    assert np.sum(got * want, axis=1).min() >= 0.999
