"""Distributed extraction and embedding on Ray: the coordinator plans and writes, Ray does the work.

The process that owns the index (the coordinator) still walks the roots, detects changes and
writes every result to the store, in the same batched transactions as the in-process pipeline;
only the expensive part — reading, decoding, ``Modality.extract`` and ``Embedder.embed`` — runs
on Ray, as a Ray Data ``map_batches`` over an actor pool whose actors each load the models once.

Why the coordinator writes (and not the workers): one writer keeps the store's invariants in one
place (a media row and its segments and vectors in one transaction, the FAISS cache stamped by the
process that holds it), works with SQLite as well as PostgreSQL, and costs little — writing a
batch is milliseconds against seconds of embedding (104k rows/s bulk inserts). Results stream
back through Ray Data's bounded streaming executor, so memory stays flat however large the run.

Idempotence: a result is written once per run (a retried batch's duplicate is dropped by job
key), a file is committed with its segments and vectors or not at all, and a killed coordinator's
re-run redoes exactly the files that were not committed, by the usual change detection.
"""

from __future__ import annotations

import logging
import os
import pickle
import re
import socket
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..embedder import Embedder
from ..errors import ConfigError, MMSearchError
from ..settings import Settings
from . import pipeline

#: Environment variables a worker needs to see the same plugins and settings as the coordinator.
_ENV_PREFIXES = ("MMSEARCH_", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "OMP_NUM_THREADS")


@dataclass(frozen=True)
class RayOptions:
    """How to use the cluster (settings ``ray.*``)."""

    address: str | None = None  # None or "auto": connect to a running cluster, else start a local one
    workers: int = 0  # actors; 0: one per GPU when the cluster has GPUs, else one per 2 CPUs
    files_per_batch: int = 8  # files an actor takes at a time
    gpus_per_worker: float = 1.0  # used only when the cluster has GPUs
    cpus_per_worker: float = 1.0

    @classmethod
    def from_settings(cls, settings: Settings, address: str | None = None) -> RayOptions:
        return cls(
            address=address or settings.get("ray.address") or None,
            workers=settings.get_int("ray.workers", 0),
            files_per_batch=max(1, settings.get_int("ray.files_per_batch", 8)),
            gpus_per_worker=float(settings.get("ray.gpus_per_worker", 1.0)),
            cpus_per_worker=float(settings.get("ray.cpus_per_worker", 1.0)),
        )


@dataclass(frozen=True)
class _JobSpec:
    """A job as it travels to a worker: plain data, modality named rather than pickled."""

    key: int
    found: Any  # scan.Found
    modality: str
    old: Any  # scan.Known | None
    content_hash: str | None


@dataclass
class _Result:
    key: int
    content_hash: str = ""
    segments: list[Any] = field(default_factory=list)
    vectors: list[dict[int, np.ndarray]] = field(default_factory=list)
    error: str | None = None


