"""The keyword leg reads punctuated tokens (order numbers, e-mails, dates, amounts) the same way
on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmsearch.search.keyword import CURVES


@pytest.mark.parametrize("query,target", [("ORD-77091", "a.txt"), ("schwarz@example.com", "a.txt"), ("2024-02-12", "a.txt"),
                                          ("269.30", "a.txt"), ("dishwasher does not drain", "c.txt")])
def test_the_keyword_leg_reads_punctuated_tokens_alike_on_both_backends(tmp_path: Path, db_url: str | None, open_engine,  # type: ignore[no-untyped-def]
                                                                       query: str, target: str) -> None:
    """PostgreSQL keeps an e-mail or a decimal as one lexeme, reads "ORD-77091" as ``ord``,
    ``-77091``, and drops "does" and "not": the leg used to look for \\w+ words in it and found
    none of these (the wrong invoice came first for its order number)."""
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.txt").write_text("INVOICE INV-2024-1481\nDate: 2024-02-12\nContact schwarz@example.com\nOrder ORD-77091, amount EUR 269.30\n")
    (lib / "b.txt").write_text("INVOICE INV-2024-1111\nDate: 2024-05-03\nContact weber@example.com\nOrder ORD-77011, amount EUR 123.40\n")
    (lib / "c.txt").write_text("The dishwasher does not drain.\n")
    engine = open_engine(db=db_url)
    engine.index(lib)
    hits = engine.search(query, k=3, min_score=0)
    assert hits[0].path == target, [(h.path, h.score) for h in hits]
    keyword = [ev for ev in hits[0].evidence if ev.leg.endswith("@keyword/text")]
    full = 1.0 / (1.0 + pow(2.718281828459045, -(CURVES["text"][0] + CURVES["text"][2])))
    assert keyword and keyword[0].score == pytest.approx(full, abs=1e-3), hits[0].explain()  # every word found
    assert all(h.score < 0.5 for h in hits[1:]), [(h.path, h.score) for h in hits]
