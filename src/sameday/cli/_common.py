"""Options and output helpers shared by the CLI's command modules."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

F = TypeVar("F", bound=Callable[..., Any])


def project_option(func: F) -> F:
    """``--project DIR``: the project folder (default: the current one, or a parent of it)."""
    return click.option(
        "--project",
        "project_dir",
        type=click.Path(file_okay=False, path_type=Path),
        default=None,
        help="Project folder (default: the current folder or the nearest parent with a "
        "sameday.yaml).",
    )(func)


def json_option(func: F) -> F:
    """``--json``: machine-readable output for scripts and CI."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")(func)


def echo_json(value: Any) -> None:
    """Print ``value`` as indented JSON (datetimes, dataclasses and paths handled)."""
    sys.stdout.write(
        orjson.dumps(
            value, default=str, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
        ).decode()
        + "\n"
    )
