"""A 2-layer CLIP registered with open_clip under a test's own name, and random weights for it:
what the CLIP tests run instead of real weights (nothing may touch the network)."""

from __future__ import annotations

import json
from pathlib import Path

import open_clip
import torch

CONFIG = {
    "embed_dim": 32,
    "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
    "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
}


def register(arch: str, folder: Path) -> str:
    """Make ``arch`` a model name open_clip knows (its config written into ``folder``)."""
    (folder / f"{arch}.json").write_text(json.dumps(CONFIG))
    open_clip.add_model_config(folder)
    return arch


def save_random(arch: str, path: Path, seed: int) -> Path:
    """A checkpoint of ``arch`` with weights drawn from ``seed``."""
    torch.manual_seed(seed)
    torch.save(open_clip.create_model(arch, pretrained=None).state_dict(), path)
    return path
