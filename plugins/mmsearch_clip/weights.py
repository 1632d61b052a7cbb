"""Where a CLIP checkpoint comes from, without touching the network unless a download is allowed.

Resolution order (first hit wins):

1. ``clip.weights`` (env ``MMSEARCH_CLIP_WEIGHTS``): a checkpoint file, or a folder holding one.
2. ``MMSEARCH_MODELS`` (setting ``models``)::

       $MMSEARCH_MODELS/<arch>/<tag>/open_clip_model.safetensors   (or any checkpoint name below)
       $MMSEARCH_MODELS/<arch>/<tag>.safetensors | .bin | .pt | .pth

   e.g. ``$MMSEARCH_MODELS/ViT-B-32/laion2b_s34b_b79k/open_clip_pytorch_model.bin``, which is what
   ``huggingface-cli download laion/CLIP-ViT-B-32-laion2B-s34B-b79K --local-dir
   $MMSEARCH_MODELS/ViT-B-32/laion2b_s34b_b79k`` leaves. The folder names are a promise that the
   file holds those weights, so the space is named ``<arch>/<tag>`` as for a download.
3. The caches open_clip downloads into: the Hugging Face hub cache (``clip.cache_dir``, else
   ``HF_HUB_CACHE`` / ``HF_HOME``) for the repo open_clip's pretrained table names, and open_clip's
   URL cache (``~/.cache/clip``).
4. A download through open_clip, unless ``HF_HUB_OFFLINE=1`` or ``clip.offline`` forbids it.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from mmsearch.errors import ModelUnavailableError
from mmsearch.settings import env_name

from .config import ClipConfig, pretrained_cfg, unknown_tag_error

CHECKPOINT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth")
# open_clip's preference inside a folder (factory._find_checkpoint_in_dir), kept identical so a
# folder resolves to the same file here as it would there.
PREFERRED_NAMES = (
    "open_clip_model.safetensors",
    "open_clip_pytorch_model.safetensors",
    "open_clip_pytorch_model.bin",
    "open_clip_pytorch_model.pth",
    "model.safetensors",
    "pytorch_model.bin",
    "pytorch_model.pth",
    "model.pth",
)
HF_DEFAULT_FILE = "open_clip_pytorch_model.bin"
_SAMPLES = 16
_SAMPLE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Weights:
    """A resolved checkpoint. ``path`` is ``None`` only for a download not yet made."""

    path: Path | None
    source: str  # clip.weights | MMSEARCH_MODELS | Hugging Face cache | open_clip cache | download
    hub: str = ""  # hf-hub repo (or url) a download would use

    def describe(self) -> str:
        if self.path is None:
            return f"download from {self.hub} on first use"
        return f"{self.path} ({self.source})"


def find_checkpoint(folder: Path) -> Path | None:
    files = [p for p in folder.iterdir() if p.is_file() and p.suffix in CHECKPOINT_SUFFIXES]
    if not files:
        return None
    by_name = {p.name: p for p in files}
    for name in PREFERRED_NAMES:
        if name in by_name:
            return by_name[name]
    return sorted(files, key=lambda p: (p.suffix != ".safetensors", p.name))[0]


def fingerprint(path: Path) -> str:
    """A content id that costs 1 MiB of reading: size plus 16 slices spread over the file.

    A copied file keeps its id (size+mtime would not); two different checkpoints of one
    architecture have equal sizes but differ in every tensor, so the slices tell them apart.
    Hashing a whole 600 MB file would make constructing the embedder slow.
    """
    size = path.stat().st_size
    digest = hashlib.blake2b(str(size).encode(), digest_size=8)
    with path.open("rb") as handle:
        for i in range(_SAMPLES):
            handle.seek(max(0, (size - _SAMPLE_BYTES) * i // max(1, _SAMPLES - 1)))
            digest.update(handle.read(_SAMPLE_BYTES))
    return digest.hexdigest()


def identity(config: ClipConfig) -> str:
    """The space's model string: ``<arch>/<tag>``, or ``<arch>/file:<name>-<id>`` for a given file."""
    if config.weights is None:
        return f"{config.arch}/{config.tag or 'none'}"
    path = config.weights
    if path.is_dir():
        path = find_checkpoint(path) or path / "missing"
    if not path.is_file():
        return f"{config.arch}/file:{path.name}-missing"
    return f"{config.arch}/file:{path.name}-{fingerprint(path)}"


def explicit(config: ClipConfig) -> Weights:
    assert config.weights is not None
    path = config.weights
    where = f"setting 'clip.weights' (env {env_name('clip.weights')}) points to {path}"
    if path.is_dir():
        found = find_checkpoint(path)
        if found is None:
            raise ModelUnavailableError(f"{where}, a folder with no checkpoint ({', '.join(CHECKPOINT_SUFFIXES)})")
        path = found
    elif not path.is_file():
        raise ModelUnavailableError(f"{where}, which does not exist")
    return Weights(path, "clip.weights")


def from_models_dir(config: ClipConfig) -> Weights | None:
    if config.models_dir is None or not config.tag:
        return None
    base = config.models_dir / config.arch
    folder = base / config.tag
    if folder.is_dir():
        found = find_checkpoint(folder)
        if found is not None:
            return Weights(found, "MMSEARCH_MODELS")
    for suffix in CHECKPOINT_SUFFIXES:
        single = base / f"{config.tag}{suffix}"
        if single.is_file():
            return Weights(single, "MMSEARCH_MODELS")
    return None


