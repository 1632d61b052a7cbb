"""The ``lite`` embedder: the embedder contract, then retrieval quality with the real weights.

Quality tests use real media only: scikit-image's sample photos, and the held-out split of the
captioned clip art + emoji the projection was trained beside (skipped with the reason when that
data is not installed; see plugins/mmsearch_lite/RESULTS.md for what CI installs).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

# The plugin is not wired through an entry point yet; import it from the source tree.
_PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
if str(_PLUGINS) not in sys.path:
    sys.path.insert(0, str(_PLUGINS))

from mmsearch.errors import ConfigError, ModelUnavailableError  # noqa: E402
from mmsearch.settings import Settings  # noqa: E402
from mmsearch.testing import EmbedderContract  # noqa: E402
from mmsearch_lite import LiteEmbedder, register_embedders, towers  # noqa: E402
from mmsearch_lite import data as lite_data  # noqa: E402
from mmsearch_lite import evaluate  # noqa: E402

MISSING = towers.missing_packages()
needs_weights = pytest.mark.skipif(bool(MISSING), reason=f"lite embedder packages not installed: {MISSING}")
skimage = pytest.importorskip("skimage")
PHOTOS = Path(skimage.__file__).parent / "data"

#: query -> scikit-image file it must rank first among GALLERY. Queries the model gets wrong are
#: listed in RESULTS.md, not here.
TEXT_QUERIES = {
    "a cat": "chelsea.png",
    "a rocket": "rocket.jpg",
    "a cup of coffee": "coffee.png",
    "an astronaut": "astronaut.png",
    "coins": "coins.png",
    "a brick wall": "brick.png",
    "a page of text": "page.png",
}
GALLERY = [
    "chelsea.png", "rocket.jpg", "coffee.png", "astronaut.png", "camera.png", "coins.png", "moon.png",
    "horse.png", "motorcycle_left.png", "hubble_deep_field.jpg", "clock_motion.png", "chessboard_RGB.png",
    "page.png", "grass.png", "brick.png",
]  # fmt: skip
HELDOUT_SAMPLE = 100  # the first half of the 200-item sample train.py reports as "test_sample"
# percent, a little under what the cached features give on this sample (RESULTS.md): projection
# t→i R@1/R@10 48/82, i→t 53/74; bridge t→i 10/21, i→t 10/21
HELDOUT_FLOORS = {"t2i@1": 43.0, "t2i@10": 76.0, "i2t@1": 47.0, "i2t@10": 68.0}
BRIDGE_FLOORS = {"t2i@10": 16.0, "i2t@10": 16.0}
#: The default blend's text→image R@1 and R@10 over the bridge's on this sample, in points: measured
#: +30 and +54 (40/75 vs 10/21 %, gate_fit.py); the margin of the fixed blend's +10 kept.
BLEND_GAIN = 6.0
#: The gated blend's text→image R@1 over the fixed-weight blend it replaced (0.2 on the projection
#: for every image), in points: measured +20 (40 vs 20 %, gate_fit.py); a margin under it.
GATE_GAIN = 15.0


def photo(name: str) -> Image.Image:
    with Image.open(PHOTOS / name) as image:
        image.load()
        return image


@pytest.fixture(scope="session")
def lite() -> LiteEmbedder:
    embedder = LiteEmbedder()
    embedder.ensure_loaded()
    return embedder


@pytest.fixture(scope="session")
def gallery_vectors(lite: LiteEmbedder) -> np.ndarray:
    return lite.embed("image", [photo(name) for name in GALLERY])


# -- cheap: no weights loaded ----------------------------------------------------------------------


def test_construction_is_cheap_and_names_the_weights() -> None:
    embedder = LiteEmbedder()
    assert embedder._image_model is None and embedder._text_model is None  # nothing heavy yet
    assert embedder.space.kinds == frozenset({"image", "text"})
    if not embedder.uses_projection:
        pytest.skip("no trained projection committed")
    # the default stores bridge and projection side by side (RESULTS.md: best per direction)
    assert embedder.mode == "blend" and embedder.space.dim == 3 * 384 + 1
    assert embedder.model.startswith("effnetlite0+minilm-l6/gate-")
    assert LiteEmbedder(mode="projection").model.startswith("effnetlite0+minilm-l6/proj-")
    assert LiteEmbedder(mode="projection").dim == LiteEmbedder(mode="bridge").dim == 384


def test_missing_projection_falls_back_to_bridge_with_its_own_id(tmp_path: Path) -> None:
    fallback = LiteEmbedder(mode="auto", projection=tmp_path / "absent.npz")
    assert not fallback.uses_projection and fallback.mode == "bridge" and fallback.dim == 384
    assert fallback.model == "effnetlite0+minilm-l6/bridge-v1"
    assert LiteEmbedder(mode="bridge").model == fallback.model
    for mode in ("projection", "blend"):
        with pytest.raises(ModelUnavailableError, match="mmsearch_lite.train"):
            LiteEmbedder(mode=mode, projection=tmp_path / "absent.npz")
    with pytest.raises(ConfigError):
        LiteEmbedder(mode="nonsense")


def test_model_id_changes_with_the_weights(tmp_path: Path) -> None:
    default = LiteEmbedder(mode="auto")
    if not default.uses_projection:
        pytest.skip("no trained projection committed")
    changed = default._projection
    assert changed is not None
    copy = tmp_path / "p.npz"
    type(changed)(changed.weight * 1.01, changed.bias, changed.mean, changed.std, changed.temperature, changed.prompt, changed.preprocess).save(copy)
    assert LiteEmbedder(mode="projection", projection=copy).model != LiteEmbedder(mode="projection").model
    assert LiteEmbedder(mode="blend", projection=copy).model != default.model


def test_hook_registers_one_lite_embedder() -> None:
    got = []
    register_embedders(got.append, Settings(environ={}, overrides={"lite.mode": "bridge"}))
    assert [e.name for e in got] == ["lite"] and got[0].model.endswith("bridge-v1")


def test_blend_scores_each_direction_with_its_own_mix() -> None:
    from mmsearch_lite import blend

    rng = np.random.default_rng(0)
    unit = lambda n: (lambda v: v / np.linalg.norm(v, axis=1, keepdims=True))(rng.normal(size=(n, 384)))  # noqa: E731
    b, p, t = unit(3), unit(3), unit(2)
    gates = np.array([0.0, 0.5, 1.0])  # a photo, something between, a drawing
    images, texts, examples = blend.image_vectors(b, p, gates), blend.text_vectors(t), blend.example_vectors(p)
    for vectors in (images, texts, examples):
        assert vectors.shape[1] == blend.DIM and np.allclose(np.linalg.norm(vectors, axis=1), 1)
    layout = blend.LAYOUT
    w = np.array([layout.w_photo, (layout.w_photo + layout.w_drawing) / 2, layout.w_drawing])
    assert 0 < layout.w_photo < layout.w_drawing <= 1
    # text→image: per image, the convex mix of its bridge and projection cosines, all at one scale
    # (a drawing's mix is not inflated against a photo's); text→text: plain MiniLM
    mix = (1 - w) * (t @ b.T) + w * (t @ p.T)
    assert np.allclose(texts @ images.T, layout.text_scale * mix, atol=1e-5)
    assert np.allclose(texts[0] @ texts[1], t[0] @ t[1], atol=1e-5)
    # search by example: the projection alone, times one constant for photos and drawings alike
    assert np.allclose(examples @ images.T, layout.example_scale * p @ p.T, atol=1e-5)
    flipped = blend.image_vectors(-b, p, gates[::-1])
    assert np.allclose(examples @ flipped.T, examples @ images.T, atol=1e-5)
    # an example image is no text query: documents are found by words
    assert np.allclose(examples @ texts.T, 0)


def test_a_line_drawing_and_a_photo_get_opposite_gates(tmp_path: Path) -> None:
    """Through the image modality and the embedder's own preprocessing, as indexing does: black
    strokes on transparency count as a drawing, a photo as a photo, whatever their alpha."""
    from mmsearch.testing.contracts import source_for
    from mmsearch_image.modality import ImageModality
    from mmsearch_lite import gate

    from test_builtin_modalities import line_icon

    def gate_of(path: Path) -> float:
        payload = next(iter(ImageModality().extract(source_for(path)))).payload
        return float(gate.gate(gate.flat_shares([LiteEmbedder(mode="bridge").prepare("image", payload)]))[0])

    photo("chelsea.png").convert("RGBA").save(tmp_path / "cat.png")  # an alpha channel, fully opaque
    drawn = [gate_of(line_icon(tmp_path / f"{shape}.png", shape)) for shape in ("circle", "cross")]
    photos = [gate_of(tmp_path / "cat.png"), gate_of(PHOTOS / "coffee.png"), gate_of(PHOTOS / "motorcycle_left.png")]
    assert min(drawn) == 1.0 and max(photos) == 0.0, (drawn, photos)


@needs_weights
@pytest.mark.slow
def test_the_shipped_gate_keeps_line_drawings_drawn_and_photos_photos(lite: LiteEmbedder, tmp_path: Path) -> None:
    """The style model (gate.drawing_gate) decides between what the pixels allow: it must not undo
    what the flat share gets right (strokes on transparency; photos full of sensor noise)."""
    from mmsearch.testing.contracts import source_for
    from mmsearch_image.modality import ImageModality
    from mmsearch_lite import gate

    from test_builtin_modalities import line_icon

    def gate_of(path: Path) -> float:
        prepared = lite.prepare("image", next(iter(ImageModality().extract(source_for(path)))).payload)
        pooled, _ = lite.image_features([prepared])
        return float(gate.drawing_gate(pooled, gate.flat_shares([prepared]))[0])

    drawn = [gate_of(line_icon(tmp_path / f"{shape}.png", shape)) for shape in ("circle", "cross")]
    photos = [gate_of(PHOTOS / name) for name in ("chelsea.png", "coffee.png", "motorcycle_left.png", "rocket.jpg", "astronaut.png")]
    assert min(drawn) > 0.9 and max(photos) < 0.1, (drawn, photos)


@needs_weights
@pytest.mark.slow
def test_photographed_objects_on_a_plain_background_are_scored_as_photos(lite: LiteEmbedder) -> None:
    """Tux Paint's stamps (photos of animals, fruit, tools, ... cut out onto transparency): the flat
    background made the flat-share gate score them as drawings, by the projection, which never saw
    a photo. The held-out half is used here, the half the style model was not fitted on; measured
    text→image R@1 over its 224 descriptions: 0.170 with the flat-share gate, 0.246 shipped
    (plugins/mmsearch_lite/style.json)."""
    from mmsearch.eval.sets import stamps
    from mmsearch_lite import blend, gate

    reason = stamps.missing_sources()
    if reason:
        pytest.skip(reason)
    chosen = list(stamps.stamps(stamps.HELD_OUT))
    images = []
    for _relpath, path, _text in chosen:
        with Image.open(path) as image:
            images.append(lite.prepare("image", image))
    shipped = np.concatenate([lite.embed("image", images[i : i + 64], prepared=True) for i in range(0, len(images), 64)])
    pooled, logits = map(np.concatenate, zip(*(lite.image_features(images[i : i + 64]) for i in range(0, len(images), 64))))
    flat_gated = blend.image_vectors(lite.project(pooled, logits, use_projection=False), lite.project(pooled, logits),
                                     gate.gate(gate.flat_shares(images)))
    texts = sorted({text for *_, text in chosen})
    right = [{i for i, (*_, t) in enumerate(chosen) if t == text} for text in texts]
    queries = lite.embed("text", texts)

    def r_at_1(vectors: np.ndarray) -> float:
        return float(np.mean([int(np.argmax(vectors @ q)) in r for q, r in zip(queries, right)]))

    assert len(texts) > 200
    got, before = r_at_1(shipped), r_at_1(flat_gated)
    assert got >= before + 0.05 and got >= 0.22, (got, before)


# -- the contract, with the real weights ----------------------------------------------------------


@needs_weights
@pytest.mark.slow
class TestLiteContract(EmbedderContract):
    @pytest.fixture
    def embedder(self, lite: LiteEmbedder) -> LiteEmbedder:
        return lite

    @pytest.fixture
    def payloads(self) -> dict[str, list[object]]:
        rgba = photo("logo.png")  # transparency must be flattened, not crash
        return {"image": [photo("chelsea.png"), photo("camera.png"), rgba], "text": ["a dog", "a cat", "a car"]}

    def test_info_is_available(self, embedder: LiteEmbedder) -> None:
        info = embedder.info()
        assert info.available and "efficientnet-lite0" in info.weights


# -- retrieval quality ----------------------------------------------------------------------------


#: Known losses, asserted as such so a change that fixes (or hides) them is noticed. horse.png is a
#: black silhouette on white: to the drawing gate a drawing, so it is scored by the projection, which
#: ranks astronaut.png above it (plugins/mmsearch_lite/RESULTS.md, "Session 6").
KNOWN_MISSES = {"a horse": "horse.png"}


@needs_weights
@pytest.mark.slow
@pytest.mark.parametrize("query", [*sorted(TEXT_QUERIES), *(pytest.param(q, marks=pytest.mark.xfail(strict=True, reason="silhouette scored as a drawing")) for q in sorted(KNOWN_MISSES))])
def test_text_finds_the_photo(lite: LiteEmbedder, gallery_vectors: np.ndarray, query: str) -> None:
    scores = gallery_vectors @ lite.embed("text", [query])[0]
    ranked = [GALLERY[i] for i in np.argsort(-scores)]
    expected = TEXT_QUERIES.get(query) or KNOWN_MISSES[query]
    assert ranked[0] == expected, f"{query!r} ranked {ranked[:3]}"


@needs_weights
@pytest.mark.slow
@pytest.mark.parametrize("name", ["chelsea.png", "rocket.jpg", "coffee.png", "astronaut.png", "motorcycle_left.png"])
def test_image_finds_its_cropped_resized_copy(lite: LiteEmbedder, gallery_vectors: np.ndarray, name: str) -> None:
    image = photo(name).convert("RGB")
    w, h = image.size
    query = image.crop((w // 10, h // 10, w - w // 10, h - h // 10)).resize((w // 2, h // 2))
    scores = gallery_vectors @ lite.embed("image", [query])[0]
    assert GALLERY[int(np.argmax(scores))] == name


@needs_weights
@pytest.mark.slow
def test_different_line_icons_on_transparency_get_different_vectors(lite: LiteEmbedder, tmp_path: Path) -> None:
    """Through the image modality, as indexing does: with alpha dropped both icons were one black
    square and got the same vector."""
    from mmsearch.testing.contracts import source_for
    from mmsearch_image.modality import ImageModality

    from test_builtin_modalities import line_icon

    payloads = [next(iter(ImageModality().extract(source_for(line_icon(tmp_path / f"{s}.png", s))))).payload for s in ("circle", "cross")]
    circle, cross = lite.embed("image", payloads)
    assert float(circle @ cross) < 0.99


@needs_weights
@pytest.mark.slow
def test_text_finds_the_paraphrased_document(lite: LiteEmbedder) -> None:
    docs = [
        "The recipe calls for flour, butter and two eggs, baked for forty minutes.",
        "The match ended in a draw after extra time and a penalty shoot-out.",
        "Interest rates were raised again by the central bank to curb inflation.",
        "The probe photographed the icy moons of Jupiter during its flyby.",
    ]
    vectors = lite.embed("text", docs)
    for i, query in enumerate(
        ["how to bake a cake with eggs", "football game tied, decided on penalties", "bank increases borrowing costs", "spacecraft images of a planet's moons"]
    ):
        assert int(np.argmax(vectors @ lite.embed("text", [query])[0])) == i, query


@pytest.fixture(scope="session")
def heldout() -> list[lite_data.Item]:
    if not (lite_data.OPENCLIPART_DIR / "png").is_dir():
        pytest.skip("held-out data: apt-get install openclipart-png openclipart-svg")
    if lite_data.emoji_dir() is None:
        pytest.skip(f"held-out data: npm install --prefix {lite_data.cache_dir() / 'npm'} emoji-datasource-google@16.0.0")
    return lite_data.heldout_sample(lite_data.all_items(), HELDOUT_SAMPLE)


@needs_weights
@pytest.mark.slow
def test_heldout_recall_beats_floor_and_bridge(lite: LiteEmbedder, heldout: list[lite_data.Item]) -> None:
    assert len(heldout) == HELDOUT_SAMPLE
    if not LiteEmbedder(mode="auto").uses_projection:
        pytest.skip("no trained projection committed")
    projected, plain = LiteEmbedder(mode="projection"), LiteEmbedder(mode="bridge")
    projected.share_towers_from(lite)
    plain.share_towers_from(lite)
    images = []
    for item in heldout:
        with Image.open(item.path) as image:
            images.append(lite.prepare("image", image))
    pooled, logits = np.zeros((0, 1280), np.float32), np.zeros((0, 1000), np.float32)
    for start in range(0, len(images), 50):
        p, lg = lite.image_features(images[start : start + 50])
        pooled, logits = np.concatenate([pooled, p]), np.concatenate([logits, lg])
    captions = [item.caption for item in heldout]
    texts = plain.embed("text", captions)
    got = evaluate.recall(projected.project(pooled, logits), texts)
    bridged = evaluate.recall(plain.project(pooled, logits), texts)
    for key, floor in HELDOUT_FLOORS.items():
        assert got[key] >= floor, (key, got)
    for key, floor in BRIDGE_FLOORS.items():
        assert bridged[key] >= floor, (key, bridged)
    assert evaluate.score(got) > evaluate.score(bridged) + 20, (got, bridged)
    # the default gated blend's text→image on clip art: above the bridge, and above the blend it
    # replaced (the projection's share 0.2 for every image, photo or drawing) by GATE_GAIN points
    blended = evaluate.recall(lite.embed("image", images, prepared=True), lite.embed("text", captions))
    assert blended["t2i@1"] >= bridged["t2i@1"] + BLEND_GAIN and blended["t2i@10"] >= bridged["t2i@10"] + BLEND_GAIN, (blended, bridged)
    unit = lambda v: v / np.linalg.norm(v, axis=1, keepdims=True)  # noqa: E731
    b, p = unit(plain.project(pooled, logits)), unit(projected.project(pooled, logits))
    fixed = evaluate.recall(np.hstack([np.sqrt(0.8) * b, np.sqrt(0.2) * p]), np.hstack([np.sqrt(0.8) * texts, np.sqrt(0.2) * texts]))
    assert blended["t2i@1"] >= fixed["t2i@1"] + GATE_GAIN, (blended, fixed)


@pytest.mark.slow
def test_a_text_query_loads_only_the_text_tower() -> None:
    """A cold text search needs MiniLM alone: the image tower and the bridge's class vectors
    wait for the first image, and then give the same vectors as a full load."""
    embedder = LiteEmbedder()
    start = time.perf_counter()
    text = embedder.embed("text", ["a red fox in the snow"])
    text_only_s = time.perf_counter() - start
    assert embedder._image_model is None and embedder._class_vectors is None
    image = embedder.embed("image", [photo(GALLERY[0])])
    assert embedder._image_model is not None and image.shape == (1, embedder.dim)
    full = LiteEmbedder()
    full.ensure_loaded()
    full._image_side()
    np.testing.assert_allclose(full.embed("text", ["a red fox in the snow"]), text, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(full.embed("image", [photo(GALLERY[0])]), image, rtol=1e-4, atol=1e-5)
    print(f"text-only first embed {text_only_s:.2f} s")
