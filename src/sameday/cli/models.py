"""``sameday models``: register bundles, move aliases, gate candidates, export to MLflow.

Every subcommand opens the project's registry (:func:`sameday.models.open_registry`), calls one
method and prints text or ``--json``. A model is named as ``NAME`` (newest), ``NAME/3``,
``NAME@alias``, or ``models:/…`` for MLflow's registry where a command reads a model.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from sameday.cli._common import echo_json, json_option, project_option

if TYPE_CHECKING:
    from sameday.metadata import ModelEvent, ModelVersionRecord


def _parse_json(value: str | None, what: str) -> Any:
    if value is None:
        return None
    text = Path(value[1:]).read_text() if value.startswith("@") else value
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"{what} is not JSON ({exc}); write JSON or @file.json") from exc


def _pairs(values: tuple[str, ...], what: str) -> dict[str, Any]:
    """``KEY=VALUE`` options as a dict; values that parse as JSON numbers become numbers."""
    found: dict[str, Any] = {}
    for item in values:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{what} {item!r} is not KEY=VALUE")
        try:
            found[key] = json.loads(raw)
        except json.JSONDecodeError:
            found[key] = raw
    return found


def _version_text(record: ModelVersionRecord) -> str:
    aliases = f"  @{', @'.join(record.aliases)}" if record.aliases else ""
    metrics = ", ".join(f"{k}={v}" for k, v in sorted(record.metrics.items()))
    return (
        f"{record.ref:<24} {record.created_at:%Y-%m-%d %H:%M} {record.flavor:<7} "
        f"{record.content_hash[:12]}  {metrics}{aliases}"
    )


def _event_text(event: ModelEvent) -> str:
    target = f"{event.name}/{event.version}" if event.version is not None else "-"
    alias = f" @{event.alias}" if event.alias else ""
    before = f" (was {event.previous})" if event.previous is not None else ""
    line = (
        f"{event.at:%Y-%m-%d %H:%M:%S}  {event.action:<12} {target}{alias}{before}  {event.actor}"
    )
    if event.reason:
        line += f"\n    {event.reason}"
    for check in event.evidence.get("checks", []):
        mark = "ok  " if check["passed"] else "FAIL"
        threshold = f"{check['threshold']:.6g}" if check["threshold"] is not None else "-"
        champion = f" (champion {check['champion']:.6g})" if check["champion"] is not None else ""
        line += (
            f"\n    {mark} {check['condition']}: candidate {check['candidate']:.6g}, "
            f"threshold {threshold}{champion}"
        )
    return line


@click.group("models")
def models() -> None:
    """Register model bundles, point aliases at versions, gate candidates, talk to MLflow."""


@models.command("register")
@click.argument("name")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--loader", default=None, help="'package.module:function' loading the files.")
@click.option("--param", "params", multiple=True, help="Training parameter KEY=VALUE.")
@click.option("--metric", "metrics", multiple=True, help="Offline metric KEY=VALUE.")
@click.option("--metrics-file", type=click.Path(exists=True, path_type=Path), default=None)
@click.option("--dataset", "datasets", multiple=True, help="Training dataset NAME=VERSION.")
@click.option("--signature", default=None, help="Input/output signature as JSON or @file.")
@click.option("--alias", "aliases", multiple=True, help="Alias to point at the new version.")
@click.option("--run-id", default=None, help="The run that trained it (default $SAMEDAY_RUN_ID).")
@click.option("--description", default=None)
@project_option
@json_option
def register(
    name: str,
    source: Path,
    loader: str | None,
    params: tuple[str, ...],
    metrics: tuple[str, ...],
    metrics_file: Path | None,
    datasets: tuple[str, ...],
    signature: str | None,
    aliases: tuple[str, ...],
    run_id: str | None,
    description: str | None,
    project_dir: Path | None,
    as_json: bool,
) -> None:
    """Register SOURCE (a file or folder, any framework) as the next version of NAME."""
    from sameday.models import open_registry
    from sameday.models.gate import read_metrics

    values = dict(read_metrics(metrics_file)[0]) if metrics_file else {}
    values.update(_pairs(metrics, "--metric"))
    with open_registry(project_dir) as registry:
        record = registry.register(
            name,
            source.resolve(),
            loader=loader,
            params=_pairs(params, "--param"),
            metrics=values,
            datasets={k: str(v) for k, v in _pairs(datasets, "--dataset").items()},
            signature=_parse_json(signature, "--signature"),
            run_id=run_id,
            description=description,
            aliases=aliases,
        )
    if as_json:
        echo_json(dataclasses.asdict(record))
        return
    click.secho(f"Registered {record.ref} ({record.content_hash[:12]}).", fg="green")
    for alias in record.aliases:
        click.echo(f"{name}@{alias} -> {record.version}")


@models.command("list")
@project_option
@json_option
def list_models(project_dir: Path | None, as_json: bool) -> None:
    """List every model: its newest version and its aliases."""
    from sameday.models import open_registry

    with open_registry(project_dir) as registry:
        found = registry.list_models()
    if as_json:
        echo_json([dataclasses.asdict(summary) for summary in found])
        return
    if not found:
        click.echo("No models yet: register one with 'sameday models register NAME PATH'.")
    for summary in found:
        aliases = ", ".join(f"@{a}={v}" for a, v in summary.aliases.items()) or "no aliases"
        click.echo(
            f"{summary.name:<24} {summary.versions} versions, newest {summary.latest}; {aliases}"
        )


@models.command("show")
@click.argument("ref")
@click.option("--versions", "all_versions", is_flag=True, help="List every version of the model.")
@project_option
@json_option
def show(ref: str, all_versions: bool, project_dir: Path | None, as_json: bool) -> None:
    """Show the version REF names (NAME, NAME/3, NAME@alias), with its whole manifest."""
    from sameday.models import open_registry, parse_ref

    with open_registry(project_dir) as registry:
        if all_versions:
            records = registry.versions(parse_ref(ref).name)
            if as_json:
                echo_json([dataclasses.asdict(r) for r in records])
            else:
                for record in records:
                    click.echo(_version_text(record))
            return
        record = registry.resolve(ref)
        manifest = registry.manifest(record.ref)
    if as_json:
        echo_json({**dataclasses.asdict(record), "manifest": manifest})
        return
    click.echo(_version_text(record))
    code = manifest.get("code") or {}
    dirty = " (dirty tree)" if code.get("dirty") else ""
    click.echo(f"  bundle    {record.bundle_url}")
    click.echo(f"  code      {code.get('commit') or 'not in git'}{dirty}")
    click.echo(
        f"  python    {manifest['environment']['python']}, "
        f"{len(manifest['environment']['packages'])} packages locked"
    )
    click.echo(f"  run       {record.run_id or '-'}")
    for key in ("params", "metrics"):
        if manifest.get(key):
            click.echo(f"  {key:<9} {json.dumps(manifest[key], sort_keys=True)}")
    for dataset in manifest.get("datasets") or []:
        click.echo(f"  dataset   {dataset.get('name')} {dataset.get('version', '')}")
    if manifest.get("signature"):
        click.echo(f"  signature {json.dumps(manifest['signature'])}")
    click.echo(f"  files     {', '.join(sorted(manifest['files']))}")


@models.command("alias")
@click.argument("ref")
@click.argument("alias")
@click.option("--delete", is_flag=True, help="Remove ALIAS from model REF instead.")
@click.option("--reason", default=None, help="Why, kept in the history.")
@project_option
@json_option
def alias(
    ref: str, alias: str, delete: bool, reason: str | None, project_dir: Path | None, as_json: bool
) -> None:
    """Point ALIAS at the version REF names (e.g. `sameday models alias als/3 challenger`)."""
    from sameday.models import open_registry, parse_ref

    with open_registry(project_dir) as registry:
        if delete:
            event = registry.delete_alias(parse_ref(ref).name, alias, reason=reason)
        else:
            event = registry.set_alias(ref, alias, reason=reason)
    _print_event(event, as_json)


@models.command("promote")
@click.argument("ref")
@click.option("--to", "to", default="champion", show_default=True, help="The alias to move.")
@click.option("--reason", default=None, help="Why, kept in the history.")
@project_option
@json_option
def promote(ref: str, to: str, reason: str | None, project_dir: Path | None, as_json: bool) -> None:
    """Make the version REF names the champion (`sameday models promote als@challenger`)."""
    from sameday.models import open_registry

    with open_registry(project_dir) as registry:
        event = registry.promote(ref, to=to, reason=reason)
    _print_event(event, as_json)


@models.command("rollback")
@click.argument("name")
@click.option("--alias", "alias_name", default="champion", show_default=True)
@click.option("--reason", default=None, help="Why, kept in the history.")
@project_option
@json_option
def rollback(
    name: str, alias_name: str, reason: str | None, project_dir: Path | None, as_json: bool
) -> None:
    """Point NAME's alias back at the version it pointed at before its latest move."""
    from sameday.models import open_registry

    with open_registry(project_dir) as registry:
        event = registry.rollback(name, alias=alias_name, reason=reason)
    _print_event(event, as_json)


