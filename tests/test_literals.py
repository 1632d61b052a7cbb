"""Identifiers typed in a query (invoice numbers, ticket ids, dates, versions) decide between
near-identical records, which the embedders cannot tell apart; and the keyword leg reads such
tokens the same way on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import mmsearch
from mmsearch.search.keyword import CURVES
from mmsearch.search.literals import MISS, MISS_SOFT, SOFT_CAP, LiteralEvidence, literals


def test_codes_are_literals_and_quantities_and_years_are_words() -> None:
    found = literals("invoice 48245, ticket SR-20931 of 2024-03-15 about top 10 tips for 3 cats")
    assert [lit.text for lit in found] == ["48245", "SR-20931", "2024-03-15"]
    assert [lit.words for lit in found] == [("48245",), ("sr", "20931"), ("2024", "03", "15")]
    assert [lit.words for lit in literals("release v3.14.2 of foo_123")] == [("v3", "14", "2"), ("foo", "123")]
    assert [lit.text for lit in literals("part A7X22 for the h264 codec")] == ["A7X22", "h264"]
    assert [lit.text for lit in literals("４８２４５")] == ["48245"]  # full-width digits are digits
    for words in ("a red car at night", "bake at 200 degrees", "cake serves 120", "annual report 2023", "mp3 player",
                  "iphone 15 case", "invoice 48,245"):
        assert [lit for lit in literals(words) if not lit.soft] == [], words
    assert literals("48245 48245") == literals("48245")
    assert len(literals("11111 22222 33333 44444 55555 66666")) == 4


def test_names_and_amounts_are_soft_literals_and_title_case_or_years_are_not() -> None:
    soft = lambda q: [lit.text for lit in literals(q) if lit.soft]  # noqa: E731
    assert soft("plumbing invoice for Carla Rossi") == ["Carla", "Rossi"]
    assert soft("minutes of the August meeting") == ["August"] and soft("I met Tom") == ["Tom"]
    assert soft("Brian O'Neill") == ["Brian", "Neill"] and soft("Kowalczyk") == ["Kowalczyk"]
    assert soft("account stood at 2133 pounds") == ["2133"] and soft("bake at 200 degrees") == ["200"]
    assert soft("flat rent of 1,250 a month") == [] and soft("salary of 45,000 a year") == [] and soft("costs 12.50 each") == []
    assert soft("room 205, floor 3") == ["205"] and soft("an offer of 250.") == ["250"]
    for words in ("The cat on the mat", "How To Cook Pasta", "A RED CAR", "annual report 2023", "iphone 15 case", "Python notes",
                  "A wheelie bin! Give me your trash"):
        assert soft(words) == [], words
    assert [(lit.text, lit.soft) for lit in literals("invoice 48245 for Emma Laurent")] == [("48245", False), ("Emma", True), ("Laurent", True)]


def test_a_name_counts_on_its_own_capped_and_only_when_some_file_holds_it() -> None:
    carla, rossi = literals("invoice for Carla Rossi")
    both = LiteralEvidence({carla: frozenset({1, 2}), rossi: frozenset({1})}, total=30)
    assert both.factor(1) == pytest.approx(SOFT_CAP * SOFT_CAP)  # rare: each lift stops at SOFT_CAP
    assert both.factor(2) == pytest.approx(SOFT_CAP * MISS_SOFT / (1 - 1 / 30))  # another Carla
    assert both.factor(3) == pytest.approx(MISS_SOFT**2 / ((1 - 2 / 30) * (1 - 1 / 30)))  # neither name
    assert both.weigh(3, 0.95, soft=True) < 0.5 < 0.9 < both.weigh(1, 0.59, soft=True)
    assert both.weigh(3, 0.95) == 0.95  # without soft=True only codes count
    nobody = LiteralEvidence({literals("bake at 200 degrees")[0]: frozenset()}, total=30)
    assert nobody.factor(5) == 1.0  # no file says 200: the recipe that says 180 keeps its score
    invoice_200 = LiteralEvidence({literals("bake at 200 degrees")[0]: frozenset({9})}, total=30)
    assert invoice_200.weigh(9, 0.05, soft=True) < 0.5 and invoice_200.weigh(5, 0.95, soft=True) > 0.75


def test_names_count_only_when_the_best_hit_or_a_near_copy_of_it_holds_them() -> None:
    python = LiteralEvidence({literals("notes about Python")[0]: frozenset({2})}, total=30)
    assert python.contest(frozenset({1, 3})) == frozenset()  # the snake sheet is no copy of the answer
    assert python.contest(frozenset({1, 2, 3})) == frozenset({1, 2, 3})
    assert python.weigh(1, 0.8, soft=True, lift=False) < 0.8 and python.weigh(2, 0.3, soft=True, lift=False) == 0.3


def test_a_holder_gains_odds_by_rarity_and_a_file_holding_none_loses_them() -> None:
    one_in_30 = LiteralEvidence({literals("48245")[0]: frozenset({7})}, total=30)
    assert one_in_30.factor(7) == pytest.approx((1 - MISS) * 30)
    assert one_in_30.factor(8) == pytest.approx(MISS / (1 - 1 / 30))
    assert one_in_30.weigh(8, 0.914) < 0.25 < 0.95 < one_in_30.weigh(7, 0.6)
    assert one_in_30.weigh(8, 0.0) == 0.0 and one_in_30.weigh(7, 1.0) == 1.0
    assert one_in_30.weigh(7, 0.2, boost=False) == 0.2 and one_in_30.weigh(8, 0.2, boost=False) < 0.2
    nobody = LiteralEvidence({literals("99999")[0]: frozenset()}, total=30)
    assert nobody.factor(1) == pytest.approx(MISS)  # "invoice 99999": no invoice is the answer
    everyone = LiteralEvidence({literals("20240")[0]: frozenset(range(30))}, total=30)
    assert everyone.factor(3) == 1.0  # held by all: tells nothing, and never turns into a penalty
    a, b = literals("48245 48253")
    either = LiteralEvidence({a: frozenset({1}), b: frozenset({2})}, total=30)
    assert either.factor(1) == either.factor(2) == pytest.approx((1 - MISS) * 30)  # a list: any of them
    assert either.factor(3) == pytest.approx(MISS / (1 - 1 / 30) ** 2)  # holding none costs once, not twice


@pytest.mark.parametrize("query,target", [("ORD-77091", "a.txt"), ("schwarz@example.com", "a.txt"), ("2024-02-12", "a.txt"),
                                          ("269.30", "a.txt"), ("dishwasher does not drain", "c.txt"), ("77091", "a.txt")])
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
    # The word-hashing fake scores the sibling invoice by its shared words ("example", "com") far
    # above generic texts: whether it passes the cut is a real model's matter (next test, lite).
    assert all(h.score < hits[0].score - 0.1 for h in hits[1:]), [(h.path, h.score) for h in hits]


lite = pytest.importorskip("mmsearch_lite")
needs_lite = pytest.mark.skipif(bool(lite.towers.missing_packages()), reason="lite embedder packages not installed")


@needs_lite
@pytest.mark.slow
def test_only_the_invoice_holding_the_typed_token_passes_the_cut_with_the_real_lite_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "a.txt").write_text("INVOICE INV-2024-1481\nDate: 2024-02-12\nContact schwarz@example.com\nOrder ORD-77091, amount EUR 269.30\n")
    (lib / "b.txt").write_text("INVOICE INV-2024-1111\nDate: 2024-05-03\nContact weber@example.com\nOrder ORD-77011, amount EUR 123.40\n")
    (lib / "c.txt").write_text("The dishwasher does not drain.\n")
    with mmsearch.Engine.open(tmp_path / "index", embedders=["lite"]) as engine:
        engine.index(lib)
        for query, target in [("ORD-77091", "a.txt"), ("schwarz@example.com", "a.txt"), ("2024-02-12", "a.txt"),
                              ("269.30", "a.txt"), ("dishwasher does not drain", "c.txt"), ("77091", "a.txt")]:
            hits = engine.search(query, k=3)
            assert [h.path for h in hits] == [target], (query, [(h.path, h.score) for h in engine.search(query, k=3, min_score=0)])


@needs_lite
@pytest.mark.slow
def test_records_told_apart_by_their_identifiers_with_the_real_lite_space(tmp_path: Path, db_url: str | None, open_engine,  # type: ignore[no-untyped-def]
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The held-out ``records`` set (96 near-identical invoices, tickets, bookings, orders, release
    notes, policies, minutes and parcel notices), every query it holds: the record holding the
    typed identifier ranks first and is the only one shown at the default cut; an identifier no
    record holds shows nothing. Before, 60 % of those showed a record anyway (up to 0.91), 10 of
    128 right records did not rank first, and 42 % of answers showed wrong records beside them."""
    from mmsearch.eval.sets import records

    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)  # the shipped cut
    records.build(tmp_path / "set")
    engine = open_engine(db=db_url, embedders=["lite"], plugins=[])
    engine.index(tmp_path / "set" / "library")
    wrong: list[str] = []
    for line in (tmp_path / "set" / "labels.jsonl").read_text().splitlines():
        label = json.loads(line)
        if label.get("kind", "query") == "query":
            shown = [h.path for h in engine.search(label["query"], k=5)]
            if shown[:1] != label["relevant"][:1] or not set(shown) <= set(label["relevant"]):
                wrong.append(f"{label['query']!r}: shown {shown}, right {label['relevant']}")
        elif label["kind"] == "identifier":
            shown = [(h.path, round(h.score, 3)) for h in engine.search(label["query"], k=3)]
            if shown:
                wrong.append(f"{label['query']!r} (no such record): shown {shown}")
    assert not wrong, "\n".join(wrong)


