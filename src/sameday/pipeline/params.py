"""Run parameters: what ``-p key=value`` means, how ``ds`` defaults, and how commands see them.

A command sees every parameter two ways, the same locally and on Argo Workflows:

* as an environment variable named after the parameter, upper-cased, with any character that is
  not a letter, digit or ``_`` turned into ``_`` (``ds`` -> ``$DS``, ``model.version`` ->
  ``$MODEL_VERSION``);
* as ``{{params.NAME}}``, replaced in the command (and ``on_failure``) before it starts; the Argo
  compiler turns the same reference into an Argo parameter reference.

Only declared parameters exist, locally as on Argo. A declared ``ds`` is the date being processed,
``YYYY-MM-DD``; without a default or a given value it is today's date in the pipeline's schedule
timezone (UTC without a schedule) — the date of the scheduled time when a scheduler starts the run.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sameday.config.pipeline import Pipeline
from sameday.errors import PipelineError

DS = "ds"
"""The date parameter, defaulting to the scheduled date."""

_REFERENCE = re.compile(r"\{\{\s*params\.([A-Za-z0-9_.-]+)\s*\}\}")
_NOT_ENV = re.compile(r"[^A-Za-z0-9_]")


def parse_assignments(items: Iterable[str]) -> dict[str, str]:
    """Read ``key=value`` strings (from ``-p``) into a dict; a later key wins.

    Raises:
        PipelineError: when an item has no ``=`` or an empty key.
    """
    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise PipelineError(f"parameter {item!r} is not key=value: write e.g. -p ds=2024-05-01")
        values[key] = value
    return values


def today_in(pipeline: Pipeline, now: datetime | None = None) -> date:
    """Today's date in the pipeline's schedule timezone (UTC when it has no schedule)."""
    zone = ZoneInfo(pipeline.schedule.timezone if pipeline.schedule else "UTC")
    return (now or datetime.now(tz=zone)).astimezone(zone).date()


def parse_date(value: str, what: str = "ds") -> date:
    """A ``YYYY-MM-DD`` date, or a :class:`PipelineError` that says what was expected."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise PipelineError(f"{what} must be a date written YYYY-MM-DD, got {value!r}") from None


def resolve_params(
    pipeline: Pipeline, given: Mapping[str, str], *, now: datetime | None = None
) -> dict[str, str]:
    """Every parameter's value for one run: given values, then declared defaults, then ``ds``.

    Raises:
        PipelineError: a given name is not declared, a parameter without a default was not given,
            or ``ds`` is not a date.
    """
    unknown = sorted(set(given) - set(pipeline.params))
    if unknown:
        declared = ", ".join(sorted(pipeline.params)) or "none"
        raise PipelineError(
            f"pipeline {pipeline.name!r} has no parameter {unknown[0]!r} (declared: {declared}); "
            f"declare it under params: in pipelines/{pipeline.name}.yaml",
            pipeline=pipeline.name,
        )
    values: dict[str, str] = {}
    for name, param in pipeline.params.items():
        if name in given:
            values[name] = given[name]
        elif param.default is not None:
            values[name] = param.default
        elif name != DS:
            raise PipelineError(
                f"parameter {name!r} of pipeline {pipeline.name!r} has no default: "
                f"pass -p {name}=VALUE",
                pipeline=pipeline.name,
            )
    if DS in pipeline.params:
        values.setdefault(DS, today_in(pipeline, now).isoformat())
        parse_date(values[DS])
    return values


def env_name(param: str) -> str:
    """The environment variable of a parameter (``model.version`` -> ``MODEL_VERSION``)."""
    return _NOT_ENV.sub("_", param).upper()


def param_env(params: Mapping[str, str]) -> dict[str, str]:
    """The environment variables that carry ``params`` to a command."""
    return {env_name(name): value for name, value in params.items()}


def substitute(text: str, params: Mapping[str, str], *, where: str) -> str:
    """``text`` with each ``{{params.NAME}}`` replaced by its value.

    Args:
        where: names the text in errors, e.g. ``"job 'train' command"``.

    Raises:
        PipelineError: the text refers to a parameter the run does not have.
    """

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in params:
            raise PipelineError(
                f"{where} refers to {{{{params.{name}}}}} but the pipeline has no parameter "
                f"{name!r} (known: {', '.join(sorted(params))}); declare it under params:"
            )
        return params[name]

    return _REFERENCE.sub(replace, text)
