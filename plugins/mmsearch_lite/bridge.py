"""The training-free bridge from ImageNet classes into MiniLM's space.

An image's vector is the probability-weighted mean of the MiniLM vectors of the ImageNet class
names: ``softmax(logits / T) @ E``. It needs no training data, so it is the fallback when no
trained projection is installed, and the baseline the projection must beat.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import towers

#: Chosen on the validation split (see train.py); the held-out split never chose anything.
PROMPT = "a photo of a {}"
TEMPERATURE = 1.0
VERSION = "bridge-v1"


def class_prompts(prompt: str = PROMPT) -> list[str]:
    return [prompt.format(name) for name in towers.imagenet_classes()]


def class_embeddings(text_model: Any, prompt: str = PROMPT) -> np.ndarray:
    """(1000, 384) unit MiniLM vectors, one per ImageNet class, in logit order."""
    return towers.embed_texts(text_model, class_prompts(prompt))


def softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    scaled = logits / temperature
    scaled -= scaled.max(axis=1, keepdims=True)  # stable exp
    weights = np.exp(scaled)
    return weights / weights.sum(axis=1, keepdims=True)


def bridge(logits: np.ndarray, class_vectors: np.ndarray, temperature: float = TEMPERATURE) -> np.ndarray:
    """(n, 384) image vectors in MiniLM space, not normalised (callers normalise)."""
    return (softmax(logits.astype(np.float32), temperature) @ class_vectors).astype(np.float32)
