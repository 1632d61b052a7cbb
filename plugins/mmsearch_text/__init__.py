"""Built-in ``text`` modality: plain-text and Markdown files, in overlapping chunks."""

from __future__ import annotations

from collections.abc import Callable

import pluggy

from mmsearch.modality import Modality
from mmsearch.settings import Settings

from .modality import MAX_BYTES, TextModality

hookimpl = pluggy.HookimplMarker("mmsearch")


@hookimpl(trylast=True)
def register_modalities(register: Callable[[Modality], None], settings: Settings) -> None:
    register(TextModality(settings.get_int("text.chunk_chars"), settings.get_int("text.chunk_overlap"),
                          settings.get_int("text.max_bytes", MAX_BYTES)))
