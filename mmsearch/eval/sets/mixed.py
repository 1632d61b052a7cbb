"""``mixed``: held-out clip art next to short documents on neighbouring topics.

Every query is an image title whose right answer is the image; the documents talk about the same
subjects in prose (a paragraph on commuting by bicycle next to a bicycle icon). The report's
"above other modalities" column is the share of queries whose image outranks every document.
The documents were written for this set before any run and never edited after one. Images have
neutral names (``images/IMG_0001.png``); documents keep descriptive ones, as people name them.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .clipart import copy_pictures, heldout_pictures, neutral_names
from .common import SEED, LabelWriter, add_absent, fresh_dir

N_IMAGES = 200

#: file name -> (words that pick neighbouring images, text)
DOCUMENTS: dict[str, tuple[tuple[str, ...], str]] = {
    "cycling_to_work.md": (("bicycle", "bikes", "cycle"), ("# Cycling to work\n\nCommuting by bike is cheaper than driving and "
        "keeps you fit. Check the tyre pressure every week, oil the chain once a month and always carry lights after dark. "
        "Many cities now paint separate lanes for riders, which makes the morning ride much safer.")),
    "buying_a_used_car.md": (("car",), ("# Buying a used car\n\nAsk for the service history, look for rust under the doors and "
        "take the vehicle for a long test drive on a motorway. A mechanic's inspection costs little compared with a failed "
        "gearbox. Compare the mileage with the age: about fifteen thousand kilometres a year is normal.")),
    "learning_the_violin.txt": (("violin", "cello"), ("Learning a string instrument as an adult takes patience. Practise "
        "scales slowly with a tuner, keep the bow hair loose when you put it away and rosin it before playing. Twenty "
        "minutes every day teaches more than two hours on a Sunday.")),
    "coastal_walks.md": (("lighthouse",), ("# Coastal walks\n\nThe cliff path runs for twelve kilometres between the harbour and "
        "the old signal station on the headland. Keepers once lived there to tend the lamp that warned ships away from the "
        "rocks. Check the tide times, since parts of the beach flood quickly.")),
    "holiday_decorations.txt": (("christmas",), ("Decorating for the winter holidays: choose a fresh fir with soft needles, "
        "water it every day and keep it away from radiators. String the lights first, then the baubles, then the tinsel. "
        "Recycle the tree in January; many towns collect them for compost.")),
    "party_planning.md": (("birthday", "cake", "balloon"), ("# Planning a child's party\n\nSend invitations two weeks ahead, plan "
        "a few simple games and keep the food plain. Order the candles and the dessert early, and have a bag of small "
        "presents ready for the guests to take home.")),
    "photography_basics.md": (("camera",), ("# Photography basics\n\nAperture, shutter speed and ISO together set the exposure. "
        "A wide aperture blurs the background for portraits; a fast shutter freezes motion. Shoot in the hour after sunrise "
        "for soft light, and back up your memory cards after every trip.")),
    "old_telephones.txt": (("telephone", "phone"), ("Before mobile networks, households shared one handset on a cord in the "
        "hallway. Rotary dials sent pulses to the exchange, and operators connected long distance calls by hand. Public "
        "boxes on street corners took coins and later cards.")),
    "air_travel_tips.md": (("airplane", "flights"), ("# Air travel tips\n\nCheck in online, weigh your suitcase at home and keep "
        "medicines in your hand luggage. On long journeys walk the aisle every hour and drink water. Arrive two hours "
        "early for international departures.")),
    "marine_mammals.txt": (("dolphin",), ("Marine mammals breathe air and nurse their young. Whales, seals and porpoises "
        "navigate by sound; some species hunt together by herding fish into tight balls near the surface. Many are "
        "threatened by fishing nets and noise from ships.")),
    "insects_in_the_garden.md": (("butterfly", "beetle", "wasp"), ("# Insects in the garden\n\nA wild corner with nettles and "
        "long grass feeds caterpillars and shelters beetles. Plant lavender and buddleia for nectar, avoid sprays, and "
        "leave a shallow dish of water with stones for them to land on.")),
    "fast_food_history.txt": (("hamburger", "burger"), ("The first drive-in restaurants appeared in the 1920s and sold grilled "
        "beef in a bun with fries and a soft drink. Chains standardised the kitchen so every branch served the same meal "
        "in under a minute.")),
    "coffee_at_home.md": (("mug", "cup"), ("# Coffee at home\n\nGrind the beans just before brewing, use water just off the "
        "boil and weigh the coffee: about sixty grams a litre. Warm the drinking vessel first so the brew stays hot.")),
    "geography_quiz.txt": (("globe", "map"), ("Geography quiz: name the longest river in Africa, the smallest country in "
        "Europe and the ocean between the Americas and Asia. Bonus: which line of latitude passes through Ecuador, "
        "Kenya and Indonesia?")),
    "sleep_habits.md": (("clock", "alarm"), ("# Better sleep\n\nGo to bed and wake at the same hour every day, weekends "
        "included. Keep screens out of the bedroom and the room cool and dark. A morning walk in daylight sets the "
        "body's rhythm better than any supplement.")),
    "sailing_lessons.txt": (("boat", "anchor", "sailing"), ("Sailing lessons start on calm water: rigging the dinghy, tacking "
        "and gybing, and what to do after a capsize. Always wear a buoyancy aid and tell someone ashore when you expect "
        "to be back in the harbour.")),
    "camping_checklist.md": (("tent",), ("# Camping checklist\n\nShelter with pegs and a spare pole, sleeping bag rated for "
        "the night temperature, stove and fuel, head torch, first aid kit, and a map. Pitch on level ground away from "
        "streams and pack out all your rubbish.")),
    "space_missions.txt": (("satellite", "alien"), ("Orbiting spacecraft relay phone calls, measure the weather and map the "
        "ground. The first one, Sputnik, circled the Earth in 1957; today thousands share low orbit, and old debris is a "
        "growing risk for new launches.")),
    "citrus_recipes.md": (("lemon", "lime"), ("# Citrus recipes\n\nA squeeze of juice lifts fish, salads and cakes. Zest the "
        "fruit before cutting it, store it at room temperature for more juice, and try a simple curd with butter, "
        "sugar and eggs.")),
    "reading_club.txt": (("books", "page"), ("Our reading club meets on the first Thursday of each month at the library. "
        "This season we read three novels and a collection of short stories; members take turns choosing and bringing "
        "tea and biscuits.")),
}


def build(out: Path) -> None:
    library = fresh_dir(out)
    pool = heldout_pictures()
    topics = {w for words, _ in DOCUMENTS.values() for w in words}
    # The neighbours of every document first (that is what the set measures), then a fixed sample.
    near = [p for p in pool if set(p.title.split()) & topics]
    rest = sorted((p for p in pool if p not in near), key=lambda p: hashlib.sha1(f"mixed:{SEED}:{p.id}".encode()).hexdigest())
    chosen = (near + rest)[:N_IMAGES]
    pictures = neutral_names(chosen, "images/")
    copy_pictures(pictures, library)
    docs = library / "documents"
    docs.mkdir()
    for name, (_, text) in DOCUMENTS.items():
        (docs / name).write_text(text + "\n", encoding="utf-8")
    labels = LabelWriter()
    for i, (pic, was) in enumerate(zip(pictures, chosen), start=1):
        labels.query(f"mixed-{i:03d}", pic.title, [pic.relpath], lite_id=pic.id, near_document=was in near)
    add_absent(labels, [p.title for p in pictures] + [text for _, text in DOCUMENTS.values()])
    labels.write(out / "labels.jsonl")