def test_a_word_naming_the_kind_of_file_that_no_text_holds_is_not_a_missing_word(tmp_path: Path, db_url: str | None,  # type: ignore[no-untyped-def]
                                                                                 open_engine) -> None:
    """"notes from Kowalczyk": no file says "notes", and as the rarest word it outweighed the
    surname (keyword evidence 0.016 for the one file holding it). A kind word that some text does
    hold still counts where it is missing."""
    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(20):
        (lib / f"budget{i:02d}.txt").write_text(f"Quarterly budget review number {i} with the finance team.\n")
    (lib / "meeting.txt").write_text("Meeting with Alice Thornbury and Bob Kowalczyk about the budget.\n")
    (lib / "printer.txt").write_text("The printer jams on every blank sheet.\n")
    (lib / "manual.txt").write_text("See the page about toner cartridges.\n")
    engine = open_engine(db=db_url)
    engine.index(lib)
    full = 1.0 / (1.0 + pow(2.718281828459045, -(CURVES["text"][0] + CURVES["text"][2])))

    def keyword_score(query: str, path: str) -> float:
        hit = next(h for h in engine.search(query, k=30, min_score=0) if h.path == path)
        return max((ev.score for ev in hit.evidence if ev.leg.endswith("@keyword/text")), default=0.0)

    for query in ("notes from Kowalczyk", "email from Kowalczyk", "Kowalczyk"):
        assert keyword_score(query, "meeting.txt") == pytest.approx(full, abs=1e-3), query
    assert keyword_score("blank page", "printer.txt") < full / 2  # "page" is in the manual: content here


