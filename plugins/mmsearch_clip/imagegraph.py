"""Images through the CLIP image tower exported to ONNX: indexing without torch or open_clip.

Importing torch and open_clip and building the model cost seconds per run and about half a
gigabyte of memory that an indexing run of a few hundred photos never earns back; rclip runs its
visual graph in onnxruntime for that reason. The first run that embeds images through torch on
the CPU in fp32 exports the image tower once (:mod:`.export`); later runs load only that graph.

The graph takes the uint8 crops :class:`.pilprep.PilPrepare` makes, with open_clip's mean and std
baked in, and its sidecar records the resize settings, so a later run needs neither open_clip's
config nor its transform. An export is keyed like the text tower's (:func:`.textgraph.paths_for`)
and refused unless onnxruntime reproduces torch's vectors for the sidecar's probe images.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np

from . import textgraph
from .pilprep import PilPrepare

log = logging.getLogger(__name__)

FORMAT = 1  # bump when the exported graph or the sidecar changes meaning
PROBE_SEED = 20261130


def probe_images(size: int, count: int = 2) -> np.ndarray:
    """Deterministic uint8 crops (noise over a gradient) that exercise every input position."""
    rng = np.random.default_rng(PROBE_SEED)
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    base = (ramp[None, :, None] + ramp[:, None, None]) / 2
    return np.clip(base + rng.normal(0, 60, (count, size, size, 3)), 0, 255).astype(np.uint8)


class OnnxImageTower:
    """The exported image tower in an onnxruntime session, with its preprocessing."""

    def __init__(self, paths: textgraph.ExportPaths, threads: int, probes: int = 1) -> None:
        """``probes``: how many probe images to check (the export checks all; a later load one)."""
        from mmsearch import warm

        meta = json.loads(paths.meta.read_text("utf-8"))
        if meta.get("format") != FORMAT:
            raise ValueError(f"{paths.meta}: export format {meta.get('format')}, expected {FORMAT}")
        self.prepare = PilPrepare(int(meta["size"]), str(meta["interpolation"]), str(meta["resize_mode"]))
        # Through mmsearch.warm, like the text tower: a search by example may find it preloaded.
        self.session = warm.onnx_session(paths.graph, threads)
        self.input = self.session.get_inputs()[0].name
        self._check(meta, probes)

    def _check(self, meta: dict[str, Any], probes: int) -> None:
        expected = np.asarray(meta["probe_vectors"][:probes], dtype=np.float32)
        got = self.embed(probe_images(self.prepare.size)[:probes])
        cosine = textgraph._normalise(got) @ textgraph._normalise(expected).T
        worst = float(np.diag(cosine).min())
        if not worst >= textgraph.MIN_COSINE:
            raise ValueError(f"the exported image tower disagrees with torch (cosine {worst:.5f} < {textgraph.MIN_COSINE})")

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(n, size, size, 3) uint8 crops -> (n, dim) float32 vectors."""
        out = self.session.run(None, {self.input: np.ascontiguousarray(crops, dtype=np.uint8)})[0]
        return np.asarray(out, dtype=np.float32)


def open_tower(paths: textgraph.ExportPaths, threads: int) -> OnnxImageTower | None:
    """The checked tower, or ``None`` (absent, unreadable, or failing its check: use torch)."""
    if not (paths.graph.is_file() and paths.meta.is_file()):
        return None
    try:
        return OnnxImageTower(paths, threads)
    except Exception as exc:  # noqa: BLE001 - any failure here means: embed through torch instead
        log.info("not using the ONNX image tower %s: %s", paths.graph, exc)
        return None
