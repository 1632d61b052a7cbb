"""Export a loaded CLIP model's text and image towers to ONNX, once, for torch-free text queries
(:mod:`.textgraph`) and indexing (:mod:`.imagegraph`).

Runs only where the whole model is already loaded in fp32 on the CPU, so it costs the export
itself (a few seconds) and no extra load. A graph is kept only after onnxruntime reproduces
torch's vectors on the probe texts; a failed attempt is recorded with the tool versions it used
and not retried until one of them changes, so a machine without the ``onnx`` package pays nothing
on later searches.
"""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch

from . import textgraph
from .bpe import ClipBPE
from .pilprep import PilPrepare
from .textfast import encode_prefix, supports_trimming

log = logging.getLogger(__name__)
OPSET = 18


class _TextTower(torch.nn.Module):
    def __init__(self, net: Any, trimmed: bool) -> None:
        super().__init__()
        self.net = net
        self.trimmed = trimmed

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        return encode_prefix(self.net, tokens) if self.trimmed else self.net.encode_text(tokens)


def exportable(net: Any) -> bool:
    """fp32 on the CPU: what onnxruntime's CPU provider runs; other placements keep using torch."""
    first = next(net.parameters(), None)
    return first is not None and first.device.type == "cpu" and first.dtype == torch.float32


def export_text_tower(net: Any, tokenizer: ClipBPE, paths: textgraph.ExportPaths, checkpoint: Path) -> bool:
    """Write and check the export; True when a checked graph is in place. Never raises."""
    return _guarded("text", paths, checkpoint, lambda source: _export(net, tokenizer, paths, source))


def _guarded(tower: str, paths: textgraph.ExportPaths, checkpoint: Path, export: Callable[[str], None]) -> bool:
    """Run ``export`` (given the checkpoint's resolved path); on success drop the tower's superseded
    exports, on failure remove what it left and record why, so it is not retried with the same tools."""
    source = str(checkpoint.resolve())
    try:
        export(source)
        _drop_superseded(paths, source, tower)
        return True
    except Exception as exc:  # noqa: BLE001 - no export just means this tower keeps using torch
        log.info("could not export the CLIP %s tower to %s: %s", tower, paths.graph, exc)
        for leftover in (paths.graph, paths.meta):
            leftover.unlink(missing_ok=True)
        record = {"reason": f"{type(exc).__name__}: {exc}"[:2000], "versions": textgraph.tool_versions()}
        try:
            textgraph.write_atomic(paths.failed, json.dumps(record).encode())
        except OSError:
            pass
        return False


def _drop_superseded(paths: textgraph.ExportPaths, checkpoint: str, tower: str = "text") -> None:
    """Exports of the same tower of the same checkpoint file under an older key (it was rewritten,
    or open_clip was upgraded) will never be read again: 250-350 MB each for ViT-B/32, so remove them."""
    for meta in paths.meta.parent.glob("*.json"):
        if meta == paths.meta or meta.name.endswith(".failed.json"):
            continue
        try:
            record = json.loads(meta.read_text("utf-8"))
            if record.get("checkpoint") != checkpoint or record.get("tower", "text") != tower:
                continue
        except (OSError, ValueError):
            continue
        meta.with_suffix(".onnx").unlink(missing_ok=True)
        meta.unlink(missing_ok=True)


def _export(net: Any, tokenizer: ClipBPE, paths: textgraph.ExportPaths, checkpoint: str) -> None:
    trimmed = supports_trimming(net)
    tower = _TextTower(net, trimmed).eval()
    probes = list(textgraph.PROBES)
    with torch.no_grad():
        reference = net.encode_text(torch.from_numpy(tokenizer(probes))).float().numpy()
    example = torch.from_numpy(tokenizer(["a photo of a dog", "x"]))
    if trimmed:
        example = example[:, : int(example.argmax(dim=-1).max()) + 1]
    dynamic = torch.export.Dim.DYNAMIC
    shapes = ({0: dynamic, 1: dynamic} if trimmed else {0: dynamic},)
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")  # the exporter's progress and notes are not the user's business
        program = torch.onnx.export(
            tower, (example,), input_names=["clip_text_tokens"], output_names=["clip_text_vector"], dynamo=True,
            dynamic_shapes=shapes, opset_version=OPSET, verbose=False,
        )
        assert program is not None
        _save_program(program, paths)
    meta = {
        "format": textgraph.FORMAT,
        "checkpoint": checkpoint,
        "trimmed": trimmed,
        "probes": probes,
        "probe_vectors": reference.tolist(),
        "versions": textgraph.tool_versions(),
        "tower": "text",
    }
    textgraph.write_atomic(paths.meta, json.dumps(meta).encode())
    # The same check every later load runs: a graph that disagrees with torch is not kept.
    textgraph.OnnxTextTower(paths, tokenizer, threads=1, probes=len(probes))
    paths.failed.unlink(missing_ok=True)


class _ImageTower(torch.nn.Module):
    """uint8 (n, H, W, 3) crops in, vectors out: open_clip's ToTensor and Normalize inside the graph."""

    def __init__(self, net: Any, mean: Sequence[float], std: Sequence[float]) -> None:
        super().__init__()
        self.net = net
        self.register_buffer("mean", torch.tensor(mean, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)
        self.register_buffer("std", torch.tensor(std, dtype=torch.float32).view(1, 3, 1, 1) * 255.0)

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        pixels = crops.permute(0, 3, 1, 2).to(torch.float32)
        return self.net.encode_image((pixels - self.mean) / self.std)


def export_image_tower(net: Any, prepare: PilPrepare, mean: Sequence[float], std: Sequence[float],
                       paths: textgraph.ExportPaths, checkpoint: Path) -> bool:
    """Write and check the image tower's export; True when a checked graph is in place. Never raises."""
    return _guarded("image", paths, checkpoint, lambda source: _export_image(net, prepare, mean, std, paths, source))


def _export_image(net: Any, prepare: PilPrepare, mean: Sequence[float], std: Sequence[float],
                  paths: textgraph.ExportPaths, checkpoint: str) -> None:
    from . import imagegraph

    tower = _ImageTower(net, mean, std).eval()
    probes = imagegraph.probe_images(prepare.size)
    with torch.no_grad():
        reference = tower(torch.from_numpy(probes)).float().numpy()
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            tower, (torch.from_numpy(probes),), input_names=["clip_image_crops"], output_names=["clip_image_vector"],
            dynamo=True, dynamic_shapes=({0: torch.export.Dim.DYNAMIC},), opset_version=OPSET, verbose=False,
        )
        assert program is not None
        _save_program(program, paths)
    meta = {
        "format": imagegraph.FORMAT,
        "tower": "image",
        "checkpoint": checkpoint,
        "size": prepare.size,
        "interpolation": prepare.interpolation,
        "resize_mode": prepare.resize_mode,
        "probe_vectors": reference.tolist(),
        "versions": textgraph.tool_versions(),
    }
    textgraph.write_atomic(paths.meta, json.dumps(meta).encode())
    imagegraph.OnnxImageTower(paths, threads=1, probes=len(probes))  # kept only if it agrees with torch
    paths.failed.unlink(missing_ok=True)


def _save_program(program: Any, paths: textgraph.ExportPaths) -> None:
    tmp = paths.graph.with_name(f".{paths.graph.name}.{os.getpid()}.tmp")
    paths.graph.parent.mkdir(parents=True, exist_ok=True)
    try:
        program.save(str(tmp), external_data=False)  # one file, so it can be renamed into place
        os.replace(tmp, paths.graph)
    finally:
        tmp.unlink(missing_ok=True)
