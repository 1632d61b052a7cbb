"""Checks of what an application passes to ``Engine``: wrong types fail at the door, naming the
argument, instead of deep inside with a bare TypeError (or, for a str iterated as a list of
paths, by forgetting the whole index)."""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterable

from .errors import ArgumentError
from .search.query import Query


def path_list(paths: object, method: str) -> list[str | os.PathLike[str]]:
    """``paths`` as a list of paths: one path alone is taken as itself. Iterating a string would
    give its characters, and ``remove("/x/y")`` would then forget everything under ``/``."""
    if isinstance(paths, (str, os.PathLike)):
        items: list[str | os.PathLike[str]] = [paths]
    elif isinstance(paths, (bytes, bytearray)) or not isinstance(paths, Iterable):
        raise ArgumentError(f"Engine.{method}() takes a path or a list of paths (str or pathlib.Path), not {type(paths).__name__}")
    else:
        items = list(paths)
    for item in items:
        if not isinstance(item, (str, os.PathLike)) or isinstance(item, (bytes, bytearray)):
            raise ArgumentError(f"Engine.{method}(): {item!r} is not a path (give str or pathlib.Path)")
    refuse_empty(items, f"Engine.{method}()")
    return items


def refuse_empty(paths: Iterable[str | os.PathLike[str]], command: str) -> None:
    """An empty path resolves to the working directory: ``remove "$DIR"`` with ``DIR`` unset forgot
    everything under it, ``index ""`` indexed it. ``rm ''`` refuses it; so does mmsearch."""
    if any(os.fspath(p) == "" for p in paths):
        raise ArgumentError(f"{command}: an empty path was given (an unset shell variable?); name the file or folder, "
                            "or '.' for the current folder")


def check_search_args(query: object, image: object, k: object, offset: object, types: object, path: object,
                      min_score: object) -> None:
    """Wrong types fail here with the argument named, not deep inside with a bare TypeError."""
    def whole(value: object) -> bool:
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)

    problems = []
    if query is not None and not isinstance(query, (str, Query)):
        problems.append(f"query must be a str or a Query, not {type(query).__name__}")
    if image is not None and (not isinstance(image, (str, os.PathLike)) or isinstance(image, (bytes, bytearray))):
        problems.append(f"image must be a path (str or pathlib.Path), not {type(image).__name__}")
    if not whole(k) or not whole(offset):
        problems.append(f"k and offset must be whole numbers, got k={k!r}, offset={offset!r}")
    if types is None or not all(isinstance(t, str) for t in types):  # type: ignore[attr-defined]
        problems.append(f"types must be modality names (a str or a list of str), got {types!r}")
    if path is not None and not isinstance(path, str):
        problems.append(f"path must be a glob str, not {type(path).__name__}")
    if min_score is not None and (isinstance(min_score, bool) or not isinstance(min_score, numbers.Real)):
        problems.append(f"min_score must be a number from 0 to 1, got {min_score!r}")
    if problems:
        raise ArgumentError("Engine.search(): " + "; ".join(problems))