def _print_event(event: ModelEvent, as_json: bool) -> None:
    if as_json:
        echo_json(dataclasses.asdict(event))
    elif event.version is None:
        click.echo(f"Removed {event.name}@{event.alias} (was {event.previous}).")
    else:
        before = f" (was {event.previous})" if event.previous is not None else ""
        click.secho(f"{event.name}@{event.alias} -> {event.version}{before}.", fg="green")


@models.command("history")
@click.argument("name")
@click.option("--limit", type=click.IntRange(min=1), default=None)
@project_option
@json_option
def history(name: str, limit: int | None, project_dir: Path | None, as_json: bool) -> None:
    """Every registration, alias move and gate decision of NAME, newest first, with evidence."""
    from sameday.models import open_registry

    with open_registry(project_dir) as registry:
        events = registry.history(name, limit)
    if as_json:
        echo_json([dataclasses.asdict(event) for event in events])
        return
    for event in events:
        click.echo(_event_text(event))


@models.command("export")
@click.argument("ref")
@click.argument("out", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["mlflow"]), default="mlflow", show_default=True)
@project_option
def export(ref: str, out: Path, fmt: str, project_dir: Path | None) -> None:
    """Write the version REF names to OUT in MLflow's format (mlflow.pyfunc.load_model reads it)."""
    from sameday.models import open_registry

    with open_registry(project_dir) as registry:
        registry.export(ref, out.resolve(), format=fmt)
    click.secho(f"Exported {ref} to {out} (format {fmt}).", fg="green")


