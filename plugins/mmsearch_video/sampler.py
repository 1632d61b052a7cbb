"""Which frames of a video to embed: one per shot, again inside long shots only when the picture
changed, never a blank one. Pure logic on tiny grey thumbnails, so it is cheap and testable alone.

The caller feeds one thumbnail ("signature") per looked-at frame, in time order, and gets back
what to do with that frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np

from .config import VideoConfig

#: Side of the grey thumbnail the decisions are made on: big enough to see a cut or a title,
#: small enough that comparing two costs nothing (1 KiB).
SIGNATURE_SIDE = 32


class Action(Enum):
    NONE = "none"  # nothing changes: the open segment (if any) goes on
    KEEP = "keep"  # embed this frame; the open segment ends and a new one starts at ``at``
    BREAK = "break"  # the open segment ends at ``at`` and nothing starts (the picture went blank)


@dataclass(frozen=True)
class Decision:
    action: Action
    at: float = 0.0  # seconds: where the change happened (may be earlier than the frame looked at)


def difference(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute difference of two signatures in [0, 1]: 0 for the same picture."""
    return float(np.abs(a - b).mean())


def is_blank(signature: np.ndarray, threshold: float) -> bool:
    """A picture with (almost) no contrast: black, white, one flat colour."""
    return float(signature.std()) < threshold


class SceneSampler:
    """Decides, frame by frame, where segments start and end.

    * A frame is looked at no sooner than ``min_interval`` after the last decision.
    * A new segment starts when the picture differs from the last decision's by
      ``scene_threshold`` (a cut or a large change), or ``max_interval`` has passed and it differs
      from the last *embedded* frame by ``dedup_threshold`` (slow drift); a static picture thus stays
      one segment however long it lasts.
    * Blank pictures end the open segment and start none.
    """

    def __init__(self, config: VideoConfig) -> None:
        self.config = config
        self._ref: np.ndarray | None = None  # signature at the last decision
        self._ref_t = 0.0
        self._kept: np.ndarray | None = None  # signature of the frame the open segment embeds
        self._open = False
        self._change_at: float | None = None  # first time a big change was seen during the hold

    @property
    def open(self) -> bool:
        return self._open

    def feed(self, t: float, signature: np.ndarray) -> Decision:
        config = self.config
        if self._ref is None:
            return self._decide(t, t, signature)
        elapsed = t - self._ref_t
        big_change = difference(signature, self._ref) >= config.scene_threshold
        if big_change and self._change_at is None:
            self._change_at = t  # a cut inside the hold: the new segment will start here
        if elapsed < config.min_interval:
            return Decision(Action.NONE)
        if big_change:
            return self._decide(t, self._change_at if self._change_at is not None else t, signature)
        self._change_at = None  # the change was a flash (or a flash-back): ignore it
        if elapsed >= config.max_interval:
            return self._decide(t, t, signature)
        return Decision(Action.NONE)

    def _decide(self, t: float, at: float, signature: np.ndarray) -> Decision:
        self._ref, self._ref_t, self._change_at = signature, t, None
        if is_blank(signature, self.config.blank_threshold):
            if self._open:
                self._open, self._kept = False, None
                return Decision(Action.BREAK, at)
            return Decision(Action.NONE)
        if self._open and self._kept is not None and difference(signature, self._kept) < self.config.dedup_threshold:
            return Decision(Action.NONE)  # the same picture as the one embedded: extend its segment
        self._open, self._kept = True, signature
        return Decision(Action.KEEP, at)
