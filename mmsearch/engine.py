"""The Engine facade: open an index, index files, search, remove, report status."""

from __future__ import annotations

import numbers
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import platformdirs
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from .embedder import Embedder
from . import arguments as args
from .arguments import check_search_args, path_list
from .errors import ArgumentError, ConfigError, IndexGoneError, MMSearchError, QueryError
from .indexing import writer
from .indexing.run import IndexContext, ProgressFn, index_paths
from .indexing.scan import Known
from .paths import decode_relpath
from .plugins import PROJECT, Registry, first_answer, make_plugin_manager, notify_index_finished
from .search.query import Query
from .search.searcher import Searcher
from .settings import Settings, parse_float
from .spaces import select_spaces
from .store import db as store_db
from .store.errors import ReadOnlyIndexError
from .store.lock import DEFAULT_TIMEOUT_S, writer_lock
from .store.models import Media, Root, SpaceRow
from .store.models import Segment as SegmentRow
from .types import FileReport, Hit, IndexSummary, Status
from .vectors.cache import SpaceIndexes

if TYPE_CHECKING:
    from .eval.labels import LabelledSet
    from .eval.report import EvalReport
    from .search.curves import Calibration


def default_index_dir() -> Path:
    return Path(platformdirs.user_data_dir("mmsearch")) / "index"


