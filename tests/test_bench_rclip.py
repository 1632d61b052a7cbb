"""The rclip side-by-side benchmark's own parts, without rclip: what it measures of a process, the
medians and ratios it prints, and the libraries it writes."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from PIL import Image

from mmsearch.bench import libraries
from mmsearch.bench import rclip as bench
from mmsearch.bench.libraries import copy_clipart, make_photos
from mmsearch.bench.measure import CommandFailed, Sample, paired_ratios, run_measured, summarise

_ALLOCATE = "import numpy as np; a = np.ones({mb} * 2**20, dtype=np.uint8); a.sum()"


def test_summary_is_medians_and_ours_over_theirs() -> None:
    pairs = [(Sample(10.0, 8.0, 900.0), Sample(5.0, 4.0, 300.0)),
             (Sample(12.0, 9.0, 1000.0), Sample(4.0, 2.0, 500.0)),
             (Sample(30.0, 7.0, 950.0), Sample(6.0, 3.0, 400.0))]
    rows = {r.metric: r for r in summarise(pairs, items=60)}
    assert (rows["wall s"].ours, rows["wall s"].theirs) == (12.0, 5.0)  # the median, not the mean
    assert rows["CPU s"].ratio == pytest.approx(8.0 / 3.0)
    assert rows["peak RSS MB"].ratio == pytest.approx(950.0 / 400.0)
    assert (rows["images/s"].ours, rows["images/s"].theirs) == (5.0, 12.0)
    assert rows["images/s"].ratio == pytest.approx(5.0 / 12.0)  # below 1: mmsearch is slower
    assert rows["images/CPU-s"].ours == pytest.approx(60 / 8.0)
    assert paired_ratios(pairs) == [2.0, 3.0, 5.0]


def test_search_rows_carry_no_throughput() -> None:
    rows = summarise([(Sample(1.0, 1.0, 1.0), Sample(2.0, 2.0, 2.0))])
    assert [r.metric for r in rows] == ["wall s", "CPU s", "peak RSS MB"]


def test_peak_memory_is_the_commands_own_and_counts_what_it_starts(tmp_path: Path) -> None:
    import numpy as np

    ballast = np.ones(400 * 2**20, dtype=np.uint8)  # a big measuring process must not inflate the figures
    alone = run_measured([sys.executable, "-c", _ALLOCATE.format(mb=40)], cwd=tmp_path, env={}, log=tmp_path / "a.log")
    grandchild = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {_ALLOCATE.format(mb=400)!r}], check=True)"
    parent = run_measured([sys.executable, "-c", grandchild], cwd=tmp_path, env={}, log=tmp_path / "b.log")
    assert alone.peak_rss_mb < 300 < parent.peak_rss_mb and int(ballast[-1]) == 1
    assert parent.cpu_s > 0 and parent.wall_s > 0


def test_a_failing_command_names_itself_and_its_last_words(tmp_path: Path) -> None:
    with pytest.raises(CommandFailed, match=r"exited 3 .*no such index"):
        run_measured([sys.executable, "-c", "import sys; print('no such index'); sys.exit(3)"],
                     cwd=tmp_path, env={}, log=tmp_path / "c.log")


def test_photos_are_distinct_jpegs_of_the_size_asked(tmp_path: Path) -> None:
    count = len(libraries._PHOTOS) + 1  # every source photo (grey, bool and float ones too), one twice
    images = [Image.open(p) for p in make_photos(tmp_path, count, size=(80, 60))]
    assert [(im.format, im.mode, im.size) for im in images] == [("JPEG", "RGB", (80, 60))] * count
    assert len({im.tobytes() for im in images}) == count


def test_clipart_spreads_over_the_tree_and_says_what_is_missing(tmp_path: Path) -> None:
    source = tmp_path / "src"
    for folder in ("animals", "plants", "tools"):
        (source / folder).mkdir(parents=True)
        for i in range(2):
            Image.new("RGBA", (8, 8)).save(source / folder / f"{folder}{i}.png")
    copied = copy_clipart(tmp_path / "out", 3, source)
    assert sorted(p.name.split("-", 1)[1] for p in copied) == ["animals0.png", "plants0.png", "tools0.png"]
    with pytest.raises(SystemExit, match=r"src: 6 PNG files, 9 needed; install Debian's openclipart-png"):
        copy_clipart(tmp_path / "more", 9, source)


def test_without_rclip_it_explains_and_runs_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert bench.main([]) == 0
    assert "--rclip PATH" in capsys.readouterr().out
