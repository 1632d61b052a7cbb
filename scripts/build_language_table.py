"""Build ``mmsearch/search/words.json.gz``: how often common words occur in 25 Latin-script
languages, for ``mmsearch.search.language`` (is this query in a language the model never learnt?).

    pip install wordfreq==3.1.1 && python scripts/build_language_table.py

wordfreq (Robyn Speer et al.) merges Wikipedia, subtitles, news, books, web text and Twitter per
language; only its top words are kept: English's top 20,000 (so that rare English words are known
as English) and each other language's top 3,000 (their function and everyday words, which is what
tells "lettre de démission" from "a letter of resignation"). log10 frequencies, one decimal.
Scripts other than Latin need no table: ``Embedder.scripts`` already tells them apart.
"""

from __future__ import annotations

import gzip
import json
import math
from importlib.metadata import version
from pathlib import Path

from wordfreq import top_n_list, word_frequency  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parent.parent / "mmsearch" / "search" / "words.json.gz"
LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "sk", "hr", "sl",
             "tr", "ro", "hu", "id", "ms", "ca", "vi", "lt", "lv")
TOP = {"en": 20_000}
OTHERS = 3_000


def main() -> None:
    table: dict[str, dict[str, float]] = {}
    for code in LANGUAGES:
        words = top_n_list(code, TOP.get(code, OTHERS))
        table[code] = {w: round(math.log10(word_frequency(w, code)), 1) for w in words if w.isalpha()}
    payload = {"source": f"wordfreq {version('wordfreq')}", "languages": table}
    with gzip.open(OUT, "wt", encoding="utf-8", compresslevel=9) as out:
        json.dump(payload, out, ensure_ascii=False, separators=(",", ":"))
    print(f"{OUT}: {OUT.stat().st_size:,} bytes, {sum(len(t) for t in table.values()):,} words")


if __name__ == "__main__":
    main()