@needs_lite
@pytest.mark.slow
def test_quantities_and_years_in_a_natural_query_do_not_sink_the_answer(tmp_path: Path, open_engine,  # type: ignore[no-untyped-def]
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """When every number counted as an identifier, "bake at 200 degrees" sank the recipe (which
    says 180) from 0.95 to 0.25, and "invoice for consulting services 2023" hid every invoice."""
    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)  # the shipped cut
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "recipe.txt").write_text("Apple cake: mix flour, butter and sugar, then bake at 180 degrees for 25 minutes.\n")
    (lib / "linux.txt").write_text("How to install Ubuntu Linux from a USB stick and set up the desktop.\n")
    (lib / "garden.txt").write_text("Prune the roses in early spring and water the tomatoes every morning.\n")
    (lib / "report_2023.txt").write_text("Annual report 2023: revenue grew and the team moved offices.\n")
    engine = open_engine(embedders=["lite"], plugins=[])
    engine.index(lib)
    for query, target in (("bake a cake at 200 degrees", "recipe.txt"), ("ubuntu install 2024", "linux.txt")):
        shown = [h.path for h in engine.search(query, k=3)]
        assert shown[:1] == [target], (query, shown)


@needs_lite
@pytest.mark.slow
def test_a_name_month_or_amount_picks_one_of_near_identical_documents(tmp_path: Path, db_url: str | None, open_engine,  # type: ignore[no-untyped-def]
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """An outside probe's invoices and minutes: the only file holding the surname, month or amount
    scored under its siblings (lite 0.59 against 0.80-0.84; noisy-OR followed lite), so a wrong
    invoice came first and four more were shown beside the right one."""
    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)  # the shipped cut
    lib = tmp_path / "lib"
    lib.mkdir()
    customers = ["Carla Rossi", "James Miller", "Emma Laurent", "Priya Natarajan", "Tomasz Nowak", "Hannah Schmidt", "Omar Haddad", "Lucy Brennan"]
    for i, name in enumerate(customers):
        (lib / f"invoice-{i}.txt").write_text(
            f"Keller & Sons Plumbing Ltd. Invoice for {name}, 14 Mill Lane. Replaced the kitchen tap and the bathroom siphon. "
            f"Labour 2 hours, parts included. Total due: {180 + 17 * i} pounds within 30 days. Thank you for your custom.\n")
    months = ["January", "February", "March", "April", "May", "June", "July", "August"]
    for i, month in enumerate(months):
        (lib / f"minutes-{i}.txt").write_text(
            f"Minutes of the {month} meeting of the allotment society. Present: the committee and twelve members. "
            f"The treasurer reported that the account stood at {1850 + 41 * i} pounds. The water butts will be cleaned.\n")
    engine = open_engine(db=db_url, embedders=["lite"], plugins=[])
    engine.index(lib)
    wrong = []
    queries = [(f"plumbing invoice for {name}", f"invoice-{i}.txt") for i, name in enumerate(customers)]
    queries += [(f"minutes of the {month} allotment meeting", f"minutes-{i}.txt") for i, month in enumerate(months)]
    for query, right in queries:
        shown = [h.path for h in engine.search(query, k=5)]
        if shown != [right]:
            wrong.append(f"{query!r}: shown {shown}, right {right}")
    # One amount alone (MISS_SOFT) ranks its file first but leaves close siblings over the cut.
    for i in range(8):
        query = f"allotment meeting where the account stood at {1850 + 41 * i} pounds"
        shown = [h.path for h in engine.search(query, k=5)]
        if shown[:1] != [f"minutes-{i}.txt"]:
            wrong.append(f"{query!r}: shown {shown}, right minutes-{i}.txt")
    assert not wrong, "\n".join(wrong)


