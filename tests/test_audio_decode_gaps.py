"""Damage in the middle of a recording must not shift what follows it: an outside probe damaged
4 kB of an Ogg file and every later deep link came 2 s early (the demuxer drops the damaged pages
whole, so no decoder error marks the hole; only the timestamps show it)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from mmsearch_audio.decode import SAMPLE_RATE, iter_audio

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg makes the recording")


def _tone_silence_tone(path: Path) -> Path:
    """10 s of a tone, 4 s of silence, 10 s of another tone, as Ogg Vorbis (about 27 kB)."""
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i", "sine=f=440:d=10:r=22050",
                    "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono:d=4", "-f", "lavfi", "-i", "sine=f=660:d=10:r=22050",
                    "-filter_complex", "[0][1][2]concat=n=3:v=0:a=1", "-c:a", "libvorbis", str(path)], check=True)
    return path


def _decoded(path: Path) -> tuple[float, float]:
    """(length in seconds, when the second tone starts: after the last quiet stretch over 3 s; the
    silence put in place of damage is shorter)."""
    audio = np.concatenate(list(iter_audio(path)))
    loud = np.flatnonzero(np.abs(audio) > 0.05)
    after_silence = loud[np.flatnonzero(np.diff(loud) > 3 * SAMPLE_RATE)[-1] + 1]
    return len(audio) / SAMPLE_RATE, after_silence / SAMPLE_RATE


def test_a_damaged_middle_keeps_the_time_of_everything_after_it(tmp_path: Path) -> None:
    original = _tone_silence_tone(tmp_path / "talk.ogg")
    length, onset = _decoded(original)
    assert onset == pytest.approx(14.0, abs=0.1)
    data = original.read_bytes()
    shifted = []
    for share in (0.2, 0.3, 0.4, 0.5, 0.6, 0.7):  # 1 kB zeroed here and there, past the headers
        at = int(len(data) * share)
        damaged = tmp_path / f"damaged-{share}.ogg"
        damaged.write_bytes(data[:at] + bytes(1024) + data[at + 1024:])
        got_length, got_onset = _decoded(damaged)
        if abs(got_onset - onset) > 0.1 or abs(got_length - length) > 0.1:
            shifted.append((share, round(got_length, 2), round(got_onset, 2)))
    assert shifted == [], f"original: {length:.2f} s, second tone at {onset:.2f} s"
