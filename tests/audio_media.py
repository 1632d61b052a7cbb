"""Real speech for the audio tests, made once per session: espeak-ng sentences on distinct topics,
a long file with silence between them, silence, noise and tones, and sound-theme-freedesktop clips.

Imported by tests/test_audio_*.py (not a test module itself).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

try:  # entry points and package-dir mapping for mmsearch_audio are wired in pyproject later
    import mmsearch_audio  # noqa: F401
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "plugins"))

FREEDESKTOP = Path("/usr/share/sounds/freedesktop/stereo")

#: topic -> (sentence, key words tiny.en gets right, the container it is saved as)
SENTENCES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "pasta": ("To cook pasta, boil a large pot of salted water and add the spaghetti for ten minutes.",
              ("pasta", "spaghetti"), "wav"),
    "volcano": ("The volcano erupted last night, and hot lava flowed down the mountain toward the village.",
                ("volcano", "erupted", "mountain", "village"), "mp3"),
    "football": ("In the football match, the striker scored a late goal and the crowd cheered in the stadium.",
                 ("football", "striker", "goal", "stadium"), "flac"),
    "stock": ("On the stock market today, shares of the bank fell sharply as investors sold their bonds.",
              ("stock", "market", "bank", "sharply"), "ogg"),
    "garden": ("In spring, the gardener planted tomatoes and roses in the garden behind the house.",
               ("tomatoes", "roses", "garden"), "opus"),
}
LONG_ORDER = ("pasta", "volcano", "football", "stock", "garden")
LEAD_SILENCE, GAP_SILENCE = 3.0, 7.0


@dataclass(frozen=True)
class Media:
    root: Path
    clips: dict[str, Path]  # topic -> single-sentence file
    long: Path  # all topics with silence between them
    long_spans: dict[str, tuple[float, float]]  # topic -> (start, end) seconds inside ``long``
    silence: Path
    noise: Path
    tones: Path
    corrupt: Path


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _duration(path: Path) -> float:
    out = subprocess.run(
        ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
        check=True, capture_output=True, text=True,
    )
    return float(out.stdout.strip())


def _silence(path: Path, seconds: float) -> Path:
    _run("ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", str(seconds),
         "-c:a", "pcm_s16le", str(path))
    return path


def _make(root: Path) -> Media:
    for tool in ("espeak-ng", "ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install espeak-ng ffmpeg)")
    root.mkdir(parents=True, exist_ok=True)
    raw: dict[str, Path] = {}
    clips: dict[str, Path] = {}
    for topic, (sentence, _, ext) in SENTENCES.items():
        raw[topic] = root / f"{topic}.raw.wav"
        _run("espeak-ng", "-w", str(raw[topic]), sentence)
        clips[topic] = root / f"{topic}.{ext}"
        if ext == "wav":
            shutil.copyfile(raw[topic], clips[topic])
        else:  # exercise each decoder: mp3, flac, vorbis in ogg, opus
            codec = {"mp3": "libmp3lame", "flac": "flac", "ogg": "libvorbis", "opus": "libopus"}[ext]
            _run("ffmpeg", "-y", "-v", "error", "-i", str(raw[topic]), "-c:a", codec, str(clips[topic]))

    # Long file: silence, sentence, silence, sentence... saved as AAC in .m4a. The gaps make it
    # ~60 s, so it crosses the 30 s window boundary and tests offsets across windows.
    lead, gap = _silence(root / "lead.wav", LEAD_SILENCE), _silence(root / "gap.wav", GAP_SILENCE)
    parts: list[Path] = [lead]
    spans: dict[str, tuple[float, float]] = {}
    t = LEAD_SILENCE
    for topic in LONG_ORDER:
        length = _duration(raw[topic])
        spans[topic] = (t, t + length)
        parts += [raw[topic], gap]
        t += length + GAP_SILENCE
    listing = root / "long.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    long = root / "long.m4a"
    _run("ffmpeg", "-y", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-c:a", "aac", "-b:a", "64k",
         str(long))

    silence = _silence(root / "silence.wav", 12.0)
    noise = root / "noise.flac"  # pink noise at a speech-like level
    _run("ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "anoisesrc=d=8:c=pink:r=16000:a=0.3", str(noise))
    tones = root / "tones.ogg"  # a little tune: a chord then an arpeggio
    _run("ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i",
         "aevalsrc='0.2*sin(2*PI*440*t)+0.2*sin(2*PI*554*t)+0.2*sin(2*PI*659*t*(1+floor(mod(t,2))))':d=8:s=22050",
         "-c:a", "libvorbis", str(tones))
    corrupt = root / "broken.mp3"
    corrupt.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 8)
    return Media(root, clips, long, spans, silence, noise, tones, corrupt)


_media: Media | None = None


def audio_media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    """Made on first use, then shared by every audio test module in the session."""
    global _media
    if _media is None:
        _media = _make(tmp_path_factory.mktemp("audio-media"))
    return _media


def words(text: str) -> set[str]:
    import re

    return set(re.findall(r"[a-z0-9']+", text.lower()))


#: Two short sentences tiny.en hears as one: before max_pause it returned one segment spanning both
#: across 8 s of silence (so a hit on the second linked to the first).
PAIR = ("It is raining today.", "Please close the door.")
PAIR_WORDS = (("raining", "today"), ("close", "door"))


@dataclass(frozen=True)
class Paused:
    path: Path
    gap: float  # seconds of silence between the sentences
    first: tuple[float, float]  # where PAIR[0] is said, seconds
    second: tuple[float, float]  # where PAIR[1] is said


def paused_pair(root: Path, gap: float, lead: float = 3.0) -> Paused:
    """``lead`` s of silence, PAIR[0], ``gap`` s of silence, PAIR[1], 2 s of silence, as an mp3."""
    root.mkdir(parents=True, exist_ok=True)
    spoken = []
    for i, sentence in enumerate(PAIR):
        wav = root / f"pair{i}.wav"
        if not wav.exists():
            _run("espeak-ng", "-w", str(wav), sentence)
        spoken.append(wav)
    lengths = [_duration(w) for w in spoken]
    parts = [_silence(root / f"lead{lead:g}.wav", lead), spoken[0], _silence(root / f"gap{gap:g}.wav", gap), spoken[1],
             _silence(root / "tail.wav", 2.0)]
    listing = root / f"pair-{gap:g}.txt"
    listing.write_text("".join(f"file '{p}'\n" for p in parts))
    out = root / f"pair-{gap:g}s.mp3"
    _run("ffmpeg", "-y", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing), "-c:a", "libmp3lame", str(out))
    second = lead + lengths[0] + gap
    return Paused(out, gap, (lead, lead + lengths[0]), (second, second + lengths[1]))
