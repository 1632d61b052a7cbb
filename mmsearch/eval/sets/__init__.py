"""Labelled sets built from packages that install by name (nothing from a model hub).

    python -m mmsearch.eval.sets clipart --out /tmp/sets/clipart
    mmsearch --index /tmp/idx eval /tmp/sets/clipart/labels.jsonl --library /tmp/sets/clipart/library

Each builder writes ``DIR/library/`` (the files to index) and ``DIR/labels.jsonl`` (the queries):

* ``clipart``: 250 clip-art images and emoji from the lite data's held-out split, queried by title.
* ``photos``: the scikit-image sample photos with hand-written captions.
* ``speech``: espeak-ng sentences in recordings with silences; paraphrases, right answers with times.
* ``mixed``: held-out clip art beside 20 documents on neighbouring topics.
* ``records``: near-identical text records (invoices, tickets, …) told apart by identifiers.
* ``stamps``: photographed objects on plain backgrounds (Tux Paint stamps, the half nothing was fitted on).
* ``documents``: an outside probe's 68 documents and images (near-identical families, long PDFs,
  foreign languages, homonyms, scans) with its own queries (``documents.py``).

Every set also holds 40 absent-concept queries (plausible things with no word in that library)
and 40 gibberish queries, chosen with a fixed seed so the sets are the same on every machine.

THESE SETS ARE FOR MEASURING ONLY. Never fit anything on them (calibration constants, cuts,
weights, training, model choice): a number measured on data that shaped the system proves nothing.
Fit on the lite training split (or a set of your own) and report on these.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from . import clipart, documents, mixed, photos, records, speech, stamps

#: name -> (build(out), why the sources are missing or None)
BUILDERS: dict[str, tuple[Callable[[Path], None], Callable[[], str | None]]] = {
    "clipart": (clipart.build, clipart.missing_sources),
    "photos": (photos.build, photos.missing_sources),
    "speech": (speech.build, speech.missing_sources),
    "mixed": (mixed.build, clipart.missing_sources),
    "records": (records.build, records.missing_sources),
    "stamps": (stamps.build, stamps.missing_sources),
    "documents": (documents.build, documents.missing_sources),
}
