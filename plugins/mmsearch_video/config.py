"""Typed view of the ``video.*`` settings, parsed once per modality (env values arrive as strings)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mmsearch.errors import ConfigError
from mmsearch.settings import Settings, invalid, parse_bool, parse_float

DEFAULTS: dict[str, Any] = {
    # Never two frames of one shot closer than this: a fast-cut trailer still costs <= 1 vector/s.
    "video.min_interval": 1.0,
    # Re-look at least this often inside a long shot (pans, slow fades), unless nothing changed.
    "video.max_interval": 10.0,
    # Mean absolute difference (0..1) of a 32x32 colour thumbnail against the last sampled frame
    # above which a new shot starts. Hard cuts between unrelated shots mostly measure 0.12-0.4; a
    # cut missed here is still caught within max_interval.
    "video.scene_threshold": 0.1,
    # Below this difference a frame is "the same picture" and is not embedded again.
    "video.dedup_threshold": 0.03,
    # Frames whose thumbnail varies (standard deviation per channel, 0..1) less than this are blank
    # (black intro, fade, title card background) and are not embedded: they match every query alike.
    "video.blank_threshold": 0.02,
    # Frames per second looked at for the scene signal; the others are decoded but never converted.
    "video.analysis_fps": 4.0,
    # Longest side of an embedded frame (embedders look at 224-384 px).
    "video.max_side": 640,
    "video.transcribe": True,
}


def _get(settings: Settings | None, key: str) -> Any:
    return DEFAULTS[key] if settings is None else settings.get(key, DEFAULTS[key])


_bad = invalid  # one wording for every setting error


def _float(settings: Settings | None, key: str, low: float, high: float) -> float:
    return parse_float(key, _get(settings, key), low, high)


def _bool(settings: Settings | None, key: str) -> bool:
    return parse_bool(key, _get(settings, key))


@dataclass(frozen=True)
class VideoConfig:
    min_interval: float = DEFAULTS["video.min_interval"]
    max_interval: float = DEFAULTS["video.max_interval"]
    scene_threshold: float = DEFAULTS["video.scene_threshold"]
    dedup_threshold: float = DEFAULTS["video.dedup_threshold"]
    blank_threshold: float = DEFAULTS["video.blank_threshold"]
    analysis_fps: float = DEFAULTS["video.analysis_fps"]
    max_side: int = DEFAULTS["video.max_side"]
    transcribe: bool = DEFAULTS["video.transcribe"]

    @classmethod
    def from_settings(cls, settings: Settings | None) -> VideoConfig:
        min_interval = _float(settings, "video.min_interval", 0.0, 3600.0)
        max_interval = _float(settings, "video.max_interval", 0.1, 86400.0)
        if max_interval < min_interval:
            raise ConfigError(
                f"setting 'video.max_interval' ({max_interval:g}) must not be below "
                f"'video.min_interval' ({min_interval:g})"
            )
        return cls(
            min_interval=min_interval,
            max_interval=max_interval,
            scene_threshold=_float(settings, "video.scene_threshold", 0.0, 1.0),
            dedup_threshold=_float(settings, "video.dedup_threshold", 0.0, 1.0),
            blank_threshold=_float(settings, "video.blank_threshold", 0.0, 1.0),
            analysis_fps=_float(settings, "video.analysis_fps", 0.1, 240.0),
            max_side=int(_float(settings, "video.max_side", 32, 8192)),
            transcribe=_bool(settings, "video.transcribe"),
        )
