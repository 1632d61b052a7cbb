"""Where the lite towers' ONNX exports live, how they are keyed, and the guard every export runs in.

The first process that loads a tower through torch on the CPU exports it once (:mod:`.textgraph`,
:mod:`.imagegraph`); later processes run the graph in onnxruntime and import neither torch nor
transformers. An export is keyed by the tower's files (path, size, modification time) and
:data:`FORMAT`; its sidecar holds torch's outputs for probe inputs, which every load re-checks. A
failed export is recorded with the tool versions it used and not retried until one changes.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

FORMAT = 1  # bump when a graph or a sidecar changes meaning
MIN_COSINE = 0.999
OPSET = 18
_TOOLS = ("torch", "transformers", "efficientnet-lite-pytorch", "onnx", "onnxscript", "onnxruntime", "tokenizers")


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

    return Path(platformdirs.user_cache_dir("mmsearch")) / "lite-export"


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "none"


def tool_versions() -> dict[str, str]:
    return {name: _version(name) for name in _TOOLS}


def paths_for(tower: str, files: Sequence[Path], folder: Path | None = None) -> ExportPaths:
    """``tower``: a short name (``minilm-l6``, ``effnet-lite0``); ``files``: what its weights and
    configuration are read from."""
    identity: list[object] = [FORMAT, tower]
    for file in files:
        stat = file.stat()
        identity += [str(file.resolve()), stat.st_size, stat.st_mtime_ns]
    digest = hashlib.blake2b(json.dumps(identity).encode(), digest_size=10).hexdigest()
    base = (folder or default_dir()) / f"{tower}-{digest}"
    return ExportPaths(base.with_suffix(".onnx"), base.with_suffix(".json"), base.with_suffix(".failed.json"))


def runtime_available(*modules: str) -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", *modules))


def failed_before(paths: ExportPaths) -> bool:
    """True when an export with these tools failed before, or cannot be written at all (a
    read-only cache): either way, trying at every load would cost its ~10 s each time."""
    try:
        record = json.loads(paths.failed.read_text("utf-8"))
    except (OSError, ValueError):
        return not _writable(paths.graph.parent)
    return bool(record.get("versions") == tool_versions())


def _writable(folder: Path) -> bool:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK | os.X_OK)


def read_meta(paths: ExportPaths) -> dict[str, Any]:
    meta = json.loads(paths.meta.read_text("utf-8"))
    if meta.get("format") != FORMAT:
        raise ValueError(f"{paths.meta}: export format {meta.get('format')}, expected {FORMAT}")
    return dict(meta)


def worst_cosine(got: Any, expected: Any) -> float:
    import numpy as np

    a, b = np.asarray(got, dtype=np.float64), np.asarray(expected, dtype=np.float64)
    norms = np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-12)
    return float(np.min(np.sum(a * b, axis=1) / norms))


def open_checked(paths: ExportPaths, opener: Callable[[], Any], what: str) -> Any:
    """``opener()`` (which loads and checks the graph), or ``None`` when the export is absent or
    fails in any way: the tower then runs through torch."""
    if not (paths.graph.is_file() and paths.meta.is_file()):
        return None
    try:
        return opener()
    except Exception as exc:  # noqa: BLE001 - any failure here means: use torch instead
        log.info("not using the ONNX %s %s: %s", what, paths.graph, exc)
        return None


def guarded_export(paths: ExportPaths, module: Any, example: tuple[Any, ...], names: tuple[list[str], list[str]],
                   dynamic: tuple[dict[int, Any], ...], meta: dict[str, Any], check: Callable[[], Any], what: str) -> bool:
    """Export ``module`` (torch, fp32, CPU) with the dynamo exporter, write ``meta`` (with
    ``source``: the folder or file the weights came from) beside it and run ``check`` (the load-time check on every probe). True when a checked graph is in place.
    Never raises: on failure the reason is recorded and torch stays in use."""
    try:
        _export(paths, module, example, names, dynamic)
        _write_atomic(paths.meta, json.dumps({"format": FORMAT, "versions": tool_versions(), **meta}).encode())
        check()
        paths.failed.unlink(missing_ok=True)
        _drop_superseded(paths, str(meta.get("source")))
        return True
    except Exception as exc:  # noqa: BLE001
        log.info("could not export the lite %s to %s: %s", what, paths.graph, exc)
        for leftover in (paths.graph, paths.meta):
            leftover.unlink(missing_ok=True)
        record = {"reason": f"{type(exc).__name__}: {exc}"[:2000], "versions": tool_versions()}
        with contextlib.suppress(OSError):
            _write_atomic(paths.failed, json.dumps(record).encode())
        return False


def _drop_superseded(paths: ExportPaths, source: str) -> None:
    """Other exports of the same tower made from the same files (``source``) are for their
    earlier contents or an older format: never read again, and up to 91 MB each. Exports from
    another install's files (a second virtual environment sharing this cache) are kept."""
    tower = paths.graph.stem.rsplit("-", 1)[0]
    for meta in paths.graph.parent.glob(f"{tower}-*.json"):
        stem = meta.name.split(".")[0]
        if stem == paths.graph.stem or stem.rsplit("-", 1)[0] != tower or meta.name.endswith(".failed.json"):
            continue
        try:
            same = json.loads(meta.read_text("utf-8")).get("source") == source
        except (OSError, ValueError, AttributeError):
            continue
        if same:
            for old in (meta, meta.with_suffix(".onnx"), meta.with_name(f"{stem}.failed.json")):
                old.unlink(missing_ok=True)


def _export(paths: ExportPaths, module: Any, example: tuple[Any, ...], names: tuple[list[str], list[str]],
            dynamic: tuple[dict[int, Any], ...]) -> None:
    import torch

    paths.graph.parent.mkdir(parents=True, exist_ok=True)
    tmp = paths.graph.with_name(f".{paths.graph.name}.{os.getpid()}.tmp")
    try:
        with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
            warnings.simplefilter("ignore")  # the exporter's progress and notes are not the user's business
            program = torch.onnx.export(module.eval(), example, input_names=names[0], output_names=names[1], dynamo=True,
                                        dynamic_shapes=dynamic, opset_version=OPSET, verbose=False)
            assert program is not None
            program.save(str(tmp), external_data=False)  # one file, so it can be renamed into place
        os.replace(tmp, paths.graph)
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
