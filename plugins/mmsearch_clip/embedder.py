"""The ``clip`` embedder: any open_clip architecture and weights, images and text in one space."""

from __future__ import annotations

import contextlib
import logging
import re
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from mmsearch.embedder import Embedder, MaxInput, ModelInfo
from mmsearch.errors import ConfigError, MMSearchError, ModelUnavailableError
from mmsearch.settings import Settings
from mmsearch.types import IMAGE, TEXT

from . import bpe, imagegraph, textgraph, weights
from .bpe import ClipBPE
from .config import ClipConfig, arch_config, embed_dim, image_size, pretrained_cfg
from mmsearch.cores import available_cores, nvidia_device_present
from .imagegraph import OnnxImageTower
from .pilprep import PilPrepare, to_rgb
from .textgraph import OnnxTextTower

log = logging.getLogger(__name__)

_PREPROCESS_KEYS = ("mean", "std", "interpolation", "resize_mode")
ONNX_BATCH = 8  # images per onnxruntime call unless clip.batch_size says otherwise


class ClipEmbedder(Embedder):
    """OpenCLIP image and text towers. Cheap to construct: weights load on first use.

    ``model`` names the weights (``ViT-B-32/laion2b_s34b_b79k``, or ``ViT-B-32/file:<name>-<id>``
    for a checkpoint given by path), so an index built with one refuses another.
    """

    name = "clip"
    kinds = frozenset({IMAGE, TEXT})
    # Preferred over the offline `lite` space whenever its weights resolve offline (info()).
    priority = 100
    # CLIP's text tower reads 77 BPE tokens (start and end included); a chunker should stay under
    # about 300 English characters.
    max_input = {TEXT: MaxInput(77, "tokens", chars_hint=300)}

    def __init__(self, config: ClipConfig | None = None, *, random_init: bool = False) -> None:
        self.config = config or ClipConfig()
        self.random_init = random_init  # random weights: for speed measurements only
        self.batch_size = self.config.batch_size
        self._problem: MMSearchError | None = None  # reported by info(), raised by load()
        try:
            self.dim = embed_dim(self.config.arch)
        except ConfigError as exc:
            self.dim, self._problem = 0, exc
        self.model = f"{self.config.arch}/random-init" if random_init else weights.identity(self.config)
        # OpenCLIP's multilingual towers are XLM-RoBERTa / mT5 ones; the others learnt English.
        multilingual = bool(re.search(r"xlm|mt5|multilingual", self.config.arch, re.IGNORECASE))
        self.scripts = None if multilingual else frozenset({"LATIN"})
        self.languages = None if multilingual else frozenset({"en"})
        self.weights: weights.Weights | None = None
        self.device: Any = None  # torch.device once torch is loaded
        self.precision = ""
        self.threads = 0
        self.runtime = ""  # "onnxruntime" (the exported image tower) or "torch", once loaded
        self._net: Any = None
        self._tokenizer: Any = None
        self._split: Any = None
        self._input_dtype: Any = None
        # textfast: skip the padding of short queries. None until the first text batch checks it
        # (two full-length passes of the text tower: seconds that indexing images never needs).
        self._trim_text: bool | None = None
        self._prepare_lock = threading.Lock()
        self._bpe: ClipBPE | None | bool = False  # False: not looked for yet; None: not this model's tokenizer
        self._onnx: OnnxTextTower | None | bool = False  # False: not looked for yet; None: use torch
        self._text_lock = threading.Lock()
        self._export_tried = False
        self._image: OnnxImageTower | None | bool = False  # False: not looked for yet; None: use torch
        self._image_lock = threading.Lock()
        self._image_export_tried = False
        self._torch_lock = threading.Lock()

    def input_length(self, kind: str, payload: Any) -> int | None:
        """BPE tokens of a text with the start and end tokens, as the text tower counts them."""
        if kind != TEXT or not isinstance(payload, str):
            return None
        bpe = self._text_tokenizer()
        if bpe is not None:  # open_clip's own ids, without loading the model
            return len(bpe.encode(payload)) + 2
        self._load_torch()
        encode = getattr(self._tokenizer, "encode", None)  # open_clip's SimpleTokenizer
        return None if encode is None else len(encode(payload)) + 2

    @classmethod
    def from_settings(cls, settings: Settings) -> ClipEmbedder:
        try:
            return cls(ClipConfig.from_settings(settings))
        except ConfigError as exc:
            # A bad clip.* setting must not stop an engine that uses other spaces: register a
            # clip embedder that says what is wrong when asked about or used.
            broken = cls()
            broken._problem = exc
            return broken

    # -- availability, without loading or the network ---------------------------------------

    def locate(self) -> weights.Weights | None:
        """The weights on this machine (no network), ``None`` if absent; raises on bad settings."""
        if self._problem is not None:
            raise self._problem
        return weights.locate(self.config)

    def weights_available(self) -> bool:
        """True when the weights resolve offline, so this space can be used with no network."""
        if self.random_init:
            return True
        try:
            return self.locate() is not None
        except MMSearchError:
            return False

    def info(self) -> ModelInfo:
        if self.random_init:
            return ModelInfo(True, "random initialisation (speed tests only)")
        try:
            found = self.locate()
        except MMSearchError as exc:
            return ModelInfo(False, "none", str(exc))
        if found is not None:
            return ModelInfo(True, found.describe(), f"space {self.model}, dim {self.dim}")
        cfg = self.config
        if cfg.downloads_forbidden or not cfg.tag:
            return ModelInfo(False, "none", str(weights.missing_error(cfg)))
        reason = "not on disk yet; open_clip downloads it on first use"
        return ModelInfo(False, f"download on first use ({cfg.arch} {cfg.tag})", str(weights.missing_error(cfg, reason=reason)))

    # -- loading ------------------------------------------------------------------------------

    def _preprocess_overrides(self) -> dict[str, Any]:
        # A known tag carries its training preprocessing (SigLIP: mean 0.5); open_clip applies it
        # only when it downloads by tag, so apply it for local files of that tag too.
        record = pretrained_cfg(self.config.arch, self.config.tag) if not self.random_init else {}
        return {key: record[key] for key in _PREPROCESS_KEYS if key in record}

    def _transform(self) -> Any:
        if self._split is None:
            with self._prepare_lock:  # decode threads may race here before load()
                if self._split is None:
                    from open_clip.transform import PreprocessCfg, image_transform_v2

                    from .preprocess import SplitTransform

                    cfg = PreprocessCfg(size=image_size(self.config.arch), **self._preprocess_overrides())
                    self._split = SplitTransform(image_transform_v2(cfg, is_train=False))
        return self._split

    def load(self) -> None:
        """The exported image tower when there is a checked one (no torch: the text side then
        comes from the text tower's export or, failing that, torch on first use), else torch."""
        if self._problem is not None:
            raise self._problem
        if self._image_tower() is not None:
            self.runtime, self.precision = "onnxruntime", "fp32"
            self.threads = self.config.threads or available_cores()
            if not self.config.batch_size_set:
                # Measured on ViT-B/32, 2 cores: 8 images a call run ~10 % faster per image than
                # 32 and keep onnxruntime's arena ~150 MB smaller (it grows to the largest batch).
                self.batch_size = ONNX_BATCH
            return
        self._load_torch()

    def _load_torch(self) -> None:
        if self._net is not None:
            return
        with self._torch_lock:
            if self._net is None:
                self._build_torch()

    def _build_torch(self) -> None:
        if self._problem is not None:
            raise self._problem
        import open_clip
        import torch

        from .device import configure_cpu_threads, pick_device, pick_precision
        from .noinit import adopt_checkpoint, skip_init

        cfg = self.config
        self.device = pick_device(cfg.device)
        self.precision = pick_precision(cfg.precision, self.device)
        if self.device.type == "cpu":
            self.threads = configure_cpu_threads(cfg.threads)
        checkpoint = None
        if not self.random_init:
            self.weights = weights.resolve(cfg)
            checkpoint = str(self.weights.path)
        pre = self._preprocess_overrides()
        try:
            # A checkpoint overwrites every weight, so building skips the random initialisation
            # (seconds for ViT-B/32); a weight it lacks fails open_clip's strict load. Not for
            # big_vision .npz files, which open_clip loads without that check.
            strict = checkpoint is not None and not checkpoint.endswith((".npz", ".npy"))
            adopt = strict and self.device.type == "cpu" and self.precision == "fp32"
            with adopt_checkpoint() if adopt else skip_init() if strict else contextlib.nullcontext():
                net = open_clip.create_model(
                    cfg.arch,
                    pretrained=checkpoint,
                    precision=self.precision,
                    device=self.device,
                    pretrained_text=False,  # never fetch a text tower's base weights from the hub
                    force_preprocess_cfg=pre,
                    cache_dir=str(cfg.cache_dir) if cfg.cache_dir else None,
                )
        except Exception as exc:  # noqa: BLE001 - key mismatch, truncated file, bad pickle…
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelUnavailableError(
                f"could not load {checkpoint} as CLIP {cfg.arch}: {first}; check that clip.model names the "
                "architecture the checkpoint was trained as and that the file is complete"
            ) from exc
        if adopt and any(p.dtype != torch.float32 for p in net.parameters()):
            net.float()  # adopted from a half-precision checkpoint: compute in fp32 as asked
        net.eval()
        try:
            self._tokenizer = open_clip.get_tokenizer(cfg.arch, cache_dir=str(cfg.cache_dir) if cfg.cache_dir else None)
        except Exception as exc:  # noqa: BLE001 - Hugging Face tokenizers need hub files
            raise ModelUnavailableError(f"the text tokenizer of CLIP {cfg.arch} could not be loaded: {exc}") from exc
        layers = (torch.nn.Conv2d, torch.nn.Linear)
        self._input_dtype = next(
            (m.weight.dtype for m in net.visual.modules() if isinstance(m, layers)), torch.float32
        )
        self._transform()
        self.runtime = "torch"
        self._net = net

    # -- embedding ----------------------------------------------------------------------------

    def ensure_ready(self, kind: str) -> None:
        # A text query needs only the text tower: its ONNX export, when there is one, spares
        # importing torch and open_clip and loading the image tower (seconds and a gigabyte).
        if kind == TEXT and not self._loaded and self._text_tower() is not None:
            return
        self.ensure_loaded()

    def _text_tokenizer(self) -> ClipBPE | None:
        if self._bpe is False:
            with self._text_lock:
                if self._bpe is False:
                    try:
                        self._bpe = bpe.for_arch(arch_config(self.config.arch).get("text_cfg", {}), self.config.arch)
                    except Exception:  # noqa: BLE001 - no torch-free tokenizer: open_clip's is used
                        self._bpe = None
        return self._bpe or None

    def _export_paths(self, tower: str = "text") -> textgraph.ExportPaths | None:
        runtime = self.config.text_runtime if tower == "text" else self.config.image_runtime
        if self.random_init or self._problem is not None or runtime != "auto":
            return None
        try:
            found = self.weights or weights.locate(self.config)
            if found is None or found.path is None:
                return None
            return textgraph.paths_for(self.config.arch, found.path, self.config.export_dir, self.model, tower)
        except (MMSearchError, OSError):
            return None

    def _cpu_fp32(self) -> bool:
        """Whether torch would run this model on the CPU in fp32, decided without importing torch:
        only then is onnxruntime's CPU provider a like-for-like (and lighter) replacement."""
        if self.config.precision not in ("auto", "fp32"):
            return False
        device = self.config.device.strip().lower() or "auto"
        if device == "cpu":
            return True
        # "auto" picks CUDA when torch sees a GPU; without an NVIDIA device node it cannot.
        return device == "auto" and not nvidia_device_present()

    def _image_tower(self) -> OnnxImageTower | None:
        if self._image is False:
            with self._image_lock:
                if self._image is False:
                    usable = self._cpu_fp32() and textgraph.runtime_available()
                    paths = self._export_paths("image") if usable else None
                    threads = self.config.threads or available_cores()
                    self._image = imagegraph.open_tower(paths, threads) if paths is not None else None
        return self._image or None

    def _export_image_tower(self) -> OnnxImageTower | None:
        """After the first image batch through torch on the CPU: export the image tower, once per
        weights, and embed through it from now on (this run's later batches, and later runs)."""
        with self._image_lock:
            if self._image_export_tried:
                return self._image or None
            self._image_export_tried = True
            paths = self._export_paths("image")
            if (paths is None or not self._cpu_fp32() or not textgraph.export_tools_available()
                    or textgraph.export_failed_before(paths) or self.weights is None or self.weights.path is None):
                return None
            from open_clip.transform import PreprocessCfg

            from .export import export_image_tower, exportable

            cfg = PreprocessCfg(size=image_size(self.config.arch), **self._preprocess_overrides())
            size = cfg.size if isinstance(cfg.size, int) else cfg.size[0]
            if not exportable(self._net) or not PilPrepare.supports(cfg.size, cfg.interpolation, cfg.resize_mode):
                return None
            log.warning("exporting the CLIP image tower to ONNX, once for these weights (a minute at most): "
                        "later runs index without loading torch")
            prepare = PilPrepare(int(size), cfg.interpolation, cfg.resize_mode)
            if export_image_tower(self._net, prepare, cfg.mean, cfg.std, paths, self.weights.path):
                self._image = imagegraph.open_tower(paths, self.config.threads or available_cores())
            return self._image or None

    def _text_tower(self) -> OnnxTextTower | None:
        if self._onnx is False:
            paths = self._export_paths() if textgraph.runtime_available() else None
            tokenizer = self._text_tokenizer() if paths is not None else None
            with self._text_lock:
                if self._onnx is False:
                    threads = self.config.threads or available_cores()
                    self._onnx = textgraph.open_tower(paths, tokenizer, threads) if paths and tokenizer else None
        return self._onnx or None

    def _export_text_tower(self) -> None:
        """After a text query through torch: export the text tower for the next searches, once."""
        # Only when this query looked for an export and found none (or refused it): a process that
        # loaded the model for images first (indexing, serve, the demo) is not made to wait for it.
        if self._export_tried or self._onnx is not None:
            return
        self._export_tried = True
        paths = self._export_paths()
        tokenizer = self._text_tokenizer()
        if paths is None or tokenizer is None or not textgraph.export_tools_available():
            return
        if textgraph.export_failed_before(paths):
            return
        from .export import export_text_tower, exportable

        checkpoint = self.weights.path if self.weights is not None else None
        if checkpoint is not None and exportable(self._net):
            export_text_tower(self._net, tokenizer, paths, checkpoint)

    def prepare(self, kind: str, payload: Any) -> Any:
        if kind == IMAGE:
            if not isinstance(payload, Image.Image):
                raise TypeError(f"clip embeds PIL images, got {type(payload).__name__}")
            tower = self._image_tower()
            if tower is not None:  # the same uint8 crop as the torch path's, without torch
                return tower.prepare(to_rgb(payload))
            return self._transform().prepare(payload)
        return str(payload)

    def embed_query_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        out = self.embed_batch(kind, payloads)
        if kind == TEXT and self._net is not None:
            self._export_text_tower()
        return out

    def _trimming(self) -> bool:
        if self._trim_text is None:
            with self._text_lock:
                if self._trim_text is None:
                    from .device import autocast
                    from .textfast import trimming_matches

                    with autocast(self.device, self.precision):
                        self._trim_text = trimming_matches(self._net, self._tokenizer, self.device)
        return self._trim_text

    def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        if kind == TEXT and self._net is None:
            tower = self._text_tower()
            if tower is not None:
                return tower.embed([str(p) for p in payloads])
        if kind == IMAGE:
            self.ensure_loaded()
            image_tower = self._image_tower() or (self._export_image_tower() if self._net is not None else None)
            if image_tower is not None:
                crops = [p if isinstance(p, np.ndarray) else image_tower.prepare(to_rgb(p)) for p in payloads]
                return image_tower.embed(np.stack(crops))
        self.ensure_loaded()  # called directly (not through embed) the model may not be loaded yet
        self._load_torch()  # loaded for images through onnxruntime, text without an export needs torch
        import torch

        from .device import autocast
        from .textfast import encode_text_trimmed

        with torch.inference_mode(), autocast(self.device, self.precision):
            if kind == IMAGE:
                items = [self.prepare(kind, p) if isinstance(p, Image.Image) else p for p in payloads]
                batch = self._transform().collate(items, self.device, self._input_dtype)
                out = self._net.encode_image(batch)
            else:
                tokens = self._tokenizer([str(p) for p in payloads]).to(self.device)
                out = encode_text_trimmed(self._net, tokens) if self._trimming() else self._net.encode_text(tokens)
        return out.float().cpu().numpy()

