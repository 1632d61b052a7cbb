"""Load the embedders' models in a background thread while the first files are decoded.

Loading a CLIP model costs seconds of mostly single-threaded work (imports, building the network,
reading the checkpoint); decoding photos and clip art (and reading text in them) needs no model. Doing
both at once hides the smaller of the two. Embedder code (``prepare``) waits for the load: its
imports would race the loader's (a package imported from two threads at once can be seen half
initialised), and a plugin's ``prepare`` may rely on its loaded model.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence

from ..embedder import Embedder


class Preload:
    """Starts loading at construction; :meth:`wait` returns when every model is loaded, raises
    what loading raised, then runs ``then`` once (work that must follow a successful load)."""

    def __init__(self, embedders: Sequence[Embedder], then: Callable[[], None] = lambda: None) -> None:
        self.seconds = 0.0
        self._then: Callable[[], None] | None = then
        self._error: BaseException | None = None
        self.loaded = threading.Event()  # set when loading has ended, in success or failure
        self._thread = threading.Thread(target=self._load, args=(list(embedders),), name="mmsearch-load", daemon=True)
        self._thread.start()

    def _load(self, embedders: list[Embedder]) -> None:
        start = time.monotonic()
        try:
            for embedder in embedders:
                embedder.ensure_loaded()
        except BaseException as exc:  # noqa: BLE001 - re-raised on the indexing thread by wait()
            self._error = exc
        self.seconds = time.monotonic() - start
        self.loaded.set()

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error
        then, self._then = self._then, None
        if then is not None:
            then()
