"""What decoders say while a run reads files: Python warnings (Pillow's palette transparency and
decompression bombs) and log records of third-party libraries (pypdf's "odd xref"). Each belongs
to the file being read: it goes to that file's list and to the ``mmsearch.index`` debug log
(``mmsearch --debug``), never loose on the user's terminal.

``warnings.catch_warnings`` is not thread-safe, so one process-wide hook is installed for the
run on the calling thread, and each worker thread only notes which file it is reading.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger("mmsearch.index")
_reading = threading.local()  # (relpath, messages) of the file this thread is reading


def begin(relpath: str, messages: list[str]) -> None:
    """The current thread reads ``relpath`` now; what decoders say is appended to ``messages``."""
    _reading.file = (relpath, messages)


def end() -> None:
    """The current thread is done with its file."""
    _reading.file = None


@contextmanager
def routed_to_files() -> Iterator[None]:
    """For the duration of a run, route warnings and third-party log records to the file being read."""
    handler = _LibraryLogHandler()
    root = logging.getLogger()
    with warnings.catch_warnings():
        warnings.simplefilter("always")  # every file's warnings, not only the first file's
        warnings.showwarning = _show_warning
        root.addHandler(handler)
        try:
            yield
        finally:
            root.removeHandler(handler)


def _note(text: str) -> bool:
    current = getattr(_reading, "file", None)
    if current is None:
        return False
    relpath, messages = current
    messages.append(text)
    log.debug("%s: %s", relpath, text)
    return True


def _show_warning(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                  file: object = None, line: str | None = None) -> None:
    text = f"{category.__name__}: {' '.join(str(message).split())}"
    if not _note(text):
        log.debug("%s (%s:%s)", text, filename, lineno)


class _LibraryLogHandler(logging.Handler):
    """Takes a library's WARNING records emitted while a file is read. Being a handler on the root
    logger, it also keeps Python's last-resort handler from printing them to stderr; records
    from elsewhere still reach the last resort when nothing else would show them."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("mmsearch"):
            return self._as_usual(record)
        if not _note(f"{record.name} {record.levelname.lower()}: {' '.join(record.getMessage().split())}"):
            self._as_usual(record)

    def _as_usual(self, record: logging.LogRecord) -> None:
        if len(logging.getLogger().handlers) == 1 and logging.lastResort is not None and record.levelno >= logging.lastResort.level:
            logging.lastResort.handle(record)
