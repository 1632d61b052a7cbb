"""Frozen-tower features for the training data, cached on disk so reruns take seconds.

Only the pooled EfficientNet features are stored (float16, 1280-d): the ImageNet logits are a
linear function of them (``fc``) and are recomputed when needed.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from . import gate, towers
from .data import Item

log = logging.getLogger(__name__)
_SAVE_EVERY = 40  # batches; an interrupted extraction keeps most of its work


def _load(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        return {}
    with np.load(path, allow_pickle=False) as saved:
        return dict(zip(saved["ids"].tolist(), saved["vectors"]))


def _save(path: Path, table: dict[str, np.ndarray]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    ids = sorted(table)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, ids=np.array(ids), vectors=np.stack([table[i] for i in ids]))
    tmp.replace(path)


def _read(item: Item) -> Any:
    with Image.open(item.path) as image:
        image.load()
        return towers.preprocess(image)


def image_pooled(items: Sequence[Item], cache: Path, model: Any = None, batch_size: int = 32) -> np.ndarray:
    """Pooled features (n, 1280) float32 in ``items`` order, computing only what the cache lacks."""
    import torch

    path = cache / f"pooled-{towers.PREPROCESS_VERSION}.npz"
    table = _load(path)
    todo = [item for item in items if item.id not in table]
    if todo:
        model = model or towers.load_image_tower()
        log.info("extracting image features for %d of %d items", len(todo), len(items))
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=2) as pool:  # decode while the model runs
            for n, start in enumerate(range(0, len(todo), batch_size)):
                chunk = todo[start : start + batch_size]
                batch = torch.stack(list(pool.map(_read, chunk)))
                with torch.inference_mode():
                    pooled, _ = towers.image_features(model, batch)
                for item, vector in zip(chunk, pooled.numpy().astype(np.float16)):
                    table[item.id] = vector
                if (n + 1) % _SAVE_EVERY == 0:
                    _save(path, table)
                    log.info("%d/%d done, %.0f s", start + len(chunk), len(todo), time.monotonic() - started)
        _save(path, table)
    return np.stack([table[item.id] for item in items]).astype(np.float32)


def flat_shares(items: Sequence[Item], cache: Path) -> np.ndarray:
    """Each item's flat share (gate.py) in ``items`` order, float32 (n,), computing only what the
    cache lacks (decoding is the cost: ~30 ms an image, no model)."""
    path = cache / f"flat-{towers.PREPROCESS_VERSION}.npz"
    table = _load(path)
    todo = [item for item in items if item.id not in table]
    if todo:
        log.info("measuring flat shares of %d of %d items", len(todo), len(items))
        with ThreadPoolExecutor(max_workers=2) as pool:
            for item, tensor in zip(todo, pool.map(_read, todo)):
                table[item.id] = np.array(gate.flat_share(tensor), dtype=np.float32)
        _save(path, table)
    return np.array([table[item.id] for item in items], dtype=np.float32)


def text_vectors(texts: Sequence[str], cache: Path, model: Any = None) -> np.ndarray:
    """MiniLM vectors (n, 384) for ``texts``, cached by exact text."""
    path = cache / "minilm-l6.npz"
    table = _load(path)
    todo = sorted({t for t in texts if t not in table})
    if todo:
        model = model or towers.load_text_tower()
        for text, vector in zip(todo, towers.embed_texts(model, todo)):
            table[text] = vector.astype(np.float16)
        _save(path, table)
    return np.stack([table[t] for t in texts]).astype(np.float32)
