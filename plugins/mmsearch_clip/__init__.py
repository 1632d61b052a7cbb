"""mmsearch's ``clip`` embedding space: OpenCLIP image and text towers (any architecture and weights).

Settings (env ``MMSEARCH_<KEY>``, dots as underscores): ``clip.model`` (architecture, default
``ViT-B-32``), ``clip.pretrained`` (tag, default ``laion2b_s34b_b79k``), ``clip.weights`` (a local
checkpoint file or folder), ``models`` (``MMSEARCH_MODELS``, a folder of checkpoints laid out as
``<arch>/<tag>/<checkpoint>``), ``clip.cache_dir``, ``clip.offline``, ``clip.device`` (else
``device``), ``clip.precision``, ``clip.threads``, ``clip.batch_size``, ``clip.text_runtime`` and
``clip.image_runtime`` (``auto``: the towers exported to ONNX once they exist; ``torch``), ``clip.export_dir``. See :mod:`.weights` for
the resolution order.
"""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from mmsearch.embedder import Embedder
from mmsearch.extras import require_extra
from mmsearch.settings import Settings

require_extra("clip", "torch", "open_clip")  # else the plugin is disabled, naming the extra

from .embedder import ClipEmbedder  # noqa: E402

hookimpl = pluggy.HookimplMarker("mmsearch")

__all__ = ["ClipEmbedder", "hookimpl", "register_embedders"]


@hookimpl(trylast=True)
def register_embedders(register: Callable[[Embedder], None], settings: Settings) -> None:
    register(ClipEmbedder.from_settings(settings))
