"""The declared interface between a plugin that turns speech into text and the plugins that need
it (video narration, say). A plugin registers one with ``register_transcribers``; the others
receive the registered ones as the ``transcribers`` argument of ``register_modalities``, and never
import the providing plugin."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from .types import Segment


@runtime_checkable
class Transcriber(Protocol):
    """Speech in a media file's audio track as timed text."""

    #: Unique name (built in: ``whisper``, from the audio plugin).
    name: str

    def transcribe(self, path: Path) -> Iterator[Segment]:
        """Yield ``text`` segments of the speech in ``path`` in time order, lazily (a long file is
        never held whole), each with ``locator.start``/``end`` in seconds. Heavy models load on
        the first call. Raise for a file whose audio cannot be decoded."""
        ...
