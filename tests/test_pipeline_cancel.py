"""An indexing run that stops (Ctrl-C, a database gone) must not wait for a long file to finish."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mmsearch.indexing import pipeline
from mmsearch.indexing.scan import Found
from mmsearch.modality import Modality
from mmsearch.testing import HashEmbedder
from mmsearch.types import TEXT, Segment, Source


class Endless(Modality):
    """A stream that never ends (think: hours of audio, megabytes of text), a segment every 5 ms."""

    name = "endless"
    kinds = frozenset({TEXT})
    streaming = True

    def extract(self, source: Source) -> Iterator[Segment]:
        i = 0
        while True:
            time.sleep(0.005)
            i += 1
            yield Segment(TEXT, f"word{i}", text=f"word{i}")


class Once(Modality):
    name = "once"
    kinds = frozenset({TEXT})

    def extract(self, source: Source) -> Iterator[Segment]:
        yield Segment(TEXT, "short note", text="short note")


def _job(tmp_path: Path, name: str, modality: Modality) -> pipeline.Job:
    path = tmp_path / name
    path.write_text("x")
    return pipeline.Job(Found(1, path, name, 1, 1), modality)


def test_a_stopping_run_does_not_wait_for_a_long_file_to_end(tmp_path: Path) -> None:
    jobs = [_job(tmp_path, "a.txt", Once()), _job(tmp_path, "endless.txt", Endless())]

    def write(batch: list[pipeline.Extracted]) -> None:
        raise KeyboardInterrupt  # what Ctrl-C raises in the main thread while a batch is written

    outcome: list[BaseException] = []

    def go() -> None:
        try:
            pipeline.run(jobs, [HashEmbedder()], write, workers=2, batch_segments=1)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            outcome.append(exc)

    started = time.monotonic()
    runner = threading.Thread(target=go, daemon=True)  # daemon: a regression must fail, not hang the suite
    runner.start()
    runner.join(timeout=20)
    assert not runner.is_alive(), "the run kept waiting for the endless file after it was told to stop"
    assert time.monotonic() - started < 20
    assert outcome and isinstance(outcome[0], KeyboardInterrupt)


def test_cancel_stops_one_file_between_segments(tmp_path: Path) -> None:
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(pipeline.Cancelled):
        pipeline.extract(_job(tmp_path, "endless.txt", Endless()), [HashEmbedder()], cancel=cancel)
