"""How steep the text->image curve is against text->text, fitted on mixed libraries (the split of calibration.FIT_SPLIT).

    PYTHONPATH=plugins python -m mmsearch_lite.calibration_mixed        # rescale calibration.json
    PYTHONPATH=plugins python -m mmsearch_lite.calibration_mixed --dry-run

Each curve's intercept is placed by the false-alarm rule (calibration.py): 0.5 is where a hit of
that pair counts as an answer. What that rule leaves free is the steepness, how fast P falls below
0.5 and rises above it, and that decides the order of an image and a document when a library holds
both. The text->image evidence is weak (most right images score under 0.5), so with the fitted
steepness a loosely related document often outranks the right image. Scaling the text->image logit
by ``s`` (``P = sigmoid(s · (w·x + b))``) keeps every cut decision (the sign of the logit is
unchanged) and every order inside a leg; it only moves images against documents.

Simulation: libraries of 30-1,000 training clip-art images plus 20-80 training SVG descriptions as
documents (validation: the same from the validation split). Image queries are item names whose
image is in the library; document queries are the titles of documents in the library. For each
``s``: the share of image queries whose right image (within the image leg's top 100, as an eval
ranks) scores above every document of the document leg's top hits, and the share of document
queries whose right document scores above every image. ``s`` is chosen on the split the text->image
curve is fitted on (``calibration.FIT_SPLIT``: validation, where images score as new ones do): the steepest
whose mean of the two shares is within one standard error of the best mean (flattening further
keeps buying image-query wins with document-query losses the simulation can hardly tell apart).
The keyword leg is not simulated. The held-out split is never read.
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mmsearch.search.bank import bank_texts, null_texts
from mmsearch.search.calibrate import ROBUST_PAIRS, leg_features, text_reference
from mmsearch.search.curves import FEATURES, Calibration, Curve, read_file

from . import blend, data, features, towers
from .calibration import FIT_SPLIT, OUT, TRAIN_IMAGES, VAL_IMAGES, descriptions, name_of, split_images
from .embedder import LiteEmbedder

GRID = (0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6, 0.75, 1.0, 1.25, 1.5)
IMAGE_SIZES = (30, 100, 300, 1000)
DOCUMENT_SIZES = (20, 40, 80)
ROUNDS = 16
IMAGE_TOP = 100  # the image leg's hits an eval ranks: a right image below the top few can still beat every document
DOCUMENT_TOP = 5
IMAGE_QUERIES, DOCUMENT_QUERIES = 80, 40  # per library


@dataclass(frozen=True)
class Rows:
    """Per query: the right item's logit (NaN: not among its leg's hits) and the best logit of the
    other modality, under the unscaled curves; ``image`` marks image queries."""

    right: np.ndarray
    other: np.ndarray
    image: np.ndarray

    def shares(self, s: float) -> tuple[float, float]:
        """(image queries whose right image beats every document, document queries whose right
        document beats every image) with the text->image logit scaled by ``s``."""
        right = np.where(self.image, s * self.right, self.right)
        other = np.where(self.image, self.other, s * self.other)
        wins = np.nan_to_num(right, nan=-np.inf) > other
        return float(wins[self.image].mean()), float(wins[~self.image].mean())


def _logit(curve: Curve, features_: np.ndarray) -> np.ndarray:
    return features_[:, : len(curve.weights)] @ np.asarray(curve.weights) + curve.bias


def simulate(images: np.ndarray, image_names: np.ndarray, queries: np.ndarray, query_names: list[str],
             docs: np.ndarray, titles: np.ndarray, title_vectors: np.ndarray, bank: np.ndarray, null: np.ndarray,
             to_image: Curve, to_text: Curve, seed: int) -> Rows:
    rng = np.random.default_rng(seed)
    right, other, is_image = [], [], []
    for round_ in range(ROUNDS):
        lib_i = np.sort(rng.choice(len(images), min(IMAGE_SIZES[round_ % len(IMAGE_SIZES)], len(images) - 20), replace=False))
        lib_d = np.sort(rng.choice(len(docs), min(DOCUMENT_SIZES[round_ % len(DOCUMENT_SIZES)], len(docs) - 5), replace=False))
        legs = []
        for sample, curve, top, kind in ((images[lib_i], to_image, IMAGE_TOP, "image"), (docs[lib_d], to_text, DOCUMENT_TOP, "text")):
            legs.append((sample, float((bank @ sample.T).var(axis=1).mean()), curve, top, ("text", kind) in ROBUST_PAIRS, kind))

        def scored(vector: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
            out = []
            for sample, prior, curve, top, robust, kind in legs:
                sims = sample @ vector
                order = np.argsort(-sims)[:top]
                reference = text_reference(vector, bank, null) if kind == "text" else None  # as legs.py
                out.append((order, _logit(curve, leg_features(vector, sims[order], sample[order], sample, prior, bank, null, FEATURES,
                                                              robust=robust, reference=reference))))
            return out

        inside = set(image_names[lib_i].tolist())
        present = [i for i, name in enumerate(query_names) if name in inside]
        for q in rng.permutation(present)[:IMAGE_QUERIES]:
            (order, logits), (_, doc_logits) = scored(queries[q])
            hit = image_names[lib_i][order] == query_names[q]
            right.append(logits[hit].max() if hit.any() else np.nan)
            other.append(doc_logits.max())
            is_image.append(True)
        for j in rng.permutation(len(lib_d))[:DOCUMENT_QUERIES]:
            doc = lib_d[j]
            (_, image_logits), (order, logits) = scored(title_vectors[doc])
            hit = titles[lib_d][order] == titles[doc]
            right.append(logits[hit].max() if hit.any() else np.nan)
            other.append(image_logits.max())
            is_image.append(False)
    return Rows(np.array(right, np.float64), np.array(other, np.float64), np.array(is_image))


def choose(rows: Rows, grid: tuple[float, ...] = GRID) -> tuple[float, list[dict[str, float]]]:
    """The steepest ``s`` whose mean share is within one standard error of the best mean, and the
    whole grid's figures."""
    table = []
    for s in grid:
        a, b = rows.shares(s)
        table.append({"s": s, "image_above_documents": round(a, 4), "document_above_images": round(b, 4), "mean": round((a + b) / 2, 4)})
    best = max(table, key=lambda r: r["mean"])
    n_i, n_d = int(rows.image.sum()), int((~rows.image).sum())
    a, b = best["image_above_documents"], best["document_above_images"]
    se = 0.5 * math.sqrt(a * (1 - a) / n_i + b * (1 - b) / n_d)
    chosen = max(r["s"] for r in table if r["mean"] >= best["mean"] - se)
    return chosen, table


