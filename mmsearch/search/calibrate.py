"""Per-leg score calibration, so that a fused score means the same across modalities.

A raw cosine means different things per space and per (query kind, segment kind): CLIP
text→image scores cluster near 0.2–0.35, text→text near 0.5–0.9. Each hit's raw score becomes a
z-score against what the same query scores on a random sample of the leg's segments: a true match
stands several standard deviations above the crowd, a nonsense query's best hit does not. In a
small library the sample's spread is unreliable (and z is scale-free: a faint match among zeros
looks strong), so the spread is shrunk towards the typical spread of a bank of generic queries
over the same segments. ``leg_features`` gathers z with the raw cosine and a hub-corrected cosine;
``curves.py`` turns them into P(relevant).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..vectors.base import VectorBackend
from .curves import FEATURES

SAMPLE = 2048
MIN_STD = 0.02  # near-identical baselines must not blow up z
#: Two segments this close in a space are copies of one another (a photo and its JPEG export: 0.999
#: in lite; a light crop 0.95-0.99; another photo of the same cat well under): see zscores.
COPY_COSINE = 0.98
PRIOR_WEIGHT = 8.0  # the bank's spread counts as this many library samples
CENTER = 2.25  # z at which the calibrated score is 0.5: the default no-match cut (search.min_score)
WIDTH = 0.5
NULL_QUANTILE = 0.9
NULL_SLACK = 1.0  # z may exceed the null margin by this much (the margin is a cruder estimate)
STANDOUT_N = 4  # "gap": a hit against the mean of the best STANDOUT_N other hits (ranks 2-5 for the top)
#: (query kind, segment kind) pairs whose baseline is robust (median and lower-half spread, from
#: ROBUST_MIN segments). Only text->image: on the lite validation split the robust baseline cost
#: text->image 2 points of false abstentions, and image->image (search by example) lost z's
#: separation entirely (false abstentions 26 % -> 97 %): its upper tail is the evidence.
ROBUST_PAIRS = frozenset({("text", "image")})
ROBUST_MIN = 16
LOWER_SIGMA_QUANTILE = 0.158655  # Φ(−1)
HUB_K = 10  # a segment's hubness: its mean similarity to its HUB_K nearest generic-bank queries


class Background:
    """A cached random sample of one (space, kind) index, refreshed when the index changes."""

    def __init__(self, seed: int = 0) -> None:
        self._cache: dict[tuple[int, str], tuple[int, np.ndarray]] = {}
        self._prior: dict[tuple[int, str], tuple[int, float]] = {}
        self._seed = seed

    def prior_variance(self, key: tuple[int, str], generation: int, sample: np.ndarray, bank: np.ndarray) -> float:
        """Mean over bank queries of the variance of their scores across the sample."""
        cached = self._prior.get(key)
        if cached is None or cached[0] != generation:
            value = float((bank @ sample.T).var(axis=1).mean()) if len(sample) > 1 else MIN_STD**2
            cached = self._prior[key] = (generation, value)
        return cached[1]

    def sample(self, key: tuple[int, str], generation: int, index: VectorBackend) -> np.ndarray:
        cached = self._cache.get(key)
        if cached is not None and cached[0] == generation:
            return cached[1]
        vectors = index.sample(SAMPLE, self._seed)
        self._cache[key] = (generation, vectors)
        return vectors


def zscores(query: np.ndarray, raw: np.ndarray, sample: np.ndarray, prior_variance: float | None,
            bank_on_hits: np.ndarray | None = None, robust: bool = False,
            hit_vectors: np.ndarray | None = None, reference: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """How far each raw score stands above this query's scores on the *other* segments of the
    leg (z, and the standard deviation used). Leaving the hit out matters in small libraries:
    with the match inside the sample, 4 images can never give z above 1.5. Its copies among the
    hits (``hit_vectors``, cosine at least COPY_COSINE) are left out with it: a photo and its JPEG
    export each lifted the other's baseline, and both fell from 0.93 to 0.11. When the leg holds a
    single segment there is no other: the baseline is then what the bank's generic queries score
    on that segment (``bank_on_hits``, hits x bank). ``robust``: see ROBUST_PAIRS."""
    sims = sample @ query
    n = len(sims)
    if reference is not None and len(reference) > 1 and not robust:
        return _with_reference(raw, sims, reference, hit_vectors)
    if n < 2 and bank_on_hits is not None:
        std = np.maximum(bank_on_hits.std(axis=1), MIN_STD)
        return (raw - bank_on_hits.mean(axis=1)) / std, std
    if n < 2:
        std = np.full(len(raw), max((prior_variance or MIN_STD**2) ** 0.5, MIN_STD))
        return (raw - (float(sims.mean()) if n else 0.0)) / std, std
    if robust and n >= ROBUST_MIN:
        # The centre is the median and the spread the lower half's width (median minus the 15.9th
        # percentile: one standard deviation for a normal crowd), both blind to what the query
        # finds. With the mean and the spread, a burst of 10 photos of the cat among 30 lifted the
        # baseline until every cat fell under the cut; measured in mmsearch/eval/RESULTS.md.
        low, mid = np.quantile(sims.astype(np.float64), (LOWER_SIGMA_QUANTILE, 0.5))
        m = n
        mean = np.full(len(raw), mid)
        var = np.full(len(raw), max(mid - low, 0.0) ** 2)
    else:
        total, squares = float(sims.sum()), float((sims.astype(np.float64) ** 2).sum())
        inside = n <= SAMPLE  # the sample is the whole index: every hit is in it
        raw64 = raw.astype(np.float64)
        if inside:
            # each hit and its copies among the hits (itself at least) are left out of its baseline
            copies = (hit_vectors @ hit_vectors.T >= COPY_COSINE) if hit_vectors is not None and len(raw) > 1 else np.eye(len(raw), dtype=bool)
            copies |= np.eye(len(raw), dtype=bool)
            m = n - copies.sum(axis=1)
            copies[m < 2] = np.eye(len(raw), dtype=bool)[m < 2]  # nearly all copies: leave the hit alone out
            m = (n - copies.sum(axis=1)).astype(np.float64)
            mean = (total - copies @ raw64) / m
            var = np.maximum((squares - copies @ raw64**2) / m - mean**2, 0.0)
        else:
            m = n
            mean = np.full(len(raw), total / n)
            var = np.full(len(raw), max(squares / m - (total / n) ** 2, 0.0))
    if prior_variance is not None:
        var = (m * var + PRIOR_WEIGHT * prior_variance) / (m + PRIOR_WEIGHT)
    std = np.maximum(np.sqrt(var), MIN_STD)
    return (raw - mean) / std, std


def _with_reference(raw: np.ndarray, sims: np.ndarray, reference: np.ndarray,
                    hit_vectors: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """z against the library's other segments pooled with PRIOR_WEIGHT pseudo-segments that score
    as the query scores on generic texts (``reference``, see text_reference): the mean and the
    spread both. A text leg of a few segments (the OCR of one scanned page among photos, three
    words Tesseract read in clip-art strokes) otherwise measured a hit against one or two others
    and a spread of nearly nothing: a page mentioning coins scored 0.998 for "old coins on a
    table" at cosine 0.46 (z 14), above the coins photo. In a library of thousands the pseudo-
    segments weigh nothing; copies of a hit are left out as in zscores."""
    n = len(sims)
    mu_r, var_r = float(reference.mean()), float(reference.var())
    raw64 = raw.astype(np.float64)
    if n <= SAMPLE:
        copies = (hit_vectors @ hit_vectors.T >= COPY_COSINE) if hit_vectors is not None and len(raw) > 1 else np.eye(len(raw), dtype=bool)
        copies |= np.eye(len(raw), dtype=bool)
        m = np.maximum(n - copies.sum(axis=1), 0).astype(np.float64)
        total = float(sims.astype(np.float64).sum()) - copies @ raw64
        squares = float((sims.astype(np.float64) ** 2).sum()) - copies @ raw64**2
    else:
        m = np.full(len(raw), float(n))
        total = np.full(len(raw), float(sims.astype(np.float64).sum()))
        squares = np.full(len(raw), float((sims.astype(np.float64) ** 2).sum()))
    w = PRIOR_WEIGHT
    mean = (total + w * mu_r) / (m + w)
    second = (squares + w * (var_r + mu_r**2)) / (m + w)
    std = np.maximum(np.sqrt(np.maximum(second - mean**2, 0.0)), MIN_STD)
    return (raw - mean) / std, std


def text_reference(query: np.ndarray, bank: np.ndarray | None, null: np.ndarray | None) -> np.ndarray | None:
    """What a text query scores on generic texts: the query bank (short English captions) and the
    gibberish bank. Both, because a library's texts hold junk as well as prose (OCR of strokes:
    "Onl", "AS ="), and gibberish queries score such junk far above English captions: with the
    captions alone "golskour" passed the cut on "Onl" in clip art."""
    parts = [m @ query for m in (bank, null) if m is not None and len(m)]
    return np.concatenate(parts) if parts else None


def null_margin(raw: np.ndarray, hit_vectors: np.ndarray, null: np.ndarray, std: np.ndarray) -> np.ndarray:
    """How far each raw score stands above what gibberish queries score on *that* segment (its
    NULL_QUANTILE), in the query's standard deviations. A segment every query lands near (a hub:
    odd tokens, a busy image) gives nonsense a high raw score; this margin sees through it."""
    sims = hit_vectors @ null.T  # (hits, null queries)
    return (raw - np.quantile(sims, NULL_QUANTILE, axis=1)) / std


def squash(z: np.ndarray, center: float = CENTER, width: float = WIDTH) -> np.ndarray:
    """Logistic map of z to [0, 1]: 0.5 at ``center`` standard deviations above the baseline."""
    return 1.0 / (1.0 + np.exp(-(np.asarray(z, dtype=np.float64) - center) / width))


def hubness(hit_vectors: np.ndarray, bank: np.ndarray, k: int = HUB_K) -> np.ndarray:
    """Each segment's mean cosine to its ``k`` nearest bank queries (the CSLS / querybank term):
    high for a segment that every generic query lands near."""
    sims = hit_vectors @ bank.T
    k = min(k, sims.shape[1])
    return np.partition(sims, -k, axis=1)[:, -k:].mean(axis=1)


def standout(raw: np.ndarray, baseline: np.ndarray, n_others: int = STANDOUT_N) -> tuple[np.ndarray, np.ndarray]:
    """How far each hit stands out from its neighbours in the leg: its score minus the best
    *other* hit's (``margin``), and minus the mean of the ``n_others`` best other hits (``gap``,
    the query-side term of CSLS: a query whose answer is absent scores its best few hits alike).
    A leg with a single hit has no neighbour: its baseline (what the query scores on the rest of
    the library) stands in."""
    raw = np.asarray(raw, np.float64)
    n = len(raw)
    if n < 2:
        diff = raw - np.asarray(baseline, np.float64)
        return diff, diff
    order = np.argsort(-raw, kind="stable")
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    top = raw[order]
    margin = raw - np.where(rank == 0, top[1], top[0])
    m = min(n_others + 1, n)  # the hit itself and up to n_others others
    head = top[:m].sum()
    others = np.where(rank < m, (head - raw) / (m - 1), top[: m - 1].sum() / (m - 1))
    return margin, raw - others


def query_specificity(query: np.ndarray, bank: np.ndarray | None, k: int = HUB_K) -> float:
    """The query's mean cosine to its ``k`` nearest generic-bank queries (its own hubness):
    high for a generic query ("a photo of a dog"), low for gibberish or a rare concept."""
    if bank is None or not len(bank):
        return 0.0
    sims = bank @ query
    k = min(k, len(sims))
    return float(np.partition(sims, -k)[-k:].mean())


def leg_features(query: np.ndarray, raw: np.ndarray, hit_vectors: np.ndarray | None, sample: np.ndarray,
                 prior: float | None, bank: np.ndarray | None, null: np.ndarray | None,
                 names: Sequence[str] = FEATURES, robust: bool = False, reference: np.ndarray | None = None) -> np.ndarray:
    """(hits, len(names)) features, by default in ``curves.FEATURES`` order: raw cosine, cosine
    minus the segment's hubness (0 when the query kind has no bank), z capped by the gibberish null
    margin, and ``gap``, how far the hit stands out from the leg's next hits in cosine units
    (``standout``). ``raw`` must be the leg's top hits, so that the other hits are there to compare
    with. ``names`` may also ask for the candidates of ``curves.CANDIDATES`` that were measured and
    not adopted (``margin``, ``gap_z``, ``margin_z``, ``spec``, ``recip``); only what is asked for is
    computed."""
    raw = np.asarray(raw)
    on_bank = bank is not None and hit_vectors is not None
    bank_on_hits = hit_vectors @ bank.T if on_bank else None  # type: ignore[union-attr]
    z, std = zscores(query, raw, sample, prior, bank_on_hits if len(sample) < 2 else None, robust, hit_vectors, reference)
    margin, gap = standout(raw, raw - z * std)
    if null is not None and hit_vectors is not None:
        z = np.minimum(z, null_margin(raw, hit_vectors, null, std) + NULL_SLACK)
    none = np.zeros(len(raw))

    def nearest_bank(k: int) -> np.ndarray:  # each hit's mean cosine to its k nearest bank queries
        k = min(k, bank_on_hits.shape[1])  # type: ignore[union-attr]
        return np.partition(bank_on_hits, -k, axis=1)[:, -k:].mean(axis=1)  # type: ignore[arg-type]

    columns = {
        "raw": lambda: np.asarray(raw, np.float64),
        "hub": lambda: raw - nearest_bank(HUB_K) if on_bank else none,
        "z": lambda: z,
        "gap": lambda: gap,
        "margin": lambda: margin,
        "gap_z": lambda: gap / std,
        "margin_z": lambda: margin / std,
        "spec": lambda: np.full(len(raw), query_specificity(query, bank)),
        "recip": lambda: raw - nearest_bank(1) if on_bank else none,
    }
    return np.stack([columns[name]() for name in names], axis=1)