class _ExtractWorker:
    """A Ray Data actor: builds its own plugin manager and loads each model once, then extracts
    and embeds batches of files. Plugins need nothing new: the worker loads them exactly as the
    coordinator did (entry points, ``MMSEARCH_PLUGINS``, and the Engine's extra plugin objects)."""

    def __init__(self, settings: Settings, plugins: Sequence[object], spaces: Sequence[str]) -> None:
        from ..plugins import Registry, make_plugin_manager

        registry = Registry(make_plugin_manager(plugins), settings)
        self.modalities = {name: entry.obj for name, entry in registry.modalities.items()}
        # Segments one plugin adds to another's media (OCR text on images), as in-process.
        self.derive = registry.extra_segments if registry.adds_segments else None
        self.embedders: list[Embedder] = []
        for key in spaces:
            name = key.split(":", 1)[0]
            entry = registry.embedders.get(name)
            if entry is None or entry.obj.space.key != key:
                found = entry.obj.space.key if entry is not None else "nothing"
                raise MMSearchError(
                    f"Ray worker on {socket.gethostname()} has {found} where the index uses {key}; "
                    "install the same plugins and weights on every node"
                )
            self.embedders.append(entry.obj)
        for embedder in self.embedders:
            embedder.ensure_loaded()

    def __call__(self, batch: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
        specs: list[_JobSpec] = [pickle.loads(blob) for blob in batch["job"]]
        items = [self._extract(spec) for spec in specs]
        pipeline.embed(items, self.embedders)
        results = [
            _Result(spec.key, item.content_hash, item.segments, item.vectors, self._where(item.error))
            for spec, item in zip(specs, items)
        ]
        return {"result": np.array([pickle.dumps(r, protocol=pickle.HIGHEST_PROTOCOL) for r in results], dtype=object)}

    def _extract(self, spec: _JobSpec) -> pipeline.Extracted:
        modality = self.modalities.get(spec.modality)
        job = pipeline.Job(spec.found, modality, spec.old, spec.content_hash, self.derive)  # type: ignore[arg-type]
        if modality is None:
            return pipeline.Extracted(job, error=f"the {spec.modality!r} modality is not installed on Ray worker {socket.gethostname()}")
        return pipeline.extract(job, self.embedders)

    @staticmethod
    def _where(error: str | None) -> str | None:
        if error is not None and error.startswith("cannot read file"):
            # The usual cause on a cluster: the root is not on a filesystem every node mounts.
            return f"{error} (on Ray worker {socket.gethostname()}; library roots must be on a filesystem every node sees)"
        return error


class RayRunner:
    """A drop-in for :func:`pipeline.run` that sends extraction and embedding to Ray."""

    loads_models_here = False  # each worker loads them; a missing model fails its constructor

    def __init__(self, settings: Settings, plugins: Sequence[object], options: RayOptions) -> None:
        self.settings = settings
        self.plugins = list(plugins)
        self.options = options

    def __call__(
        self,
        jobs: Iterable[pipeline.Job],
        embedders: Sequence[Embedder],
        write: Callable[[list[pipeline.Extracted]], None],
        workers: int,
        batch_segments: int,
    ) -> None:
        todo = list(jobs)
        if not todo:
            return
        ray, data = _import_ray()
        self._connect(ray)
        by_key = dict(enumerate(todo))
        specs = [
            {"job": pickle.dumps(_JobSpec(k, j.found, j.modality.name, j.old, j.content_hash), protocol=pickle.HIGHEST_PROTOCOL)}
            for k, j in by_key.items()
        ]
        context = data.DataContext.get_current()
        context.enable_progress_bars = False  # the coordinator draws the one progress bar
        context.execution_options.preserve_order = False
        gpus = float(ray.cluster_resources().get("GPU", 0))
        actors = self._actors(ray, gpus)
        # Ray Data restarts a dead actor and retries its batch (max_restarts / max_task_retries
        # default to -1 for actor pools); a retried batch's duplicate results are dropped below.
        dataset = data.from_items(specs, override_num_blocks=max(1, min(len(specs), actors * 4))).map_batches(
            _ExtractWorker,
            fn_constructor_kwargs={"settings": _portable(self.settings), "plugins": self.plugins, "spaces": [e.space.key for e in embedders]},
            batch_size=self.options.files_per_batch,
            batch_format="numpy",
            compute=data.ActorPoolStrategy(size=actors),
            num_cpus=self.options.cpus_per_worker,
            num_gpus=self.options.gpus_per_worker if gpus > 0 else None,
            # Per dataset, not per ray.init: the cluster may have been started by someone else.
            runtime_env={"env_vars": _forwarded_env()},
        )
        written: set[int] = set()
        batch: list[pipeline.Extracted] = []
        pending = 0
        for rows in _translated(dataset.iter_batches(batch_size=None, batch_format="numpy")):
            for blob in rows["result"]:
                result: _Result = pickle.loads(blob)
                if result.key in written:  # a retried batch delivered twice: keep the first
                    continue
                written.add(result.key)
                batch.append(_extracted(by_key[result.key], result))
                pending += len(result.segments)
            if pending >= batch_segments:
                write(batch)
                batch, pending = [], 0
        if batch:
            write(batch)
        missing = len(todo) - len(written)
        if missing:
            raise MMSearchError(f"Ray returned no result for {missing} files; run the same command again to finish them")

    def _connect(self, ray: Any) -> None:
        # Ray's own INFO lines would interleave with the progress bar; failures still surface.
        for name in ("ray", "ray.data"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        if ray.is_initialized():
            return
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        kwargs: dict[str, Any] = {"log_to_driver": False, "logging_level": "ERROR"}
        address = self.options.address
        try:
            if address:
                ray.init(address=address, **kwargs)
            else:  # a local cluster on this machine, like `ray start --head` would give
                ray.init(include_dashboard=False, **kwargs)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise MMSearchError(f"cannot reach the Ray cluster at {address or 'a new local cluster'}: {exc}") from exc

    def _actors(self, ray: Any, gpus: float) -> int:
        if self.options.workers > 0:
            return self.options.workers
        if gpus > 0:
            return max(1, int(gpus // max(self.options.gpus_per_worker, 1e-6)))
        cpus = float(ray.cluster_resources().get("CPU", 1))
        return max(1, int(cpus // max(2 * self.options.cpus_per_worker, 1e-6)))


_WORKER_ERROR = re.compile(r"mmsearch\.errors\.\w+: ([^\n]+)")


def _translated(batches: Iterable[Any]) -> Iterator[Any]:
    """Ray's batches, with a worker's MMSearchError (a missing model, a mismatched space)
    surfacing as itself rather than as Ray's wrapped traceback."""
    try:
        yield from batches
    except MMSearchError:
        raise
    except Exception as exc:  # noqa: BLE001 - Ray wraps worker errors in its own types
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, MMSearchError):
                raise MMSearchError(str(cause)) from exc
            cause = getattr(cause, "cause", None) or cause.__cause__
        # An actor that died in its constructor carries the worker's error only as text.
        said = _WORKER_ERROR.search(str(exc))
        if said:
            raise MMSearchError(said.group(1).strip()) from exc
        text = " ".join(str(exc).split())[:300]
        raise MMSearchError(f"the Ray run failed: {type(exc).__name__}: {text}; what was written before is kept, run again to resume") from exc


def _forwarded_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES)}


def _portable(settings: Settings) -> Settings:
    # The worker reads its own environment (the coordinator's MMSEARCH_* reach it through the
    # job's runtime_env), so only the file and override layers travel.
    return Settings(settings._file, settings._overrides)  # noqa: SLF001


def _extracted(job: pipeline.Job, result: _Result) -> pipeline.Extracted:
    return pipeline.Extracted(job, result.content_hash, result.segments, [], result.vectors, result.error)


def _import_ray() -> tuple[Any, Any]:
    try:
        import ray
        import ray.data
    except ImportError as exc:
        raise ConfigError(f"the Ray executor needs Ray: pip install 'mmsearch[ray]' ({exc})") from exc
    return ray, ray.data
