"""The base class an embedder plugin subclasses. Authors implement :meth:`Embedder.embed_batch`."""

from __future__ import annotations

import threading
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from .errors import EmbedError, PluginError
from .types import Space


def script_of(char: str) -> str:
    """A character's script as :attr:`Embedder.scripts` names it: the first word of its Unicode
    name (``LATIN``, ``CYRILLIC``, ``CJK``, ``HANGUL``; ``?`` for an unnamed one)."""
    return unicodedata.name(char, "?").split(" ", 1)[0]


@dataclass(frozen=True)
class ModelInfo:
    """What ``mmsearch models`` shows for an embedder."""

    available: bool  # usable here without a network
    weights: str  # where the weights come from
    detail: str = ""  # why not available, and how to make it so


@dataclass(frozen=True)
class MaxInput:
    """How much of one payload an embedder reads; the rest is silently dropped by the model.

    ``amount`` in ``unit``: ``"chars"``, ``"tokens"`` (the model's own tokenizer; count them
    with :meth:`Embedder.input_length`) or ``"words"``. ``chars_hint`` is a safe size in characters
    for a chunker when the unit is not characters (e.g. 256 word pieces ≈ 1,000 English characters).
    """

    amount: int
    unit: str = "tokens"
    chars_hint: int | None = None


