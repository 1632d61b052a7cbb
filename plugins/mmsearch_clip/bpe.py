"""CLIP's byte-level BPE tokenizer without torch or ``import open_clip``.

A text query needs only token ids, but ``open_clip.tokenizer`` imports torch (seconds). This
re-states open_clip's ``SimpleTokenizer`` (OpenAI CLIP's algorithm) over the same vocabulary file,
found in open_clip's package folder without importing it, and returns NumPy ids. Equality with
open_clip's own ids is tested on many strings; models whose config names another tokenizer (a
Hugging Face one, SigLIP's) are not covered: :func:`for_arch` returns ``None`` for them.
"""

from __future__ import annotations

import gzip
import html
import importlib.util
import string
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

VOCAB_FILE = "bpe_simple_vocab_16e6.txt.gz"
_MERGES = 49152 - 256 - 2  # open_clip reads this many merge rules (the file holds more)
_SPECIAL = ("<start_of_text>", "<end_of_text>")
_CLEANERS = ("lower", "whitespace", "canonicalize")
_PLAIN = frozenset(string.ascii_letters + string.digits + " ,.!?'-:;()/\"")  # text ftfy leaves alone


def vocab_path() -> Path | None:
    spec = importlib.util.find_spec("open_clip")  # locates the package, imports nothing
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / VOCAB_FILE
    return path if path.is_file() else None


@lru_cache(maxsize=1)
def _byte_encoder() -> dict[int, str]:
    # Printable bytes map to themselves, the rest to code points from 256 up, so every byte has a
    # visible, non-space symbol the merge rules can name.
    kept = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    extra = [b for b in range(256) if b not in kept]
    return {b: chr(b) for b in kept} | {b: chr(256 + n) for n, b in enumerate(extra)}


def _merge_lines(path: Path) -> list[str]:
    """The first ``_MERGES`` merge rules (the file's first line is a version header); the gzip
    stream is read only as far as they go."""
    chunks: list[bytes] = []
    lines = 0
    with gzip.open(path) as stream:
        while lines <= _MERGES:
            chunk = stream.read(1 << 18)
            if not chunk:
                break
            chunks.append(chunk)
            lines += chunk.count(b"\n")
    # The last chunk may end inside a character: only bytes after the rules needed are lost.
    return b"".join(chunks).decode("utf-8", "ignore").split("\n", _MERGES + 1)[1 : _MERGES + 1]


def _pairs(word: tuple[str, ...]) -> set[tuple[str, str]]:
    return set(zip(word, word[1:]))


class ClipBPE:
    """Token ids as open_clip's ``SimpleTokenizer(context_length, clean=...)`` gives them."""

    def __init__(self, path: Path, context_length: int = 77, clean: str = "lower") -> None:
        import regex

        if importlib.util.find_spec("ftfy") is None:  # a load failure, not a crash at the first odd query
            raise ImportError("ftfy is not installed")

        if clean not in _CLEANERS:
            raise ValueError(f"unsupported tokenizer clean mode {clean!r}")
        self.context_length = context_length
        self.clean = clean
        # Built for a cold search's sake (0.2 s -> 0.07 s): only the lines read are split off, and
        # a merge rule stays the line "a b" (symbols never hold a space) rather than a tuple.
        merges = _merge_lines(path)
        symbols = list(_byte_encoder().values())
        vocab = symbols + [s + "</w>" for s in symbols] + [m.replace(" ", "") for m in merges] + list(_SPECIAL)
        self.encoder = dict(zip(vocab, range(len(vocab))))
        self.ranks = dict(zip(merges, range(len(merges))))  # later duplicates win, as in open_clip
        self.sot, self.eot = self.encoder[_SPECIAL[0]], self.encoder[_SPECIAL[1]]
        self._cache: dict[str, list[int]] = {}
        self._pattern = regex.compile(
            "|".join(_SPECIAL) + r"""|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+""",
            regex.IGNORECASE,
        )

    def _clean(self, text: str) -> str:
        if not _PLAIN.issuperset(text):
            # ftfy (0.1 s to import) changes only text with non-ASCII, control characters or HTML
            # entities; a typed query of plain ASCII words passes through it unchanged.
            import ftfy

            text = ftfy.fix_text(text)
        text = html.unescape(html.unescape(text)).strip()
        if self.clean == "canonicalize":
            text = text.replace("_", " ").translate(str.maketrans("", "", string.punctuation)).lower()
            return " ".join(text.split()).strip()
        text = " ".join(text.split()).strip()
        return text.lower() if self.clean == "lower" else text

    def _bpe(self, token: str) -> list[int]:
        if token in self._cache:
            return self._cache[token]
        if token in _SPECIAL:
            ids = [self.encoder[token]]
        else:
            word = (*token[:-1], token[-1] + "</w>")
            while len(word) > 1:
                best = min(_pairs(word), key=lambda pair: self.ranks.get(f"{pair[0]} {pair[1]}", len(self.ranks)))
                if f"{best[0]} {best[1]}" not in self.ranks:
                    break
                merged: list[str] = []
                i = 0
                while i < len(word):
                    if i < len(word) - 1 and (word[i], word[i + 1]) == best:
                        merged.append(word[i] + word[i + 1])
                        i += 2
                    else:
                        merged.append(word[i])
                        i += 1
                word = tuple(merged)
            ids = [self.encoder[symbol] for symbol in word]
        self._cache[token] = ids
        return ids

    def encode(self, text: str) -> list[int]:
        """BPE ids of ``text`` without the start and end tokens (open_clip's ``encode``)."""
        table = _byte_encoder()
        ids: list[int] = []
        for token in self._pattern.findall(self._clean(text)):
            ids.extend(self._bpe("".join(table[b] for b in token.encode("utf-8"))))
        return ids

    def __call__(self, texts: list[str]) -> np.ndarray:
        """(n, context_length) int64 ids: start, text, end, zero padding; a long text is cut and
        keeps the end token last, as open_clip does."""
        out = np.zeros((len(texts), self.context_length), dtype=np.int64)
        for row, text in enumerate(texts):
            ids = [self.sot, *self.encode(text), self.eot][: self.context_length]
            ids[-1] = self.eot
            out[row, : len(ids)] = ids
        return out


def for_arch(text_cfg: dict[str, Any], arch: str) -> ClipBPE | None:
    """The tokenizer open_clip's ``get_tokenizer(arch)`` would build, when it is the BPE one."""
    kwargs = dict(text_cfg.get("tokenizer_kwargs") or {})
    if text_cfg.get("hf_tokenizer_name") or "siglip" in arch.lower() or kwargs.get("reduction_mask"):
        return None
    if set(kwargs) - {"clean"} or kwargs.get("clean", "lower") not in _CLEANERS:
        return None
    path = vocab_path()
    if path is None:
        return None
    return ClipBPE(path, int(text_cfg.get("context_length", 77)), str(kwargs.get("clean", "lower")))
