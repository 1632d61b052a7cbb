"""``speech``: espeak-ng sentences, three to a recording with silences between them; each query
paraphrases one sentence and its right answer is that sentence's time range. Fifteen more
sentences on neighbouring subjects (no query of their own) fill five more recordings.

The gaps differ (2, 4 and 8 seconds), so the set also measures whether a hit links to the
sentence that matches rather than to the start of the recording.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from .common import LabelWriter, add_absent, fresh_dir

#: (sentence spoken, paraphrase used as the query)
SENTENCES: tuple[tuple[str, str], ...] = (
    ("The train to the airport leaves from platform four every twenty minutes.", "when does the airport train depart"),
    ("Please remember to water the tomato plants while I am away on holiday.", "watering the vegetables during my trip"),
    ("The museum will stay closed on Monday because of the public holiday.", "gallery shut at the start of the week"),
    ("Our dog chased the postman all the way down the street this morning.", "a pet ran after the mail carrier"),
    ("Add two eggs, a cup of flour and a spoon of sugar, then whisk the batter.", "recipe for mixing a cake batter"),
    ("The storm brought down power lines and thousands of homes lost electricity.", "blackout caused by bad weather"),
    ("She won the chess tournament after a long endgame against the champion.", "victory in a board game competition"),
    ("The doctor said I should rest my knee and avoid running for two weeks.", "advice after a leg injury"),
    ("Interest rates rose again, so mortgage payments will go up next year.", "home loans becoming more expensive"),
    ("The children built a snowman in the park and gave it a carrot nose.", "kids playing in the winter snow"),
    ("Remember to back up your laptop before installing the new operating system.", "save your files before a software upgrade"),
    ("The orchestra played a symphony by Beethoven to a sold out concert hall.", "classical music performance"),
    ("Turn left at the bakery and the library is the second building on the right.", "directions to the library"),
    ("A family of foxes has been living under the shed at the bottom of the garden.", "wild animals nesting in the backyard"),
    ("The flight was delayed by three hours because of fog at the airport.", "plane late due to poor visibility"),
    ("He painted the kitchen walls a pale yellow and replaced the old cupboards.", "redecorating the kitchen"),
    ("The marathon runners crossed the bridge just as the sun was rising.", "long distance race at dawn"),
    ("Scientists discovered a new species of frog in the rainforest of Peru.", "a new amphibian found in the jungle"),
    ("My grandmother taught me how to knit a scarf when I was seven years old.", "learning to knit from a grandparent"),
    ("The company announced record profits and a bonus for every employee.", "a firm earning more money than ever"),
    ("Low tide is at six o'clock, so we can walk across the sand to the island.", "crossing to the island when the sea goes out"),
    ("The printer is out of ink again and the report is due this afternoon.", "no cartridge left before a deadline"),
    ("We camped beside the lake and watched the stars until midnight.", "a night outdoors by the water"),
    ("The city council voted to build a new cycle lane along the river.", "plans for a bike path"),
    ("Bees are disappearing because of pesticides and the loss of wild flowers.", "why pollinating insects are declining"),
    ("The baby finally fell asleep after we sang three lullabies.", "getting an infant to sleep"),
    ("Our team lost the basketball game by a single point in overtime.", "a narrow defeat on the court"),
    ("The volcano on the island has been quiet for almost two hundred years.", "a dormant mountain of fire"),
    ("Please bring a passport and two photographs to renew your driving licence.", "documents needed for a licence renewal"),
    ("The bakery sells fresh bread and cinnamon rolls from seven in the morning.", "early morning pastries from the baker"),
)
#: Sentences on neighbouring subjects with no query of their own, in recordings 11–15: a query
#: about the airport train must beat the city bus, so ranking is tested, not just topic spotting.
NEIGHBOURS: tuple[str, ...] = (
    "The bus to the city centre stops outside the station every half hour.",
    "Our cat sleeps on the windowsill all afternoon and ignores the birds.",
    "The art gallery opens a new exhibition of modern sculpture next month.",
    "Heavy rain is expected tomorrow, so take an umbrella to work.",
    "He lost the tennis final in three sets after hurting his wrist.",
    "The dentist told me to floss every day and eat fewer sweets.",
    "House prices in the city have doubled over the last ten years.",
    "The orchestra is looking for a new violinist for the autumn season.",
    "The supermarket sells fresh fish on Fridays from eight o'clock.",
    "A hedgehog visits our garden every night looking for slugs.",
    "The train was cancelled because of ice on the tracks.",
    "We bought a new sofa and moved the bookshelf into the hallway.",
    "The swimming club trains in the lake early every Sunday morning.",
    "Our neighbour keeps chickens and sells the eggs at the gate.",
    "Remember to update the antivirus software on the office computers.",
)
PER_FILE = 3
LEAD = 1.0
GAPS = (2.0, 4.0, 8.0)


def missing_sources() -> str | None:
    for tool in ("espeak-ng", "ffmpeg", "ffprobe"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed (apt-get install espeak-ng ffmpeg)"
    return None


def _run(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


def _duration(path: Path) -> float:
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0", str(path)],
                         check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def _silence(path: Path, seconds: float) -> Path:
    _run("ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", str(seconds), "-c:a", "pcm_s16le", str(path))
    return path


def build(out: Path) -> None:
    library = fresh_dir(out)
    work = out / "work"
    work.mkdir(exist_ok=True)
    labels = LabelWriter()
    spoken: list[tuple[str, str | None]] = [*SENTENCES, *((n, None) for n in NEIGHBOURS)]
    for f, first in enumerate(range(0, len(spoken), PER_FILE), start=1):
        parts = [_silence(work / "lead.wav", LEAD)]
        t = LEAD
        name = f"recording-{f:02d}.{'mp3' if f % 2 else 'wav'}"
        for s, (sentence, paraphrase) in enumerate(spoken[first : first + PER_FILE]):
            raw = work / f"s{first + s:02d}.wav"
            _run("espeak-ng", "-w", str(raw), sentence)
            length = _duration(raw)
            if paraphrase is not None:
                labels.query(f"speech-{first + s + 1:02d}", paraphrase, [{"path": name, "t": [round(t, 2), round(t + length, 2)]}])
            gap = GAPS[(f + s) % len(GAPS)]
            parts += [raw, _silence(work / f"gap{gap:g}.wav", gap)]
            t += length + gap
        listing = work / f"{f}.txt"
        listing.write_text("".join(f"file '{p.resolve()}'\n" for p in parts))
        codec = ["-c:a", "libmp3lame", "-b:a", "64k"] if name.endswith(".mp3") else ["-c:a", "pcm_s16le"]
        _run("ffmpeg", "-y", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing), *codec, str(library / name))
    shutil.rmtree(work)
    add_absent(labels, [s for pair in SENTENCES for s in pair] + list(NEIGHBOURS))
    labels.write(out / "labels.jsonl")