class Engine:
    """An open index. Use :meth:`open`, preferably as a context manager."""

    def __init__(self, index_dir: Path, db_url: str, settings: Settings, plugins: Iterable[object], embedders: Sequence[str] | None,
                 on_wait: Callable[[str], None] | None = None) -> None:
        store_db.refuse_in_memory(db_url)  # before anything touches the index folder's caches
        self.index_dir = index_dir
        self.db_url = db_url
        self.settings = settings
        self._plugins = list(plugins)  # kept for workers that build their own manager (Ray)
        self.pm = make_plugin_manager(self._plugins)
        self.registry = Registry(self.pm, settings)
        # A read-only index (directory or SQLite file) is searched without writing anything.
        self.read_only = store_db.is_read_only(index_dir, db_url)
        #: Told, in one line, when a write waits for another process's writer lock (default: stderr);
        #: the HTTP server's jobs show it as what the job is doing.
        self.on_wait: Callable[[str], None] = on_wait or _notify
        self.db = store_db.create_db_engine(db_url, read_only=self.read_only, index_dir=index_dir)
        self._closed = False
        try:
            # Creating the schema and the spaces: one process at a time; opening a ready index (or
            # a read-only one, which can create nothing and says why below): no lock.
            setup = not self.read_only and store_db.needs_setup(self.db)
            with self._writer_lock("create") if setup else nullcontext():
                store_db.ensure_schema(self.db, self._where())
                chosen, self.space_note = select_spaces(self.db, self.registry, embedders, self._where())
            self.embedders: list[Embedder] = [c.embedder for c in chosen]
            self.spaces = [
                writer.ActiveSpace(c.row_id, SpaceIndexes(index_dir, self.db, c.row_id, int(c.embedder.dim), read_only=self.read_only,
                                                  backend=str(self.settings.get("vectors.backend", "auto"))))
                for c in chosen
            ]
            for space in self.spaces:
                space.indexes.open()
        except BaseException:
            self.db.dispose()
            raise
        self._searcher = Searcher(self.db, self.registry, self.embedders, [s.indexes for s in self.spaces], index_dir)
        self._db_file = store_db.sqlite_file(db_url)  # created by now, if it was new
        self._db_identity = store_db.file_identity(self._db_file)

    @classmethod
    def open(
        cls,
        index: str | os.PathLike[str] | None = None,
        *,
        db: str | None = None,
        embedders: Sequence[str] | None = None,
        settings: Mapping[str, Any] | None = None,
        plugins: Iterable[object] = (),
        on_wait: Callable[[str], None] | None = None,
    ) -> Engine:
        """Open (creating if needed) the index in directory ``index``.

        ``db`` is any SQLAlchemy URL (default: SQLite inside ``index``); ``embedders`` names the
        embedders of a new index (default: the best one available offline); ``settings``
        override ``mmsearch.toml`` and ``MMSEARCH_*``; ``plugins`` are extra plugin objects.
        ``on_wait`` is told, in one line, when a write waits for another writer's lock (default:
        stderr); given here, it also receives the wait of creating a new index's schema, which
        happens before ``open`` returns and so before ``engine.on_wait`` could be set.
        """
        env = Settings()
        if index is not None and (not isinstance(index, (str, os.PathLike)) or isinstance(index, (bytes, bytearray))):
            raise ArgumentError(f"Engine.open(): index must be a folder path (str or pathlib.Path), not {type(index).__name__}")
        if settings is not None and not isinstance(settings, Mapping):  # a str gave a bare TypeError from deep inside
            raise ArgumentError(f"Engine.open(): settings must be a mapping such as {{'search.min_score': 0.4}}, not {type(settings).__name__}")
        if isinstance(index, str) and not index.strip():  # an unset variable: the working directory, silently
            raise ArgumentError("Engine.open(): index is empty; give a folder path, or None for the default index (setting index)")
        if index is not None and args.unencodable(os.fspath(index)):
            raise ArgumentError("Engine.open(): index holds a lone surrogate (such as '\\ud800') that no folder name can hold")
        args.text(db, "Engine.open()", "db (an SQLAlchemy URL)")
        # "lite" is one embedder, not the embedders l, i, t and e
        embedders = None if embedders is None else args.name_list(embedders, "Engine.open()", "embedders")
        plugins = _plugin_list(plugins)
        index_dir = Path(index or env.get("index") or default_index_dir()).expanduser().resolve()
        try:
            index_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:  # under a file, /dev/null, /proc, a read-only disk
            reason = "not a folder" if index_dir.exists() else exc.strerror or str(exc)
            raise MMSearchError(f"{index_dir}: cannot hold an index ({reason}); "
                                "give --index (or MMSEARCH_INDEX) a folder you can write") from None
        layered = Settings.load(index_dir, {**(settings or {}), "index_dir": str(index_dir)})
        db_url = db or layered.get("db") or store_db.default_url(index_dir)
        if embedders is None and layered.get("embedders"):
            embedders = [e.strip() for e in str(layered.get("embedders")).split(",") if e.strip()]
        return cls(index_dir, db_url, layered, plugins, embedders, on_wait)

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Save the vector caches that changed and release the database. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        try:
            for space in self.spaces:
                space.indexes.save()
        finally:
            self.db.dispose()

    def _where(self) -> str:
        return str(self.index_dir) if self.db_url == store_db.default_url(self.index_dir) else self.db_url

    def _check_open(self) -> None:
        if self._closed:
            raise MMSearchError("this Engine is closed; open the index again with Engine.open(...)")

    @contextmanager
    def _writer_lock(self, purpose: str) -> Iterator[None]:
        """Hold the index's writer lock (see ``store/lock.py``); readers never take it."""
        if self.read_only:
            # "This user" is wrong on a read-only mount, where even root cannot write: name the file system.
            why = ("the file system is mounted read-only" if store_db.on_read_only_mount(self.index_dir)
                   else f"this user cannot write {self.index_dir}")
            raise ReadOnlyIndexError(
                f"cannot {purpose} the index at {self._where()}: it is read-only ({why}); "
                f"searching works, indexing needs write access"
            )
        timeout = parse_float("lock_timeout", self.settings.get("lock_timeout", DEFAULT_TIMEOUT_S), low=0)
        with writer_lock(self.db, self.index_dir, self._where(), timeout, self.on_wait, purpose):
            yield

    def check_database(self) -> None:
        """Raise :class:`IndexGoneError` when the SQLite file was deleted or replaced since this
        Engine opened it: its connections still read the old, unlinked file, and what it wrote
        there was lost to every other process. (Searches and writes check it themselves.)"""
        if self._db_file is not None and store_db.file_identity(self._db_file) != self._db_identity:
            raise IndexGoneError(f"the index database {self._db_file} was deleted or replaced since this process opened it; "
                              f"open the index again (restart `mmsearch serve`)")

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """The writer lock, with the caches caught up on what other writers did before we got it."""
        with self._writer_lock("write to"):
            self.check_database()
            for space in self.spaces:
                space.indexes.refresh()
            try:
                yield
            finally:
                # Still under the lock, so no writer of ours adds to the WAL while it is truncated.
                store_db.checkpoint(self.db)

    # -- indexing ------------------------------------------------------------------------------

    def index(self, paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str], *, retry_failed: bool = False, progress: ProgressFn | None = None,
              executor: str | None = None, ray_address: str | None = None, reextract: bool = False) -> IndexSummary:
        """Bring the index up to date with ``paths`` (folders or files): new and changed files are
        indexed, renamed ones moved, vanished ones removed. A bad file is recorded, never fatal.
        ``reextract`` reads and embeds every file again, changed or not (after changing a setting
        that alters what files yield: OCR, text chunk size, the audio model); the index records
        no such settings per file, so it cannot notice by itself.

        ``executor`` is ``"local"`` (default, setting ``executor``) or ``"ray"``: extraction and
        embedding then run on a Ray cluster (``ray_address``, setting ``ray.address``; a local
        one when unset) while this process plans and writes."""
        self._check_open()
        paths = path_list(paths, "index")
        method = "Engine.index()"
        args.flag(retry_failed, method, "retry_failed"), args.flag(reextract, method, "reextract")
        args.callback(progress, method, "progress (called as progress(report, done, total))")  # else a TypeError mid-run
        args.text(executor, method, "executor ('local' or 'ray')"), args.text(ray_address, method, "ray_address")
        runner = self._runner(executor or str(self.settings.get("executor", "local")), ray_address)
        workers = self.settings.get_int("workers", low=0) or (os.cpu_count() or 1)
        ctx = IndexContext(
            db=self.db,
            registry=self.registry,
            embedders=self.embedders,
            spaces=self.spaces,
            ignore=self._ignored,
            workers=workers,
            batch_segments=self.settings.get_int("batch_size", low=1),
            runner=runner,
        )
        with self._writing():
            summary = index_paths(ctx, paths, retry_failed, progress, reextract=reextract)
        notify_index_finished(self.pm, summary, self)  # the index_finished hook
        return summary

    def _runner(self, executor: str, ray_address: str | None) -> Callable[..., None]:
        from .indexing import pipeline

        if executor == "local":
            return pipeline.run
        if executor == "ray":
            from .indexing.ray_executor import RayOptions, RayRunner

            return RayRunner(self.settings, self._plugins, RayOptions.from_settings(self.settings, ray_address))
        raise ConfigError(f"unknown executor {executor!r}; use 'local' or 'ray'")

    def _ignored(self, path: Path) -> bool:
        return bool(first_answer(self.pm, "ignore_path", bool, path=path, settings=self.settings))  # isolates a raising plugin

    def remove(self, paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str]) -> int:
        """Forget the media at or below ``paths`` (files stay on disk). Returns how many."""
        self._check_open()
        paths = path_list(paths, "remove")
        # A name that is not UTF-8 is shown (and stored) with \xNN escapes; accept that spelling too,
        # so a path copied from `mmsearch search` output removes the file it names.
        targets = [Path(form).expanduser().resolve() for p in paths for form in {os.fsdecode(p), decode_relpath(os.fsdecode(p))}]
        with self._writing():
            with Session(self.db) as session, session.begin():
                rows = session.execute(select(Media, Root.path).join(Root, Root.id == Media.root_id)).all()
                doomed = [
                    Known.of(m)
                    for m, root in rows
                    if any(_is_within(Path(root) / decode_relpath(m.relpath), t) for t in targets)
                ]
                delta = writer.remove_media(session, doomed, self.spaces)
                # A library removed whole (at or inside a target) is forgotten too: `status` listed
                # it, as missing, forever.
                for root_id, root in session.execute(select(Root.id, Root.path)).all():
                    if any(_is_within(Path(root), t) for t in targets):
                        session.execute(delete(Root).where(Root.id == root_id))
            with Session(self.db) as session:
                writer.apply_delta(session, self.spaces, delta)
            for space in self.spaces:
                space.indexes.save()
        return len(doomed)

    # -- searching -----------------------------------------------------------------------------

    def search(
        self,
        query: str | Query | None = None,
        *,
        image: str | os.PathLike[str] | None = None,
        k: int = 10,
        offset: int = 0,
        types: Iterable[str] | str = (),
        path: str | None = None,
        min_score: float | None = None,
        fuser: str = "weighted",
    ) -> list[Hit]:
        """Ranked media for a query, best first.

        ``query`` is a string in the query language (``'"red car" + ./ref.jpg - night type:image
        after:2021 size:>1MB'``; see ``mmsearch/search/parse.py``) or a :class:`Query`. ``image``
        adds an example file; ``types`` and ``path`` add filters. Results whose calibrated score
        is below ``min_score`` (default: setting ``search.min_score``) are dropped, so a query with
        no good match returns ``[]``.
        """
        from .search.query import Filters, check_types, file_part
        from .search.searcher import DEFAULT_MIN_SCORE

        self._check_open()
        # "image" or "image,video", as type: and --type take them; a bare str is not a list of letters
        names = tuple(types.split(",")) if isinstance(types, str) else tuple(types) if isinstance(types, Iterable) else None
        check_search_args(query, image, k, offset, names, path, min_score, fuser)
        extra = [file_part(image)] if image is not None else []
        if isinstance(query, Query):
            query = query.with_parts(extra)
        elif query is not None and query.strip():
            query = Query.parse(query).with_parts(extra)
        else:
            query = Query.build(files=[image] if image is not None else [])
        query = query.with_filters(Filters(frozenset(t.strip() for t in names or () if t.strip()), path))
        check_types(query, self.registry.modalities)
        if min_score is None:
            min_score = self.settings.get_score("search.min_score", DEFAULT_MIN_SCORE)
        elif not 0.0 <= min_score <= 1.0:  # NaN fails this too, and would silently drop every result
            raise QueryError(f"min_score must be a number from 0 to 1, got {min_score!r}")
        self.check_database()
        for space in self.spaces:
            space.indexes.refresh()  # another process may have indexed since we opened
        return self._searcher.search(query, k=int(k), offset=int(offset), min_score=float(min_score), fuser=fuser)

    def evaluate(
        self,
        labelled_set: str | os.PathLike[str] | LabelledSet,
        *,
        min_score: float | None = None,
        k: int = 100,
        library: str | os.PathLike[str] | None = None,
        time_slack: float = 1.0,
        progress: Callable[[int, int], None] | None = None,
    ) -> EvalReport:
        """Measure search quality on a labelled set (a JSONL file, see :mod:`mmsearch.eval.labels`).

        Each query is searched once with no cut (top ``k``); R@1/5/10, MRR, nDCG@10 come from that
        ranking, and false alarms and false abstentions are reported at ``min_score`` (default:
        setting ``search.min_score``). ``library`` is the folder the relevant paths are relative to
        (default: the paths are compared with each file's path relative to its indexed folder).
        """
        from .eval.labels import LabelledSet, load
        from .eval.run import evaluate
        from .search.searcher import DEFAULT_MIN_SCORE

        self._check_open()
        method = "Engine.evaluate()"
        if not isinstance(labelled_set, LabelledSet):
            args.path(labelled_set, method, "labelled_set", optional=False)
        args.path(library, method, "library"), args.callback(progress, method, "progress (called as progress(done, total))")
        if (min_score is not None and not args.number(min_score)) or not args.whole(k) or not args.number(time_slack):
            raise ArgumentError(f"{method}: min_score and time_slack must be numbers and k a whole number, "
                                f"got min_score={min_score!r}, k={k!r}, time_slack={time_slack!r}")
        labelled = labelled_set if isinstance(labelled_set, LabelledSet) else load(labelled_set)
        if min_score is None:
            min_score = self.settings.get_score("search.min_score", DEFAULT_MIN_SCORE)
        return evaluate(self, labelled, cut=min_score, k=k, library=library, time_slack=time_slack, progress=progress)

    def calibrate(
        self,
        labelled_set: str | os.PathLike[str] | LabelledSet,
        *,
        library: str | os.PathLike[str] | None = None,
        save: bool = True,
        features: Sequence[str] | None = None,
    ) -> list[Calibration]:
        """Fit this index's P(relevant) curves on a labelled set (the ``mmsearch eval`` format;
        include absent queries) and, with ``save``, store them in the index directory, where they
        take precedence over what the embedder ships. ``features`` (of ``curves.FEATURES``; default
        ``curves.FITTED``) are the features the curves may weigh. Measure the result with
        :meth:`evaluate` on *another* labelled set: a set fitted on flatters itself."""
        from .eval.fit import calibrate
        from .eval.labels import LabelledSet, load  # noqa: F811 (the runtime name of the annotation)
        from .search.curves import write_index_file

        self._check_open()
        method = "Engine.calibrate()"
        # every argument before any work: a wrong one must not fail after the set was read
        if not isinstance(labelled_set, LabelledSet):
            args.path(labelled_set, method, "labelled_set", optional=False)
        args.path(library, method, "library"), args.flag(save, method, "save")
        features = None if features is None else args.name_list(features, method, "features")
        labelled = labelled_set if isinstance(labelled_set, LabelledSet) else load(labelled_set)
        fitted = calibrate(self, labelled, library, features)
        if save:
            for calibration in fitted:
                write_index_file(self.index_dir, calibration)
            self._searcher.reload_calibrations(self.index_dir)
        return fitted

    # -- status --------------------------------------------------------------------------------

    def status(self) -> Status:
        self._check_open()
        with Session(self.db) as session:
            per_modality = dict(
                session.execute(select(Media.modality, func.count()).where(Media.status == "indexed").group_by(Media.modality)).all()
            )
            failures = tuple(
                FileReport(str(Path(root) / m.relpath), "failed", m.error)
                for m, root in session.execute(
                    select(Media, Root.path).join(Root, Root.id == Media.root_id).where(Media.status == "failed").order_by(Media.relpath)
                )
            )
            segments = session.scalar(select(func.count()).select_from(SegmentRow)) or 0
            roots = tuple(session.scalars(select(Root.path).order_by(Root.path)))
            spaces = tuple(
                {"key": row.key, "embedder": row.embedder, "model": row.model, "dim": row.dim, "kinds": row.kinds,
                 "vectors": active.indexes.count(), "indexes": active.indexes.info()}
                for row, active in zip(session.scalars(select(SpaceRow).order_by(SpaceRow.id)), self.spaces)
            )
        db_file = self.index_dir / store_db.DB_FILE
        db_bytes = store_db.disk_bytes(db_file) if self.db_url == store_db.default_url(self.index_dir) else None
        return Status(
            index_dir=str(self.index_dir),
            db_url=self.db.url.render_as_string(hide_password=True),
            media={k or "?": v for k, v in sorted(per_modality.items(), key=lambda kv: kv[0] or "")},
            segments=int(segments),
            failures=failures,
            spaces=spaces,
            roots=roots,
            db_bytes=db_bytes,
            vector_bytes=sum(s.indexes.nbytes() for s in self.spaces),
        )


