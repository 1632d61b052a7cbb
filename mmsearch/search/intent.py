"""What kind of file a query asks for, when it says so: "a photo of a cup of coffee", "video of
the fireworks", "recording about the budget".

The models score a document about coffee far above a photo of coffee for that first query (text
to text cosines run higher than text to image ones, and the lite photo evidence is weak), though
the user named the kind of file they want. A query that opens with such words ranks the media of
that kind first, each group in its own score order; the scores, the cut and everything else are
unchanged, and nothing is filtered out (``type:image`` does that). Only a leading phrase counts:
"photo album ideas" asks for nothing.
"""

from __future__ import annotations

import re

#: leading words -> the modalities they ask for
_KINDS: tuple[tuple[str, frozenset[str]], ...] = (
    (r"photo(?:graph)?s?|pictures?|pics?|images?|snapshots?|drawings?|illustrations?|icons?|clip ?art|screenshots?|sketch(?:es)?",
     frozenset({"image"})),
    (r"videos?|footage|clips?|movies?|films?", frozenset({"video"})),
    (r"recordings?|audio|podcasts?|voice (?:memos?|notes?)", frozenset({"audio"})),
)
_LEAD = r"^\s*(?:(?:a|an|the|my|some|any)\s+)?(?:(?:old|black and white|blurry|blurred|grey|gray|colou?r|short)\s+)?"
_PATTERNS = tuple((re.compile(_LEAD + rf"(?:{words})\s+(?:of|from|about|with|showing)\s+\S", re.IGNORECASE), kinds)
                  for words, kinds in _KINDS)


def asked_for(text: str) -> frozenset[str]:
    """The modalities ``text`` asks for by its opening words (empty: none)."""
    for pattern, kinds in _PATTERNS:
        if pattern.search(text):
            return kinds
    return frozenset()
