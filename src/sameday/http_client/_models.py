"""What the HTTP client sends and returns: plain frozen dataclasses, read from and written to
the JSON of the API (``/openapi.json``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sameday.http_client._errors import SamedayUnavailable

__all__ = ["Event", "Fallback", "Health", "Item", "Recommendation"]

Fallback = Sequence[str] | Callable[[str, str], Sequence[str]]
"""Item ids to show when sameday cannot answer: a list, or ``f(surface, unit)`` returning one."""

FALLBACK_SOURCE = "fallback"
"""The ``source`` of items that came from the caller's fallback, not from sameday."""


@dataclass(frozen=True, slots=True)
class Item:
    """One slot of a served list.

    Attributes:
        item: the item id.
        score: the result set's score (``0.0`` for items of the caller's fallback).
        position: 1-based position in the list.
        source: the result set the item came from, or ``"fallback"``.
        payload: extra data published with the item, if any.
    """

    item: str
    score: float
    position: int
    source: str
    payload: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class Recommendation:
    """A list for one unit on one surface.

    Attributes:
        request_id: the served list's id; send it with outcome events.
        experiment: the experiment the unit is in, or ``None``.
        arm: the arm served, or ``None``.
        degraded: sameday answered from its own fallbacks (its store was down).
        snapshots: result set → snapshot version the list was read from.
        fallback: sameday did not answer; ``items`` are the caller's fallback list and no
            exposure was logged.
        error: why sameday did not answer (when ``fallback``), for the caller's logs.
        model: how a scorer ordered the list, when the arm or surface names one:
            ``{"scorer", "version", "fallback"}`` (docs/models.md, "Online scoring").
    """

    request_id: str
    surface: str
    unit: str
    items: tuple[Item, ...]
    experiment: str | None = None
    arm: str | None = None
    degraded: bool = False
    snapshots: Mapping[str, str] = field(default_factory=dict)
    fallback: bool = False
    error: SamedayUnavailable | None = None
    model: Mapping[str, Any] | None = None

    @property
    def item_ids(self) -> list[str]:
        """The item ids in order."""
        return [slot.item for slot in self.items]


@dataclass(frozen=True, slots=True)
class Event:
    """An outcome event (a click, a purchase) to send to ``POST /v1/events``.

    Attributes:
        event_id: unique per event; a resent event is stored once, so resending is safe.
        unit: who acted.
        name: the event's name, e.g. ``"click"``.
        value: an amount (default 1).
        time: seconds since the epoch; ``None`` lets the server stamp its arrival (set it when
            events may be kept and resent later).
        request_id: the served list the event follows from.
        item: the item acted on.
    """

    event_id: str
    unit: str
    name: str
    value: float = 1.0
    time: float | None = None
    request_id: str | None = None
    item: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The event as the API's JSON (absent fields left out)."""
        body: dict[str, Any] = {
            "event_id": self.event_id,
            "unit": self.unit,
            "name": self.name,
            "value": self.value,
        }
        for name in ("time", "request_id", "item"):
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body


@dataclass(frozen=True, slots=True)
class Health:
    """What ``GET /readyz`` said.

    Attributes:
        live: the server answered at all.
        ready: it has a configuration to serve (``sameday apply`` ran).
        surfaces: the surfaces it serves.
        message: why it is not ready or not reachable (empty when ready).
    """

    live: bool
    ready: bool
    surfaces: tuple[str, ...] = ()
    message: str = ""


def recommendation(body: Any) -> Recommendation:
    """A :class:`Recommendation` from the API's JSON.

    Raises:
        ValueError: ``body`` is not shaped like the API's answer.
    """
    try:
        return Recommendation(
            request_id=str(body["request_id"]),
            surface=str(body["surface"]),
            unit=str(body["unit"]),
            experiment=body["experiment"],
            arm=body["arm"],
            degraded=bool(body["degraded"]),
            snapshots=dict(body["snapshots"]),
            items=tuple(
                Item(
                    item=str(slot["item"]),
                    score=float(slot["score"]),
                    position=int(slot["position"]),
                    source=str(slot["source"]),
                    payload=slot.get("payload"),
                )
                for slot in body["items"]
            ),
            model=dict(body["model"]) if body.get("model") is not None else None,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"not a recommendation: {type(exc).__name__}: {exc}") from exc


def fallback_recommendation(
    fallback: Fallback,
    *,
    surface: str,
    unit: str,
    request_id: str,
    n: int | None,
    exclude: Sequence[str],
    error: SamedayUnavailable,
) -> Recommendation:
    """The caller's fallback list as a :class:`Recommendation` flagged ``fallback``, with
    ``exclude`` removed and cut to ``n``, as sameday would have done."""
    ids = fallback(surface, unit) if callable(fallback) else fallback
    excluded = set(exclude)
    kept = [item for item in dict.fromkeys(ids) if item not in excluded]
    if n is not None:
        kept = kept[:n]
    return Recommendation(
        request_id=request_id,
        surface=surface,
        unit=unit,
        items=tuple(
            Item(item=item, score=0.0, position=position, source=FALLBACK_SOURCE)
            for position, item in enumerate(kept, start=1)
        ),
        fallback=True,
        error=error,
    )
