"""A search process for the concurrency tests: ``python concurrency_worker.py INDEX DB STOPFILE``.

It searches over and over while another process indexes, opening a fresh Engine every few
searches (so it loads whatever cache file is on disk), until STOPFILE exists. It checks what a
user relies on: no error, no non-finite score, and a cache that holds exactly the vectors of the
SQL state its stamp names (checked whenever SQL did not move during the check). Prints one JSON
line with its counts.
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from pathlib import Path

from sqlalchemy import select

import mmsearch
from mmsearch.store.models import SpaceRow, Vector

MAX_SECONDS = 60.0



def cache_ids(engine: mmsearch.Engine) -> list[int]:
    """The segment ids the engine's FAISS cache holds, all kinds together."""
    indexes = engine.spaces[0].indexes
    return sorted(int(i) for index in indexes.by_kind.values() for i in index.ids())

def consistent(engine: mmsearch.Engine) -> bool | None:
    """True/False: the cache holds exactly the SQL vectors of its generation; None: SQL moved."""
    space = engine.spaces[0]
    with engine.db.connect() as conn:
        before = conn.scalar(select(SpaceRow.generation).where(SpaceRow.id == space.row_id))
        ids = sorted(conn.scalars(select(Vector.segment_id).where(Vector.space_id == space.row_id)))
        after = conn.scalar(select(SpaceRow.generation).where(SpaceRow.id == space.row_id))
    if before != after or before != space.indexes.generation:
        return None
    return cache_ids(engine) == ids


def main(index: str, db: str, stop: str) -> None:
    counts = {"searches": 0, "checks": 0, "violations": 0, "bad_scores": 0, "opens": 0}
    deadline = time.monotonic() + MAX_SECONDS
    while time.monotonic() < deadline:
        finished = Path(stop).exists()  # one last round after the writer is done
        with mmsearch.Engine.open(index, db=db or None, embedders=["hash"],  # plugin: MMSEARCH_PLUGINS
                                  settings={"search.min_score": 0}) as engine:
            counts["opens"] += 1
            Path(stop).with_name(f"ready-{os.getpid()}").touch()  # the test starts the writer once all are up
            for _ in range(5):
                hits = engine.search("document topic words", k=5)
                counts["searches"] += 1
                counts["bad_scores"] += sum(not math.isfinite(h.score) for h in hits)
                verdict = consistent(engine)
                if verdict is not None:
                    counts["checks"] += 1
                    counts["violations"] += not verdict
                time.sleep(0.2)  # a user's pace, not a busy loop starving the writer of CPU
        if finished:
            break
    print(json.dumps(counts))


if __name__ == "__main__":
    main(*sys.argv[1:4])
