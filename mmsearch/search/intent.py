"""What kind of file a query asks for, when it says so: "a photo of a cup of coffee", "video of
the fireworks", "recording about the budget".

The models score a document about coffee far above a photo of coffee for that first query (text
to text cosines run higher than text to image ones, and the lite photo evidence is weak), though
the user named the kind of file they want. A query that opens with such words ranks the media of
that kind that match (calibrated score at least FLOOR, as likely a match as not) first, each group
in its own score order; the scores, the cut and everything else are unchanged, and nothing is
filtered out (``type:image`` does that). Below FLOOR a photo is no answer, so with a lower
``--min-score`` it does not jump a document that is one (an outside probe saw photos at 0.27
listed above the invoice scan at 0.89). Only a leading phrase counts: "photo album ideas" asks
for nothing.
"""

from __future__ import annotations

import re

#: A wanted kind's media rank first only from this calibrated score (the default cut).
FLOOR = 0.5

#: leading words -> the modalities they ask for
_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    (r"photo(?:graph)?s?|pictures?|pics?|images?|snapshots?|drawings?|illustrations?|icons?|clip ?art|screenshots?|sketch(?:es)?",
     frozenset({"image"})),
    (r"videos?|footage|clips?|movies?|films?", frozenset({"video"})),
    (r"recordings?|audio|podcasts?|voice (?:memos?|notes?)", frozenset({"audio"})),
)
_LEAD = r"^\s*(?:(?:a|an|the|my|some|any)\s+)?"
_PATTERNS = tuple((re.compile(_LEAD + rf"(?:{words})\s+(?:of|from|about|with|showing)\s+(?=\S)", re.IGNORECASE), kinds)
                  for words, kinds in _KINDS)


def subject(text: str) -> str:
    """``text`` without its opening kind-of-file words ("a photo of a rocket" -> "a rocket"): what
    the file should show. The lite space, trained on names and captions, scored the rocket photo
    0.64 for "a photo of a rocket" and 0.97 for "a rocket"."""
    for pattern, _ in _PATTERNS:
        found = pattern.search(text)
        if found:
            return text[found.end():]
    return text


def asked_for(text: str) -> frozenset[str]:
    """The modalities ``text`` asks for by its opening words (empty: none)."""
    for pattern, kinds in _PATTERNS:
        if pattern.search(text):
            return kinds
    return frozenset()