@models.command("gate")
@click.argument("name")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option(
    "--metrics",
    "metrics_file",
    type=click.Path(path_type=Path),
    required=True,
    help="JSON metrics the evaluate job wrote.",
)
@click.option(
    "--when",
    "conditions",
    multiple=True,
    required=True,
    help="A condition, e.g. 'ndcg@10 >= champion - 0.002' (repeatable).",
)
@click.option(
    "--publish",
    "lists",
    multiple=True,
    help="RESULT_SET=FILE published when the candidate is blessed (repeatable).",
)
@click.option("--loader", default=None, help="'package.module:function' loading the files.")
@click.option("--run-id", default=None, help="The run that trained it (default $SAMEDAY_RUN_ID).")
@project_option
@json_option
def gate(
    name: str,
    source: Path,
    metrics_file: Path,
    conditions: tuple[str, ...],
    lists: tuple[str, ...],
    loader: str | None,
    run_id: str | None,
    project_dir: Path | None,
    as_json: bool,
) -> None:
    """Compare the candidate at SOURCE with NAME's champion: blessed, it becomes the champion
    and its lists are published; refused, nothing changes and the reason is printed."""
    import os

    from sameday.config import load_project
    from sameday.results.job_output import gate_and_publish

    project = load_project(project_dir)
    files = {k: Path(str(v)).resolve() for k, v in _pairs(lists, "--publish").items()}
    outcome = gate_and_publish(
        project,
        name,
        source.resolve(),
        conditions,
        metrics_file.resolve(),
        lists=files,
        loader=loader,
        run_id=run_id or os.environ.get("SAMEDAY_RUN_ID"),
    )
    decision = outcome.decision
    assert decision is not None
    if as_json:
        echo_json(
            {
                "blessed": decision.blessed,
                "version": dataclasses.asdict(outcome.version) if outcome.version else None,
                "published": list(outcome.published),
                "finding": dataclasses.asdict(decision.finding),
            }
        )
        return
    click.secho(decision.finding.summary, fg="green" if decision.blessed else "yellow")
    if outcome.version is not None:
        click.echo(f"{name}@champion -> {outcome.version.version}")
    for version in outcome.published:
        click.echo(f"Published {version}.")


COMMANDS = [models]
