"""Audio in, 16 kHz mono float32 chunks out, streamed: a two-hour podcast never sits in memory."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

SAMPLE_RATE = 16_000
#: A hole in a stream's timestamps longer than this is filled with silence (shorter ones are the
#: resampler's buffering and codecs' frame rounding).
GAP_SAMPLES = SAMPLE_RATE // 10


def _resampler() -> Any:
    import av

    return av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)


def _flat(frames: Iterable[Any]) -> Iterator[np.ndarray]:
    for frame in frames:
        chunk = frame.to_ndarray().reshape(-1)
        if chunk.size:
            yield chunk.astype(np.float32, copy=False)


def iter_audio(path: Path | str) -> Iterator[np.ndarray]:
    """Decode the first audio stream of ``path`` frame by frame (PyAV/ffmpeg reads every format
    ffmpeg knows). Raises on a file with no audio or that ffmpeg cannot read."""
    import av

    try:
        opened: Any = av.open(str(path), mode="r", metadata_errors="ignore")
    except av.error.FFmpegError as exc:  # empty, truncated or not audio at all
        # FFmpeg's own words, without its errno and the absolute path (the error names the file).
        raise ValueError(f"not a readable audio file ({' '.join(str(exc.strerror or exc).split())})") from exc
    with opened as container:
        if not container.streams.audio:
            raise ValueError("no audio stream")
        stream = container.streams.audio[0]
        resampler = _resampler()
        emitted = 0  # samples yielded so far: where the next frame belongs unless its time says later
        start: float | None = None
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.InvalidDataError:
                # Damaged bytes: silence in its place, as players do, so later speech keeps its time
                # (a recording with one bad packet failed whole).
                if packet.duration and packet.time_base:
                    silence = round(float(packet.duration * packet.time_base) * SAMPLE_RATE)
                    emitted += silence
                    yield np.zeros(silence, dtype=np.float32)
                continue
            for frame in frames:
                if frame.pts is not None and frame.time_base:
                    at = float(frame.pts * frame.time_base)
                    start = at if start is None else start
                    # Pages the demuxer dropped whole (damage in an Ogg file) leave a hole in the
                    # timestamps and raise nothing: fill it, or every later link came 2 s early.
                    missing = round((at - start) * SAMPLE_RATE) - emitted
                    if missing > GAP_SAMPLES:
                        emitted += missing
                        yield np.zeros(missing, dtype=np.float32)
                for chunk in _flat(resampler.resample(frame)):
                    emitted += len(chunk)
                    yield chunk
        yield from _flat(resampler.resample(None))  # flush the resampler's tail


def to_mono_16k(frames: Iterable[Any], sample_rate: int = SAMPLE_RATE) -> Iterator[np.ndarray]:
    """Normalise what a caller has (``av.AudioFrame`` objects, or numpy arrays at ``sample_rate``:
    mono ``(n,)`` or ``(channels, n)``) into 16 kHz mono float32 chunks. The video modality hands
    its audio track's frames straight in."""
    import av

    resampler = None
    for item in frames:
        if isinstance(item, av.AudioFrame):
            resampler = resampler or _resampler()
            yield from _flat(resampler.resample(item))
            continue
        array = np.asarray(item, dtype=np.float32)
        if array.ndim == 2:  # (channels, n): average the channels
            array = array.mean(axis=0)
        if sample_rate == SAMPLE_RATE:
            if array.size:
                yield array
            continue
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(array[None, :]), format="flt", layout="mono")
        frame.sample_rate = sample_rate
        resampler = resampler or _resampler()
        yield from _flat(resampler.resample(frame))
    if resampler is not None:
        yield from _flat(resampler.resample(None))
