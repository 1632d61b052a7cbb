"""Real-time factor (audio seconds / wall seconds) of each backend and model on the same speech,
and peak memory for a short and a long file.

    python -m mmsearch_audio.bench rtf --seconds 60 --threads 2
    python -m mmsearch_audio.bench rss --seconds 60 --repeat 10

Model loading is excluded from the RTF (it happens once per process); decoding, VAD and
transcription are included, exactly as the modality runs them.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

SENTENCES = (
    "To cook pasta, boil a large pot of salted water and add the spaghetti for ten minutes.",
    "The volcano erupted last night, and hot lava flowed down the mountain toward the village.",
    "In the football match, the striker scored a late goal and the crowd cheered in the stadium.",
    "On the stock market today, shares of the bank fell sharply as investors sold their bonds.",
    "In spring, the gardener planted tomatoes and roses in the garden behind the house.",
    "The train to the city leaves from platform four at half past seven every morning.",
    "Scientists measured the temperature of the ocean and found that the water was warming.",
    "The children read a story about a dragon who lived in a castle on a hill.",
    "Please remember to charge your phone and bring an umbrella because it will rain.",
    "The orchestra played a symphony, and the violins filled the concert hall with music.",
)


@dataclass(frozen=True)
class Result:
    backend: str
    model: str
    threads: int
    audio_seconds: float
    wall_seconds: float
    load_seconds: float
    segments: int
    cpu_seconds: float = 0.0  # user+system time of all threads: contention does not inflate it

    @property
    def cpu_rtf(self) -> float:
        """RTF if the threads had their cores to themselves: audio / (CPU time / threads)."""
        return self.audio_seconds / (self.cpu_seconds / max(1, self.threads)) if self.cpu_seconds else 0.0

    @property
    def rtf(self) -> float:
        return self.audio_seconds / self.wall_seconds


def duration(path: Path) -> float:
    import av

    with av.open(str(path)) as container:
        return float(container.duration or 0) / 1_000_000


def make_speech(folder: Path, seconds: float = 60.0, repeat: int = 1) -> Path:
    """About ``seconds`` of espeak-ng speech (sentences 0.4 s apart), looped ``repeat`` times."""
    folder.mkdir(parents=True, exist_ok=True)
    parts: list[Path] = []
    total, i = 0.0, 0
    while total < seconds:
        part = folder / f"s{i}.wav"
        subprocess.run(["espeak-ng", "-w", str(part), SENTENCES[i % len(SENTENCES)]], check=True, capture_output=True)
        parts.append(part)
        total += duration(part) + 0.4
        i += 1
    listing = folder / "list.txt"
    listing.write_text("".join(f"file '{p}'\nfile '{folder / 'pause.wav'}'\n" for p in parts))
    subprocess.run(
        ["ffmpeg", "-y", "-v", "error", "-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-t", "0.4", str(folder / "pause.wav")],
        check=True,
    )
    once = folder / "speech.wav"
    subprocess.run(["ffmpeg", "-y", "-v", "error", "-f", "concat", "-safe", "0", "-i", str(listing), str(once)], check=True)
    if repeat == 1:
        return once
    looped = folder / f"speech-x{repeat}.wav"
    subprocess.run(
        ["ffmpeg", "-y", "-v", "error", "-stream_loop", str(repeat - 1), "-i", str(once), "-c", "copy", str(looped)], check=True
    )
    return looped


def measure(path: Path, backend: str, model: str, threads: int, cache_dir: str | None = None, runs: int = 1) -> Result:
    """Load once, transcribe ``runs`` times, keep the fastest run (the least disturbed by other
    processes on a shared machine)."""
    from mmsearch.settings import Settings
    from mmsearch.types import Source

    from .backends import clear_cache
    from .modality import AudioModality

    overrides = {"audio.backend": backend, "audio.model": model, "audio.threads": threads, "audio.device": "cpu"}
    if cache_dir:
        overrides["audio.cache_dir"] = cache_dir
    clear_cache()
    modality = AudioModality(Settings(environ={}, overrides=overrides))
    started = time.perf_counter()
    modality.transcriber  # load outside the timed part
    load = time.perf_counter() - started
    source = Source(path=path, relpath=path.name, size=path.stat().st_size)
    best: Result | None = None
    for _ in range(max(1, runs)):
        cpu0 = _cpu()
        started = time.perf_counter()
        segments = list(modality.segments(source))
        wall = time.perf_counter() - started
        result = Result(backend, model, threads, duration(path), wall, load, len(segments), _cpu() - cpu0)
        best = result if best is None or result.wall_seconds < best.wall_seconds else best
    assert best is not None
    return best


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def rtf_table(results: list[Result]) -> str:
    lines = [
        "| model | backend | threads | audio s | wall s | RTF (wall) | CPU s | RTF (CPU, uncontended) | segments |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(
            f"| {r.model} | {r.backend} | {r.threads} | {r.audio_seconds:.1f} | {r.wall_seconds:.2f} | {r.rtf:.1f} "
            f"| {r.cpu_seconds:.1f} | {r.cpu_rtf:.1f} | {r.segments} |"
        )
    by_model: dict[str, dict[str, float]] = {}
    for r in results:
        by_model.setdefault(r.model, {})[r.backend] = r.wall_seconds
    for model, walls in by_model.items():
        if {"faster-whisper", "openai-whisper"} <= set(walls):
            lines.append(f"\n{model}: faster-whisper is {walls['openai-whisper'] / walls['faster-whisper']:.1f}x openai-whisper")
    return "\n".join(lines)


def peak_rss_mib(path: Path, backend: str, model: str, threads: int) -> float:
    """Peak resident memory of a fresh process that loads the model and transcribes ``path``."""
    code = (
        "import json, resource, sys; from pathlib import Path; from mmsearch_audio.bench import measure; "
        f"r = measure(Path({str(path)!r}), {backend!r}, {model!r}, {threads}); "
        "print(json.dumps({'rss': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 'wall': r.wall_seconds}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(json.loads(out.stdout.strip().splitlines()[-1])["rss"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m mmsearch_audio.bench")
    parser.add_argument("mode", choices=["rtf", "rss"])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--models", nargs="+", default=["tiny.en", "base"])
    parser.add_argument("--backends", nargs="+", default=["faster-whisper", "openai-whisper"])
    parser.add_argument("--runs", type=int, default=1, help="rtf: transcribe this often, report the fastest")
    parser.add_argument("--repeat", type=int, default=10, help="rss: the long file is the short one looped this often")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mmsearch-audio-bench-") as tmp:
        speech = make_speech(Path(tmp), args.seconds)
        if args.mode == "rtf":
            results = [measure(speech, b, m, args.threads, runs=args.runs) for m in args.models for b in args.backends]
            print(rtf_table(results))
            print(json.dumps([{**asdict(r), "rtf": round(r.rtf, 2), "cpu_rtf": round(r.cpu_rtf, 2)} for r in results]))
        else:
            long = make_speech(Path(tmp), args.seconds, args.repeat)
            for backend in args.backends:
                for model in args.models:
                    short_rss = peak_rss_mib(speech, backend, model, args.threads)
                    long_rss = peak_rss_mib(long, backend, model, args.threads)
                    print(
                        f"{backend} {model}: peak RSS {short_rss:.0f} MiB for {duration(speech):.0f} s, "
                        f"{long_rss:.0f} MiB for {duration(long):.0f} s"
                    )


if __name__ == "__main__":
    main()
