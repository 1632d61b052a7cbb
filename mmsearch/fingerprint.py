"""A picture's fingerprint that survives re-encoding and resizing, for "the same picture" when
searching by example.

Embeddings are a poor copy detector: an outside probe searched with its own photos and missed 4 of
25 JPEG exports at quality 75, 10 at quality 50 and 8 resized to 800 px (the lite vector of a
photo moves with its ImageNet class mix, and a drawing's with its photo/drawing gate). Perceptual
hashes (ImageHash: dHash, gradients of a 9x8 thumbnail; pHash, the low frequencies of a 32x32
DCT; a colour hash, the share of pixels per hue and saturation) are made for it. Measured on 139
scikit-image photos and Tux Paint stamps: every export from quality 90 down to 30, and every resize
to a half or a quarter, kept dHash within DHASH_MAX and pHash within PHASH_MAX bits of the original
and their sum within SUM_MAX, save 1 or 2 of the 139 copies of each kind (quarter size, half size
at quality 75); distinct pictures were 9 bits or more apart in dHash. A picture with hardly any
structure (a gradient, stripes, a blank page: most of a hash's bits alike) has no usable
fingerprint: among 1,500 clip-art items such pictures matched dozens of unrelated ones, so they get
none; the pairs left within the bounds were variants of one drawing (a star series, one thumbtack
twice). A second probe's false matches set SUM_MAX and COLOUR_MAX: an up-arrow button and its
down-arrow twin (dHash 6, pHash 8), and a logo recoloured (colour hash 8 bits apart; copies
stayed within 6). Still the same picture for the fingerprint: one blank form filled in for two
people, two dreidels that differ in the letter on their side (detail under 1/8 of the picture).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

DHASH_MAX = 6
PHASH_MAX = 8
SUM_MAX = 10
COLOUR_MAX = 6
#: A hash with fewer than this many bits set, or unset, says too little about the picture.
INFORMATIVE = 8
META_KEY = "picture"  # where an image segment's fingerprint is stored (Segment.meta)


def fingerprint(image: Image.Image) -> str | None:
    """43 hex digits (dHash and pHash, 64 bits each, then the 42-bit colour hash), or None for a
    picture without structure."""
    import imagehash  # its pHash imports scipy: only when a picture is fingerprinted

    hashes = [imagehash.dhash(image), imagehash.phash(image)]
    for h in hashes:
        ones = int(np.count_nonzero(h.hash))
        if not INFORMATIVE <= ones <= h.hash.size - INFORMATIVE:
            return None
    colour = imagehash.colorhash(image, binbits=3)
    return "".join(str(h) for h in hashes) + str(colour)


LENGTH = 43


def _bits(prints: list[str]) -> np.ndarray:
    """(n, 3) uint64: each fingerprint's dHash, pHash and colour hash."""
    return np.array([[int(p[:16], 16), int(p[16:32], 16), int(p[32:], 16)] for p in prints], dtype=np.uint64).reshape(-1, 3)


def _popcount(x: np.ndarray) -> np.ndarray:
    return np.unpackbits(x.view(np.uint8).reshape(*x.shape, 8), axis=-1).sum(axis=-1)


def same_picture(example: list[str], candidates: list[str]) -> np.ndarray:
    """For each candidate fingerprint, whether it is one of the ``example`` pictures."""
    if not example or not candidates:
        return np.zeros(len(candidates), dtype=bool)
    a, b = _bits(example), _bits(candidates)
    d = _popcount(a[:, None, :] ^ b[None, :, :])  # (examples, candidates, 3)
    close = (d[..., 0] <= DHASH_MAX) & (d[..., 1] <= PHASH_MAX) & (d[..., 0] + d[..., 1] <= SUM_MAX) & (d[..., 2] <= COLOUR_MAX)
    return close.any(axis=0)


def is_fingerprint(value: object) -> bool:
    return isinstance(value, str) and len(value) == LENGTH and all(c in "0123456789abcdef" for c in value)
