"""``mmsearch calibrate``: fit this index's score calibration on a labelled set of your own."""

from __future__ import annotations

import click

from .common import echo_json, open_engine


def register(cli: click.Group) -> None:
    cli.add_command(calibrate)


@click.command("calibrate")
@click.argument("labelled_set", type=click.Path(dir_okay=False))
@click.option("--library", type=click.Path(file_okay=False, exists=True),
              help="The folder the relevant paths are relative to; it is indexed (brought up to date) first.")
@click.option("--features", help="Comma-separated features the curves may weigh (default raw,hub,z; also: gap, how far the "
              "best hit stands out from the next four).")
@click.option("--json", "as_json", is_flag=True, help="Print the fitted curves as JSON.")
@click.pass_context
def calibrate(ctx: click.Context, labelled_set: str, library: str | None, features: str | None, as_json: bool) -> None:
    """Fit P(relevant) curves for every space of the index on LABELLED_SET (the `mmsearch eval`
    format; include queries with "kind": "absent") and store them in the index directory
    (calibration.json), where they replace what the embedder ships. Afterwards a score of 0.5, the
    default cut, keeps about 7 % of absent-answer queries: check it with `mmsearch eval` on a
    labelled set you did not calibrate on."""
    from ..eval.labels import load

    labelled = load(labelled_set)
    with open_engine(ctx) as engine:
        if library is not None:
            engine.index([library])
        chosen = [name.strip() for name in features.split(",") if name.strip()] if features else None
        fitted = engine.calibrate(labelled, library=library, features=chosen)
        where = engine.index_dir / "calibration.json"
    if as_json:
        echo_json([c.to_dict() for c in fitted])
        return
    for calibration in fitted:
        click.echo(f"{calibration.model}:")
        for key, stats in calibration.stats.items():
            if key == "not_fitted":  # pairs of kinds the set gave too few examples for: they keep their curve
                for reason in stats:
                    click.echo(f"  not fitted (keeps the shipped or fallback curve): {reason}")
                continue
            click.echo(f"  {key}: at cut 0.5 false alarms {stats['false_alarms_absent']}, false abstentions "
                       f"{stats['false_abstentions']} ({stats['right_first']} right first, {stats['absent_queries']} absent) on the fitting set")
    click.echo(f"Saved to {where}")
