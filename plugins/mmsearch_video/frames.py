"""Video track in, timed frame segments out, streamed: one decoded frame and one pending picture
are held at a time, however long the video.

Cost control: the codec decodes on all cores (``thread_type = "AUTO"``) and skips frames nothing
else refers to; only ``analysis_fps`` frames a second are looked at, each scaled by swscale
straight from YUV to a 32x32 colour thumbnail; only the frames kept are converted to RGB, at
``max_side``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from mmsearch.types import IMAGE, Locator, Segment

from .config import VideoConfig
from .sampler import SIGNATURE_SIDE, Action, SceneSampler

#: A file whose frames stop this much short of the duration its header declares is truncated.
_TRUNCATED_SLACK = 0.2  # share of the declared duration
_TRUNCATED_MIN_SECONDS = 2.0
_PROBE_PACKETS = 48  # packets read to tell a sparse stream from a dense one when the header cannot


@dataclass
class _Pending:
    """The frame of the open segment, waiting for its end time."""

    start: float
    image: Image.Image
    time: float  # the time of the frame shown (may be after ``start`` when a cut fell in a hold)


def signature(frame: Any) -> np.ndarray:
    """The 32x32 RGB thumbnail the sampler decides on, as float32 in [0, 1]."""
    small = frame.reformat(width=SIGNATURE_SIDE, height=SIGNATURE_SIDE, format="rgb24", interpolation="AREA")
    return small.to_ndarray().astype(np.float32) / 255.0


def display_size(width: int, height: int, aspect: float, max_side: int) -> tuple[int, int]:
    """Width and height to show a ``width`` x ``height`` frame with pixel aspect ``aspect`` at
    most ``max_side`` px on its longer side (never upscaled; even, for the YUV scalers)."""
    shown_w = width * aspect if aspect > 0 else float(width)
    scale = min(1.0, max_side / max(shown_w, height))
    return max(2, int(round(shown_w * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


def picture(frame: Any, aspect: float, max_side: int) -> Image.Image:
    """The frame as an upright RGB image of at most ``max_side`` px."""
    width, height = display_size(frame.width, frame.height, aspect, max_side)
    image = frame.to_image(width=width, height=height, interpolation="AREA")
    rotation = int(getattr(frame, "rotation", 0) or 0) % 360  # phone videos store portrait as rotated
    if rotation:
        image = image.rotate(rotation, expand=True)
    return image


def _timed(container: Any, stream: Any) -> Iterator[tuple[float, Any]]:
    """``(seconds from the stream's start, frame)`` for each decoded frame.

    A packet the decoder refuses (damaged bytes in the middle of a file) is passed over, as ffmpeg
    and players do, so the rest of the video is still seen; a file of which nothing at all decodes
    is refused with a plain reason."""
    import av

    origin = float(stream.start_time * stream.time_base) if stream.start_time is not None else 0.0
    rate = float(stream.average_rate or stream.guessed_rate or 25)
    index = damaged = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except av.InvalidDataError:
            damaged += 1
            continue
        for frame in frames:
            t = frame.time - origin if frame.time is not None else index / rate
            index += 1
            yield max(0.0, t), frame
    if damaged and not index:
        raise ValueError(f"not a readable video: none of its {damaged} damaged video packets decodes")


def _declared_duration(container: Any, stream: Any) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    return None


def _sparse(path: Path | str, stream: Any, declared: float | None, every: float) -> bool:
    """Whether the stream has fewer frames than looks (a slideshow exported one frame per still).
    Matroska and WebM declare no frame count and a nominal rate (25 fps for one frame in 6 s), so
    there the first packets' timestamps are read, from a second handle (no decoding, no seek)."""
    frames = int(stream.frames or 0)
    if frames and declared:
        return frames / declared < 2.0 / every
    import av

    times = []
    with av.open(str(path), mode="r", metadata_errors="ignore") as probe:
        for packet in probe.demux(probe.streams.video[0]):
            if packet.pts is not None and packet.time_base is not None:
                times.append(float(packet.pts * packet.time_base))
            if len(times) >= _PROBE_PACKETS:
                break
    if len(times) < 2:
        return False
    span = max(times) - min(times)
    return span > 0 and (len(times) - 1) / span < 2.0 / every


def iter_frames(path: Path | str, config: VideoConfig) -> Iterator[Segment]:
    """Segments of kind ``image`` for the first video stream of ``path``, in time order."""
    import av

    with av.open(str(path), mode="r", metadata_errors="ignore") as container:
        if not container.streams.video:
            return
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"  # frame + slice threads: decoding is the dominant cost
        declared = _declared_duration(container, stream)
        every = 1.0 / config.analysis_fps
        skipping = not _sparse(path, stream, declared, every)
        if skipping:
            # Frames no other frame refers to (most B-frames) are never needed to decode the rest,
            # and at a few looks a second we would throw almost all of them away. Not in a sparse
            # stream (a slideshow, a screen recording): there one B-frame may be a whole shot.
            stream.codec_context.skip_frame = "NONREF"
        aspect = float(stream.codec_context.sample_aspect_ratio or 1)
        sampler = SceneSampler(config)
        pending: _Pending | None = None
        last_t, frame_seconds = 0.0, 1.0 / float(stream.average_rate or 25)
        next_look = float("-inf")
        held: tuple[float, Any, np.ndarray] | None = None  # the last frame looked at: (time, frame, signature)
        hold_looks = math.ceil(config.min_interval / every) + 2  # enough for the sampler to take a held picture

        def look(t: float, frame: Any, sig: np.ndarray) -> Iterator[Segment]:
            nonlocal pending
            decision = sampler.feed(t, sig)
            if decision.action is Action.NONE:
                return
            if pending is not None:
                yield _segment(pending, decision.at)
                pending = None
            if decision.action is Action.KEEP:
                pending = _Pending(decision.at, picture(frame, aspect, config.max_side), t)

        for t, frame in _timed(container, stream):
            last_t = max(last_t, t)
            if t + 1e-6 < next_look:
                continue  # decoded (later frames need it) but never scaled or compared
            if held is not None and t - held[0] > every:
                # A variable-rate stream: the last frame stayed on screen until this one. The looks
                # the grid put in between see it again, so a shot shown by one frame is seen to hold
                # (else the next shot's frame was taken for it, at its time).
                for n in range(1, min(hold_looks, math.ceil((t - held[0]) / every))):
                    yield from look(held[0] + n * every, held[1], held[2])
            # Looks on a fixed grid (0, 0.25, 0.5 ...), so a cut is seen at the first frame after it.
            next_look = t if next_look == float("-inf") else next_look
            next_look += every * max(1, math.floor((t - next_look) / every) + 1)
            held = (t, frame, signature(frame))
            yield from look(*held)
        end = last_t + frame_seconds if declared is None else min(last_t + frame_seconds, max(declared, last_t))
        if declared and declared - end > max(_TRUNCATED_MIN_SECONDS, _TRUNCATED_SLACK * declared):
            raise ValueError(f"truncated video: frames stop at {end:.1f} s of {declared:.1f} s")
        if pending is not None:
            yield _segment(pending, end)


def _segment(pending: _Pending, end: float) -> Segment:
    return Segment(
        kind=IMAGE,
        payload=pending.image,
        locator=Locator(start=round(pending.start, 3), end=round(max(end, pending.start), 3)),
        meta={"frame_time": round(pending.time, 3), "width": pending.image.width, "height": pending.image.height},
    )
