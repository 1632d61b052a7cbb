"""open_clip's eval transform, split so decode threads do the PIL part and the model thread the rest.

open_clip's eval transform is ``Resize, CenterCrop, MaybeConvertMode, MaybeToTensor, Normalize``.
The steps before ``ToTensor`` are PIL work (releases the GIL, thread-safe, no torch): they run in
:meth:`ClipEmbedder.prepare`, in the indexing pipeline's decode threads, and yield a small uint8
array. ``ToTensor`` + ``Normalize`` then run once per batch on the model's device: one vectorised
op instead of one per image, a quarter of the bytes to copy to a GPU, and no torch calls in the
decode threads, which would each start an OpenMP team and oversubscribe the cores.
A transform of another shape is applied whole in ``prepare`` instead (correct, just slower).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from PIL import Image

from .pilprep import to_rgb


class SplitTransform:
    def __init__(self, transform: Callable[[Any], Any]) -> None:
        from torchvision.transforms import Normalize, ToTensor

        steps = list(getattr(transform, "transforms", []))
        split = next((i for i, s in enumerate(steps) if isinstance(s, ToTensor)), None)
        tail = steps[split + 1 :] if split is not None else []
        self._whole = transform
        self._pil_steps: list[Callable[[Any], Any]] | None = None
        if split is not None and len(tail) == 1 and isinstance(tail[0], Normalize):
            self._pil_steps = steps[:split]
            self._mean = torch.tensor(tail[0].mean, dtype=torch.float32).view(1, -1, 1, 1)
            self._std = torch.tensor(tail[0].std, dtype=torch.float32).view(1, -1, 1, 1)

    def prepare(self, image: Image.Image) -> np.ndarray | torch.Tensor:
        """One image -> a (H, W, 3) uint8 array (fast path) or a normalised (3, H, W) tensor."""
        image = to_rgb(image)
        if self._pil_steps is None:
            return self._whole(image)
        for step in self._pil_steps:
            image = step(image)
        return np.asarray(image, dtype=np.uint8)

    def collate(self, items: Sequence[np.ndarray | torch.Tensor], device: torch.device, dtype: torch.dtype) -> torch.Tensor:
        """Prepared images -> one normalised (n, 3, H, W) batch on ``device`` in ``dtype``."""
        if all(isinstance(item, torch.Tensor) for item in items):
            return torch.stack(list(items)).to(device=device, dtype=dtype)
        raw = torch.from_numpy(np.stack([np.asarray(item, dtype=np.uint8) for item in items]))
        batch = raw.to(device, non_blocking=True).permute(0, 3, 1, 2).float().div_(255.0)
        batch = batch.sub_(self._mean.to(device)).div_(self._std.to(device))
        return batch.to(dtype)
