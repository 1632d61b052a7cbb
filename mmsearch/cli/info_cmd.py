"""``mmsearch status``, ``mmsearch plugins`` and ``mmsearch models``."""

from __future__ import annotations

import os

import click

from ..paths import printable
from ..plugins import Registry, describe_plugins, make_plugin_manager
from ..settings import Settings
from .common import echo_json, human_bytes, open_engine, require_index


def register(cli: click.Group) -> None:
    cli.add_command(status)
    cli.add_command(plugins)
    cli.add_command(models)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """What the index holds: media per modality, failures with reasons, spaces and sizes."""
    require_index(ctx)  # opening would create an index where a mistyped --index points
    with open_engine(ctx, announce=False) as engine:
        st = engine.status()
        # media whose modality plugin was uninstalled: still searchable, no longer kept current
        orphans = {name: count for name, count in st.media.items() if name not in engine.registry.modalities}
    if as_json:
        echo_json({**st.to_dict(), "unread_modalities": orphans})
        return
    indexed = sum(st.media.values())
    per = ", ".join(f"{name} {count}" for name, count in st.media.items())
    click.echo(f"Index: {printable(st.index_dir)}")
    click.echo(f"Database: {st.db_url}" + (f" ({human_bytes(st.db_bytes)})" if st.db_bytes is not None else ""))
    click.echo(f"Libraries: {', '.join(map(printable, st.roots)) or 'none yet'}")
    for root in st.roots:
        if not os.path.isdir(root):  # moved, renamed or unmounted: its files still answer searches
            click.echo(f"  missing: {printable(root)} is not a folder now; its files stay in the index until it is back "
                       f"and indexed, or `mmsearch remove {printable(root)}` forgets them")
    click.echo(f"Media: {indexed} indexed" + (f" ({per})" if per else "") + f", {len(st.failures)} failed; {st.segments} segments")
    if orphans:
        click.echo(f"  not read by any installed plugin now: {', '.join(f'{n} {c}' for n, c in orphans.items())}; these stay "
                   "searchable but are no longer kept current (new files of their kinds are skipped); reinstall the "
                   "plugin, or `mmsearch remove` them")
    for space in st.spaces:
        click.echo(f"Space: {space['key']} ({space['dim']}-d; {space['kinds']}): {space['vectors']} vectors, "
                   f"{human_bytes(space['vectors'] * space['dim'] * 4)}")
        indexes = space.get("indexes", {})
        if any(index["backend"] != "flat" for index in indexes.values()):  # exact flat: nothing to add
            for kind, index in indexes.items():
                recall = f", recall@10 {index['recall_at_10']:.3f} (nprobe {index['nprobe']})" if "recall_at_10" in index else ""
                click.echo(f"  {kind}: {index['backend']} backend, {index['vectors']} vectors{recall}")
    if st.failures:
        click.echo("Failures:")
        for failure in st.failures:
            click.echo(f"  {printable(failure.path)}: {printable(failure.error or '')}")


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def plugins(as_json: bool) -> None:
    """Installed plugins, the hooks each implements and what each registered; disabled ones with why."""
    pm = make_plugin_manager()
    rows = describe_plugins(pm, Registry(pm, Settings()))
    if as_json:
        echo_json(rows)
        return
    for row in rows:
        if row["status"] == "failed":
            click.echo(f"{row['name']}: FAILED, disabled: {row['reason']}")
            continue
        # what each modality reads: a plugin taking .txt from the built-in text modality shows here
        reads = {name: f" ({' '.join(exts)})" if exts else "" for name, exts in row["reads"].items()}
        row = {**row, "modalities": [name + reads.get(name, "") for name in row["modalities"]]}
        registered = [f"{what} {', '.join(row[what])}" for what in ("modalities", "embedders", "fusers", "transcribers") if row[what]]
        origin = f" [{row['distribution']}]" if row["distribution"] else ""
        click.echo(f"{row['name']}{origin}: hooks {', '.join(row['hooks'])}" + (f"; {'; '.join(registered)}" if registered else ""))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
def models(as_json: bool) -> None:
    """Embedders, their spaces, where their weights come from and whether they work here offline."""
    from ..spaces import default_order  # imported on use: it loads SQLAlchemy, `--help` need not

    pm = make_plugin_manager()
    registry = Registry(pm, Settings())
    rows = []
    for entry in sorted(registry.embedders.values(), key=lambda r: default_order(r.obj)):  # the default first
        embedder = entry.obj
        info = embedder.info()
        rows.append({"name": entry.name, "plugin": entry.plugin, "space": embedder.space.key, "dim": int(embedder.dim),
                     "kinds": sorted(embedder.kinds), "available": info.available, "weights": info.weights,
                     "detail": info.detail})
    if as_json:
        echo_json(rows)
        return
    if not rows:
        click.echo("No embedder is installed.")
    for row in rows:
        state = "available" if row["available"] else "NOT available"
        click.echo(f"{row['name']}: {row['space']} ({row['dim']}-d; {', '.join(row['kinds'])}) {state}; weights: {row['weights']}")
        if row["detail"]:
            click.echo(f"  {row['detail']}")
