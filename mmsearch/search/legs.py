"""Vector legs: one (query part × space) search over every segment kind of the space."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

import numpy as np

from ..embedder import Embedder, l2_normalize, script_of
from ..errors import EmbedError, MMSearchError, QueryError
from ..modality import over_size_limit
from ..plugins import Registry
from ..types import TEXT, Source
from ..vectors.cache import SpaceIndexes
from .calibrate import ROBUST_PAIRS, SAMPLE, Background, leg_features, text_reference
from .query import FILE, QueryPart


#: Segments of an example file that are embedded (its first ones): enough to say what a document or
#: recording is about, bounded so that an example never costs more than a few seconds.
MAX_EXAMPLE_SEGMENTS = 64


@dataclass(frozen=True)
class SegmentHit:
    segment_id: int  # 0 for a file-name match (no segment)
    leg: str  # the leg's name and the segment kind searched, e.g. '"cat"@lite/image'
    raw: float  # cosine for vector legs, the backend's rank for keyword legs
    score: float  # calibrated, in [0, 1]
    kind: str = ""  # the segment kind ("" where the segment row says)


def query_vector(part: QueryPart, embedder: Embedder, registry: Registry) -> tuple[np.ndarray, str] | None:
    """The part's vector in this embedder's space and the kind of payload it was made from (which
    picks the score curve: an example photo is an ``image`` query, an example recording's
    transcript a ``text`` one), or None if the space cannot take it.

    An example file goes through its modality, like an indexed file; its segments' vectors (embedded
    as a query: an asymmetric embedder may place them unlike indexed segments) are averaged (early
    fusion inside one space); the kind is its segments' most frequent. A plugin's failure here is an
    :class:`EmbedError` naming it.
    """
    try:
        return _query_vector(part, embedder, registry)
    except MMSearchError:
        raise
    except OSError as exc:
        raise QueryError(f"{part.label}: cannot read the example file ({exc.strerror or exc})") from exc
    except Exception as exc:  # noqa: BLE001 - a plugin's bug: name it instead of a traceback
        raise EmbedError(f"embedder {embedder.name!r} failed on the query {part.label}: {type(exc).__name__}: {exc}") from exc


def _query_vector(part: QueryPart, embedder: Embedder, registry: Registry) -> tuple[np.ndarray, str] | None:
    if part.kind == TEXT:
        return (embedder.embed(TEXT, [part.value], query=True)[0], TEXT) if embedder.accepts(TEXT) else None
    if part.kind != FILE:  # QueryPart refuses other kinds; a hand-made object must not reach the disk either
        raise QueryError(f"query part kind {part.kind!r}: must be {TEXT!r} or {FILE!r}")
    path = Path(part.value)
    modality = registry.modality_for(path)
    if modality is None:
        raise QueryError(f"{path.name}: no installed modality reads this kind of file")
    source = Source(path=path, relpath=path.name, size=path.stat().st_size)
    too_big = over_size_limit(registry.settings, modality, source.size, "to search with it")
    if too_big:
        raise QueryError(f"{path.name}: {too_big}")
    # an example's first segments say what it is like; a whole book would take minutes to embed
    found = list(islice(modality.segments(source), MAX_EXAMPLE_SEGMENTS))
    if not found:  # not "no space can take it": the file held nothing (a tone with no speech)
        raise QueryError(f"{path.name}: the {modality.name} plugin found nothing in it to search with "
                         "(a recording without speech, a document without text)")
    segments = [s for s in found if embedder.accepts(s.kind)]
    if not segments:
        return None
    kinds = [s.kind for s in segments]
    vectors = np.concatenate([embedder.embed(kind, [s.payload for s in segments if s.kind == kind], query=True)
                              for kind in dict.fromkeys(kinds)])
    return l2_normalize(vectors.mean(axis=0, keepdims=True))[0], max(dict.fromkeys(kinds), key=kinds.count)


def run_leg(
    name: str,
    query: np.ndarray,
    space: SpaceIndexes,
    calibration: tuple[Background, np.ndarray | None, np.ndarray | None],
    k: int,
    allowed: np.ndarray | None,
    curve_for: Callable[[str], Callable[[np.ndarray], np.ndarray]],
    query_kind: str = TEXT,
) -> list[SegmentHit]:
    """Top-k segments of every kind in ``space``, each with its raw and calibrated score.

    ``calibration`` is the library background and, when the query kind has one, the generic
    query bank (spread prior and hubness) and the gibberish bank (null margin). ``curve_for``
    gives the P(relevant) curve for a segment kind (see ``curves.py``); ``query_kind`` is the
    part's kind ("text", or "file" for an example), which picks the baseline (ROBUST_PAIRS).
    """
    background, bank, null = calibration
    hits: list[SegmentHit] = []
    for kind, index in space.by_kind.items():
        if len(index) == 0:
            continue
        scores, ids = index.search(query[None, :], min(k, len(index)), allowed)
        keep = ids[0] >= 0
        raw, ids_kept = scores[0][keep], ids[0][keep]
        if not len(ids_kept):
            continue
        key = (space.space_id, kind)
        sample = background.sample(key, space.generation, index)
        prior = background.prior_variance(key, space.generation, sample, bank) if bank is not None else None
        # the hits' own vectors: for the bank and null terms, and for copies of a hit (zscores)
        hit_vectors = index.vectors(ids_kept) if (null is not None or bank is not None or len(index) <= SAMPLE) else None
        robust = (query_kind, kind) in ROBUST_PAIRS
        reference = text_reference(query, bank, null) if query_kind == TEXT and kind == TEXT else None
        calibrated = curve_for(kind)(leg_features(query, raw, hit_vectors, sample, prior, bank, null, robust=robust, reference=reference))
        hits.extend(SegmentHit(int(i), f"{name}/{kind}", float(r), float(c), kind) for i, r, c in zip(ids_kept, raw, calibrated))
    return hits


#: The most a space may be sure of a text query written mostly in a script it never learnt: alone it
#: never passes the default cut (0.5). An English model put any Chinese sentence near any other ("纽约
#: 的天气", in no file, scored a Beijing note 0.96), yet its lexical overlap still orders Cyrillic or
#: Korean results usefully (a probe measured 0.63–0.99 on the right files): kept, but not trusted.
UNREAD_CAP = 0.45


def spaces_for(part: QueryPart, embedders: Sequence[Embedder]) -> list[int]:
    if part.kind == TEXT:
        return [i for i, e in enumerate(embedders) if e.accepts(TEXT)]
    return list(range(len(embedders)))


def readable(text: str, scripts: frozenset[str] | None) -> bool:
    """Whether at least half the letters of ``text`` are in ``scripts`` (None: any script). Text
    without letters (digits, an identifier) is readable by any model. (Languages: ``language.py``.)"""
    if scripts is None:
        return True
    letters = [c for c in text if c.isalpha()]
    known = sum(1 for c in letters if script_of(c) in scripts)
    return 2 * known >= len(letters)
