"""Absolute calibration: P(relevant) from a leg's evidence, per (query kind, segment kind).

The library-relative z of ``calibrate.py`` alone does not mean the same in every space: text→text
cosines run higher and spread wider than text→image ones, and a query whose answer is absent still
has a best hit standing above the crowd. A small logistic model per (space, query kind, segment
kind) turns three features of a hit into a probability that it is relevant:

* ``raw``: the cosine;
* ``hub``: the cosine minus the segment's mean similarity to its HUB_K nearest generic-bank queries
  (querybank normalisation, Bogolin et al. CVPR 2022; CSLS, Conneau et al. 2018): a segment close
  to everything (a hub) gets no credit for being close to this query too;
* ``z``: the library-relative z of ``calibrate.zscores``, capped by the gibberish null margin.

The curves are fitted on labelled (query, segment, relevant?) pairs whose negatives include the top
hit of a query whose answer is absent. An embedder ships them (``calibration_file``: a JSON file of
:class:`Calibration`), ``mmsearch calibrate`` fits them for any embedder on the user's own labelled
set (stored in the index directory, which wins), and :data:`FALLBACK` is the z-only curve the engine
used before, for pairs nobody has fitted.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import MMSearchError

FEATURES = ("raw", "hub", "z", "gap")
#: Features measured as candidates by the fitting scripts (``calibrate.leg_features(names=...)``).
CANDIDATES = FEATURES + ("margin", "gap_z", "margin_z", "spec", "recip")
#: What fitting weighs by default (``mmsearch calibrate``, the lite refit). ``gap`` separates right
#: from absent best hits better on the lite training/validation split and on held-out sets, but at
#: the fitted intercept it let more absent concepts through on three of four held-out sets
#: (mmsearch/eval/RESULTS.md, "calib3"), so it is offered (``--features``), not the default.
FITTED = ("raw", "hub", "z")
CALIBRATION_FILE = "calibration.json"  # in the index directory: model id -> Calibration
VERSION = 1


class CalibrationError(MMSearchError):
    """A calibration file cannot be read; the message names it."""


@dataclass(frozen=True)
class Curve:
    """``sigmoid(weights · features + bias)``; features in :data:`FEATURES` order."""

    weights: tuple[float, ...]
    bias: float

    def __call__(self, features: np.ndarray) -> np.ndarray:
        # A curve built with fewer weights (before a feature existed) weighs the later ones 0.
        x = np.asarray(features, dtype=np.float64)[..., : len(self.weights)]
        logit = x @ np.asarray(self.weights, dtype=np.float64) + self.bias
        return 1.0 / (1.0 + np.exp(-np.clip(logit, -60.0, 60.0)))

    def to_dict(self) -> dict[str, Any]:
        return {"weights": dict(zip(FEATURES, self.weights)), "bias": self.bias}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Curve:
        weights = raw["weights"]
        return cls(tuple(float(weights.get(name, 0.0)) for name in FEATURES), float(raw["bias"]))


#: z alone, 0.5 at z = 2.25 with a logistic width of 0.5: the pre-fitting calibration, for
#: embedders and (query, segment) kinds that have no fitted curve.
FALLBACK = Curve((0.0, 0.0, 2.0), -4.5)


@dataclass(frozen=True)
class Calibration:
    """The fitted curves of one space, keyed ``"text->image"`` (query kind -> segment kind)."""

    model: str
    curves: Mapping[str, Curve]
    fitted_on: str = ""  # what labelled data, so a user can tell whether it suits theirs
    stats: Mapping[str, Any] = field(default_factory=dict)

    def curve(self, query_kind: str, segment_kind: str) -> Curve | None:
        return self.curves.get(f"{query_kind}->{segment_kind}")

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, "model": self.model, "fitted_on": self.fitted_on,
                "curves": {k: c.to_dict() for k, c in sorted(self.curves.items())}, "stats": dict(self.stats)}

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> Calibration:
        return cls(str(raw["model"]), {k: Curve.from_dict(v) for k, v in raw["curves"].items()},
                   str(raw.get("fitted_on", "")), dict(raw.get("stats", {})))


def read_file(path: Path) -> dict[str, Calibration]:
    """model id -> Calibration from a JSON file holding one calibration or a ``{"spaces": [...]}`` list."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        entries = raw["spaces"] if "spaces" in raw else [raw]
        calibrations = [Calibration.from_dict(entry) for entry in entries]
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise CalibrationError(f"{path}: not a readable calibration file ({exc}); delete it or rerun `mmsearch calibrate`") from exc
    return {c.model: c for c in calibrations}


def write_index_file(index_dir: Path, calibration: Calibration) -> Path:
    """Add or replace ``calibration`` in the index directory's file (other spaces are kept)."""
    path = index_dir / CALIBRATION_FILE
    existing = read_file(path) if path.is_file() else {}
    existing[calibration.model] = calibration
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"spaces": [c.to_dict() for c in existing.values()]}, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def for_embedder(index_dir: Path, model: str, shipped: Path | None) -> Calibration | None:
    """The index directory's calibration for ``model`` if any, else the one its embedder ships."""
    local = index_dir / CALIBRATION_FILE
    if local.is_file():
        found = read_file(local).get(model)
        if found is not None:
            return found
    if shipped is not None and shipped.is_file():
        return read_file(shipped).get(model)
    return None


def fit_curve(features: np.ndarray, labels: np.ndarray, weights: np.ndarray | None = None, l2: float = 1e-3) -> Curve:
    """Logistic regression by Newton's method (a handful of features: no optimiser library needed).

    Features are standardised for the solve and the weights mapped back, so ``l2`` is scale-free."""
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    w_obs = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=np.float64)
    mean, std = x.mean(axis=0), x.std(axis=0)
    std[std < 1e-9] = 1.0
    xs = np.hstack([(x - mean) / std, np.ones((len(x), 1))])
    beta = np.zeros(xs.shape[1])
    penalty = np.full(xs.shape[1], l2 * w_obs.sum())
    penalty[-1] = 0.0  # the intercept is not shrunk
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(xs @ beta, -60, 60)))
        gradient = xs.T @ (w_obs * (p - y)) + penalty * beta
        hessian = (xs * (w_obs * p * (1 - p))[:, None]).T @ xs + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    coef = beta[:-1] / std
    return Curve(tuple(float(c) for c in coef), float(beta[-1] - (coef * mean).sum()))


def logit(p: float) -> float:
    return math.log(p / (1.0 - p))
