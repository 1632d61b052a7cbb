"""all-MiniLM-L6-v2 exported to ONNX, so a text query imports neither torch nor transformers.

A cold ``mmsearch search`` on the default ``lite`` space spent ~4.7 s of ~5.8 s importing torch and
transformers and loading BERT to embed a few words. The first process that loads the torch tower
on the CPU exports it once (the whole pipeline: BERT, mean pooling over the attention mask, L2
normalisation; ~8 s, 91 MB) into the user cache; later ones tokenize with the ``tokenizers``
library from the package's own ``tokenizer.json`` (what transformers' fast tokenizer runs) and run
the graph in onnxruntime.

An export is keyed by the model folder's weights and tokenizer files (path, size, modification
time) and the tool versions. Its sidecar holds torch's vectors for probe texts: every load
re-embeds the first one and refuses the graph below :data:`MIN_COSINE`, so a damaged or wrong file
falls back to torch unseen. A failed export is recorded and not retried until a tool changes.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.metadata
import importlib.util
import io
import json
import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the graph or the sidecar changes meaning
MIN_COSINE = 0.999
PROBES = ("a photo of a dog", "x", "Ünïcödé café at night, 日本 🐱", "word " * 300)
MAX_TOKENS = 256  # all-MiniLM-L6-v2's sentence_bert_config.json: word pieces read per text
_TOOLS = ("torch", "transformers", "onnx", "onnxscript", "onnxruntime", "tokenizers")


@dataclass(frozen=True)
class ExportPaths:
    graph: Path
    meta: Path
    failed: Path  # why the last export attempt failed, so it is not retried at every load


def default_dir() -> Path:
    """``MMSEARCH_LITE_EXPORT_DIR``, else the user cache folder."""
    if os.environ.get("MMSEARCH_LITE_EXPORT_DIR"):
        return Path(os.environ["MMSEARCH_LITE_EXPORT_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("mmsearch")) / "lite-text"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def tool_versions() -> dict[str, str]:
    return {name: _version(name) for name in _TOOLS}


def paths_for(model_dir: Path, folder: Path | None = None) -> ExportPaths:
    identity: list[object] = [FORMAT]
    for name in ("model.safetensors", "tokenizer.json", "config.json"):
        stat = (model_dir / name).stat()
        identity += [str((model_dir / name).resolve()), stat.st_size, stat.st_mtime_ns]
    digest = hashlib.blake2b(json.dumps(identity).encode(), digest_size=10).hexdigest()
    base = (folder or default_dir()) / f"minilm-l6-{digest}"
    return ExportPaths(base.with_suffix(".onnx"), base.with_suffix(".json"), base.with_suffix(".failed.json"))


def runtime_available() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "tokenizers"))


def failed_before(paths: ExportPaths) -> bool:
    try:
        record = json.loads(paths.failed.read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return bool(record.get("versions") == tool_versions())


def _tokenizer(model_dir: Path) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    # The file pads every text to 128 and cuts there; sentence-transformers reads 256 and pads a
    # batch to its longest text, as transformers' tokenizer call in towers.MiniLM does.
    tokenizer.enable_truncation(MAX_TOKENS)
    tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    return tokenizer


class OnnxMiniLM:
    """The exported tower with its tokenizer: ``encode`` and ``count_tokens`` as towers.MiniLM has them."""

    def __init__(self, paths: ExportPaths, model_dir: Path, threads: int, probes: int = 1) -> None:
        from mmsearch import warm

        meta = json.loads(paths.meta.read_text("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{paths.meta}: export format {meta.get('format')}, expected {FORMAT}")
        self.tokenizer = _tokenizer(model_dir)
        self._model_dir, self._counter = model_dir, None
        self.session = warm.onnx_session(paths.graph, threads)  # maybe opened already, in a thread
        expected = np.asarray(meta["probe_vectors"][:probes], dtype=np.float32)
        worst = float(np.min(np.sum(self.encode(list(meta["probes"][:probes])) * expected, axis=1)))
        if not worst >= MIN_COSINE:
            raise ValueError(f"the exported text tower disagrees with torch (cosine {worst:.5f} < {MIN_COSINE})")

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            encoded = self.tokenizer.encode_batch(texts[start : start + batch_size])
            ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
            out.append(np.asarray(self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0], dtype=np.float32))
        return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` before the 256 cut, [CLS] and [SEP] included."""
        if self._counter is None:  # a second tokenizer: switching one's truncation is not thread-safe
            from tokenizers import Tokenizer

            self._counter = Tokenizer.from_file(str(self._model_dir / "tokenizer.json"))
            self._counter.no_truncation()
            self._counter.no_padding()
        return len(self._counter.encode(text).ids)


def open_tower(paths: ExportPaths, model_dir: Path, threads: int) -> OnnxMiniLM | None:
    """The checked tower, or ``None`` (absent, unreadable or failing its check: use torch)."""
    if not (paths.graph.is_file() and paths.meta.is_file()):
        return None
    try:
        return OnnxMiniLM(paths, model_dir, threads)
    except Exception as exc:  # noqa: BLE001 - any failure here means: embed through torch instead
        log.info("not using the ONNX text tower %s: %s", paths.graph, exc)
        return None


def export(minilm: Any, model_dir: Path, paths: ExportPaths) -> bool:
    """Export a loaded ``towers.MiniLM`` (CPU, fp32) and check it; True when a checked graph is in
    place. Never raises: on failure the reason is recorded and the torch tower stays in use."""
    try:
        _export(minilm, model_dir, paths)
        return True
    except Exception as exc:  # noqa: BLE001
        log.info("could not export the lite text tower to %s: %s", paths.graph, exc)
        for leftover in (paths.graph, paths.meta):
            leftover.unlink(missing_ok=True)
        record = {"reason": f"{type(exc).__name__}: {exc}"[:2000], "versions": tool_versions()}
        with contextlib.suppress(OSError):
            _write_atomic(paths.failed, json.dumps(record).encode())
        return False


def _export(minilm: Any, model_dir: Path, paths: ExportPaths) -> None:
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            tokens = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
            weights = mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    probes = list(PROBES)
    reference = minilm.encode(probes)
    example = minilm.tokenizer(["a photo of a dog", "x"], padding=True, return_tensors="pt")
    dynamic = torch.export.Dim.DYNAMIC
    paths.graph.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.graph.with_name(f".{paths.graph.name}.{os.getpid()}.tmp")
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # the exporter's progress and notes are not the user's business
            program = torch.onnx.export(
                Pooled(minilm.model).eval(), (example["input_ids"], example["attention_mask"]),
                input_names=["input_ids", "attention_mask"], output_names=["vector"], dynamo=True,
                dynamic_shapes=({0: dynamic, 1: dynamic}, {0: dynamic, 1: dynamic}), opset_version=18, verbose=False,
            )
            assert program is not None
            program.save(str(tmp), external_data=False)  # one file, so it can be renamed into place
        os.replace(tmp, paths.graph)
    finally:
        tmp.unlink(missing_ok=True)
    meta = {"format": FORMAT, "probes": probes, "probe_vectors": reference.tolist(), "versions": tool_versions()}
    _write_atomic(paths.meta, json.dumps(meta).encode())
    OnnxMiniLM(paths, model_dir, threads=1, probes=len(probes))  # the load-time check on every probe
    paths.failed.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
