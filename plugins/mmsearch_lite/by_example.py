"""Which image features find the original of an altered copy, and which text→image score ranks best.

    PYTHONPATH=plugins python -m mmsearch_lite.by_example [--clipart 300] [--json out.json]

Image→image ("search by example"): every gallery image is altered (centre-ish crop keeping 80 % of
each side, rotated 10°, saved as JPEG quality 40) and the altered copy must find its original among
the gallery. Galleries: the held-out split of the clip art + emoji (``data.heldout_sample``, never
used to train or choose anything) and every scikit-image sample picture. Rows: a 32×32 thumbnail
baseline, the bridge, the trained projection, the standardised pooled EfficientNet features, and
what the shipped lite space does (example vectors against indexed image vectors, blend.py).

Text→image: the blend's text weight (share of the projection) is the one with the best *validation*
R@1 (clip art) among those that keep first every photo query the bridge alone ranks first (photos
are what users index, and the bridge wins there); it is then reported on the held-out split. The
projection alone is what search by example uses: the best on validation image→image.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import blend, bridge, data, evaluate, gate, towers
from .projection import DEFAULT_PATH, Projection

#: The alteration of the issue's measurement: crop 80 %, rotate 10°, JPEG q40.
CROP, ANGLE, QUALITY = 0.8, 10.0, 40

#: Shares of the projection in text→image scores, one for every image (the fixed-weight blend's grid).
TEXT_WEIGHTS = (0.0, 0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.75, 1.0)

#: query -> scikit-image photo, over PHOTO_GALLERY (the table in RESULTS.md).
PHOTO_QUERIES = {
    "a cat": "chelsea.png", "a kitten": "chelsea.png", "a rocket": "rocket.jpg",
    "a space shuttle launch": "rocket.jpg", "a cup of coffee": "coffee.png", "espresso": "coffee.png",
    "an astronaut": "astronaut.png", "a woman": "astronaut.png", "a man with a camera": "camera.png",
    "coins": "coins.png", "the moon": "moon.png", "a horse": "horse.png", "a motorcycle": "motorcycle_left.png",
    "galaxies in space": "hubble_deep_field.jpg", "a clock": "clock_motion.png", "a chessboard": "chessboard_RGB.png",
    "a page of text": "page.png", "grass": "grass.png", "a brick wall": "brick.png",
}  # fmt: skip
PHOTO_GALLERY = sorted(set(PHOTO_QUERIES.values()) | {"astronaut.png"})


def photo_dir() -> Path:
    import skimage

    return Path(skimage.__file__).parent / "data"


def photos() -> list[Path]:
    return sorted(p for p in photo_dir().iterdir() if p.suffix in (".png", ".jpg"))


def altered(image: Image.Image, seed: int) -> Image.Image:
    """The copy a user would search with: cropped (offset by ``seed``), rotated, re-encoded."""
    rng = np.random.default_rng(seed)
    rgb = towers.to_rgb(image)
    w, h = rgb.size
    cw, ch = round(w * CROP), round(h * CROP)
    left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
    rotated = rgb.crop((left, top, left + cw, top + ch)).rotate(ANGLE, resample=Image.BICUBIC, fillcolor=(255, 255, 255))
    buffer = io.BytesIO()
    rotated.save(buffer, "JPEG", quality=QUALITY)
    buffer.seek(0)
    with Image.open(buffer) as out:
        out.load()
        return out


def thumbnail(image: Image.Image) -> np.ndarray:
    """The pixel baseline: 32×32 RGB, mean-centred, as one vector."""
    array = np.asarray(towers.to_rgb(image).resize((32, 32), Image.BILINEAR), dtype=np.float32).reshape(-1)
    return array - array.mean()


class Towers:
    """The frozen towers and the shipped projection, loaded once."""

    def __init__(self, projection: Path = DEFAULT_PATH) -> None:
        self.image = towers.load_image_tower()
        self.text = towers.load_text_tower()
        self.projection = Projection.load(projection)
        self.classes = bridge.class_embeddings(self.text, self.projection.prompt)

    def features(self, images: Sequence[Image.Image]) -> dict[str, np.ndarray]:
        """Every image representation the benchmark compares, (n, d) each."""
        import torch

        pooled, logits = [], []
        for start in range(0, len(images), 32):
            batch = torch.stack([towers.preprocess(im) for im in images[start : start + 32]])
            with torch.inference_mode():
                p, lg = towers.image_features(self.image, batch)
            pooled.append(p.numpy())
            logits.append(lg.numpy())
        pooled_all, logits_all = np.concatenate(pooled), np.concatenate(logits)
        bridged = bridge.bridge(logits_all, self.classes, self.projection.temperature)
        projected = self.projection.apply(bridged, pooled_all)
        return {
            "thumbnail 32×32": np.stack([thumbnail(im) for im in images]),
            "bridge": bridged,
            "projection": projected,
            "pooled (standardised)": (pooled_all - self.projection.mean) / self.projection.std,
        }

    @staticmethod
    def gates(images: Sequence[Image.Image]) -> np.ndarray:
        """Each image's drawing gate, as the embedder computes it (gate.py)."""
        return gate.gate(np.array([gate.flat_share(towers.preprocess(im)) for im in images]))

    def texts(self, texts: Sequence[str]) -> np.ndarray:
        return towers.embed_texts(self.text, list(texts))


def r_at_1(queries: np.ndarray, gallery: np.ndarray) -> float:
    return round(100.0 * float((evaluate.ranks(queries, gallery) == 0).mean()), 1)


