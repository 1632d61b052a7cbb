"""The OCR settings, read and checked once per call (cheap: a few dictionary look-ups)."""

from __future__ import annotations

from dataclasses import dataclass

from mmsearch.settings import Settings, invalid, parse_float

MODES = ("auto", "always", "never")


@dataclass(frozen=True)
class OcrConfig:
    mode: str = "auto"
    modalities: frozenset[str] = frozenset({"image", "pdf"})
    lang: str = "eng"
    min_confidence: float = 50.0

    @classmethod
    def from_settings(cls, settings: Settings) -> OcrConfig:
        # Two spellings: ``ocr`` (MMSEARCH_OCR, or a top-level TOML key) and ``ocr.mode`` (``mode``
        # under an ``[ocr]`` table, which TOML forbids beside a top-level ``ocr`` key). The short one wins.
        short = settings.get("ocr")
        key = "ocr" if short is not None else "ocr.mode"
        mode = str(short if short is not None else settings.get("ocr.mode", "auto")).strip().lower()
        if mode not in MODES:
            raise invalid(key, mode, " or ".join(f'"{m}"' for m in MODES))
        raw = settings.get("ocr.modalities", "image,pdf")
        names = raw if isinstance(raw, (list, tuple)) else str(raw).split(",")
        return cls(
            mode=mode,
            modalities=frozenset(n.strip() for n in names if n.strip()),
            lang=str(settings.get("ocr.lang", "eng")),
            min_confidence=parse_float("ocr.min_confidence", settings.get("ocr.min_confidence", 50), 0, 100),
        )
