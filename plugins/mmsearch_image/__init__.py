"""Built-in ``image`` modality: one segment per photo, decoded with Pillow."""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from mmsearch.modality import Modality
from mmsearch.settings import Settings

from .modality import ImageModality

hookimpl = pluggy.HookimplMarker("mmsearch")


@hookimpl(trylast=True)
def register_modalities(register: Callable[[Modality], None], settings: Settings) -> None:
    register(ImageModality(max_pixels=settings.get_int("max_image_pixels"), max_pages=settings.get_int("image.max_pages", 2000)))
