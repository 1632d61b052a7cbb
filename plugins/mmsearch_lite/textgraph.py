"""all-MiniLM-L6-v2 exported to ONNX, so a text query imports neither torch nor transformers.

A cold ``mmsearch search`` on the default ``lite`` space spent ~4.7 s of ~5.8 s importing torch and
transformers and loading BERT to embed a few words. The export (:mod:`.graphs`) is the whole
pipeline: BERT, mean pooling over the attention mask, L2 normalisation (91 MB, ~8 s once). Texts are
tokenized with the ``tokenizers`` library from the package's own ``tokenizer.json``, which is what
transformers' fast tokenizer runs (ids tested equal).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import graphs

PROBES = ("a photo of a dog", "x", "Ünïcödé café at night, 日本 🐱", "word " * 300)
MAX_TOKENS = 256  # all-MiniLM-L6-v2's sentence_bert_config.json: word pieces read per text
TOWER = "minilm-l6"


def paths_for(model_dir: Path, folder: Path | None = None) -> graphs.ExportPaths:
    return graphs.paths_for(TOWER, [model_dir / n for n in ("model.safetensors", "tokenizer.json", "config.json")], folder)


def runtime_available() -> bool:
    return graphs.runtime_available("tokenizers")


def _tokenizer(model_dir: Path, cut: bool = True) -> Any:
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    if cut:
        # The file pads every text to 128 and cuts there; sentence-transformers reads 256 and pads a
        # batch to its longest text, as transformers' tokenizer call in towers.MiniLM does.
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
    else:
        tokenizer.no_truncation()
        tokenizer.no_padding()
    return tokenizer


class OnnxMiniLM:
    """The exported tower with its tokenizer: ``encode`` and ``count_tokens`` as towers.MiniLM has them."""

    def __init__(self, paths: graphs.ExportPaths, model_dir: Path, threads: int, probes: int = 1) -> None:
        from mmsearch import warm

        meta = graphs.read_meta(paths)
        self.tokenizer = _tokenizer(model_dir)
        self._model_dir, self._counter = model_dir, None
        self.session = warm.onnx_session(paths.graph, threads)  # maybe opened already, in a thread
        worst = graphs.worst_cosine(self.encode(list(meta["probes"][:probes])), meta["probe_vectors"][:probes])
        if not worst >= graphs.MIN_COSINE:
            raise ValueError(f"the exported text tower disagrees with torch (cosine {worst:.5f} < {graphs.MIN_COSINE})")

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            encoded = self.tokenizer.encode_batch(texts[start : start + batch_size])
            ids = np.asarray([e.ids for e in encoded], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in encoded], dtype=np.int64)
            out.append(np.asarray(self.session.run(None, {"input_ids": ids, "attention_mask": mask})[0], dtype=np.float32))
        return np.concatenate(out) if out else np.zeros((0, 384), dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` before the 256 cut, [CLS] and [SEP] included."""
        if self._counter is None:  # its own tokenizer: switching one's truncation is not thread-safe
            self._counter = _tokenizer(self._model_dir, cut=False)
        return len(self._counter.encode(text).ids)


def open_tower(paths: graphs.ExportPaths, model_dir: Path, threads: int) -> OnnxMiniLM | None:
    """The checked tower, or ``None`` (absent, unreadable or failing its check: use torch)."""
    return graphs.open_checked(paths, lambda: OnnxMiniLM(paths, model_dir, threads), "text tower")


def export(minilm: Any, model_dir: Path, paths: graphs.ExportPaths) -> bool:
    """Export a loaded ``towers.MiniLM`` (CPU, fp32) and check it; never raises."""
    import torch

    class Pooled(torch.nn.Module):
        def __init__(self, bert: Any) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
            tokens = self.bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids)).last_hidden_state
            weights = mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    probes = list(PROBES)
    example = minilm.tokenizer(["a photo of a dog", "x"], padding=True, return_tensors="pt")
    dynamic = torch.export.Dim.DYNAMIC
    return graphs.guarded_export(
        paths, Pooled(minilm.model), (example["input_ids"], example["attention_mask"]),
        (["input_ids", "attention_mask"], ["vector"]), ({0: dynamic, 1: dynamic}, {0: dynamic, 1: dynamic}),
        {"source": str(model_dir.resolve()), "probes": probes, "probe_vectors": minilm.encode(probes).tolist()},
        lambda: OnnxMiniLM(paths, model_dir, threads=1, probes=len(probes)), "text tower")
