"""The clip plugin's settings, and facts about open_clip architectures read without importing it.

``import open_clip`` costs several seconds (torch, timm, transformers). Constructing the embedder,
``mmsearch models`` and the engine's choice of a default space must stay cheap, so the
architecture's JSON config is read straight from open_clip's package folder while open_clip is
not yet imported. Pretrained tags live in Python code, so they need the import; callers ask for
them only when the answer matters (a download, a cache lookup, an error message).
"""

from __future__ import annotations

import difflib
import importlib.util
import json
import os
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from mmsearch.errors import ConfigError
from mmsearch.settings import Settings, env_name, parse_bool

DEFAULT_ARCH = "ViT-B-32"
DEFAULT_TAG = "laion2b_s34b_b79k"
PRECISIONS = ("auto", "fp32", "fp16", "bf16")
TEXT_RUNTIMES = ("auto", "torch")
IMAGE_RUNTIMES = TEXT_RUNTIMES
LIST_HINT = 'python -c "import open_clip; print(open_clip.list_pretrained())"'

_TRUE = {"1", "true", "yes", "on"}


def clean_tag(tag: str) -> str:
    # open_clip's own normalisation (pretrained._clean_tag): "LAION2B-s34b" names the same weights.
    return tag.strip().lower().replace("-", "_")


as_bool = parse_bool