@needs_lite
@pytest.mark.slow
def test_a_capitalised_word_or_number_in_an_unrelated_file_changes_nothing(tmp_path: Path, open_engine,  # type: ignore[no-untyped-def]
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A second probe: with names weighed in every file, "notes about Python" showed a snake care
    sheet ("ball pythons") at 0.72, "my trip to Paris" an expense claim at 0.80 (the diary never
    says "Paris"), "my Amazon order" sank the order to 0.57 because a rainforest report holds
    "amazon", and "cook the chicken at 180 degrees" the braise because a pie recipe says 180."""
    monkeypatch.delenv("MMSEARCH_SEARCH_MIN_SCORE", raising=False)  # the shipped cut
    lib = tmp_path / "lib"
    lib.mkdir()
    files = {  # the probe's own files
        "python-notes.txt": 'Notes on learning python: list comprehensions, generators, decorators and the standard library. Use virtual environments and pip to install packages. Type hints help larger programs.',
        "snake-care.txt": 'Reptile care sheet. Ball pythons need a warm enclosure at 30 degrees with a hide, fresh water and a frozen mouse every ten days. Snakes shed their skin several times a year.',
        "trip.txt": 'Travel diary, spring holiday in france. We climbed the eiffel tower, walked along the seine, visited the louvre and ate croissants every morning near our hotel in montmartre.',
        "expenses.txt": 'Conference expense claim: train ticket to Paris 180.00, hotel two nights 240.00, taxi 35.00. Approved by Bob from finance.',
        "order.txt": 'Order confirmation: wireless headphones, qty 1, price 129.99, shipped from the online store warehouse, expected delivery Tuesday.',
        "rainforest.txt": 'Rainforest field trip report. The amazon river basin holds the largest tropical rainforest; we saw macaws, river dolphins and giant water lilies on a boat tour.',
        "chicken.txt": 'Chicken braised in red wine. Marinate chicken thighs overnight in burgundy with thyme and bay leaf, brown them with bacon lardons, mushrooms and pearl onions, then cook slowly in the wine until tender. A classic French country dish.',
        "pie.txt": 'Apple pie recipe. Mix sliced apples with sugar and cinnamon, fill a buttered pie crust, cover with pastry and bake at 180 degrees for 45 minutes until golden.',
    }
    for name, text in files.items():
        (lib / name).write_text(text + "\n")
    engine = open_engine(embedders=["lite"], plugins=[])
    engine.index(lib)
    wrong = []
    for query, right in (("notes about Python", "python-notes.txt"), ("my trip to Paris", "trip.txt"),
                         ("my Amazon order", "order.txt"), ("cook the chicken at 180 degrees", "chicken.txt")):
        shown = [h.path for h in engine.search(query, k=4)]
        if shown != [right]:
            wrong.append(f"{query!r}: shown {shown}, right {right}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("query", ["jupiter at 2:46", "the meeting at 12:30", "chapter at 1:02:03"])
def test_a_time_in_a_query_is_not_a_code_a_file_must_hold(query: str) -> None:
    """An outside probe's "jupiter at 2:46" hid the recording found at 0.98 for "jupiter": the time
    was taken for an identifier that no transcript holds, and every file lost by MISS."""
    assert [lit.text for lit in literals(query) if not lit.soft] == []
    assert [lit.text for lit in literals("ticket SR-20931 at 12:30") if not lit.soft] == ["SR-20931"]
