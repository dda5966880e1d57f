"""Models: every registered model with its aliases, one model's versions, and its history of
registrations, alias moves and gate decisions with their evidence; promoting a version and
rolling an alias back.

It reads through the registry (:class:`sameday.models.Registry`), the same calls as
``sameday models list``, ``show --versions`` and ``history``, and acts through it too, so a
move made here is recorded and mirrored to MLflow exactly as the command's would be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sameday.metadata import ModelEvent, ModelSummary, ModelVersionRecord
from sameday.models import CHAMPION, Registry
from sameday.ui.state import Dashboard

SHOWN = 50
"""Versions shown on a model's page (newest first)."""
HISTORY = 100
"""History entries shown on a model's page (newest first)."""
DECISIONS = ("gate-blessed", "gate-refused")
DEFAULT_ALIAS = CHAMPION
"""The alias the page's moves apply to when the form names none."""


@dataclass(frozen=True)
class Check:
    """One gate condition as judged: the candidate's value, the threshold, the champion's."""

    condition: str
    passed: bool
    candidate: float | None
    threshold: float | None
    champion: float | None
    note: str | None


@dataclass(frozen=True)
class Entry:
    """One event of a model's history, with a gate decision's checks read out of its evidence."""

    event: ModelEvent
    checks: list[Check]
    against: int | None

    @property
    def decision(self) -> bool:
        """Whether this entry is a gate decision (blessed or refused)."""
        return self.event.action in DECISIONS


@dataclass(frozen=True)
class ModelPage:
    """One model: its aliases, newest versions, history, and the moves it offers."""

    name: str
    aliases: dict[str, int]
    versions: list[ModelVersionRecord]
    total: int
    history: list[Entry]
    rollbacks: dict[str, int]
    metric_names: list[str]

    @property
    def decisions(self) -> list[Entry]:
        """The gate decisions among the shown history, newest first."""
        return [e for e in self.history if e.decision]


def registry(dash: Dashboard) -> Registry:
    """The project's registry over the dashboard's open metadata store."""
    return Registry(dash.project(), dash.meta)


def models_page(dash: Dashboard) -> list[ModelSummary]:
    """Every registered model, by name, with its aliases."""
    return registry(dash).list_models()


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def entry(event: ModelEvent) -> Entry:
    """``event`` with the checks its evidence records (none for other events)."""
    checks = [
        Check(
            str(c.get("condition", "")),
            bool(c.get("passed")),
            _float(c.get("candidate")),
            _float(c.get("threshold")),
            _float(c.get("champion")),
            c.get("note"),
        )
        for c in event.evidence.get("checks") or []
        if isinstance(c, dict)
    ]
    champion = event.evidence.get("champion")
    against = champion.get("version") if isinstance(champion, dict) else None
    return Entry(event, checks, against if isinstance(against, int) else None)


def rollback_targets(history: list[ModelEvent], aliases: dict[str, int]) -> dict[str, int]:
    """The version each alias would roll back to, read from the shown history as the registry
    does (the latest move to the current version that was not a rollback, and its
    ``previous``); aliases with nothing to go back to are left out."""
    found: dict[str, int] = {}
    for alias, current in aliases.items():
        for event in history:  # newest first
            moved_here = event.alias == alias and event.version == current
            if moved_here and event.action not in ("rollback", "unalias", "gate-refused"):
                if event.previous is not None:
                    found[alias] = event.previous
                break
    return found


def model_page(dash: Dashboard, name: str) -> ModelPage:
    """The page of model ``name``.

    Raises:
        ModelNotFound: no such model (the message lists the models there are).
    """
    reg = registry(dash)
    shown = reg.versions(name, SHOWN)
    events = reg.history(name, HISTORY)
    aliases = reg.aliases(name)
    metric_names = sorted({key for v in shown for key in v.metrics})[:6]
    return ModelPage(
        name,
        dict(sorted(aliases.items())),
        shown,
        shown[0].version,  # versions are numbered from 1 and never deleted: the newest counts them
        [entry(e) for e in events],
        rollback_targets(events, aliases),
        metric_names,
    )


def _why(actor: str, reason: str | None) -> str:
    return f"from the dashboard by {actor}" + (f": {reason}" if reason else "")


def promote(
    dash: Dashboard, name: str, version: str, alias: str | None, *, actor: str, reason: str | None
) -> ModelEvent:
    """Point ``name@alias`` (default: the champion) at ``version``, as ``sameday models
    promote NAME/VERSION`` does.

    Raises:
        ValueError: ``version`` is not a number.
        ModelNotFound: no such model or version.
    """
    if not version.isdigit():
        raise ValueError(f"choose a version number to promote, not {version!r}")
    return registry(dash).promote(
        f"{name}/{int(version)}", to=alias or DEFAULT_ALIAS, reason=_why(actor, reason)
    )


def roll_back(
    dash: Dashboard, name: str, alias: str | None, *, actor: str, reason: str | None
) -> ModelEvent:
    """Point ``name@alias`` (default: the champion) back where it pointed before its latest
    move, as ``sameday models rollback`` does.

    Raises:
        ModelNotFound: the alias is not set or has nowhere to go back to.
    """
    return registry(dash).rollback(name, alias=alias or DEFAULT_ALIAS, reason=_why(actor, reason))
