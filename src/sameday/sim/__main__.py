"""``python -m sameday.sim generate``: write a simulated data set, for a pipeline's first job."""

from __future__ import annotations

from pathlib import Path

import click

from sameday.sim.data import generate


@click.group()
def main() -> None:
    """The click-model simulator behind the quickstart."""


@main.command("generate")
@click.option("--users", type=click.IntRange(min=1), default=4000, show_default=True)
@click.option("--items", type=click.IntRange(min=2), default=1000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--dim", type=click.IntRange(min=1), default=8, show_default=True)
@click.option(
    "--interactions",
    type=click.FloatRange(min=1),
    default=30.0,
    show_default=True,
    help="Mean logged interactions per user.",
)
@click.option("--test-share", type=click.FloatRange(0, 1, max_open=True), default=0.2)
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), required=True)
def generate_cmd(
    users: int, items: int, seed: int, dim: int, interactions: float, test_share: float, out: Path
) -> None:
    """Draw a world (latent tastes, long-tail popularity) and its logs; write them to OUT."""
    _, data = generate(
        out,
        users=users,
        items=items,
        seed=seed,
        dim=dim,
        mean_interactions=interactions,
        test_share=test_share,
    )
    click.echo(f"wrote {out}: {data!r}")


if __name__ == "__main__":
    main()
