"""Shared fixtures: a small real-file library, engines on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

import mmsearch
from mmsearch.testing import fake_plugin

PG_URL = os.environ.get("MMSEARCH_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REQUIRE_PG = os.environ.get("MMSEARCH_REQUIRE_POSTGRES") == "1"


@pytest.fixture(scope="session", autouse=True)
def caches_in_tmp(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The clip and lite embedders export their towers, searches keep query banks per model and remember what
    to preload per index: never into the user's cache. Images go through torch unless a test asks for the ONNX image tower
    (tests/test_clip_imagegraph.py): its export costs ViT-B-32 tests half a minute each, and every
    test's checkpoint is a new file."""
    names = {"MMSEARCH_CLIP_EXPORT_DIR": "clip-exports", "MMSEARCH_BANK_DIR": "query-banks",
             "MMSEARCH_WARM_DIR": "preloads", "MMSEARCH_LITE_EXPORT_DIR": "lite-exports"}
    before = {name: os.environ.get(name) for name in [*names, "MMSEARCH_CLIP_IMAGE_RUNTIME"]}
    for name, folder in names.items():
        os.environ[name] = str(tmp_path_factory.mktemp(folder))
    os.environ["MMSEARCH_CLIP_IMAGE_RUNTIME"] = "torch"
    yield
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture
def no_match_cut_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """For tests that rank and filter with the HashEmbedder, whose scores say nothing about
    meaning: they see every result. Real-model tests keep the default "no good match" cut."""
    monkeypatch.setenv("MMSEARCH_SEARCH_MIN_SCORE", "0")


def tagged_png(path: Path, words: str, color: tuple[int, int, int] = (120, 120, 120), size: int = 64) -> Path:
    """A PNG whose tEXt chunk carries words the HashEmbedder reads, standing in for its content."""
    info = PngImagePlugin.PngInfo()
    info.add_text("words", words)
    Image.new("RGB", (size, size), color).save(path, pnginfo=info)
    return path


def text_library(root: Path, name: str, count: int) -> Path:
    """``count`` small text files under ``root/name``, each with words of its own (for the
    HashEmbedder) and a topic shared with a seventh of the others."""
    lib = root / name
    lib.mkdir(parents=True)
    for i in range(count):
        (lib / f"{name}-{i:03d}.txt").write_text(f"{name} document {i} topic {i % 7} words {name}{i}\n")
    return lib


def cache_ids(engine: mmsearch.Engine) -> list[int]:
    """The segment ids the engine's vector cache holds, all kinds together."""
    indexes = engine.spaces[0].indexes
    return sorted(int(i) for index in indexes.by_kind.values() for i in index.ids())


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Images, documents, one corrupt image and one unreadable (binary) text file."""
    lib = tmp_path / "library"
    (lib / "photos").mkdir(parents=True)
    (lib / "docs").mkdir()
    tagged_png(lib / "photos" / "cat.png", "cat kitten whiskers", (200, 120, 40))
    tagged_png(lib / "photos" / "rocket.png", "rocket launch space", (30, 30, 200))
    tagged_png(lib / "photos" / "beach.png", "beach sand sea", (230, 210, 150))
    (lib / "docs" / "pasta.txt").write_text("How to cook pasta: boil salted water, add the spaghetti, stir.\n")
    (lib / "docs" / "volcano.md").write_text("# Volcanoes\n\nA volcano erupts lava, ash and gas.\n")
    (lib / "photos" / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not really a jpeg")
    (lib / "docs" / "unreadable.txt").write_bytes(b"\x00\x01\x02\x03 binary, not text")
    (lib / ".hidden").mkdir()
    tagged_png(lib / ".hidden" / "secret.png", "cat")
    return lib


def _pg_available() -> bool:
    try:
        import sqlalchemy

        with sqlalchemy.create_engine(PG_URL).connect():
            return True
    except Exception:  # noqa: BLE001
        return False


def reset_pg() -> None:
    import sqlalchemy

    engine = sqlalchemy.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None (SQLite inside the index directory) or a freshly emptied PostgreSQL database."""
    if request.param == "sqlite":
        return None
    if not _pg_available():
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (MMSEARCH_REQUIRE_POSTGRES=1) but {PG_URL} does not answer")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")
    reset_pg()
    return PG_URL


OpenEngine = Callable[..., mmsearch.Engine]


@pytest.fixture
def open_engine(tmp_path: Path, no_match_cut_off: None) -> Iterator[OpenEngine]:
    """Opens engines with the deterministic HashEmbedder; closes them at the end."""
    opened: list[mmsearch.Engine] = []

    def factory(index: Path | None = None, **kwargs: object) -> mmsearch.Engine:
        kwargs.setdefault("embedders", ["hash"])
        kwargs.setdefault("plugins", [fake_plugin()])
        engine = mmsearch.Engine.open(index or tmp_path / "index", **kwargs)  # type: ignore[arg-type]
        opened.append(engine)
        return engine

    yield factory
    for engine in opened:
        engine.close()
