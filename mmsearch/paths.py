"""Names and text as the database stores them and the terminal shows them.

File names on Linux are bytes; one that is not valid UTF-8 reaches Python with surrogate escapes
(``os.fsdecode``), which neither SQLite nor PostgreSQL accept in a text column. The stored form
escapes those bytes losslessly; the shown form also escapes control characters, so a name with a
newline cannot forge a line of output.
"""

from __future__ import annotations

import os
import re
import unicodedata


def encode_relpath(relpath: str) -> str:
    """The form stored in the database and shown to users: a name that is not valid UTF-8 (it
    arrives from the OS with surrogate escapes) has each undecodable byte written ``\\xNN`` and
    every literal backslash doubled, as ``ls --quoting-style=escape`` does. Text columns on
    SQLite and PostgreSQL reject lone surrogates; this form is valid text and round-trips through
    :func:`decode_relpath`. Valid names are stored as they are."""
    if "\\" not in relpath and not _has_surrogate(relpath):
        return relpath
    raw = os.fsencode(relpath).replace(b"\\", b"\\\\")
    return raw.decode("utf-8", "backslashreplace")


def decode_relpath(stored: str) -> str:
    """The path as the OS spells it (surrogate-escaped where not UTF-8), from :func:`encode_relpath`."""
    if "\\" not in stored:
        return stored
    raw = _ESCAPE.sub(lambda m: b"\\" if m.group(0) == b"\\\\" else bytes([int(m.group(1), 16)]), stored.encode("utf-8"))
    return os.fsdecode(raw)


_ESCAPE = re.compile(rb"\\\\|\\x([0-9a-f]{2})")


def surrogates(text: str) -> bool:
    """Whether ``text`` holds a surrogate: UTF-8 cannot encode it (without surrogateescape)."""
    return any("\ud800" <= ch <= "\udfff" for ch in text)


_has_surrogate = surrogates


def storable(text: str) -> str:
    """``text`` as valid Unicode: an OS error naming a file that is not UTF-8 carries surrogate
    escapes, which SQLite and PostgreSQL refuse; write those bytes as ``\\xNN`` instead."""
    if not any("\ud800" <= c <= "\udfff" for c in text):
        return text
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # a surrogate that no undecodable byte stands for
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "backslashreplace")

def printable(text: str) -> str:
    """``text`` safe to print on one line: control and format characters (newline, escape,
    bidirectional overrides, line separators) as ``\\n``, ``\\x1b``, ``\\u202e``; undecodable
    bytes of a file name as ``\\xNN``."""
    if text.isprintable():
        return text
    return "".join(ch if ch.isprintable() or ch == " " else _escape_char(ch) for ch in text)


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name (surrogate escape)
        return f"\\x{code - 0xDC00:02x}"
    if unicodedata.category(ch) == "Zs":  # other spaces are harmless
        return ch
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def not_utf8(path: str) -> bool:
    """Whether an OS name holds bytes that are not UTF-8 (surrogate escapes), which JSON cannot
    carry as they are; any other name, backslashes and newlines included, travels exactly."""
    return any("\udc80" <= ch <= "\udcff" for ch in path)
