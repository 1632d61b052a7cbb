"""The clip embedder: contract suite, ViT-B-32 from a local file, weight resolution, errors, identity.

Every checkpoint here is saved by the tests from a randomly initialised model: no test touches the
network (sockets are blocked and HF_HUB_OFFLINE=1), and no test reads the user's real caches.
"""

from __future__ import annotations

import shutil
import socket
import sys
import time
from collections.abc import Mapping, Sequence
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
import torch

from mmsearch.errors import ConfigError, ModelUnavailableError
from mmsearch.settings import Settings
from mmsearch.testing import EmbedderContract
from mmsearch_clip import ClipEmbedder, register_embedders
from mmsearch_clip.config import ClipConfig
from mmsearch_clip.device import available_cores

TINY = "mmsearch-tiny-test"  # a 2-layer CLIP registered with open_clip by these tests
TAG = "testtag"
REPO = "mmsearch-test/tiny-clip"


def _images(n: int, size: tuple[int, int] = (120, 90)) -> list[Image.Image]:
    rng = np.random.default_rng(7)
    return [Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)) for _ in range(n)]


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="session")
def tiny_arch(tmp_path_factory: pytest.TempPathFactory) -> str:
    return clip_tiny.register(TINY, tmp_path_factory.mktemp("clip-configs"))


