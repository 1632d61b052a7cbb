"""EfficientNet-Lite0 exported to ONNX: indexing and search by example without torch.

On 2 cores onnxruntime runs the tower in 6–7 ms per image against torch's 27–50 ms (batches of 8
and 32, same process), and a run no longer imports torch (~2 s). The graph takes the preprocessed
(n, 3, 224, 224) float32 batch (towers.preprocess_array) and returns the pooled 1,280-d features
and the 1,000 ImageNet logits, as towers.image_features does; exported and checked as
:mod:`.graphs` describes, on probe images with torch's outputs in the sidecar.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import graphs

TOWER = "effnet-lite0"


def paths_for(weights: Path, folder: Path | None = None) -> graphs.ExportPaths:
    return graphs.paths_for(TOWER, [weights], folder)


def probe_batch(count: int = 3) -> np.ndarray:
    """Fixed inputs in the tower's range [-1, 1]: a noisy gradient (photo-like), flat blocks
    (drawing-like), and noise."""
    rng = np.random.default_rng(0)
    ramp = np.linspace(-1, 1, 224, dtype=np.float32)
    photo = np.clip(ramp[None, :, None] * ramp[None, None, :] + rng.normal(0, 0.2, (3, 224, 224)), -1, 1)
    drawing = np.ones((3, 224, 224))
    drawing[0, 40:180, 60:160], drawing[1, 90:200, 20:120] = -1.0, 0.2
    noise = rng.uniform(-1, 1, (3, 224, 224))
    return np.stack([photo, drawing, noise][:count]).astype(np.float32)


class OnnxEffnet:
    def __init__(self, paths: graphs.ExportPaths, threads: int, probes: int = 1) -> None:
        from mmsearch import warm

        meta = graphs.read_meta(paths)
        self.session = warm.onnx_session(paths.graph, threads)
        pooled, logits = self.features(probe_batch()[:probes])
        worst = min(graphs.worst_cosine(pooled, meta["probe_pooled"][:probes]),
                    graphs.worst_cosine(logits, meta["probe_logits"][:probes]))
        if not worst >= graphs.MIN_COSINE:
            raise ValueError(f"the exported image tower disagrees with torch (cosine {worst:.5f} < {graphs.MIN_COSINE})")

    def features(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pooled, logits) float32 for a preprocessed (n, 3, 224, 224) batch."""
        pooled, logits = self.session.run(None, {"pixels": np.ascontiguousarray(batch, dtype=np.float32)})
        return np.asarray(pooled, dtype=np.float32), np.asarray(logits, dtype=np.float32)


def open_tower(paths: graphs.ExportPaths, threads: int) -> OnnxEffnet | None:
    return graphs.open_checked(paths, lambda: OnnxEffnet(paths, threads), "image tower")


def export(model: Any, paths: graphs.ExportPaths) -> bool:
    """Export a loaded EfficientNet-Lite0 (CPU, fp32, eval) and check it; never raises."""
    import torch

    from . import towers

    class Features(torch.nn.Module):
        def __init__(self, net: Any) -> None:
            super().__init__()
            self.net = net

        def forward(self, pixels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
            return towers.image_features(self.net, pixels)

    probes = probe_batch()
    with torch.inference_mode():
        pooled, logits = towers.image_features(model, torch.from_numpy(probes))
    meta = {"source": str(towers.image_weights_path().resolve()), "probe_pooled": pooled.float().numpy().tolist(),
            "probe_logits": logits.float().numpy().tolist()}
    return graphs.guarded_export(
        paths, Features(model), (torch.from_numpy(probes[:2]),), (["pixels"], ["pooled", "logits"]),
        ({0: torch.export.Dim.DYNAMIC},), meta, lambda: OnnxEffnet(paths, threads=1, probes=len(probes)), "image tower")
