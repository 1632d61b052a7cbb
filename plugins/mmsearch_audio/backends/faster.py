"""faster-whisper (CTranslate2): the default backend, int8 on CPU and float16 on GPU."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from mmsearch.errors import ModelUnavailableError

from ..config import AudioConfig
from ..gates import gated_speech
from ..pauses import Decoded, Word, pieces
from ..weights import resolve_model
from . import DecodeOptions, TranscriptSegment


def _device(requested: str) -> tuple[str, int]:
    if requested == "auto":
        import ctranslate2

        return ("cuda", 0) if ctranslate2.get_cuda_device_count() > 0 else ("cpu", 0)
    if requested.startswith("cuda:"):
        return "cuda", int(requested.split(":", 1)[1])
    return requested, 0


@dataclass
class FasterWhisper:
    model: Any  # faster_whisper.WhisperModel
    model_name: str
    device: str
    backend: str = "faster-whisper"

    @classmethod
    def load(cls, config: AudioConfig) -> FasterWhisper:
        try:
            from faster_whisper import WhisperModel
        except ImportError as exc:
            raise ModelUnavailableError("audio.backend faster-whisper needs `pip install faster-whisper`") from exc
        source = resolve_model(config.model, config.resolved_cache_dir, config.allow_download)
        if source.is_checkpoint:
            raise ModelUnavailableError(
                f"Whisper model {config.model!r} is an openai-whisper .pt file; faster-whisper needs a CTranslate2 folder"
            )
        device, index = _device(config.device)
        compute = config.compute_type
        if compute == "auto":
            compute = "float16" if device == "cuda" else "int8"
        # A folder is loaded as is; only a hub name may reach the network, and resolve_model
        # returns one only when downloads are allowed.
        model = WhisperModel(
            str(source.path) if source.path is not None else str(source.hub),
            device=device,
            device_index=index,
            compute_type=compute,
            # ctranslate2 defaults to 4 threads: oversubscribed on the 2-core machines we target.
            cpu_threads=config.threads or min(4, os.cpu_count() or 1),
            download_root=str(config.resolved_cache_dir / "hub"),
            local_files_only=source.path is not None,
        )
        return cls(model=model, model_name=source.name, device=device)

    def transcribe(self, audio: np.ndarray, options: DecodeOptions) -> Iterator[TranscriptSegment]:
        # The gate is faster-whisper's own Silero VAD (what vad_filter=True runs), applied here
        # rather than inside transcribe() so both backends decode exactly the same speech and
        # share TimeMap.span, which places segment starts better than vad_filter's mapping, and
        # pauses.pieces, which ends a segment at every long pause.
        gated = gated_speech(audio, options.vad)
        if gated is None:
            return
        timemap, speech = gated
        segments, info = self.model.transcribe(
            speech,
            language=options.language,
            beam_size=options.beam_size,
            temperature=list(options.temperatures),
            best_of=options.best_of,
            # Windows are transcribed independently: conditioning on earlier text is what lets
            # one hallucination seed the next.
            condition_on_previous_text=False,
            no_speech_threshold=options.no_speech_threshold,
            vad_filter=False,
            # Word times show the pauses the gate cut out, so a long one can end a segment.
            word_timestamps=True,
        )
        decoded = (
            Decoded(
                start=float(s.start),
                end=float(s.end),
                text=s.text,
                words=tuple(Word(float(w.start), float(w.end), w.word) for w in s.words or ()),
                avg_logprob=float(s.avg_logprob),
                no_speech_prob=float(s.no_speech_prob),
            )
            for s in segments
        )
        for piece in pieces(timemap, decoded, options.max_pause):
            yield TranscriptSegment(
                start=piece.start,
                end=piece.end,
                text=piece.text,
                language=info.language,
                avg_logprob=piece.avg_logprob,
                no_speech_prob=piece.no_speech_prob,
            )
