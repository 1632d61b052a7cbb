"""Text queries through the CLIP text tower exported to ONNX: no torch, no open_clip import.

A cold ``mmsearch search "a cat"`` used to import torch and open_clip and load the whole model
(image tower included) to embed four words. The text tower is exported once, by
:mod:`.export`, when the full model is loaded anyway; later searches load only that graph into
onnxruntime and tokenize with :mod:`.bpe`.

An export is keyed by the architecture, the space's model string, the checkpoint's path, size and
modification time and open_clip's version, so new weights or a new open_clip never meet an old graph. Its sidecar JSON
holds torch's vectors for probe texts: every load re-embeds them and refuses the graph unless each
cosine is at least :data:`MIN_COSINE`, so a damaged or wrong file falls back to torch unseen.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .bpe import ClipBPE

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the exported graph or the sidecar changes meaning
MIN_COSINE = 0.999
PROBES = ("a photo of a dog", "x", "Ünïcödé café at night, 日本 🐱", "word " * 90)


@dataclass(frozen=True)
class ExportPaths:
    graph: Path
    meta: Path
    failed: Path  # why the last export attempt for these weights failed, so it is not retried each search


def default_dir() -> Path:
    """``MMSEARCH_CLIP_EXPORT_DIR`` (also read for embedders built without settings), else the
    user cache folder."""
    if os.environ.get("MMSEARCH_CLIP_EXPORT_DIR"):
        return Path(os.environ["MMSEARCH_CLIP_EXPORT_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("mmsearch")) / "clip-text"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def paths_for(arch: str, checkpoint: Path, folder: Path | None, model: str = "", tower: str = "text") -> ExportPaths:
    """``model``: the embedder's model string, which for a ``clip.weights`` file carries a content
    fingerprint too, so a file rewritten in place with its size and mtime kept still gets its own.
    ``tower``: ``"text"`` or ``"image"`` (:mod:`.imagegraph`), which lives beside it."""
    stat = checkpoint.stat()
    identity: list[object] = [FORMAT, arch, model, str(checkpoint.resolve()), stat.st_size, stat.st_mtime_ns,
                              _version("open_clip_torch")]
    if tower != "text":  # the text key predates image exports: keep it, so existing ones stay valid
        identity.append(tower)
    key = json.dumps(identity)
    digest = hashlib.blake2b(key.encode(), digest_size=10).hexdigest()
    prefix = arch.replace("/", "_") + ("" if tower == "text" else f"-{tower}")
    base = (folder or default_dir()) / f"{prefix}-{digest}"
    return ExportPaths(base.with_suffix(".onnx"), base.with_suffix(".json"), base.with_suffix(".failed.json"))


def runtime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def export_tools_available() -> bool:
    """torch's exporter needs onnx and onnxscript; running the export needs onnxruntime."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx", "onnxscript"))


def tool_versions() -> dict[str, str]:
    """What an export attempt depended on: a failed attempt is retried once any of these changes."""
    return {name: _version(name) for name in ("torch", "onnx", "onnxscript", "onnxruntime", "open_clip_torch")}


def export_failed_before(paths: ExportPaths) -> bool:
    try:
        record = json.loads(paths.failed.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return bool(record.get("versions") == tool_versions())


class OnnxTextTower:
    """The exported text tower in an onnxruntime session, with the BPE tokenizer."""

    def __init__(self, paths: ExportPaths, tokenizer: ClipBPE, threads: int, probes: int = 1) -> None:
        """``probes``: how many of the sidecar's probe texts to check (the export checks all of them;
        a later load checks the first, a short text, which is enough to catch a wrong or damaged
        graph for a few milliseconds instead of the long probe's tenths of a second)."""
        from mmsearch import warm

        meta = json.loads(paths.meta.read_text("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{paths.meta}: export format {meta.get('format')}, expected {FORMAT}")
        self.trimmed = bool(meta["trimmed"])
        self.tokenizer = tokenizer
        # A cold search may have started opening this very graph already (mmsearch.warm).
        self.session = warm.onnx_session(paths.graph, threads)
        self.input = self.session.get_inputs()[0].name
        self._check(meta, probes)

    def _check(self, meta: dict[str, Any], probes: int) -> None:
        expected = np.asarray(meta["probe_vectors"][:probes], dtype=np.float32)
        got = self.embed(list(meta["probes"][:probes]))
        cosine = _normalise(got) @ _normalise(expected).T
        worst = float(np.diag(cosine).min())
        if not worst >= MIN_COSINE:
            raise ValueError(f"the exported text tower disagrees with torch (cosine {worst:.5f} < {MIN_COSINE})")

    def tokens(self, texts: list[str]) -> np.ndarray:
        ids = self.tokenizer(texts)
        if self.trimmed:
            # A causal tower reads its output at the end token, which sees only the tokens before
            # it, so the padding after the longest text's end token can be left out (textfast).
            ids = ids[:, : int(ids.argmax(axis=1).max()) + 1]
        return ids

    def embed(self, texts: list[str]) -> np.ndarray:
        out = self.session.run(None, {self.input: self.tokens(texts)})[0]
        return np.asarray(out, dtype=np.float32)


def _normalise(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def open_tower(paths: ExportPaths, tokenizer: ClipBPE, threads: int) -> OnnxTextTower | None:
    """The checked tower, or ``None`` (absent, unreadable, or failing its check: use torch)."""
    if not (paths.graph.is_file() and paths.meta.is_file()):
        return None
    try:
        return OnnxTextTower(paths, tokenizer, threads)
    except Exception as exc:  # noqa: BLE001 - any failure here means: answer through torch instead
        log.info("not using the ONNX text tower %s: %s", paths.graph, exc)
        return None


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
