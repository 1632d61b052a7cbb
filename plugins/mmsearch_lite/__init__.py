"""The ``lite`` embedder plugin: an offline image–text space (EfficientNet-Lite0 + MiniLM-L6).

Settings: ``lite.mode`` (auto, the default: blend when the trained projection is installed, else
bridge | blend | projection | bridge), ``lite.projection`` (path to a trained ``.npz``),
``lite.device`` (defaults to the global ``device``), ``lite.runtime`` (auto: both towers through
their ONNX exports on the CPU once they exist | torch), ``batch_size``.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from mmsearch.embedder import Embedder
from mmsearch.extras import require_extra
from mmsearch.settings import Settings

require_extra("lite", "torch", "transformers", "efficientnet_lite_pytorch")  # else the plugin is disabled, naming the extra

from .embedder import LiteEmbedder  # noqa: E402

hookimpl = pluggy.HookimplMarker("mmsearch")

__all__ = ["LiteEmbedder", "hookimpl", "register_embedders"]


@hookimpl(trylast=True)
def register_embedders(register: Callable[[Embedder], None], settings: Settings) -> None:
    register(
        LiteEmbedder(
            mode=str(settings.get("lite.mode", "auto")),
            projection=settings.get("lite.projection"),
            device=str(settings.get("lite.device") or settings.get("device", "auto")),
            batch_size=settings.get_int("batch_size", 32, low=1),
            runtime=str(settings.get("lite.runtime") or "auto").strip().lower(),
        )
    )
