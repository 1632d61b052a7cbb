"""The ``video`` modality: what a video shows (one frame per shot) and what it says (its speech),
each segment with the time range it covers."""

from __future__ import annotations

import heapq
from collections.abc import Iterator
from typing import Any, ClassVar

from mmsearch.modality import Modality
from mmsearch.settings import Settings
from mmsearch.transcriber import Transcriber
from mmsearch.types import IMAGE, TEXT, Segment, Source

from .config import VideoConfig
from .frames import iter_frames

#: Video containers. Audio-only containers (.m4a, .ogg, .opus ...) belong to the audio modality.
EXTENSIONS = frozenset({".mp4", ".mkv", ".mov", ".webm", ".avi", ".m4v"})


def _start(segment: Segment) -> float:
    return segment.locator.start or 0.0


class VideoModality(Modality):
    """Frames sampled by scene change (never near-identical twice, never blank) and the audio
    track transcribed by a :class:`~mmsearch.transcriber.Transcriber` (the audio plugin's Whisper
    when installed), merged in time order. Without a transcriber, or with ``video.transcribe``
    off, a video yields its frames only.

    Construction only parses settings; the transcriber loads its model on the first video with sound.
    """

    name: ClassVar[str] = "video"
    extensions: ClassVar[frozenset[str]] = EXTENSIONS
    kinds: ClassVar[frozenset[str]] = frozenset({IMAGE, TEXT})
    streaming: ClassVar[bool] = True

    def __init__(self, settings: Settings | None = None, transcriber: Transcriber | None = None) -> None:
        self.settings = settings
        self.config = VideoConfig.from_settings(settings)
        self.transcriber = transcriber if self.config.transcribe else None

    def extract(self, source: Source) -> Iterator[Segment]:
        has_video, has_audio = _streams(source)
        if not has_video and not has_audio:
            raise ValueError("no video or audio stream")
        parts: list[Iterator[Segment]] = []
        if has_video:
            parts.append(iter_frames(source.path, self.config))
        if has_audio and self.transcriber is not None:
            # A second, audio-only demux of the same file: both streams advance together in the
            # merge below, so neither side is ever buffered whole.
            parts.append(iter(self.transcriber.transcribe(source.path)))
        yield from heapq.merge(*parts, key=_start)


def _streams(source: Source) -> tuple[bool, bool]:
    import av

    try:
        container: Any = av.open(str(source.path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:  # a truncated mp4 (index lost) or not a video at all
        # FFmpeg's own words, without its errno and the absolute path (the error names the file).
        detail = " ".join(str(exc.strerror or exc).split())
        raise ValueError(f"not a readable video ({detail})") from exc
    with container:
        return bool(container.streams.video), bool(container.streams.audio)
