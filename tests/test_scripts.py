"""Queries in scripts the model never learnt: an English model's vector for any Chinese sentence
lies near any other, so that space's scores are capped under the cut for them; and words inside
Chinese, Japanese or Korean text, which both full-text indexes keep as one token per run, are
found by substring, ignoring case beyond ASCII."""

from __future__ import annotations

from pathlib import Path

import pytest

from mmsearch.search.keyword import substring_terms
from mmsearch.search.legs import readable

lite = pytest.importorskip("mmsearch_lite")
needs_lite = pytest.mark.skipif(bool(lite.towers.missing_packages()), reason="lite embedder packages not installed")


def test_which_queries_a_latin_only_model_reads() -> None:
    latin = frozenset({"LATIN"})
    assert readable("Crème brûlée für Großmutter", latin) and readable("invoice 48245", latin) and readable("48245", latin)
    assert not readable("纽约的天气", latin) and not readable("東京の天気", latin) and not readable("Москва", latin)
    assert readable("北京 meeting notes", latin)  # mostly English: the model reads most of it
    assert readable("纽约的天气", None)


def test_unspaced_runs_become_bigrams_and_other_words_stay() -> None:
    assert substring_terms("纽约的天气") == ["纽约", "约的", "的天", "天气"]
    assert substring_terms("北京 meeting notes") == ["北京", "meeting", "notes"]
    assert substring_terms("report 北京2024") == ["report", "北京", "2024"]
    assert substring_terms("猫") == ["猫"]


@needs_lite
@pytest.mark.slow
def test_chinese_and_japanese_notes_with_the_english_lite_space(tmp_path: Path, db_url: str | None, open_engine,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Before: "纽约的天气" (New York's weather, in no note) showed the Beijing note at 0.96 and
    the Tokyo memo at 0.88; "北京" put the Japanese memo, which does not hold it, first."""
    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)  # the shipped cut
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "chinese-notes.txt").write_text("今天我们去北京开会。会议讨论了新产品的发布计划。明天下午三点在上海见面。\n")
    (lib / "japanese-memo.txt").write_text("東京の天気は晴れです。来週の会議は大阪で行います。\n")
    (lib / "chores.txt").write_text("The dishwasher does not drain; call the plumber on Monday.\n")
    (lib / "cake.txt").write_text("Recipe: apple cake with cinnamon and sugar.\n")
    engine = open_engine(db=db_url, embedders=["lite"], plugins=[])
    engine.index(lib)
    shown = lambda q: [h.path for h in engine.search(q, k=4)]  # noqa: E731
    assert shown("纽约的天气") == [] and shown("巴黎") == []
    assert shown("北京") == ["chinese-notes.txt"] and shown("上海") == ["chinese-notes.txt"]
    assert shown("大阪") == ["japanese-memo.txt"] and shown("東京の天気") == ["japanese-memo.txt"]
    assert shown("plumber") == ["chores.txt"]  # English queries keep their vector legs


@needs_lite
@pytest.mark.slow
def test_korean_russian_and_accented_words_are_found_and_shown(tmp_path: Path, db_url: str | None, open_engine,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Skipping the English space outright lost these (a probe: "서울" and "бюджет" found nothing);
    SQLite's lower() left "CAFÉ" unfolded, so "北京 café" matched half its words."""
    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "korean.txt").write_text("내일 서울에서 예산 회의가 있습니다.\n")
    (lib / "russian.txt").write_text("Отчёт о бюджет на следующий год.\n")
    (lib / "shop.txt").write_text("CAFÉ MÜLLER 北京分店 opens at nine.\n")
    (lib / "chores.txt").write_text("The dishwasher does not drain; call the plumber on Monday.\n")
    engine = open_engine(db=db_url, embedders=["lite"], plugins=[])
    engine.index(lib)
    shown = lambda q: [h.path for h in engine.search(q, k=4)]  # noqa: E731
    assert shown("서울") == ["korean.txt"] and shown("бюджет") == ["russian.txt"]
    assert shown("北京 café") == ["shop.txt"] and shown("北京 CAFÉ") == ["shop.txt"]
    assert shown("Париж") == []  # in no file: the English space alone shows nothing