@pytest.fixture(scope="session")
def tiny_files(tiny_arch: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("clip-tiny")
    return clip_tiny.save_random(tiny_arch, folder / "a.pt", 0), clip_tiny.save_random(tiny_arch, folder / "b.pt", 1)


@pytest.fixture(scope="session")
def tiny_embedder(tiny_files: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> ClipEmbedder:
    empty_cache = tmp_path_factory.mktemp("empty-cache")
    embedder = ClipEmbedder(ClipConfig(arch=TINY, weights=tiny_files[0], cache_dir=empty_cache, batch_size=4))
    embedder.ensure_loaded()
    return embedder


@pytest.fixture(scope="session")
def vitb32_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return clip_tiny.save_random("ViT-B-32", tmp_path_factory.mktemp("clip-b32") / "vit-b-32-random.pt", 0)


@pytest.fixture
def empty_cache(tmp_path: Path) -> Path:
    (tmp_path / "hf").mkdir()
    return tmp_path / "hf"


class TestClipContract(EmbedderContract):
    @pytest.fixture
    def embedder(self, tiny_embedder: ClipEmbedder) -> ClipEmbedder:
        return tiny_embedder

    @pytest.fixture
    def payloads(self) -> Mapping[str, Sequence[Any]]:
        return {"image": _images(3), "text": ["a dog on a beach", "a red sports car", "sunset over the sea"]}


def test_split_preprocessing_equals_open_clip_transform(tiny_embedder: ClipEmbedder) -> None:
    from open_clip.transform import PreprocessCfg, image_transform_v2

    image = _images(1, size=(300, 170))[0]
    expected = image_transform_v2(PreprocessCfg(size=64), is_train=False)(image).unsqueeze(0)
    prepared = tiny_embedder.prepare("image", image)
    assert prepared.shape == (64, 64, 3) and prepared.dtype == np.uint8  # PIL work only, in decode threads
    batch = tiny_embedder._transform().collate([prepared], torch.device("cpu"), torch.float32)
    torch.testing.assert_close(batch, expected, atol=1e-5, rtol=0)


def test_cpu_threads_respect_the_core_count(tiny_embedder: ClipEmbedder) -> None:
    assert tiny_embedder.device.type == "cpu" and tiny_embedder.precision == "fp32"
    assert 1 <= tiny_embedder.threads <= available_cores()
    assert torch.get_num_threads() == tiny_embedder.threads


@pytest.mark.slow  # builds a full ViT-B-32 (random weights): 15 s
def test_vit_b32_from_a_local_checkpoint(vitb32_file: Path, empty_cache: Path) -> None:
    settings = Settings(environ={"MMSEARCH_CLIP_WEIGHTS": str(vitb32_file), "MMSEARCH_CLIP_CACHE_DIR": str(empty_cache),
                                 "MMSEARCH_CLIP_BATCH_SIZE": "2", "MMSEARCH_CLIP_IMAGE_RUNTIME": "torch"})
    embedder = ClipEmbedder.from_settings(settings)
    assert embedder.dim == 512 and embedder.model.startswith("ViT-B-32/file:vit-b-32-random.pt-")
    info = embedder.info()
    assert info.available and str(vitb32_file) in info.weights
    images = _images(5, size=(640, 480))
    prepared = [embedder.prepare("image", image) for image in images]
    assert all(p.shape == (224, 224, 3) for p in prepared)
    together = embedder.embed("image", prepared, prepared=True)  # 3 batches of 2
    assert together.shape == (5, 512) and together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, rtol=1e-5)
    single = embedder.embed("image", images[:1])
    np.testing.assert_allclose(single[0], together[0], atol=1e-4)
    texts = embedder.embed("text", ["a photo of a cat", "a diagram"])
    assert texts.shape == (2, 512)


def _layout(tmp: Path, tiny_files: tuple[Path, Path]) -> tuple[Path, Path, Path]:
    """An explicit file, a MMSEARCH_MODELS folder and a Hugging Face cache, each with other weights."""
    explicit = tmp / "explicit.pt"
    shutil.copy(tiny_files[0], explicit)
    models = tmp / "models"
    (models / TINY / TAG).mkdir(parents=True)
    shutil.copy(tiny_files[1], models / TINY / TAG / "open_clip_pytorch_model.bin")
    cache = tmp / "hf"
    repo = cache / ("models--" + REPO.replace("/", "--"))
    (repo / "snapshots" / "abc123").mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    shutil.copy(tiny_files[1], repo / "snapshots" / "abc123" / "open_clip_pytorch_model.bin")
    return explicit, models, cache


def test_resolution_order_explicit_then_models_dir_then_cache(
    tiny_arch: str, tiny_files: tuple[Path, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from open_clip import pretrained

    monkeypatch.setitem(pretrained._PRETRAINED, TINY, {TAG: {"hf_hub": f"{REPO}/"}})
    explicit, models, cache = _layout(tmp_path, tiny_files)
    env = {"MMSEARCH_CLIP_MODEL": TINY, "MMSEARCH_CLIP_PRETRAINED": TAG, "MMSEARCH_CLIP_CACHE_DIR": str(cache),
           "MMSEARCH_MODELS": str(models), "MMSEARCH_CLIP_WEIGHTS": str(explicit)}

    def located(**drop: bool) -> tuple[str, Path, str]:
        embedder = ClipEmbedder.from_settings(Settings(environ={k: v for k, v in env.items() if k not in drop}))
        found = embedder.locate()
        assert found is not None and found.path is not None and embedder.weights_available()
        return found.source, found.path, embedder.model

    source, path, model = located()
    assert (source, path) == ("clip.weights", explicit) and model.startswith(f"{TINY}/file:explicit.pt-")
    source, path, model = located(MMSEARCH_CLIP_WEIGHTS=True)
    assert source == "MMSEARCH_MODELS" and path.parent == models / TINY / TAG and model == f"{TINY}/{TAG}"
    source, path, model = located(MMSEARCH_CLIP_WEIGHTS=True, MMSEARCH_MODELS=True)
    assert source == "Hugging Face cache" and path.name == "open_clip_pytorch_model.bin" and model == f"{TINY}/{TAG}"

    # The cached file loads, and gives the vectors of the same weights given by path.
    from_cache = ClipEmbedder.from_settings(Settings(environ={k: v for k, v in env.items() if k not in ("MMSEARCH_CLIP_WEIGHTS", "MMSEARCH_MODELS")}))
    by_path = ClipEmbedder(ClipConfig(arch=TINY, tag=TAG, weights=tiny_files[1], cache_dir=cache))
    np.testing.assert_allclose(from_cache.embed("text", ["a dog"]), by_path.embed("text", ["a dog"]), atol=1e-6)


def test_single_file_layout_in_models_dir(tiny_arch: str, tiny_files: tuple[Path, Path], tmp_path: Path) -> None:
    (tmp_path / TINY).mkdir()
    shutil.copy(tiny_files[0], tmp_path / TINY / "custom.safetensors.pt")  # wrong suffix: ignored
    shutil.copy(tiny_files[0], tmp_path / TINY / "custom.pt")
    found = ClipEmbedder(ClipConfig(arch=TINY, tag="custom", models_dir=tmp_path, cache_dir=tmp_path / "hf")).locate()
    assert found is not None and found.path == tmp_path / TINY / "custom.pt"


def test_missing_weights_fail_fast_with_every_way_to_provide_them(empty_cache: Path) -> None:
    embedder = ClipEmbedder(ClipConfig(arch="ViT-B-32", tag="laion2b_s34b_b79k", cache_dir=empty_cache))
    assert not embedder.weights_available()
    info = embedder.info()
    assert not info.available and "HF_HUB_OFFLINE" in info.detail
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as caught:
        embedder.embed("text", ["a dog"])
    assert time.perf_counter() - start < 5.0
    message = str(caught.value)
    for needle in ("ViT-B-32", "laion2b_s34b_b79k", "clip.weights", "MMSEARCH_CLIP_WEIGHTS", "MMSEARCH_MODELS",
                   "ViT-B-32/laion2b_s34b_b79k/open_clip_model.safetensors", "HF_HUB_OFFLINE",
                   "laion/CLIP-ViT-B-32-laion2B-s34B-b79K", str(empty_cache)):
        assert needle in message
    assert "\n" not in message  # the CLI shows errors on one line


def test_clip_offline_setting_forbids_downloads(empty_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE")
    settings = Settings(environ={"MMSEARCH_CLIP_OFFLINE": "true", "MMSEARCH_CLIP_CACHE_DIR": str(empty_cache)})
    embedder = ClipEmbedder.from_settings(settings)
    with pytest.raises(ModelUnavailableError, match="clip.offline"):
        embedder.ensure_loaded()


def test_missing_explicit_file_is_named(tmp_path: Path) -> None:
    embedder = ClipEmbedder(ClipConfig(weights=tmp_path / "nope.pt", cache_dir=tmp_path))
    info = embedder.info()
    assert not info.available and str(tmp_path / "nope.pt") in info.detail
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        embedder.ensure_loaded()


def test_unknown_architecture_is_reported_not_raised_at_construction(tmp_path: Path) -> None:
    embedder = ClipEmbedder.from_settings(Settings(environ={"MMSEARCH_CLIP_MODEL": "ViT-B-23"}))
    info = embedder.info()
    assert not info.available
    assert "ViT-B-23" in info.detail and "open_clip.list_pretrained()" in info.detail and "ViT-B-32" in info.detail
    with pytest.raises(ConfigError, match="unknown CLIP architecture"):
        embedder.ensure_loaded()


def test_unknown_tag_lists_the_known_ones(empty_cache: Path) -> None:
    embedder = ClipEmbedder(ClipConfig(arch="ViT-B-32", tag="laion9b", cache_dir=empty_cache))
    with pytest.raises(ConfigError) as caught:
        embedder.ensure_loaded()
    assert "laion9b" in str(caught.value) and "laion2b_s34b_b79k" in str(caught.value)
    assert "open_clip.list_pretrained()" in str(caught.value)


def test_bad_setting_does_not_break_registration() -> None:
    registered: list[ClipEmbedder] = []
    register_embedders(registered.append, Settings(environ={"MMSEARCH_CLIP_PRECISION": "fp8"}))
    assert len(registered) == 1 and registered[0].name == "clip"
    assert not registered[0].info().available and "fp8" in registered[0].info().detail


def test_identity_tells_checkpoints_apart(tiny_arch: str, tiny_files: tuple[Path, Path], tmp_path: Path) -> None:
    a, b = tiny_files
    (tmp_path / "x").mkdir()
    (tmp_path / "y").mkdir()
    shutil.copy(a, tmp_path / "x" / "w.pt")
    shutil.copy(b, tmp_path / "y" / "w.pt")
    same_a = ClipEmbedder(ClipConfig(arch=TINY, weights=a)).model
    assert same_a == ClipEmbedder(ClipConfig(arch=TINY, weights=a)).model
    assert ClipEmbedder(ClipConfig(arch=TINY, weights=tmp_path / "x" / "w.pt")).model != ClipEmbedder(
        ClipConfig(arch=TINY, weights=tmp_path / "y" / "w.pt")
    ).model  # same name and size, other weights
    copied = ClipEmbedder(ClipConfig(arch=TINY, weights=tmp_path / "x")).model  # a folder: its checkpoint
    assert copied == ClipEmbedder(ClipConfig(arch=TINY, weights=tmp_path / "x" / "w.pt")).model
    assert ClipEmbedder(ClipConfig(arch="ViT-B-32", tag="openai")).model == "ViT-B-32/openai"
    assert ClipEmbedder.from_settings(Settings(environ={"MMSEARCH_CLIP_PRETRAINED": "LAION2B-S34B-B79K"})).model == (
        "ViT-B-32/laion2b_s34b_b79k"
    )


def test_pretrained_given_as_a_path_is_taken_as_weights(tiny_arch: str, tiny_files: tuple[Path, Path]) -> None:
    settings = Settings(environ={"MMSEARCH_CLIP_MODEL": TINY, "MMSEARCH_CLIP_PRETRAINED": str(tiny_files[0])})
    embedder = ClipEmbedder.from_settings(settings)
    assert embedder.config.weights == tiny_files[0] and embedder.model.startswith(f"{TINY}/file:a.pt-")


def test_construction_is_cheap_and_offline(empty_cache: Path) -> None:
    start = time.perf_counter()
    embedder = ClipEmbedder(ClipConfig(cache_dir=empty_cache))
    assert embedder.dim == 512 and embedder.model == "ViT-B-32/laion2b_s34b_b79k" and embedder._net is None
    assert time.perf_counter() - start < 0.5


def test_wrong_architecture_for_checkpoint_is_explained(tiny_files: tuple[Path, Path], empty_cache: Path) -> None:
    embedder = ClipEmbedder(ClipConfig(arch="ViT-S-32", weights=tiny_files[0], cache_dir=empty_cache))
    with pytest.raises(ModelUnavailableError, match="clip.model names the architecture"):
        embedder.ensure_loaded()



def test_trimmed_text_encoding_equals_open_clips(tiny_embedder: ClipEmbedder) -> None:
    tiny_embedder.embed("text", ["a first text"])  # the first text batch runs the self-check
    assert tiny_embedder._trim_text  # it passed for the built-in causal tower
    texts = ["a dog", "a long description of a red sports car parked in front of an old brick house"]
    tokens = tiny_embedder._tokenizer(texts)
    with torch.inference_mode():
        full = tiny_embedder._net.encode_text(tokens)
    from mmsearch_clip.textfast import encode_text_trimmed

    with torch.inference_mode():
        torch.testing.assert_close(encode_text_trimmed(tiny_embedder._net, tokens), full, atol=1e-5, rtol=1e-4)
    np.testing.assert_allclose(tiny_embedder.embed("text", texts), torch.nn.functional.normalize(full).numpy(), atol=1e-5)


def test_transparent_and_palette_images_are_flattened_onto_white(tiny_embedder: ClipEmbedder) -> None:
    clear = Image.new("RGBA", (80, 80), (0, 0, 0, 0))
    assert (tiny_embedder.prepare("image", clear) == 255).all()
    palette = Image.new("RGB", (80, 60), (10, 200, 30)).convert("P")
    assert tiny_embedder.prepare("image", palette).shape == (64, 64, 3)
    gray16 = Image.fromarray(np.full((50, 70), 1000, dtype=np.uint16))
    assert tiny_embedder.embed("image", [gray16, palette, clear]).shape == (3, 32)
