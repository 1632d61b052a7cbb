"""Search-by-example sets over already built ``clipart`` and ``photos`` sets (measuring only).

    python -m mmsearch.eval.sets clipart photos --out DIR
    python -m mmsearch.eval.sets.examples DIR          # writes DIR/examples-clipart, DIR/examples-photos
    mmsearch --index IDX eval DIR/examples-clipart/labels.jsonl --library DIR/clipart/library

Each answered query is an example file: an altered copy (an 80 % crop, a 10° turn, JPEG quality
40) of a library picture, which is its right answer. For clip art, altered copies of held-out
drawings that are *not* in the library are the absent queries (an example with no copy in the
library: nothing should pass the cut). A query's text is the example's absolute path, which the
query language reads as an example file. Fixed seed; nothing is fitted on these sets.
"""

from __future__ import annotations

import io
import json
import random
import sys
from pathlib import Path

from PIL import Image

SEED = 20261201
EVERY = 4  # clip art: every 4th library picture gets an example (63 of 250)
ABSENT = 40


def altered(source: Path, target: Path, rng: random.Random) -> None:
    from mmsearch.imaging import flatten

    with Image.open(source) as img:
        image = flatten(img)
    w, h = image.size
    cw, ch = int(w * 0.8), int(h * 0.8)
    x, y = rng.randint(0, w - cw), rng.randint(0, h - ch)
    image = image.crop((x, y, x + cw, y + ch)).rotate(rng.choice([-10, 10]), fillcolor=(255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=40)
    target.write_bytes(buffer.getvalue())


def build(sets: Path, name: str) -> Path:
    rng = random.Random(SEED)
    labels = [json.loads(line) for line in (sets / name / "labels.jsonl").read_text().splitlines() if line.strip()]
    pictures = sorted({rel for entry in labels for rel in entry.get("relevant", [])})
    out = sets / f"examples-{name}"
    (out / "queries").mkdir(parents=True, exist_ok=True)
    lines = []
    for i, rel in enumerate(pictures[::EVERY] if name == "clipart" else pictures):
        target = out / "queries" / f"copy-{i:03d}.jpg"
        altered(sets / name / "library" / rel, target, rng)
        lines.append({"id": f"example-{i:03d}", "query": str(target.resolve()), "relevant": [rel]})
    if name == "clipart":
        from mmsearch_lite import data

        inside = {entry.get("lite_id") for entry in labels}
        titles = {entry["query"] for entry in labels if "relevant" in entry}
        pool = [it for it in data.by_split(data.all_items(), "test")
                if it.id not in inside and data.name_of(it.caption).lower() not in titles]
        rng.shuffle(pool)
        for j, item in enumerate(pool[:ABSENT]):
            target = out / "queries" / f"absent-{j:03d}.jpg"
            altered(item.path, target, rng)
            lines.append({"id": f"absent-{j:03d}", "query": str(target.resolve()), "kind": "absent"})
    (out / "labels.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    return out


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m mmsearch.eval.sets.examples DIR  (DIR holds clipart/ and photos/ sets)", file=sys.stderr)
        return 2
    sets = Path(args[0])
    for name in ("clipart", "photos"):
        if (sets / name / "labels.jsonl").is_file():
            print(f"{name}: {build(sets, name)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