def hf_cache_dir(config: ClipConfig) -> Path:
    # huggingface_hub's own rule, read from the environment now rather than at its import.
    if config.cache_dir is not None:
        return config.cache_dir
    for var in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE"):
        if os.environ.get(var):
            return Path(os.environ[var]).expanduser()
    xdg = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return Path(os.environ.get("HF_HOME") or xdg / "huggingface").expanduser() / "hub"


def url_cache_dir(config: ClipConfig) -> Path:
    return config.cache_dir or Path.home() / ".cache" / "clip"  # open_clip's download_pretrained_from_url


def _caches_may_hold_weights(config: ClipConfig) -> bool:
    # Mapping a tag to its hub repo needs `import open_clip` (seconds); skip it on a machine whose
    # caches are empty, the usual case for a fresh offline install.
    hub = hf_cache_dir(config)
    if hub.is_dir() and any(p.name.startswith("models--") for p in hub.iterdir()):
        return True
    urls = url_cache_dir(config)
    return urls.is_dir() and any(p.suffix in CHECKPOINT_SUFFIXES for p in urls.iterdir())


def hub_files(hf_hub: str) -> tuple[str, list[str]]:
    """open_clip's ``org/repo/[file]`` spelling -> (repo, file names to try, safetensors first)."""
    repo, filename = os.path.split(hf_hub)  # "org/repo/" names the default file
    filename = filename or HF_DEFAULT_FILE
    names = [filename]
    if filename == HF_DEFAULT_FILE:
        names.insert(0, "open_clip_model.safetensors")
    elif filename.endswith((".bin", ".pth")):
        names.insert(0, filename[:-4] + ".safetensors")
    return repo, names


def from_caches(config: ClipConfig, record: dict[str, object]) -> Weights | None:
    hf_hub = str(record.get("hf_hub") or "")
    if hf_hub:
        from huggingface_hub import try_to_load_from_cache

        repo, names = hub_files(hf_hub)
        for name in names:
            hit = try_to_load_from_cache(repo, name, cache_dir=hf_cache_dir(config))
            if isinstance(hit, str) and os.path.isfile(hit):
                return Weights(Path(hit), "Hugging Face cache", hub=f"hf-hub:{repo}")
    url = str(record.get("url") or "")
    if url:
        cached = url_cache_dir(config) / os.path.basename(url)
        if cached.is_file():
            return Weights(cached, "open_clip cache", hub=url)
    return None


def _record(config: ClipConfig) -> dict[str, object]:
    record = pretrained_cfg(config.arch, config.tag)
    if not record:
        raise unknown_tag_error(config.arch, config.tag)
    return record


def locate(config: ClipConfig) -> Weights | None:
    """The weights on this machine, or ``None``. Never uses the network."""
    if config.weights is not None:
        return explicit(config)
    found = from_models_dir(config)
    if found is not None or not config.tag or not _caches_may_hold_weights(config):
        return found
    return from_caches(config, _record(config))


def resolve(config: ClipConfig) -> Weights:
    """Local weights, or a download when allowed; else one :class:`ModelUnavailableError`."""
    found = locate(config)
    if found is not None:
        return found
    if not config.tag:
        raise missing_error(config)
    record = _record(config)  # an unknown tag is a typo to report, not weights to look for
    if config.downloads_forbidden:
        raise missing_error(config, record)
    from open_clip.pretrained import download_pretrained

    try:
        path = download_pretrained(record, cache_dir=str(config.cache_dir) if config.cache_dir else None)
    except Exception as exc:  # noqa: BLE001 - any network/hub failure becomes the one clear message
        raise missing_error(config, record, reason=f"the download failed ({exc})") from exc
    hub = str(record.get("hf_hub") or record.get("url") or "")
    return Weights(Path(path), "download", hub=hub)


def missing_error(config: ClipConfig, record: dict[str, object] | None = None, reason: str = "") -> ModelUnavailableError:
    arch, tag = config.arch, config.tag or "<tag>"
    if not reason:
        if config.offline:
            reason = "downloads are off (setting clip.offline)"
        elif config.downloads_forbidden:
            reason = "downloads are off (HF_HUB_OFFLINE=1)"
        else:
            reason = "nothing was found on disk"
    repo = hub_files(str(record["hf_hub"]))[0] if record and record.get("hf_hub") else ""
    models = f"MMSEARCH_MODELS={config.models_dir}" if config.models_dir else "MMSEARCH_MODELS is not set"
    fetch = f"; or fetch it on another machine with: huggingface-cli download {repo} --local-dir <dir>" if repo else ""
    return ModelUnavailableError(
        f"no weights for CLIP model {arch} pretrained {tag!r} on this machine: {reason}. Provide them by "
        f"(1) setting clip.weights (env {env_name('clip.weights')}, or [clip] weights in mmsearch.toml) to a "
        f"checkpoint file or a folder holding one; or (2) putting the checkpoint at "
        f"$MMSEARCH_MODELS/{arch}/{tag}/open_clip_model.safetensors (or open_clip_pytorch_model.bin, or "
        f"$MMSEARCH_MODELS/{arch}/{tag}.safetensors|.bin|.pt|.pth; {models}); or (3) running once online "
        f"without HF_HUB_OFFLINE/clip.offline so open_clip downloads it into the Hugging Face cache "
        f"({hf_cache_dir(config)}){fetch}"
    )
