"""openai-whisper (PyTorch), fed a checkpoint converted from the same CTranslate2 weights."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mmsearch.errors import ModelUnavailableError

from ..config import AudioConfig
from ..convert import openai_checkpoint
from ..gates import gated_speech
from ..pauses import Decoded, Word, pieces
from ..weights import resolve_model
from . import DecodeOptions, TranscriptSegment


def _alignment_heads(model: Any, heads: list[list[int]]) -> None:
    import torch

    mask = torch.zeros(model.dims.n_text_layer, model.dims.n_text_head, dtype=torch.bool)
    for layer, head in heads:
        mask[layer, head] = True
    model.register_buffer("alignment_heads", mask.to_sparse(), persistent=False)


@dataclass
class OpenAIWhisper:
    model: Any  # whisper.model.Whisper
    model_name: str
    device: str
    backend: str = "openai-whisper"
    # openai-whisper installs kv-cache hooks on the shared modules while decoding: one at a time.
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @classmethod
    def load(cls, config: AudioConfig) -> OpenAIWhisper:
        try:
            import torch
            import whisper
        except ImportError as exc:
            raise ModelUnavailableError("audio.backend openai-whisper needs `pip install openai-whisper`") from exc
        device = config.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if config.threads:
            torch.set_num_threads(config.threads)
        source = resolve_model(config.model, config.resolved_cache_dir, config.allow_download)
        if source.path is None:  # a hub name, downloads allowed: openai-whisper fetches its own .pt
            model = whisper.load_model(str(source.hub), device=device, download_root=str(config.resolved_cache_dir / "openai"))
            return cls(model=model, model_name=source.name, device=device)
        path = source.path if source.is_checkpoint else openai_checkpoint(source.path, config.resolved_cache_dir)
        # What whisper.load_model does for a file, minus a second read to get the alignment heads.
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
        model = whisper.model.Whisper(whisper.model.ModelDimensions(**checkpoint["dims"]))
        model.load_state_dict(checkpoint["model_state_dict"])
        if checkpoint.get("alignment_heads"):
            _alignment_heads(model, checkpoint["alignment_heads"])
        model = model.to(device)
        return cls(model=model, model_name=source.name, device=device)

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> Iterator[TranscriptSegment]:
        import whisper

        # The same gate faster-whisper applies with vad_filter: only speech reaches the decoder.
        gated = gated_speech(audio, options.vad)
        if gated is None:
            return
        timemap, speech = gated
        language = options.language
        if language is None and not self.model.is_multilingual:
            language = "en"
        with self._lock:
            result = whisper.transcribe(
                self.model,
                speech,
                language=language,
                beam_size=options.beam_size if options.beam_size > 1 else None,
                temperature=options.temperatures,
                best_of=options.best_of,
                condition_on_previous_text=False,
                no_speech_threshold=options.no_speech_threshold,
                fp16=self.device.startswith("cuda"),
                verbose=None,
                # Word times show the pauses the gate cut out, so a long one can end a segment.
                word_timestamps=True,
            )
        decoded = [
            Decoded(
                start=float(s["start"]),
                end=float(s["end"]),
                text=str(s["text"]),
                words=tuple(Word(float(w["start"]), float(w["end"]), str(w["word"])) for w in s.get("words") or ()),
                avg_logprob=float(s["avg_logprob"]),
                no_speech_prob=float(s["no_speech_prob"]),
            )
            for s in result["segments"]
        ]
        for piece in pieces(timemap, decoded, options.max_pause):
            yield TranscriptSegment(
                start=piece.start,
                end=piece.end,
                text=piece.text,
                language=result.get("language"),
                avg_logprob=piece.avg_logprob,
                no_speech_prob=piece.no_speech_prob,
            )
