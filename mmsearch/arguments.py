"""Checks of what an application passes to ``Engine`` and ``Query``: wrong types fail at the door,
naming the argument, instead of deep inside with a bare TypeError (or, for a str iterated as a
list of paths, by forgetting the whole index)."""

from __future__ import annotations

import numbers
import os
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from .errors import ArgumentError

if TYPE_CHECKING:
    PathArg = str | os.PathLike[str]


def _is_path(value: object) -> bool:
    return isinstance(value, (str, os.PathLike)) and not isinstance(value, (bytes, bytearray))


def unencodable(text: str) -> bool:
    """Whether ``text`` holds a lone surrogate that stands for no byte (``"\\ud800"``, which JSON
    and Python strings allow): no file name, database column or UTF-8 answer can hold it. The
    surrogate escapes of an undecodable byte (``\\udc80``..``\\udcff``, from ``os.fsdecode``) are fine."""
    if not any("\ud800" <= ch <= "\udfff" for ch in text):
        return False
    try:
        text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return True
    return False


def _not_text(method: str, what: str) -> ArgumentError:
    return ArgumentError(f"{method}: {what} holds a lone surrogate (such as '\\ud800') that is no character; "
                         "pass valid text (decode bytes with os.fsdecode)")


def path_list(paths: object, method: str) -> list[str | os.PathLike[str]]:
    """``paths`` as a list of paths: one path alone is taken as itself. Iterating a string would
    give its characters, and ``remove("/x/y")`` would then forget everything under ``/``."""
    where = method if "." in method else f"Engine.{method}()"
    if _is_path(paths):
        items: list[object] = [paths]
    elif isinstance(paths, (bytes, bytearray)) or not isinstance(paths, Iterable):
        raise ArgumentError(f"{where} takes a path or a list of paths (str or pathlib.Path), not {type(paths).__name__}")
    else:
        items = list(paths)
    for item in items:
        if not _is_path(item):
            raise ArgumentError(f"{where}: {item!r} is not a path (give str or pathlib.Path)")
        if unencodable(os.fspath(item)):  # type: ignore[arg-type]
            raise _not_text(where, f"the path {os.fspath(item)!a}")  # type: ignore[arg-type]
    refuse_empty(items, where)  # type: ignore[arg-type]
    return items  # type: ignore[return-value]


def name_list(names: object, method: str, what: str, *, commas: bool = True) -> list[str]:
    """Names (modalities, embedders, features) as a list: one str is one name, or with ``commas``
    a comma-separated list as the settings and the command line write it, never its letters."""
    if isinstance(names, str):
        items: list[object] = [n for n in names.split(",")] if commas else [names]
    elif isinstance(names, (bytes, bytearray)) or not isinstance(names, Iterable):
        raise ArgumentError(f"{method}: {what} must be a str or a list of str, not {type(names).__name__}")
    else:
        items = list(names)
    bad = [n for n in items if not isinstance(n, str)]
    if bad:
        raise ArgumentError(f"{method}: {what} must be a str or a list of str; {bad[0]!r} is a {type(bad[0]).__name__}")
    for name in items:
        if unencodable(name):  # type: ignore[arg-type]
            raise _not_text(method, what)
    return [n.strip() for n in items if n.strip()] if commas else items  # type: ignore[union-attr,misc]


def text(value: object, method: str, what: str, *, optional: bool = True) -> str | None:
    """A str argument (``None`` when ``optional``) that holds only characters."""
    if value is None and optional:
        return None
    if not isinstance(value, str):
        kind = "a str or None" if optional else "a str"
        raise ArgumentError(f"{method}: {what} must be {kind}, not {type(value).__name__}")
    if unencodable(value):
        raise _not_text(method, what)
    return value


def path(value: object, method: str, what: str, *, optional: bool = True) -> str | os.PathLike[str] | None:
    if value is None and optional:
        return None
    if not _is_path(value):
        raise ArgumentError(f"{method}: {what} must be a path (str or pathlib.Path), not {type(value).__name__}")
    if unencodable(os.fspath(value)):  # type: ignore[arg-type]
        raise _not_text(method, what)
    return value  # type: ignore[return-value]


def flag(value: object, method: str, what: str) -> bool:
    """A bool: a str such as ``"false"`` would be truthy and do the opposite of what it says."""
    if not isinstance(value, bool):
        raise ArgumentError(f"{method}: {what} must be True or False, not {value!r}")
    return value


def whole(value: object) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def callback(value: object, method: str, what: str) -> Callable[..., object] | None:
    """A function or None: checked here, since a wrong one was called (and failed) mid-run."""
    if value is not None and not callable(value):
        raise ArgumentError(f"{method}: {what} must be a function or None, not {type(value).__name__}")
    return value  # type: ignore[return-value]


def refuse_empty(paths: Iterable[str | os.PathLike[str]], command: str) -> None:
    """An empty path resolves to the working directory: ``remove "$DIR"`` with ``DIR`` unset forgot
    everything under it, ``index ""`` indexed it. ``rm ''`` refuses it; so does mmsearch."""
    if any(os.fspath(p) == "" for p in paths):
        raise ArgumentError(f"{command}: an empty path was given (an unset shell variable?); name the file or folder, "
                            "or '.' for the current folder")


def check_search_args(query: object, image: object, k: object, offset: object, types: object, path: object,
                      min_score: object, fuser: object = "weighted") -> None:
    """Wrong types fail here with the argument named, not deep inside with a bare TypeError."""
    from .search.query import Query

    problems = []
    if query is not None and not isinstance(query, (str, Query)):
        problems.append(f"query must be a str or a Query, not {type(query).__name__}")
    elif isinstance(query, str) and unencodable(query):
        problems.append("query holds a lone surrogate (such as '\\ud800') that is no character; pass valid text")
    if image is not None and not _is_path(image):
        problems.append(f"image must be a path (str or pathlib.Path), not {type(image).__name__}")
    elif image is not None and unencodable(os.fspath(image)):  # type: ignore[arg-type]
        problems.append("image holds a lone surrogate (such as '\\ud800') that no file name can hold")
    if not whole(k) or not whole(offset):
        problems.append(f"k and offset must be whole numbers, got k={k!r}, offset={offset!r}")
    if types is None or not all(isinstance(t, str) for t in types):  # type: ignore[attr-defined]
        problems.append(f"types must be modality names (a str or a list of str), got {types!r}")
    if path is not None and not isinstance(path, str):
        problems.append(f"path must be a glob str, not {type(path).__name__}")
    elif path is not None and unencodable(path):  # the glob is matched against stored names: UnicodeEncodeError
        problems.append("path holds a lone surrogate (such as '\\ud800') that no file name can hold; pass valid text")
    if min_score is not None and not number(min_score):
        problems.append(f"min_score must be a number from 0 to 1, got {min_score!r}")
    if not isinstance(fuser, str):
        problems.append(f"fuser must be a fuser's name (str), not {type(fuser).__name__}")
    if problems:
        raise ArgumentError("Engine.search(): " + "; ".join(problems))