def rows_for(embedder: LiteEmbedder, to_image: Curve, to_text: Curve) -> dict[str, Rows]:
    """The mixed simulation on the training and validation splits, with the unscaled curves."""
    items = data.all_items()
    cache = data.cache_dir() / "features"
    text_model = embedder._text_model
    as_text = blend.text_vectors if embedder.mode == "blend" else (lambda v: v)
    bank = as_text(towers.embed_texts(text_model, bank_texts()))
    null = as_text(towers.embed_texts(text_model, null_texts()))

    def unit(x: np.ndarray) -> np.ndarray:
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)

    out = {}
    for split, n, seed in (("train", TRAIN_IMAGES, 41), ("val", VAL_IMAGES, 42)):
        chosen, images = split_images(embedder, items, split, n)
        names = [name_of(it.caption) for it in chosen]
        unique = list(dict.fromkeys(names))
        queries = as_text(unit(features.text_vectors(unique, cache)))
        pairs = descriptions(items, split)
        docs = as_text(unit(features.text_vectors([text for _, text in pairs], cache)))
        titles = np.array([title for title, _ in pairs])
        title_vectors = as_text(unit(features.text_vectors(list(titles), cache)))
        out[split] = simulate(images, np.array(names), queries, unique, docs, titles, title_vectors, bank, null, to_image, to_text, seed)
    return out


def unscaled(calibration: Calibration) -> Curve:
    """The text->image curve as the false-alarm fit left it (a rescaled file records it)."""
    recorded = calibration.stats.get("text->image", {}).get("steepness", {}).get("unscaled")
    return Curve.from_dict(recorded) if recorded else calibration.curves["text->image"]


def rescale(embedder: LiteEmbedder, calibration: Calibration) -> Calibration:
    """``calibration`` with its text->image curve scaled by the ``s`` fitted on training mixed
    libraries, the figures of every ``s`` on training and validation in its stats."""
    base = unscaled(calibration)
    rows = rows_for(embedder, base, calibration.curves["text->text"])
    fit_on = FIT_SPLIT["text->image"]  # where the image scores are a new image's (calibration.py)
    s, _ = choose(rows[fit_on])
    _, train = choose(rows["train"])
    _, val = choose(rows["val"])
    scaled = Curve(tuple(s * w for w in base.weights), s * base.bias)
    stats = {key: dict(value) if isinstance(value, dict) else value for key, value in calibration.stats.items()}
    stats.setdefault("text->image", {})["steepness"] = {
        "s": s, "unscaled": base.to_dict(), "rule": f"steepest s within one standard error of the best mean share ({fit_on})",
        "train": train, "val": val, "queries": {split: {"image": int(r.image.sum()), "document": int((~r.image).sum())} for split, r in rows.items()}}
    curves = dict(calibration.curves)
    curves["text->image"] = scaled
    return Calibration(calibration.model, curves, calibration.fitted_on, stats)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=OUT)
    parser.add_argument("--mode", default="auto")
    parser.add_argument("--dry-run", action="store_true", help="print the figures; write nothing")
    args = parser.parse_args()
    embedder = LiteEmbedder(mode=args.mode, runtime="torch")  # the fit reads the torch head (_fc)
    embedder.ensure_loaded()
    embedder._image_side()
    kept = read_file(args.file)
    if embedder.model not in kept:
        parser.error(f"{args.file} has no curves for {embedder.model}; run python -m mmsearch_lite.calibration first")
    calibration = rescale(embedder, kept[embedder.model])
    print(json.dumps(calibration.stats["text->image"]["steepness"], indent=1))
    if args.dry_run:
        return
    kept[calibration.model] = calibration
    args.file.write_text(json.dumps({"spaces": [c.to_dict() for c in kept.values()]}, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
