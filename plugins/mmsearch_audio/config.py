"""Typed view of the ``audio.*`` settings, parsed once per modality (env values arrive as strings)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mmsearch.settings import Settings, env_name, invalid, parse_bool, parse_float

BACKENDS = ("faster-whisper", "openai-whisper")
VAD_MODES = ("auto", "silero", "energy", "off")
DEFAULTS: dict[str, Any] = {
    "audio.backend": "faster-whisper",
    "audio.model": "tiny.en",
    "audio.device": None,  # None: follow the global ``device`` setting
    "audio.compute_type": "auto",  # faster-whisper: int8 on CPU, float16 on GPU
    "audio.threads": 0,  # 0: the library's default (one per core)
    "audio.language": None,  # None: detected per window by multilingual models
    # faster-whisper's default: on CTranslate2 beam 5 costs ~6% over greedy (measured, tiny.en, 2
    # cores) and recovers words greedy drops; openai-whisper pays ~2x for it.
    "audio.beam_size": 5,
    "audio.vad": "auto",
    "audio.no_speech_threshold": 0.6,
    "audio.window_seconds": 30.0,
    # Seconds of silence that always end a transcript segment, so a hit's time is where its words are.
    "audio.max_pause": 2.0,
    "audio.cache_dir": None,  # None: platformdirs user cache
    "audio.allow_download": False,
}


def _get(settings: Settings | None, key: str) -> Any:
    if settings is None:
        value = os.environ.get(env_name(key))
        return DEFAULTS[key] if value is None else value
    return settings.get(key, DEFAULTS[key])


_bad = invalid  # one wording for every setting error


def _float(settings: Settings | None, key: str, low: float, high: float) -> float:
    return parse_float(key, _get(settings, key), low, high)


def _int(settings: Settings | None, key: str, low: int) -> int:
    value = _get(settings, key)
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise _bad(key, value, "a whole number") from None
    if number < low:
        raise _bad(key, value, f"at least {low}")
    return number


def _bool(settings: Settings | None, key: str) -> bool:
    return parse_bool(key, _get(settings, key))


def _choice(settings: Settings | None, key: str, choices: tuple[str, ...]) -> str:
    value = str(_get(settings, key)).strip().lower()
    if value not in choices:
        raise _bad(key, value, "one of " + ", ".join(choices))
    return value


def default_cache_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("mmsearch")) / "whisper"


@dataclass(frozen=True)
class AudioConfig:
    backend: str = DEFAULTS["audio.backend"]
    model: str = DEFAULTS["audio.model"]
    device: str = "auto"
    compute_type: str = "auto"
    threads: int = 0
    language: str | None = None
    beam_size: int = DEFAULTS["audio.beam_size"]
    vad: str = "auto"
    no_speech_threshold: float = DEFAULTS["audio.no_speech_threshold"]
    window_seconds: float = DEFAULTS["audio.window_seconds"]
    max_pause: float = DEFAULTS["audio.max_pause"]
    cache_dir: Path | None = None
    allow_download: bool = False

    @classmethod
    def from_settings(cls, settings: Settings | None) -> AudioConfig:
        device = _get(settings, "audio.device")
        if device is None:
            device = settings.get("device", "auto") if settings is not None else "auto"
        device = str(device).strip().lower()
        if device not in ("auto", "cpu", "cuda") and not device.startswith("cuda:"):
            raise _bad("audio.device", device, "auto, cpu or cuda")
        language = _get(settings, "audio.language")
        cache_dir = _get(settings, "audio.cache_dir")
        return cls(
            backend=_choice(settings, "audio.backend", BACKENDS),
            model=str(_get(settings, "audio.model")).strip(),
            device=device,
            compute_type=str(_get(settings, "audio.compute_type")).strip().lower(),
            threads=_int(settings, "audio.threads", 0),
            language=str(language).strip().lower() or None if language is not None else None,
            beam_size=_int(settings, "audio.beam_size", 1),
            vad=_choice(settings, "audio.vad", VAD_MODES),
            no_speech_threshold=_float(settings, "audio.no_speech_threshold", 0.0, 1.0),
            # Whisper sees 30 s at a time; longer windows would be cut again inside the model.
            window_seconds=_float(settings, "audio.window_seconds", 5.0, 30.0),
            # Over a window (30 s) a pause could never end a segment.
            max_pause=_float(settings, "audio.max_pause", 0.5, 30.0),
            cache_dir=Path(str(cache_dir)).expanduser() if cache_dir else None,
            allow_download=_bool(settings, "audio.allow_download"),
        )

    @property
    def resolved_cache_dir(self) -> Path:
        return self.cache_dir or default_cache_dir()

    def model_key(self) -> tuple[Any, ...]:
        """What identifies one loaded model: configs that share it share the instance."""
        return (self.backend, self.model, self.device, self.compute_type, self.threads, str(self.resolved_cache_dir))