def _plugin_list(plugins: object) -> list[object]:
    """Plugin objects (modules or instances with hook implementations). A str is refused, not
    registered as a plugin that implements nothing: plugins are chosen by name with the
    MMSEARCH_LOAD_PLUGINS setting, not here."""
    if isinstance(plugins, (str, bytes, bytearray)) or not isinstance(plugins, Iterable):
        raise ArgumentError(f"Engine.open(): plugins must be a list of plugin objects (modules or instances with "
                            f"@mmsearch.hookimpl methods), not {type(plugins).__name__}; installed plugins load by themselves")
    items = list(plugins)
    for item in items:
        if item is None or isinstance(item, (str, bytes, bytearray, numbers.Number)):
            raise ArgumentError(f"Engine.open(): plugins must be plugin objects (modules or instances with "
                                f"@mmsearch.hookimpl methods), not {item!r}; to choose installed plugins by name "
                                "set MMSEARCH_LOAD_PLUGINS")
        if not any(hasattr(getattr(item, attr, None), f"{PROJECT}_impl") for attr in dir(item)):
            # registered, it would change nothing, silently: almost surely the wrong object
            raise ArgumentError(f"Engine.open(): plugin {item!r} implements no mmsearch hook; decorate its hook "
                                "functions with @mmsearch.hookimpl")
    return items


def _notify(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _is_within(path: Path, target: Path) -> bool:
    return path == target or target in path.parents
