"""CTranslate2 Whisper folder -> openai-whisper checkpoint (``{"dims", "model_state_dict"}``).

No registry ships openai-whisper ``.pt`` weights, but the CTranslate2 packages hold the same tensors
under other names (ctranslate2 ``specs/model_spec.py::_serialize`` writes them; the transformers
converter fuses q/k/v). Converting keeps one source of weights for both backends, so both
transcribe with the same model.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import struct
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

# Order of ctranslate2's DataType enum (include/ctranslate2/types.h).
_DTYPES = (np.float32, np.int8, np.int16, np.int32, np.float16, "bfloat16")
SUPPORTED_VERSIONS = (5, 6)


class ConversionError(ValueError):
    """The folder is not a CTranslate2 Whisper model this converter understands."""


def _read(f: BinaryIO, fmt: str) -> Any:
    size = struct.calcsize(fmt)
    data = f.read(size)
    if len(data) != size:
        raise ConversionError("model.bin is truncated")
    return struct.unpack("<" + fmt, data)[0]


def _string(f: BinaryIO) -> str:
    length = _read(f, "H")
    return f.read(length)[:-1].decode("utf-8")  # stored NUL-terminated


def read_ct2(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """Read a CTranslate2 ``model.bin`` into (spec name, {variable: float32-or-int array}), aliases resolved."""
    variables: dict[str, np.ndarray] = {}
    with open(path, "rb") as f:
        version = _read(f, "I")
        if version not in SUPPORTED_VERSIONS:
            raise ConversionError(f"model.bin binary version {version} is not supported (expected 5 or 6)")
        spec = _string(f)
        _read(f, "I")  # spec revision
        for _ in range(_read(f, "I")):
            name = _string(f)
            shape = tuple(_read(f, "I") for _ in range(_read(f, "B")))
            type_id, nbytes = _read(f, "B"), _read(f, "I")
            raw = f.read(nbytes)
            if len(raw) != nbytes or type_id >= len(_DTYPES):
                raise ConversionError(f"model.bin is damaged at variable {name!r}")
            if _DTYPES[type_id] == "bfloat16":  # numpy has no bfloat16: widen to float32 bits
                array = (np.frombuffer(raw, np.uint16).astype(np.uint32) << 16).view(np.float32)
            else:
                array = np.frombuffer(raw, _DTYPES[type_id])
            variables[name] = array.reshape(shape)
        for _ in range(_read(f, "I")):
            alias, target = _string(f), _string(f)
            variables[alias] = variables[target]
    return spec, variables


def _weight(v: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    weight = v[f"{prefix}/weight"]
    scale = v.get(f"{prefix}/weight_scale")
    if scale is not None:  # int8-quantised: CTranslate2 stores round(w * scale) per output row
        weight = weight.astype(np.float32) / np.asarray(scale, np.float32).reshape(-1, 1)
    return weight


def _linear(v: dict[str, np.ndarray], src: str, dst: str, bias: bool = True) -> Iterator[tuple[str, np.ndarray]]:
    yield f"{dst}.weight", _weight(v, src)
    if bias:
        yield f"{dst}.bias", v[f"{src}/bias"]


def _split(v: dict[str, np.ndarray], src: str, dsts: tuple[str, ...]) -> Iterator[tuple[str, np.ndarray]]:
    """Undo CTranslate2's fused projections (q|k|v or k|v). Whisper's key projection has no bias."""
    weights = np.split(_weight(v, src), len(dsts))
    biases = np.split(v[f"{src}/bias"], len(dsts))
    for dst, weight, bias in zip(dsts, weights, biases):
        yield f"{dst}.weight", weight
        if not dst.endswith(".key"):
            yield f"{dst}.bias", bias


def _norm(v: dict[str, np.ndarray], src: str, dst: str) -> Iterator[tuple[str, np.ndarray]]:
    yield f"{dst}.weight", v[f"{src}/gamma"]
    yield f"{dst}.bias", v[f"{src}/beta"]


def _layers(v: dict[str, np.ndarray], side: str) -> int:
    return len({k.split("/")[1] for k in v if re.match(rf"{side}/layer_\d+/", k)})


def _block(v: dict[str, np.ndarray], src: str, dst: str, cross: bool) -> Iterator[tuple[str, np.ndarray]]:
    yield from _split(v, f"{src}/self_attention/linear_0", (f"{dst}.attn.query", f"{dst}.attn.key", f"{dst}.attn.value"))
    yield from _linear(v, f"{src}/self_attention/linear_1", f"{dst}.attn.out")
    yield from _norm(v, f"{src}/self_attention/layer_norm", f"{dst}.attn_ln")
    if cross:
        yield from _linear(v, f"{src}/attention/linear_0", f"{dst}.cross_attn.query")
        yield from _split(v, f"{src}/attention/linear_1", (f"{dst}.cross_attn.key", f"{dst}.cross_attn.value"))
        yield from _linear(v, f"{src}/attention/linear_2", f"{dst}.cross_attn.out")
        yield from _norm(v, f"{src}/attention/layer_norm", f"{dst}.cross_attn_ln")
    yield from _linear(v, f"{src}/ffn/linear_0", f"{dst}.mlp.0")
    yield from _linear(v, f"{src}/ffn/linear_1", f"{dst}.mlp.2")
    yield from _norm(v, f"{src}/ffn/layer_norm", f"{dst}.mlp_ln")


def ct2_to_openai(model_dir: Path) -> dict[str, Any]:
    """Build an openai-whisper checkpoint dict from a CTranslate2 Whisper folder."""
    import torch

    spec, v = read_ct2(model_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ConversionError(f"{model_dir} holds a {spec}, not a Whisper model")
    n_audio, n_text = _layers(v, "encoder"), _layers(v, "decoder")
    conv1 = v["encoder/conv1/weight"]
    embeddings = v["decoder/embeddings/weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(v["encoder/position_encodings/encodings"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": int(v["encoder/num_heads"]),
        "n_audio_layer": n_audio,
        "n_vocab": int(embeddings.shape[0]),
        "n_text_ctx": int(v["decoder/position_encodings/encodings"].shape[0]),
        "n_text_state": int(embeddings.shape[1]),
        "n_text_head": int(v["decoder/num_heads"]),
        "n_text_layer": n_text,
    }
    pairs: list[tuple[str, np.ndarray]] = [
        ("encoder.conv1.weight", conv1),
        ("encoder.conv1.bias", v["encoder/conv1/bias"]),
        ("encoder.conv2.weight", v["encoder/conv2/weight"]),
        ("encoder.conv2.bias", v["encoder/conv2/bias"]),
        ("encoder.positional_embedding", v["encoder/position_encodings/encodings"]),
        ("decoder.token_embedding.weight", embeddings),
        ("decoder.positional_embedding", v["decoder/position_encodings/encodings"]),
    ]
    for i in range(n_audio):
        pairs += _block(v, f"encoder/layer_{i}", f"encoder.blocks.{i}", cross=False)
    for i in range(n_text):
        pairs += _block(v, f"decoder/layer_{i}", f"decoder.blocks.{i}", cross=True)
    pairs += _norm(v, "encoder/layer_norm", "encoder.ln_post")
    pairs += _norm(v, "decoder/layer_norm", "decoder.ln")
    # openai-whisper checkpoints are float16; its loader upcasts on CPU. The positional table is
    # float32 in openai's own code, so keep it at full precision.
    state = {
        name: torch.from_numpy(np.array(array)).to(
            torch.float32 if name == "encoder.positional_embedding" else torch.float16
        )
        for name, array in pairs
    }
    checkpoint: dict[str, Any] = {"dims": dims, "model_state_dict": state}
    config = model_dir / "config.json"
    if config.is_file():  # openai-whisper keeps these separately; needed only for word timestamps
        heads = json.loads(config.read_text("utf-8")).get("alignment_heads")
        if heads:
            checkpoint["alignment_heads"] = [list(map(int, pair)) for pair in heads]
    return checkpoint


def openai_checkpoint(model_dir: Path, cache_dir: Path) -> Path:
    """Convert once and cache; the file name keys on the source so an updated model reconverts."""
    import torch

    source = (model_dir / "model.bin").resolve()
    stat = source.stat()
    key = hashlib.sha256(f"{source}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = cache_dir / "openai" / f"{model_dir.name}-{key}.pt"
    if target.is_file():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = ct2_to_openai(model_dir)
    fd, tmp = tempfile.mkstemp(prefix=".convert-", suffix=".pt", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            torch.save(checkpoint, out)
        os.replace(tmp, target)  # atomic: readers never see a half-written checkpoint
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target
