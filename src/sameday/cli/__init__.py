"""The ``sameday`` command line: a thin shell over the library.

Each command parses its options, calls one library function and prints text or ``--json``. Library
code raises ``SamedayError``; :class:`SamedayGroup` renders it once, on stderr, with its exit code.
"""

from __future__ import annotations

from typing import Any

import click

from sameday._version import __version__
from sameday.cli import (
    bandit,
    datasets,
    db,
    deploy,
    events,
    models,
    monitor,
    ope,
    pipelines,
    power,
    project,
    report,
    results,
    serve,
    status,
    ui,
    uplift,
)
from sameday.cli import compile as compile_cli
from sameday.cli import demo as demo_cli
from sameday.cli._common import log_options, render_crash, render_error, setup_logging
from sameday.errors import SamedayError


class SamedayGroup(click.Group):
    """A click group that turns sameday errors into a message and an exit code, not a traceback.

    Anything else is a bug: its traceback is still printed, with credentials scrubbed."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except SamedayError as exc:
            click.secho(render_error(exc), fg="red", err=True)
            ctx.exit(exc.exit_code)
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:
            click.secho(render_crash(exc), fg="red", err=True)
            ctx.exit(1)


@click.group(cls=SamedayGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", "-V", prog_name="sameday")
@log_options
@click.pass_context
def main(ctx: click.Context, log_format: str, log_level: str | None) -> None:
    """sameday: from batch recommender output to a trustworthy online test, the same day.

    Declare pipelines, result sets, surfaces, experiments and metrics in YAML; validate them in
    CI; run pipelines locally or on Argo; publish checked snapshots; serve and measure.

    Start with `sameday init my-project`, then `sameday validate --project my-project`.
    """
    setup_logging(ctx, log_format, log_level)


for _module in (
    project,
    db,
    pipelines,
    compile_cli,
    results,
    models,
    deploy,
    serve,
    report,
    bandit,
    ope,
    power,
    demo_cli,
    monitor,
    status,
    datasets,
    events,
    uplift,
    ui,
):
    for _command in _module.COMMANDS:
        main.add_command(_command)
