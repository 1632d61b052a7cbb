"""The trained linear projection from frozen image features into MiniLM's space.

``out = [bridge(logits) | standardise(pooled)] @ W + b``. ``W`` starts as identity on the bridge
part and zero on the pooled part, so training starts from the bridge and can only improve on it.
Stored as a small ``.npz`` (float16 weights) beside a JSON provenance sidecar.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DEFAULT_PATH = Path(__file__).with_name("projection.npz")
POOLED_DIM = 1280
TEXT_DIM = 384


@dataclass(frozen=True)
class Projection:
    weight: np.ndarray  # (384 + 1280, 384) float32
    bias: np.ndarray  # (384,)
    mean: np.ndarray  # (1280,) pooled-feature standardisation
    std: np.ndarray  # (1280,)
    temperature: float  # bridge softmax temperature it was trained with
    prompt: str  # bridge class prompt it was trained with
    preprocess: str  # towers.PREPROCESS_VERSION the features came from

    @property
    def digest(self) -> str:
        """A hash of the numbers (not the zip file, whose timestamps change on every save)."""
        h = hashlib.sha256()
        for array in (self.weight, self.bias, self.mean, self.std):
            h.update(np.ascontiguousarray(array, dtype=np.float32).tobytes())
        h.update(f"{self.temperature!r}|{self.prompt}|{self.preprocess}".encode())
        return h.hexdigest()[:12]

    def apply(self, bridged: np.ndarray, pooled: np.ndarray) -> np.ndarray:
        features = np.concatenate([bridged, (pooled - self.mean) / self.std], axis=1)
        return (features @ self.weight + self.bias).astype(np.float32)

    def save(self, path: Path) -> None:
        np.savez_compressed(
            path,
            weight=self.weight.astype(np.float16),
            bias=self.bias.astype(np.float32),
            mean=self.mean.astype(np.float32),
            std=self.std.astype(np.float32),
            temperature=np.float32(self.temperature),
            prompt=np.array(self.prompt),
            preprocess=np.array(self.preprocess),
        )

    @classmethod
    def load(cls, path: Path) -> Projection:
        with np.load(path, allow_pickle=False) as saved:
            return cls(
                weight=saved["weight"].astype(np.float32),
                bias=saved["bias"].astype(np.float32),
                mean=saved["mean"].astype(np.float32),
                std=saved["std"].astype(np.float32),
                temperature=float(saved["temperature"]),
                prompt=str(saved["prompt"]),
                preprocess=str(saved["preprocess"]),
            )
