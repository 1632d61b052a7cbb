"""Evaluate search quality on a labelled set: ``mmsearch eval`` and ``Engine.evaluate``.

A labelled set is a JSONL file, one query per line (full format in :mod:`mmsearch.eval.labels`)::

    {"id": "cat-1", "query": "a cat on a sofa", "relevant": ["photos/cat.png"]}
    {"id": "talk-3", "query": "the weather tomorrow", "relevant": [{"path": "talk.mp3", "t": [12.0, 15.5]}]}
    {"id": "no-1", "query": "a submarine", "kind": "absent"}

Each query runs once with no cut; R@1/5/10, MRR, nDCG@10, the false-alarm rate (queries with no
right answer whose best hit reaches the cut) and the false-abstention rate (right answer first, but
hidden by the cut) are derived from the scores (:mod:`.metrics`), per modality of the relevant file,
and printed as a table or JSON (:mod:`.report`). ``python -m mmsearch.eval.sets NAME --out DIR``
builds labelled sets from installable packages (:mod:`.sets`).
"""

from .labels import LabelError, LabelledQuery, LabelledSet, Relevant, load

__all__ = ["LabelError", "LabelledQuery", "LabelledSet", "Relevant", "load"]
