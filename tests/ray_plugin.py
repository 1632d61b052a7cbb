"""A third-party-style plugin for the Ray tests: a ``.note`` modality, registered like any
plugin would be (``MMSEARCH_PLUGINS=ray_plugin``), that runs on Ray workers unchanged.

It leaves a trace of which process read each note (so a test can kill a worker mid-run) and can
be slowed down (so a test can kill the coordinator mid-run). Both are driven by environment
variables of this test plugin, which the coordinator forwards to its workers like any MMSEARCH_*.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import mmsearch
from mmsearch.types import TEXT, Locator, Segment, Source

TRACE_DIR = "MMSEARCH_TEST_NOTE_TRACE"  # a folder: each read writes <pid> there
DELAY = "MMSEARCH_TEST_NOTE_DELAY"  # seconds to spend on each note


class NoteModality(mmsearch.Modality):
    name = "note"
    kinds = frozenset({TEXT})
    extensions = frozenset({".note"})

    def extract(self, source: Source) -> Iterator[Segment]:
        trace = os.environ.get(TRACE_DIR)
        if trace:
            Path(trace, str(os.getpid())).touch()
        time.sleep(float(os.environ.get(DELAY, "0")))
        for number, line in enumerate(source.path.read_text().splitlines(), start=1):
            if line.strip():
                yield Segment(TEXT, line, Locator(page=number), text=line)


@mmsearch.hookimpl
def register_modalities(register: Callable[[mmsearch.Modality], None]) -> None:
    register(NoteModality())
