"""The ``sameday`` command line: a thin shell over the library.

Each command parses its options, calls one library function and prints text or ``--json``. Library
code raises ``SamedayError``; :class:`SamedayGroup` renders it once, on stderr, with its exit code.
"""

from __future__ import annotations

import gc
import importlib
from typing import Any

import click

from sameday._version import __version__
from sameday.cli._common import log_options, render_crash, render_error, setup_logging
from sameday.errors import SamedayError

COMMAND_MODULES: dict[str, str] = {
    "alerts": "monitor",
    "apply": "deploy",
    "backfill": "pipelines",
    "bandit": "bandit",
    "compile": "compile",
    "datasets": "datasets",
    "db": "db",
    "demo": "demo",
    "events": "events",
    "experiments": "deploy",
    "init": "project",
    "lineage": "datasets",
    "logs": "pipelines",
    "models": "models",
    "monitor": "monitor",
    "ope": "ope",
    "plan": "deploy",
    "power": "power",
    "publish": "results",
    "record-argo-run": "pipelines",
    "report": "report",
    "rollback": "results",
    "run": "pipelines",
    "runs": "pipelines",
    "schema": "project",
    "serve": "serve",
    "snapshots": "results",
    "status": "status",
    "ui": "ui",
    "uplift": "uplift",
    "validate": "project",
}
"""Which module of ``sameday.cli`` defines each command (in its ``COMMANDS``). A command's
module is imported when the command is looked up, so ``sameday report`` never imports the
modules (and their libraries) of the thirty other commands; ``tests/cli/test_main.py`` checks
that this table and the modules' ``COMMANDS`` agree."""


class SamedayGroup(click.Group):
    """A click group that turns sameday errors into a message and an exit code, not a traceback.

    Anything else is a bug: its traceback is still printed, with credentials scrubbed. Commands
    named in :data:`COMMAND_MODULES` are imported on first lookup (start-up cost counts: see
    ``docs/benchmarks.md``, "Reports"); commands added with ``add_command`` work as usual."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted, without importing any command module."""
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command called ``cmd_name``, importing its module the first time."""
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module = importlib.import_module(f"sameday.cli.{self.lazy[cmd_name]}")
            for command in module.COMMANDS:
                self.commands.setdefault(command.name or "", command)
        return self.commands.get(cmd_name)

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


@click.group(
    cls=SamedayGroup,
    lazy=COMMAND_MODULES,
    context_settings={"help_option_names": ["-h", "--help"]},
)
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


def run() -> None:
    """The ``sameday`` executable and ``python -m sameday``: :func:`main`, then the process exits.

    As it exits, the interpreter collects garbage once more over everything still alive, only to
    free memory the operating system takes back anyway: after a report (pydantic's schemas, numpy,
    DuckDB) that walk took 0.05 s, a fifteenth of the whole command
    (``benchmarks/report_bench.py``). Freezing the heap once the command is done
    (:func:`gc.freeze`: the collector skips frozen objects) saves it. Exit handlers still run
    (logging flushes its handlers, temporary files are removed) and objects are still freed by
    reference counting; only objects kept alive by a reference cycle alone are left to the
    operating system. Tests and other programs call :func:`main` in their own, longer-lived
    process, which this leaves alone.
    """
    try:
        main()
    finally:
        gc.freeze()
