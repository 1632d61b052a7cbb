"""Indexing speed and index size for video, end to end through ``Engine.index`` with the ``lite``
embedder: seconds of video indexed per wall-clock second, and vectors per minute of video, for a
scene-rich video (a new picture every 2 s) and a static one (one still), both narrated.

    python -m mmsearch_video.bench                # 120 s videos, narration on
    python -m mmsearch_video.bench --seconds 60 --no-speech

Model loading is excluded (a warm-up file is indexed first, as any real run amortises it);
decoding, scene sampling, transcription, embedding and the SQL writes are all included.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

SIZE = (640, 360)
SLIDE_SECONDS = 2.0
_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "immunohistochemistry", "retina",
           "colorwheel", "camera", "coins", "moon", "clock", "page", "text", "brick", "grass", "gravel", "cell")


@dataclass(frozen=True)
class Result:
    video: str
    seconds: float  # duration of the video
    wall: float  # seconds Engine.index took
    cpu: float  # CPU seconds this process used meanwhile (all threads): the figure a busy box distorts least
    vectors: int  # segments embedded (one vector each in the lite space)
    frames: int  # of which image segments

    @property
    def speed(self) -> float:
        return self.seconds / self.wall

    @property
    def per_minute(self) -> float:
        return self.vectors / (self.seconds / 60)


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _fit(image: Image.Image) -> Image.Image:
    return ImageOps.pad(image.convert("RGB"), SIZE, color=(0, 0, 0))


def slides(count: int, seed: int = 0) -> list[Image.Image]:
    """``count`` pairwise different pictures: scikit-image photos, their crops, flips and colour
    shifts, and synthetic patterns (noise, gradients, checkerboards)."""
    import skimage.data

    rng = np.random.default_rng(seed)
    photos = []
    for name in _PHOTOS:
        try:
            photos.append(Image.fromarray(np.asarray(getattr(skimage.data, name)())))
        except Exception:  # noqa: BLE001 - some samples need an optional download
            continue
    out: list[Image.Image] = []
    while len(out) < count:
        kind = len(out) % 4
        if kind == 0 or not photos:
            base = photos[(len(out) // 4) % len(photos)] if photos else None
            out.append(_fit(base) if base is not None else _fit(Image.new("RGB", SIZE)))
        elif kind == 1:
            photo = photos[int(rng.integers(len(photos)))].convert("RGB")
            w, h = photo.size
            x, y = int(rng.integers(0, w // 2)), int(rng.integers(0, h // 2))
            crop = photo.crop((x, y, x + w // 2, y + h // 2))
            out.append(_fit(ImageOps.mirror(crop) if rng.random() < 0.5 else crop))
        elif kind == 2:
            photo = np.asarray(photos[int(rng.integers(len(photos)))].convert("RGB"))
            out.append(_fit(Image.fromarray(photo[..., rng.permutation(3)])))  # channels swapped
        else:
            h, w = SIZE[1], SIZE[0]
            pattern = int(rng.integers(3))
            if pattern == 0:
                array = (rng.random((h // 8, w // 8, 3)) * 255).astype(np.uint8)
                out.append(Image.fromarray(array).resize(SIZE, Image.Resampling.NEAREST))
            elif pattern == 1:
                gx, gy = np.meshgrid(np.linspace(0, 1, w), np.linspace(0, 1, h))
                colour = rng.random(3)
                array = np.stack([(gx * c + gy * (1 - c)) for c in colour], axis=-1) * 255
                out.append(Image.fromarray(array.astype(np.uint8)))
            else:
                cell = int(rng.integers(10, 60))
                board = ((np.indices((h, w)) // cell).sum(axis=0) % 2).astype(np.uint8) * 255
                out.append(Image.fromarray(board).convert("RGB"))
    return out


def encode(out: Path, pictures: list[Image.Image], seconds_each: float, speech: Path | None, fps: int = 25) -> Path:
    """H.264 slideshow of ``pictures`` (``seconds_each`` apiece) with ``speech`` as its AAC track."""
    folder = out.parent / (out.stem + "-slides")
    folder.mkdir(parents=True, exist_ok=True)
    listing = folder / "list.txt"
    lines = []
    for i, picture in enumerate(pictures):
        path = folder / f"{i:04d}.png"
        picture.save(path)
        lines += [f"file '{path}'", f"duration {seconds_each}"]
    lines.append(f"file '{folder / f'{len(pictures) - 1:04d}.png'}'")  # concat demuxer: last entry twice
    listing.write_text("\n".join(lines) + "\n")
    total = len(pictures) * seconds_each
    args = ["ffmpeg", "-y", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing)]
    if speech is not None:
        args += ["-stream_loop", "-1", "-i", str(speech), "-map", "0:v", "-map", "1:a", "-c:a", "aac", "-b:a", "64k"]
    args += ["-t", f"{total}", "-vf", f"fps={fps},format=yuv420p", "-c:v", "libx264", "-preset", "veryfast", str(out)]
    _run(*args)
    shutil.rmtree(folder)
    return out


def make_videos(folder: Path, seconds: float, narrated: bool) -> dict[str, Path]:
    from mmsearch_audio.bench import make_speech  # espeak-ng sentences on many topics

    speech = make_speech(folder / "speech", min(seconds, 60.0)) if narrated else None
    count = max(1, int(seconds / SLIDE_SECONDS))
    scene = encode(folder / "scene-rich" / "scene-rich.mp4", slides(count), SLIDE_SECONDS, speech)
    still = slides(1)[0]
    static = encode(folder / "static" / "static.mp4", [still], seconds, speech)
    warm = encode(folder / "warmup" / "warmup.mp4", slides(2, seed=1), 1.0, speech)
    return {"warmup": warm, "scene-rich": scene, "static": static}


def duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.duration or 0) / 1_000_000


def count_frames(path: Path) -> int:
    from mmsearch.settings import Settings
    from mmsearch.testing.contracts import source_for

    from .modality import VideoModality

    quiet = VideoModality(Settings(environ={}, overrides={"video.transcribe": False}))
    return sum(1 for _ in quiet.segments(source_for(path)))


def measure(videos: dict[str, Path], index_dir: Path) -> list[Result]:
    import mmsearch

    os.environ["MMSEARCH_LOAD_PLUGINS"] = "video,audio,lite"  # audio: the narration's transcriber
    results = []
    with mmsearch.Engine.open(index_dir, embedders=["lite"]) as engine:
        engine.index([videos["warmup"].parent])  # loads lite and Whisper outside the timings
        for name in ("scene-rich", "static"):
            path = videos[name]
            started, cpu_started = time.perf_counter(), time.process_time()
            summary = engine.index([path.parent])
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            if summary.failed:
                raise SystemExit(f"{name}: {summary.failures[0].error}")
            results.append(Result(name, duration(path), wall, cpu, summary.segments, count_frames(path)))
    return results


def table(results: list[Result]) -> str:
    lines = [
        "| video | length s | wall s | video s per wall s | CPU s | video s per CPU s "
        "| vectors (frames + speech) | vectors per minute |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.video} | {r.seconds:.0f} | {r.wall:.1f} | {r.speed:.1f} | {r.cpu:.1f} | {r.seconds / r.cpu:.1f} "
            f"| {r.vectors} ({r.frames} + {r.vectors - r.frames}) | {r.per_minute:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mmsearch_video.bench")
    parser.add_argument("--seconds", type=float, default=120.0, help="length of each video")
    parser.add_argument("--no-speech", action="store_true", help="videos without a narration track")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mmsearch-video-bench-") as tmp:
        videos = make_videos(Path(tmp), args.seconds, narrated=not args.no_speech)
        results = measure(videos, Path(tmp) / "index")
    print(table(results))
    rows = [{**asdict(r), "speed": round(r.speed, 2), "per_minute": round(r.per_minute, 2)} for r in results]
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
