"""``records``: near-identical records told apart only by their identifiers.

Eight families of twelve short text records (invoices, support tickets, flight bookings, orders,
release notes, insurance policies, meeting minutes, parcel notices), generated with a fixed seed.
Records of one family share their wording; each holds its own identifier (``Invoice 48245``,
``SR-20931``, ``3.14.2``, ``2023-11-07``). Queries are what a user types to find one record:

* the family word and the identifier ("invoice 48245"), for every record;
* the identifier alone, for a third of them;
* ``identifier`` absent queries: the family word and an identifier of the same shape that no
  record holds ("invoice 48299"): the answer is "no match", not the nearest record.

Plus the usual 40 absent concepts and 40 gibberish queries. Files have neutral names
(``doc_001.txt``), so the file-name leg gives nothing away. Written before any run, never tuned.
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Callable
from pathlib import Path

from .common import SEED, LabelWriter, add_absent, fresh_dir

PER_FAMILY = 12
N_ABSENT_IDS = 40

_PEOPLE = ["Ana Costa", "Ben Okafor", "Chen Wei", "Dora Novak", "Emil Berg", "Fatima Haddad", "Greta Lund",
           "Hugo Martin", "Ines Ruiz", "Jonas Weber", "Kaito Sato", "Lena Fischer"]
_COMPANIES = ["Acme GmbH", "Globex Corp", "Initech", "Umbrella Ltd", "Hooli", "Soylent", "Tyrell", "Cyberdyne"]
_CITIES = ["Lisbon", "Frankfurt", "Oslo", "Madrid", "Vienna", "Dublin", "Prague", "Milan", "Zurich", "Warsaw"]


def _digits(rng: random.Random, n: int) -> str:
    return str(rng.randint(1, 9)) + "".join(rng.choice(string.digits) for _ in range(n - 1))


def _date(rng: random.Random) -> str:
    return f"{rng.randint(2019, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"


def _invoice(rng: random.Random) -> tuple[str, str]:
    ident = _digits(rng, 5)
    items = rng.sample(["consulting hours", "server rental", "office chairs", "printer toner", "software licence",
                        "travel expenses", "catering", "cleaning service"], 3)
    lines = [f"Invoice {ident}", f"Customer: {rng.choice(_COMPANIES)}", f"Date: {_date(rng)}"]
    lines += [f"{item}: {rng.randint(1, 20)} x {rng.randint(10, 300)}.00 EUR" for item in items]
    lines.append(f"Payment due within 30 days. Please quote invoice {ident} with your transfer.")
    return ident, "\n".join(lines)


def _ticket(rng: random.Random) -> tuple[str, str]:
    ident = f"{rng.choice(['SR', 'IT', 'HD'])}-{_digits(rng, 5)}"
    problem = rng.choice(["the printer on the third floor does not print", "the VPN drops every few minutes",
                          "a laptop will not start after an update", "the shared calendar shows no events",
                          "e-mail attachments fail to open", "the meeting room screen stays black"])
    return ident, (f"Support ticket {ident}\nReported by {rng.choice(_PEOPLE)}: {problem}.\n"
                   f"Status: {rng.choice(['open', 'waiting for parts', 'resolved'])}. Priority: {rng.choice(['low', 'normal', 'high'])}.")


def _booking(rng: random.Random) -> tuple[str, str]:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    ident = "".join(rng.choice(letters) for _ in range(3)) + _digits(rng, 1) + "".join(rng.choice(letters) for _ in range(2))
    origin, dest = rng.sample(_CITIES, 2)
    return ident, (f"Booking confirmation\nBooking reference: {ident}\nPassenger: {rng.choice(_PEOPLE)}\n"
                   f"Flight from {origin} to {dest} on {_date(rng)}, seat {rng.randint(1, 38)}{rng.choice('ABCDEF')}.\n"
                   "Check in online up to 24 hours before departure.")


def _order(rng: random.Random) -> tuple[str, str]:
    ident = f"{_digits(rng, 3)}-{_digits(rng, 4)}"
    goods = rng.sample(["USB-C cable", "desk lamp", "notebook", "headphones", "phone case", "coffee beans",
                        "running shoes", "water bottle"], 2)
    return ident, (f"Your order #{ident} has shipped.\nItems: {goods[0]}, {goods[1]}.\n"
                   f"Delivery to {rng.choice(_CITIES)} expected in {rng.randint(2, 6)} working days.")


def _release(rng: random.Random) -> tuple[str, str]:
    ident = f"{rng.randint(1, 4)}.{rng.randint(0, 19)}.{rng.randint(0, 9)}"
    changes = rng.sample(["fixed a crash when saving large files", "faster start-up", "new dark theme",
                          "import from CSV", "better search in settings", "fewer notifications",
                          "updated translations", "security fix for the login page"], 3)
    return ident, f"Release notes for version {ident}\n" + "\n".join(f"- {c}" for c in changes)


def _policy(rng: random.Random) -> tuple[str, str]:
    ident = f"{rng.choice(['PX', 'HK', 'LM'])}-{_digits(rng, 6)}"
    cover = rng.choice(["home contents", "car", "travel", "bicycle", "liability", "pet health"])
    return ident, (f"Insurance policy number {ident}\nPolicy holder: {rng.choice(_PEOPLE)}\nCover: {cover} insurance, "
                   f"yearly premium {rng.randint(80, 900)} EUR, excess {rng.choice([100, 150, 250, 500])} EUR.")


def _minutes(rng: random.Random) -> tuple[str, str]:
    ident = _date(rng)
    team = rng.choice(["board", "design team", "sales team", "parents' association", "residents' committee"])
    decisions = rng.sample(["the budget was approved", "the launch moves by two weeks", "a new treasurer was elected",
                            "the office will close on Fridays", "the website gets a new design",
                            "volunteers are needed for the summer fair"], 2)
    return ident, (f"Minutes of the {team} meeting, {ident}\nPresent: {', '.join(rng.sample(_PEOPLE, 3))}.\n"
                   f"Decisions: {decisions[0]}; {decisions[1]}.")


def _parcel(rng: random.Random) -> tuple[str, str]:
    ident = rng.choice(["RR", "CP", "LX"]) + _digits(rng, 9) + rng.choice(["DE", "FR", "NL", "PL"])
    return ident, (f"Parcel notice\nTracking number {ident}\nYour parcel from {rng.choice(_COMPANIES)} could not be "
                   f"delivered. Collect it at the post office in {rng.choice(_CITIES)} within 7 days.")


#: family word (what the user types beside the identifier) -> record generator
FAMILIES: dict[str, Callable[[random.Random], tuple[str, str]]] = {
    "invoice": _invoice, "ticket": _ticket, "booking": _booking, "order": _order,
    "release": _release, "policy": _policy, "minutes": _minutes, "parcel": _parcel,
}


def build(out: Path) -> None:
    library = fresh_dir(out)
    rng = random.Random(f"records:{SEED}")
    labels = LabelWriter()
    texts: list[str] = []
    made: dict[str, list[str]] = {}  # family -> identifiers
    number = 0
    for family, generate in FAMILIES.items():
        for _ in range(PER_FAMILY):
            ident, body = generate(rng)
            while ident in made.get(family, []):  # every identifier names one record
                ident, body = generate(rng)
            made.setdefault(family, []).append(ident)
            number += 1
            relpath = f"doc_{number:03d}.txt"
            (library / relpath).write_text(body + "\n", encoding="utf-8")
            texts.append(body)
            labels.query(f"records-{number:03d}", f"{family} {ident}", [relpath], family=family, form="family+id")
    everything = "\n".join(texts)
    for n, (family, idents) in enumerate(made.items()):
        for j, ident in enumerate(idents):
            if (n * PER_FAMILY + j + 1) % 3 == 0:
                # The identifier alone: every record holding it is right (a date may also be an invoice's).
                holders = [f"doc_{k + 1:03d}.txt" for k, t in enumerate(texts) if re.search(rf"(?<![\w.-]){re.escape(ident)}(?![\w-]|\.\w)", t)]
                labels.query(f"records-{n * PER_FAMILY + j + 1:03d}-id", ident, holders, family=family, form="id")
    families = list(FAMILIES.items())
    for i in range(1, N_ABSENT_IDS + 1):
        family, generate = families[i % len(families)]
        ident, _ = generate(rng)
        while ident in everything:
            ident, _ = generate(rng)
        labels.absent(f"identifier-{i:02d}", f"{family} {ident}", "identifier")
    add_absent(labels, texts)
    labels.write(out / "labels.jsonl")


def missing_sources() -> str | None:
    return None
