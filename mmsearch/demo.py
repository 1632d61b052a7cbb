"""A small demo library of real media, all from installed packages: scikit-image's sample photos,
a few clip-art drawings from Debian's openclipart-png when present, and short text documents."""

from __future__ import annotations

from pathlib import Path

from .errors import MMSearchError

PHOTOS = {
    "astronaut": "astronaut.jpg",
    "chelsea": "cat.jpg",
    "coffee": "coffee.jpg",
    "rocket": "rocket.jpg",
    "camera": "cameraman.png",
    "hubble_deep_field": "galaxies.jpg",
    "coins": "coins.png",
    "moon": "moon.png",
    "stereo_motorcycle": "motorcycle.jpg",
    "horse": "horse-silhouette.png",
}
#: Debian's openclipart-png; skipped when that package is not installed.
CLIPART = (
    "/usr/share/openclipart/png/transportation/vehicles/bicycle_01.png",
    "/usr/share/openclipart/png/animals/bison_leif_lodahl_01.png",
    "/usr/share/openclipart/png/recreation/holiday/dog_01_drawn_with_strai_02.png",
)
DOCUMENTS = {
    "pasta-recipe.txt": "Spaghetti aglio e olio. Boil salted water and cook the pasta until al dente. Meanwhile fry "
    "sliced garlic gently in olive oil with chili flakes, toss the drained spaghetti in the pan, add parsley.",
    "volcanoes.md": "# Volcanoes\n\nA volcano is an opening in the crust where molten rock, ash and gases escape. "
    "Eruptions of Mount Etna and Kilauea send lava flowing down their slopes.",
    "football-report.txt": "The home team won the cup final two goals to one after a late header from a corner "
    "kick; the goalkeeper saved a penalty in the first half.",
    "garden-notes.md": "Planted tomatoes and basil along the south wall. Roses need pruning in early spring; "
    "water the seedlings every evening during the dry weeks.",
}
QUERIES = ("a cat", "a cup of coffee", "a rocket launch", "how to cook pasta", "lava flowing from a mountain")


def build(folder: Path) -> Path:
    """Write the demo library into ``folder`` (idempotent) and return it."""
    try:
        import skimage.data
        from PIL import Image
    except ImportError as exc:
        raise MMSearchError("the demo needs scikit-image: pip install 'mmsearch[dev]'") from exc
    photos = folder / "photos"
    docs = folder / "documents"
    photos.mkdir(parents=True, exist_ok=True)
    docs.mkdir(parents=True, exist_ok=True)
    for name, filename in PHOTOS.items():
        target = photos / filename
        if not target.exists():
            data = getattr(skimage.data, name)()
            data = data[0] if isinstance(data, tuple) else data
            image = Image.fromarray(data if data.dtype.name == "uint8" else (data * 255).astype("uint8"))
            image.convert("RGB" if filename.endswith(".jpg") else image.mode).save(target)
    _copy_clipart(folder / "clipart")
    for name, text in DOCUMENTS.items():
        if not (docs / name).exists():
            (docs / name).write_text(text + "\n", encoding="utf-8")
    return folder


def _copy_clipart(target: Path) -> None:
    for source in map(Path, CLIPART):
        dest = target / source.name
        if source.is_file() and not dest.exists():
            target.mkdir(exist_ok=True)
            dest.write_bytes(source.read_bytes())
