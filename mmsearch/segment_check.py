"""What the engine checks in every segment a plugin hands it, before anything stores or shows it.

A locator with an infinite or negative time became ``"end": Infinity`` in ``--json`` (invalid
JSON) and ``@ -1:59:55`` on screen; a text payload with unpaired surrogates failed later inside an
embedder, blaming the embedder; a ``meta`` value JSON cannot hold failed as an SQL error. Each is
the plugin's fault, so each is reported here naming the plugin, and fails that file only.
"""

from __future__ import annotations

import json
import math
from typing import Any

from .paths import storable
from .types import IMAGE, TEXT, Locator, Segment


def problem(segment: Segment) -> str | None:
    """Why ``segment`` cannot be indexed, or None."""
    reason = _locator_problem(segment.locator) if isinstance(segment.locator, Locator) else "its locator is not a Locator"
    if reason:
        return reason
    if segment.kind == TEXT:
        if not isinstance(segment.payload, str):
            return f"a text payload must be str, got {type(segment.payload).__name__}"
        if not _unicode(segment.payload):
            return "its text payload holds characters that are not valid Unicode (decode with errors='replace')"
    if segment.kind == IMAGE and not _is_image(segment.payload):
        # Caught here, not in the embedder: "lite cannot prepare it: 'str' object has no attribute
        # 'mode'" blamed the embedder for the modality's mistake.
        return f"an image payload must be a PIL.Image.Image, got {type(segment.payload).__name__}"
    if segment.text is not None and (not isinstance(segment.text, str) or not _unicode(segment.text)):
        return "its text must be a str of valid Unicode or None"
    try:
        json.dumps(dict(segment.meta), allow_nan=False)
    except (TypeError, ValueError) as exc:
        return f"its meta must be JSON-serialisable (finite numbers, strings, lists, dicts): {exc}"
    return None


def _is_image(payload: Any) -> bool:
    from PIL import Image  # imported on use: checking text segments needs no Pillow

    return isinstance(payload, Image.Image)


def is_empty_text(segment: Segment) -> bool:
    """A text segment with nothing to embed: dropped, as a blank page or an empty cue holds nothing."""
    return segment.kind == TEXT and isinstance(segment.payload, str) and not segment.payload.strip()


def _unicode(text: str) -> bool:
    return storable(text) == text

def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _locator_problem(locator: Locator) -> str | None:
    for name in ("start", "end"):
        value = getattr(locator, name)
        if value is not None and (not _number(value) or value < 0):
            return f"locator {name}={value!r}: times are finite seconds, 0 or more"
    if locator.start is not None and locator.end is not None and locator.end < locator.start:
        return f"locator ends ({locator.end!r}) before it starts ({locator.start!r})"
    for name in ("char_start", "char_end"):
        value = getattr(locator, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            return f"locator {name}={value!r}: character offsets are whole numbers, 0 or more"
    if locator.char_start is not None and locator.char_end is not None and locator.char_end < locator.char_start:
        return f"locator chars end ({locator.char_end}) before they start ({locator.char_start})"
    if locator.page is not None and (not isinstance(locator.page, int) or isinstance(locator.page, bool) or locator.page < 1):
        return f"locator page={locator.page!r}: pages are whole numbers from 1"
    if locator.box is not None:
        box = locator.box
        # only what would break JSON or a drawing: a box a little outside the picture (an OCR
        # engine's rounding) is drawn clipped, not worth failing a file for
        if not isinstance(box, (tuple, list)) or len(box) != 4 or not all(_number(v) for v in box):
            return f"locator box={box!r}: four finite numbers (left, top, right, bottom) as fractions of the picture"
    return None
