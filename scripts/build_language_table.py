"""Build ``mmsearch/search/words.tsv.gz``: how often common words occur in 25 Latin-script
languages, for ``mmsearch.search.language`` (is this query in a language the model never learnt?).

    pip install wordfreq==3.1.1 && python scripts/build_language_table.py

wordfreq (Robyn Speer et al.) merges Wikipedia, subtitles, news, books, web text and Twitter per
language; only its top words are kept: English's top 20,000 (so that rare English words are known
as English) and each other language's top 3,000 (their function and everyday words, which is what
tells "lettre de démission" from "a letter of resignation"). One line per language: its code, its
words separated by spaces, and their log10 frequencies in tenths, negated (``-5.3`` is ``53``), tab
separated: parsed in 30 ms, where JSON took 130 ms of every cold search.
Scripts other than Latin need no table: ``Embedder.scripts`` already tells them apart.
"""

from __future__ import annotations

import gzip
import math
from importlib.metadata import version
from pathlib import Path

from wordfreq import top_n_list, word_frequency  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parent.parent / "mmsearch" / "search" / "words.tsv.gz"
LANGUAGES = ("en", "fr", "de", "es", "it", "pt", "nl", "sv", "da", "nb", "fi", "pl", "cs", "sk", "hr", "sl",
             "tr", "ro", "hu", "id", "ms", "ca", "vi", "lt", "lv")
TOP = {"en": 20_000}
OTHERS = 3_000


def main() -> None:
    lines = [f"# wordfreq {version('wordfreq')}"]
    for code in LANGUAGES:
        words = [w for w in top_n_list(code, TOP.get(code, OTHERS)) if w.isalpha() and " " not in w]
        tenths = [str(round(-10 * math.log10(word_frequency(w, code)))) for w in words]
        lines.append(f"{code}\t{' '.join(words)}\t{' '.join(tenths)}")
    OUT.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode("utf-8"), compresslevel=9, mtime=0))
    print(f"{OUT}: {OUT.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