class Embedder(ABC):
    """Maps payloads of some kinds into one embedding space.

    Authors implement :meth:`embed_batch` and set these public attributes:

    ``name`` (class, required)
        Unique embedder name: ``--embedder NAME``, ``mmsearch models``, the space key.
    ``kinds`` (class, required)
        Payload kinds it embeds (``"image"``, ``"text"``, a plugin's own). Declare only kinds
        :meth:`embed_batch` really handles: the conformance kit embeds a sample of each.
    ``model``, ``dim`` (instance, required)
        Identity of the weights (e.g. ``"ViT-B-32/laion2b_s34b_b79k"``) and vector size. An index
        records both and refuses to open when either changes.
    ``batch_size`` (default 32)
        Payloads per :meth:`embed_batch` call; the base class splits larger inputs.
    ``priority`` (class, default 0)
        Tie-breaker when a new index picks its embedder without ``--embedder``: among those whose
        weights are available offline, the one covering the most kinds wins, then the highest
        priority (built in: ``clip`` 100, ``lite`` 0), then the name. So a newly installed
        text-only embedder never silently becomes the default over an image–text one.
    ``scripts`` (instance or class, default ``None``: any)
        The Unicode scripts its text side was trained on, as the first word of a character's
        Unicode name (``{"LATIN"}`` for an English model; ``CJK``, ``CYRILLIC``, ``HIRAGANA``…). For
        a text query written mostly in other letters this space's scores are capped below the
        default cut (``legs.UNREAD_CAP``): an English model maps any Chinese sentence near any other
        (a query about New York's weather scored a Beijing note 0.96), so alone it never shows a
        match; it still orders results, and the keyword leg can carry a file over the cut.
    ``languages`` (instance or class, default ``None``: any)
        The languages its text side learnt, as ISO 639-1 codes (``{"en"}`` for an English model).
        A text query whose words are almost surely of another language (``search/language.py``:
        "lettre de démission" to an English model, which scored a French crêpe recipe 0.84 for it)
        is capped like one in an unlearnt script.
    ``max_input`` (instance or class, default ``None``: unlimited)
        A :class:`MaxInput` per kind: how much of one payload the model reads (MiniLM 256 word
        pieces, CLIP 77 tokens). Modalities should chunk below it; the conformance kit flags
        segments longer than it, since the model would silently truncate them.

    Optional methods: :meth:`load` (heavy set-up, run once on first use), :meth:`prepare`
    (per-payload preprocessing, run in decode threads so the model does not wait),
    :meth:`input_length` (a payload's length in ``max_input`` units), :meth:`embed_query_batch`
    (queries embedded unlike indexed segments, for asymmetric models) and :meth:`info`
    (``mmsearch models``: where the weights come from, whether they are usable offline).
    The base class owns batching, kind checks, dtype/shape checks and L2 normalisation.
    (``Modality.streaming`` is the modality-side counterpart: see :class:`~mmsearch.Modality`.)
    """

    name: ClassVar[str]
    kinds: ClassVar[frozenset[str]]
    model: str
    dim: int
    batch_size: int = 32
    #: Tie-breaker for a new index's default embedder, after the number of kinds covered.
    priority: ClassVar[int] = 0
    #: The scripts the text side understands (``None``: any); see the class docstring.
    scripts: frozenset[str] | None = None
    #: The languages the text side understands, ISO 639-1 (``None``: any); see the class docstring.
    languages: frozenset[str] | None = None
    #: The longest payload the model reads, per kind (``None``: no limit or unknown).
    max_input: Mapping[str, MaxInput] | None = None

    _loaded: bool = False
    _load_lock: threading.Lock | None = None

    @abstractmethod
    def embed_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        """Embed payloads of one kind (already through :meth:`prepare`): an (n, dim) array."""

    def embed_query_batch(self, kind: str, payloads: Sequence[Any]) -> np.ndarray:
        """Embed payloads of one kind *as a query*. The default embeds them as :meth:`embed_batch`
        does; an asymmetric embedder (one that places queries and indexed segments differently,
        as E5's "query:" prefix does) overrides this."""
        return self.embed_batch(kind, payloads)

    def load(self) -> None:
        """Load weights. Called once, lazily, before the first :meth:`embed_batch`."""

    def prepare(self, kind: str, payload: Any) -> Any:
        """Preprocess one payload (e.g. resize and normalise an image). Must be thread-safe."""
        return payload

    def input_length(self, kind: str, payload: Any) -> int | None:
        """Length of one raw payload in ``max_input[kind].unit``: characters or whitespace words
        here; an embedder counting ``"tokens"`` overrides this with its tokenizer."""
        limit = (self.max_input or {}).get(kind)
        if limit is None or not isinstance(payload, str):
            return None
        if limit.unit == "chars":
            return len(payload)
        if limit.unit == "words":
            return len(payload.split())
        return None

    def info(self) -> ModelInfo:
        """Where the weights come from. Override it: the default only knows the model name."""
        return ModelInfo(available=True, weights="unknown: the plugin does not say (it should override Embedder.info)")

    # -- owned by the base class -------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        # Shipped to another process (a Ray worker), an embedder loads its own weights there:
        # a lock cannot be pickled, and a loaded flag without the weights would be a lie.
        state = dict(self.__dict__)
        state.pop("_load_lock", None)
        state.pop("_loaded", None)
        return state

    @property
    def space(self) -> Space:
        return Space(embedder=self.name, model=self.model, dim=int(self.dim), kinds=frozenset(self.kinds))

    def ensure_loaded(self) -> None:
        if self._loaded:
            return
        if self._load_lock is None:
            self._load_lock = threading.Lock()
        with self._load_lock:
            if not self._loaded:
                self.load()
                self._loaded = True

    def ensure_ready(self, kind: str) -> None:
        """Make :meth:`embed_batch` ready for ``kind``: the full :meth:`load` by default. An
        embedder that answers some kinds from a lighter model (CLIP's text tower alone, for a
        query) overrides this to skip the full load for them."""
        self.ensure_loaded()

    def accepts(self, kind: str) -> bool:
        return kind in self.kinds

    def embed(self, kind: str, payloads: Iterable[Any], prepared: bool = False, query: bool = False) -> np.ndarray:
        """Embed any number of payloads: batched, checked, L2-normalised float32 (n, dim).
        ``query``: embed them as a search query (:meth:`embed_query_batch`), not as indexed segments."""
        if kind not in self.kinds:
            raise PluginError(f"embedder {self.name!r} takes {sorted(self.kinds)} payloads, not {kind!r}")
        self.ensure_ready(kind)
        items = list(payloads) if prepared else [self.prepare(kind, p) for p in payloads]
        chunks = [self._embed_checked(kind, batch, query) for batch in _batches(items, max(1, self.batch_size))]
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.concatenate(chunks)

    def _embed_checked(self, kind: str, batch: Sequence[Any], query: bool = False) -> np.ndarray:
        out = self.embed_query_batch(kind, batch) if query else self.embed_batch(kind, batch)
        if hasattr(out, "detach"):  # a torch tensor slipped through
            out = out.detach().float().cpu().numpy()
        out = np.asarray(out)
        if out.shape != (len(batch), self.dim):
            raise EmbedError(
                f"embedder {self.name!r} returned shape {out.shape} for {len(batch)} {kind} payloads; expected ({len(batch)}, {self.dim})"
            )
        out = out.astype(np.float32, copy=False)
        if not np.isfinite(out).all():
            raise EmbedError(f"embedder {self.name!r} returned NaN or infinite values for a {kind} batch")
        if len(out) and not out.any(axis=1).all():
            raise EmbedError(f"embedder {self.name!r} returned an all-zero vector for a {kind} payload "
                             "(a vector with no direction matches nothing)")
        return l2_normalize(out)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Unit rows, float32. Each row is first divided by its largest magnitude, so that values near
    float32's limits neither overflow (1e30² is inf) nor vanish under the zero guard (1e-30)."""
    rows = np.asarray(vectors, dtype=np.float64)
    scale = np.abs(rows).max(axis=1, keepdims=True) if rows.size else np.ones((len(rows), 1))
    rows = rows / np.where(scale > 0, scale, 1.0)
    norms = np.linalg.norm(rows, axis=1, keepdims=True)
    return (rows / np.maximum(norms, 1e-12)).astype(np.float32, copy=False)


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