def by_example(model: Towers, originals: Sequence[Image.Image], gallery: dict[str, np.ndarray]) -> dict[str, float]:
    """R@1 (%) per representation: altered copy i must rank original i (``gallery`` features) first.
    ``lite`` is what the shipped space does: example vectors against indexed image vectors."""
    queries = model.features([altered(image, seed) for seed, image in enumerate(originals)])
    out = {name: r_at_1(queries[name], gallery[name]) for name in gallery}
    indexed = blend.image_vectors(gallery["bridge"], gallery["projection"], model.gates(originals))
    out["lite (shipped)"] = r_at_1(blend.example_vectors(queries["projection"]), indexed)
    return out


def _open(path: Path) -> Image.Image:
    with Image.open(path) as image:
        image.load()
        return image


def text_to_image(texts: np.ndarray, images: dict[str, np.ndarray], weight: float) -> float:
    """t→i R@1 (%) of a blend with ``weight`` on the projection for every image (caption i belongs
    to image i); gate_fit.py measures the per-image mix."""
    layout = blend.Layout(weight, weight)
    indexed = blend.image_vectors(images["bridge"], images["projection"], np.zeros(len(texts)), layout)
    return round(100.0 * float((evaluate.ranks(blend.text_vectors(texts, layout), indexed) == 0).mean()), 1)


def photo_firsts(model: Towers, weight: float, images: dict[str, np.ndarray]) -> set[str]:
    """The photo queries that rank their photo first under ``weight`` (``images``: PHOTO_GALLERY's features)."""
    layout = blend.Layout(weight, weight)
    texts = blend.text_vectors(model.texts(list(PHOTO_QUERIES)), layout)
    indexed = blend.image_vectors(images["bridge"], images["projection"], np.zeros(len(images["bridge"])), layout)
    best = np.argmax(texts @ indexed.T, axis=1)
    return {q for b, q in zip(best, PHOTO_QUERIES) if PHOTO_GALLERY[int(b)] == PHOTO_QUERIES[q]}


def chosen_weight(t2i: dict[str, dict[str, Any]]) -> str:
    """Best validation R@1 among the weights that lose none of the bridge's first-place photo queries."""
    kept = [w for w, row in t2i.items() if row["bridge photos kept"] == t2i["0.0"]["photos first"]]
    return max(kept, key=lambda w: (t2i[w]["val t→i R@1"], -float(w)))


def run(clipart: int, log: Callable[[str], None]) -> dict[str, Any]:
    model = Towers()
    items = data.all_items()
    results: dict[str, Any] = {"alteration": {"crop": CROP, "rotate": ANGLE, "jpeg_quality": QUALITY}}
    held = data.heldout_sample(items, clipart)
    val = sorted(data.by_split(items, "val"), key=lambda i: hashlib.sha1(f"sample:{i.id}".encode()).hexdigest())[:clipart]
    pictures = [_open(p) for p in photos()]
    log(f"image→image: {len(val)} validation and {len(held)} held-out clip-art/emoji, {len(pictures)} scikit-image pictures")
    splits = {"validation": val, "held-out": held}
    images = {name: [_open(i.path) for i in chosen] for name, chosen in splits.items()}
    gallery = {name: model.features(images[name]) for name in splits}
    results["i2i"] = {f"clip art + emoji, {name} (n={len(splits[name])})": by_example(model, images[name], gallery[name]) for name in splits}
    results["i2i"][f"scikit-image pictures (n={len(pictures)})"] = by_example(model, pictures, model.features(pictures))
    log("text→image: the text weight is chosen on validation, reported on held-out")
    texts = {name: model.texts([i.caption for i in chosen]) for name, chosen in splits.items()}
    gallery_photos = model.features([_open(photo_dir() / name) for name in PHOTO_GALLERY])
    bridge_firsts = photo_firsts(model, 0.0, gallery_photos)
    results["t2i"] = {}
    for weight in TEXT_WEIGHTS:
        firsts = photo_firsts(model, weight, gallery_photos)
        results["t2i"][str(weight)] = {
            "val t→i R@1": text_to_image(texts["validation"], gallery["validation"], weight),
            "held-out t→i R@1": text_to_image(texts["held-out"], gallery["held-out"], weight),
            "photos first": len(firsts),
            "bridge photos kept": len(firsts & bridge_firsts),
        }
    results["chosen text weight"] = chosen_weight(results["t2i"])
    return results


def markdown(results: dict[str, Any]) -> str:
    rows = results["i2i"]
    names = list(next(iter(rows.values())))
    lines = ["| gallery | " + " | ".join(names) + " |", "|" + "---|" * (1 + len(names))]
    lines += [f"| {g} | " + " | ".join(f"{r[n]:.1f}" for n in names) + " |" for g, r in rows.items()]
    lines += ["", "| text weight on projection | val t→i R@1 | held-out t→i R@1 | photos ranked first | of the bridge's kept |",
              "|---|---|---|---|---|"]
    for weight, row in results["t2i"].items():
        mark = " (chosen)" if weight == results["chosen text weight"] else ""
        lines.append(f"| {weight}{mark} | {row['val t→i R@1']:.1f} | {row['held-out t→i R@1']:.1f} | "
                     f"{row['photos first']}/{len(PHOTO_QUERIES)} | {row['bridge photos kept']} |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmsearch_lite.by_example", description=__doc__.split("\n\n")[0])
    parser.add_argument("--clipart", type=int, default=300, help="held-out (and validation) items to use")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    results = run(args.clipart, lambda line: print(line, file=sys.stderr, flush=True))
    print(markdown(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
