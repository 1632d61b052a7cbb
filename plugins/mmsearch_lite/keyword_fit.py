"""Fit the keyword leg's P(relevant) curves (``mmsearch/search/keyword.py`` CURVES) on the
TRAINING split: file names of clip art (name kind) and SVG description prose (text kind).

    PYTHONPATH=plugins python -m mmsearch_lite.keyword_fit

Runs the keyword leg's own ranking in an in-memory SQLite FTS5 table with the tokenizer of
migration 0003 (Porter stemming): a query is an item's name, a row is relevant when it belongs to
an item of that name. Libraries of 300 training files; queries whose item is absent give the hard
negatives (a file that shares a word). The intercept is placed like the vector curves'
(``mmsearch.eval.fit.fit_decision_curve``) so 0.5 means the same decision.
"""

from __future__ import annotations

import json
import sqlite3

import numpy as np

from mmsearch.eval.fit import Examples, figures, fit_decision_curve
from mmsearch.search import keyword

from . import data
from .calibration import descriptions, name_of, pick

TOKENIZE = "porter unicode61 remove_diacritics 2"  # alembic/versions/0003_keyword_search_and_taken_at.py
LIBRARY, ROUNDS, TOP = 300, 10, 5


def simulate(docs: list[str], doc_names: list[str], queries: list[str], seed: int) -> Examples:
    rng = np.random.default_rng(seed)
    rows_out = []
    for _ in range(ROUNDS):
        chosen = rng.choice(len(docs), min(LIBRARY, len(docs) - 10), replace=False)
        db = sqlite3.connect(":memory:")
        db.execute(f"CREATE VIRTUAL TABLE f USING fts5(t, tokenize='{TOKENIZE}')")
        db.executemany("INSERT INTO f(rowid, t) VALUES (?, ?)", [(int(i) + 1, docs[i]) for i in chosen])
        inside = {doc_names[i] for i in chosen}
        order = rng.permutation(len(queries))
        present = [q for q in order if queries[q] in inside][:80]
        absent = [q for q in order if queries[q] not in inside][:80]
        for q, kind in [(q, "present") for q in present] + [(q, "absent") for q in absent]:
            words = keyword.terms(queries[q])
            if not words:
                continue
            match = " OR ".join(f'"{w}"' for w in words)
            rows = [(r, r, s) for r, s in db.execute("SELECT rowid, -bm25(f) AS s FROM f WHERE f MATCH ? ORDER BY s DESC LIMIT ?", (match, TOP))]
            if not rows:
                continue
            df = {w: db.execute("SELECT count(*) FROM f WHERE f MATCH ?", (f'"{w}"',)).fetchone()[0] for w in words}
            contains = {w: {r for (r,) in db.execute("SELECT rowid FROM f WHERE f MATCH ?", (f'"{w}"',))} for w in words}
            feats = keyword.features(rows, words, int(max(chosen)) + 1, df, contains)
            labels = [doc_names[r - 1] == queries[q] for r, _, _ in rows]
            rows_out.append((np.array(feats), np.array(labels, float), np.arange(len(rows)) == 0, np.full(len(rows), kind)))
        db.close()
    return Examples(*(np.concatenate(col) for col in zip(*rows_out)))


def main() -> None:
    items = data.all_items()
    out = {}
    for kind in ("name", "text"):
        by_split = {}
        for split in ("train", "val"):
            if kind == "name":
                chosen = [it for it in pick(items, split, 3000) if it.id.startswith("openclipart:")]
                docs = [it.id.split(":", 1)[1] for it in chosen]  # "animals/cat.png", as media.relpath
                names = [name_of(it.caption) for it in chosen]
            else:
                pairs = descriptions(items, split)
                docs, names = [d for _, d in pairs], [t for t, _ in pairs]
            queries = list(dict.fromkeys(names + [name_of(it.caption) for it in pick(items, split, 400)]))
            by_split[split] = simulate(docs, names, queries, 5 if split == "train" else 6)
        curve = fit_decision_curve(by_split["train"])
        out[kind] = {"curve": [*curve.weights, curve.bias],
                     **{split: figures(curve(ex.features), ex) for split, ex in by_split.items()}}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