def hub_offline() -> bool:
    # Read at call time: huggingface_hub freezes HF_HUB_OFFLINE into a constant at import.
    return any(os.environ.get(var, "").strip().lower() in _TRUE for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


@dataclass(frozen=True)
class ClipConfig:
    """Everything the embedder needs to know, resolved from settings once."""

    arch: str = DEFAULT_ARCH
    tag: str = DEFAULT_TAG  # already cleaned; "" when only a file is given
    weights: Path | None = None  # explicit checkpoint file or folder
    models_dir: Path | None = None  # MMSEARCH_MODELS
    cache_dir: Path | None = None  # Hugging Face hub cache; None: huggingface_hub's default
    offline: bool = False  # never download, even when the network is there
    device: str = "auto"
    precision: str = "auto"
    threads: int = 0  # CPU intra-op threads; 0: every core this process may use
    batch_size: int = 32
    batch_size_set: bool = False  # clip.batch_size given: used on every runtime, else each picks its own
    # Text queries: "auto" runs the text tower exported to ONNX when the export exists and passes
    # its check (no torch import), else torch; "torch" always loads the whole model.
    text_runtime: str = "auto"
    # Images: "auto" embeds through the image tower exported to ONNX (written by the first run that
    # embeds images through torch on the CPU in fp32) when it passes its check; "torch" never.
    image_runtime: str = "auto"
    export_dir: Path | None = None  # where tower exports live; None: the user cache folder

    @classmethod
    def from_settings(cls, settings: Settings) -> ClipConfig:
        weights = settings.get("clip.weights")
        # No tag and no file: the documented default weights, so the model id and advice name them.
        tag = str(settings.get("clip.pretrained") or ("" if weights else DEFAULT_TAG))
        # open_clip also accepts a file path as `pretrained`; honour that spelling too.
        if not weights and tag and (os.sep in tag or tag.endswith((".bin", ".pt", ".pth", ".safetensors"))):
            weights, tag = tag, ""
        precision = str(settings.get("clip.precision") or "auto").lower()
        if precision not in PRECISIONS:
            raise ConfigError(
                f"setting 'clip.precision' (env {env_name('clip.precision')}) must be one of "
                f"{', '.join(PRECISIONS)}, got {precision!r}"
            )
        text_runtime = str(settings.get("clip.text_runtime") or "auto").strip().lower()
        if text_runtime not in TEXT_RUNTIMES:
            raise ConfigError(
                f"setting 'clip.text_runtime' (env {env_name('clip.text_runtime')}) must be one of "
                f"{', '.join(TEXT_RUNTIMES)}, got {text_runtime!r}"
            )
        image_runtime = str(settings.get("clip.image_runtime") or "auto").strip().lower()
        if image_runtime not in IMAGE_RUNTIMES:
            raise ConfigError(
                f"setting 'clip.image_runtime' (env {env_name('clip.image_runtime')}) must be one of "
                f"{', '.join(IMAGE_RUNTIMES)}, got {image_runtime!r}"
            )
        export_dir = settings.get("clip.export_dir")
        models = settings.get("models")
        cache = settings.get("clip.cache_dir")
        return cls(
            arch=str(settings.get("clip.model") or DEFAULT_ARCH).strip(),
            tag=clean_tag(tag),
            weights=Path(str(weights)).expanduser() if weights else None,
            models_dir=Path(str(models)).expanduser() if models else None,
            cache_dir=Path(str(cache)).expanduser() if cache else None,
            offline=as_bool("clip.offline", settings.get("clip.offline"))
            or as_bool("offline", settings.get("offline")),
            device=str(settings.get("clip.device") or settings.get("device") or "auto").lower(),
            precision=precision,
            threads=settings.get_int("clip.threads", 0),
            batch_size=max(1, settings.get_int("clip.batch_size", settings.get_int("batch_size", 32))),
            batch_size_set=settings.get("clip.batch_size") is not None,
            text_runtime=text_runtime,
            image_runtime=image_runtime,
            export_dir=Path(str(export_dir)).expanduser() if export_dir else None,
        )

    @property
    def downloads_forbidden(self) -> bool:
        return self.offline or hub_offline()


def _config_folder() -> Path | None:
    spec = importlib.util.find_spec("open_clip")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "model_configs"


@lru_cache(maxsize=64)
def _read_json_config(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text("utf-8"))


def arch_config(arch: str) -> dict[str, Any]:
    """open_clip's config for ``arch``; :class:`ConfigError` naming the way to list valid ones."""
    if "open_clip" in sys.modules:  # already paid for: also sees configs added at run time
        import open_clip

        found = open_clip.get_model_config(arch) if ":" not in arch else None
        if found is not None:
            return found
    folder = _config_folder()
    if folder is None:
        raise ConfigError("the clip plugin needs open_clip: pip install open_clip_torch")
    path = folder / f"{arch}.json"
    if "/" not in arch and ":" not in arch and path.is_file():
        return _read_json_config(path)
    names = sorted(p.stem for p in folder.glob("*.json"))
    close = difflib.get_close_matches(arch, names, n=3)
    hint = f" (did you mean {', '.join(close)}?)" if close else ""
    raise ConfigError(
        f"unknown CLIP architecture {arch!r}{hint} in setting 'clip.model' (env {env_name('clip.model')}); "
        f"list the architectures with weights, as (architecture, tag) pairs, with: {LIST_HINT}"
    )


def embed_dim(arch: str) -> int:
    return int(arch_config(arch)["embed_dim"])


def image_size(arch: str) -> int | tuple[int, int]:
    size = arch_config(arch)["vision_cfg"].get("image_size", 224)
    return tuple(size) if isinstance(size, list) else int(size)  # type: ignore[return-value]


def pretrained_cfg(arch: str, tag: str) -> dict[str, Any]:
    """open_clip's record for a known (arch, tag) (hub repo, url, preprocessing), else ``{}``."""
    if not tag:
        return {}
    from open_clip.pretrained import get_pretrained_cfg

    return dict(get_pretrained_cfg(arch, tag))


def unknown_tag_error(arch: str, tag: str) -> ConfigError:
    from open_clip.pretrained import list_pretrained_tags_by_model

    tags = list_pretrained_tags_by_model(arch)
    known = f"known tags for {arch}: {', '.join(tags)}" if tags else f"open_clip knows no pretrained weights for {arch}"
    return ConfigError(
        f"unknown pretrained tag {tag!r} for CLIP architecture {arch!r} in setting 'clip.pretrained' "
        f"(env {env_name('clip.pretrained')}); {known}; all pairs: {LIST_HINT}; or set 'clip.weights' "
        f"(env {env_name('clip.weights')}) to a checkpoint file of your own"
    )
