"""A picture's fingerprint that survives re-encoding and resizing, for "the same picture" when
searching by example.

Embeddings are a poor copy detector: an outside probe searched with its own photos and missed 4 of
25 JPEG exports at quality 75, 10 at quality 50 and 8 resized to 800 px (the lite vector of a
photo moves with its ImageNet class mix, and a drawing's with its photo/drawing gate). Perceptual
hashes (ImageHash: dHash, gradients of a 9x8 thumbnail; pHash, the low frequencies of a 32x32
DCT) are made for it. Measured on 139 scikit-image photos and Tux Paint stamps: every export from
quality 90 down to 30, and every resize to a half or a quarter, kept dHash within DHASH_MAX and
pHash within PHASH_MAX bits of the original, save one of the 139 quarter-size copies (7 bits);
distinct pictures were 9 bits or more apart in dHash. A picture with hardly any structure (a
gradient, stripes, a blank page: most of a hash's bits alike) has no usable fingerprint: among
1,500 clip-art items such pictures matched dozens of unrelated ones, so they get none; the pairs
left within both bounds were variants of one drawing (a star series, one thumbtack twice).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

DHASH_MAX = 6
PHASH_MAX = 8
#: A hash with fewer than this many bits set, or unset, says too little about the picture.
INFORMATIVE = 8
META_KEY = "picture"  # where an image segment's fingerprint is stored (Segment.meta)


def fingerprint(image: Image.Image) -> str | None:
    """32 hex digits (dHash then pHash, 64 bits each), or None for a picture without structure."""
    import imagehash  # its pHash imports scipy: only when a picture is fingerprinted

    hashes = [imagehash.dhash(image), imagehash.phash(image)]
    for h in hashes:
        ones = int(np.count_nonzero(h.hash))
        if not INFORMATIVE <= ones <= h.hash.size - INFORMATIVE:
            return None
    return "".join(str(h) for h in hashes)


def _bits(prints: list[str]) -> np.ndarray:
    """(n, 2) uint64: each fingerprint's dHash and pHash."""
    return np.array([[int(p[:16], 16), int(p[16:32], 16)] for p in prints], dtype=np.uint64).reshape(-1, 2)


def _popcount(x: np.ndarray) -> np.ndarray:
    return np.unpackbits(x.view(np.uint8).reshape(*x.shape, 8), axis=-1).sum(axis=-1)


def same_picture(example: list[str], candidates: list[str]) -> np.ndarray:
    """For each candidate fingerprint, whether it is one of the ``example`` pictures."""
    if not example or not candidates:
        return np.zeros(len(candidates), dtype=bool)
    a, b = _bits(example), _bits(candidates)
    distance = _popcount(a[:, None, :] ^ b[None, :, :])  # (examples, candidates, 2)
    return ((distance[..., 0] <= DHASH_MAX) & (distance[..., 1] <= PHASH_MAX)).any(axis=0)


def is_fingerprint(value: object) -> bool:
    return isinstance(value, str) and len(value) == 32 and all(c in "0123456789abcdef" for c in value)
