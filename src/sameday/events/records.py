"""What the event log holds: one ``Exposure`` per served list, one ``Outcome`` per product event.

Both are slotted dataclasses (``Outcome`` frozen too): the serving path builds one per
request, so they carry no validation and cost one allocation. Times are float seconds since the
epoch, UTC, as ``time.time()`` gives them; ids (units, items, request and event ids) are strings.

This module is also the one place that turns records into bytes and back (orjson): sinks store
the list- and dict-valued fields as JSON text with :func:`json_text`, and anything that ships a
record whole (a queue, a file, an HTTP body) uses :func:`encode_exposure` / :func:`encode_outcome`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

import orjson


@dataclass(slots=True, kw_only=True)
class Exposure:
    """One list served to one unit: what was shown, why, and with what probability.

    Treat it as immutable. It is not a frozen dataclass on purpose: the serving path builds one
    per request, and a frozen dataclass's ``__init__`` costs 2.3 µs more here (it sets each of
    the 20 fields through ``object.__setattr__``), a tenth of a request's budget.

    Attributes:
        request_id: unique per served list; outcomes refer to it. Sinks ignore a repeated
            ``request_id``, which makes retried writes harmless.
        time: when the list was served, seconds since the epoch (UTC).
        unit: the unit the list was served to (the experiment's randomisation unit).
        surface: the surface that asked for the list.
        items: the item ids shown, in display order; an item's position is its index (plus
            ``extra["first_position"]`` when the list starts further down the page).
        experiment: the running experiment the unit was assigned in, or ``None``.
        arm: the experiment's arm that served the list, or ``None``.
        hash_attribute: the attribute hashed for assignment (``"id"``, ``"device_id"``, ...).
        hash_value: its value for this unit.
        hash_version: GrowthBook hash version (1 or 2).
        seed: the hash seed (the experiment key unless set otherwise).
        bucket: the unit's hash in ``[0, 1)``, as used to choose the arm.
        scores: the items' scores, aligned with ``items``, when the result set has them.
        snapshot_versions: result set → snapshot version read to build the list.
        propensity: the probability that this list was shown (for A/B, the arm's weight times
            coverage); the input of off-policy evaluation.
        design: the experiment's design (a name in :data:`sameday.design_registry.DESIGNS`),
            or ``None`` outside experiments.
        teams: for interleaving, the arm ("team") that contributed each slot, aligned with items.
        extra: anything design-specific: interleaving coin flips, a bandit's list probability,
            OBD context columns. Must be JSON-serialisable.
        degraded: the list came from a fallback because the store or a list was missing.
        model: the exact model version that ordered the list at request time (``ranker/4``,
            ``python:recs.rank:score``), or ``None`` when it is in the batch order (no scorer
            named, or it fell back: ``extra["model_fallback"]`` then says why). The SQL and
            Parquet logs keep it as the key ``model`` of ``extra``, so their table layouts and
            the files already written stay as they are.
    """

    request_id: str
    time: float
    unit: str
    surface: str
    items: tuple[str, ...]
    experiment: str | None = None
    arm: str | None = None
    hash_attribute: str | None = None
    hash_value: str | None = None
    hash_version: int | None = None
    seed: str | None = None
    bucket: float | None = None
    scores: tuple[float, ...] | None = None
    snapshot_versions: dict[str, str] = field(default_factory=dict)
    propensity: float | None = None
    design: str | None = None
    teams: tuple[str | None, ...] | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    degraded: bool = False
    model: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """One product event (a click, a purchase, a watch) that analysis joins to exposures.

    Attributes:
        event_id: unique per event, chosen by the sender; sinks ignore a repeated ``event_id``,
            so a client may resend a batch it got no acknowledgement for.
        unit: the unit the event belongs to (unit-level metrics join on it).
        name: the event's name, as metric definitions refer to it (``"click"``).
        time: when it happened, seconds since the epoch (UTC).
        value: the event's value (1 for a click, the amount of a purchase).
        request_id: the served list it follows from, when the product knows it.
        item: the item acted on, when there is one; position-level rewards (off-policy
            evaluation, interleaving credit) need it.
    """

    event_id: str
    unit: str
    name: str
    time: float
    value: float = 1.0
    request_id: str | None = None
    item: str | None = None


OUTCOME_TEXT = ("event_id", "unit", "name", "request_id", "item")
"""The text fields of an outcome; the last two are optional."""
EXPOSURE_IDS = ("request_id", "unit", "hash_value")
"""The exposure fields callers choose freely (the others come from validated configuration)."""


def unstorable(text: str) -> str | None:
    """Why ``text`` cannot be stored in every event log, or ``None`` when it can.

    PostgreSQL text cannot hold a NUL character, and no log takes a lone surrogate (it is not
    UTF-8). The log keeps one rule for all backends, so a record never depends on where it goes.
    """
    if "\x00" in text:
        return "contains a NUL character (\\u0000), which the event log cannot store"
    if not text.isascii():
        try:
            text.encode()
        except UnicodeEncodeError:
            return "contains a lone surrogate, which is not UTF-8 and cannot be stored"
    return None


def outcome_problem(outcome: Outcome) -> tuple[str, str] | None:
    """``(field, what is wrong)`` for an outcome no event log can store, or ``None``."""
    for name in OUTCOME_TEXT:
        value = getattr(outcome, name)
        if value is None and name in ("request_id", "item"):
            continue
        if not isinstance(value, str) or not value:
            return name, "must be a non-empty string"
        reason = unstorable(value)
        if reason is not None:
            return name, reason
    for name in ("value", "time"):
        number = getattr(outcome, name)
        if isinstance(number, bool) or not isinstance(number, int | float):
            return name, "must be a number"
        if not math.isfinite(number):
            return name, "must be finite"
    return None


def escape_text(text: str) -> str:
    """``text`` made storable and reversibly readable: backslashes doubled, NUL as ``\\x00``,
    a lone surrogate as its escape (``\\udc80`` for U+DC80)."""
    doubled = text.replace("\\", "\\\\").replace("\x00", "\\x00")
    return doubled.encode("utf-8", "backslashreplace").decode()


def storable_exposure(exposure: Exposure) -> tuple[Exposure, list[str]]:
    """``exposure`` with its caller-chosen ids escaped (:func:`escape_text`) where no log could
    store them, and the names of the fields escaped; unchanged (and ``[]``) when it can be stored.

    The escaped copy names the fields in ``extra["escaped"]``, so analysis can tell them apart.
    """
    escaped = [
        name
        for name in EXPOSURE_IDS
        if (value := getattr(exposure, name)) is not None and unstorable(value)
    ]
    if not escaped:
        return exposure, []
    changes: dict[str, Any] = {name: escape_text(getattr(exposure, name)) for name in escaped}
    return replace(exposure, **changes, extra={**exposure.extra, "escaped": escaped}), escaped


def json_text(value: Any) -> str:
    """``value`` as compact JSON text; raises ``TypeError`` when it is not JSON-serialisable."""
    return orjson.dumps(value).decode()


def from_json(data: bytes | str) -> Any:
    """Parse JSON text or bytes; raises ``ValueError`` on malformed input."""
    return orjson.loads(data)


def encode_exposure(exposure: Exposure) -> bytes:
    """``exposure`` as one compact JSON object (a field per attribute)."""
    return orjson.dumps(exposure)


def encode_outcome(outcome: Outcome) -> bytes:
    """``outcome`` as one compact JSON object (a field per attribute)."""
    return orjson.dumps(outcome)


def exposure_from_dict(data: dict[str, Any]) -> Exposure:
    """Rebuild an exposure from its JSON form, turning lists back into tuples.

    Raises:
        ValueError: a field is missing or unknown.
    """
    fields = dict(data)
    fields["items"] = tuple(fields.get("items") or ())
    for name in ("scores", "teams"):
        if fields.get(name) is not None:
            fields[name] = tuple(fields[name])
    fields["snapshot_versions"] = fields.get("snapshot_versions") or {}
    fields["extra"] = fields.get("extra") or {}
    fields["degraded"] = bool(fields.get("degraded", False))
    try:
        return Exposure(**fields)
    except TypeError as exc:
        raise ValueError(f"not an exposure record: {exc}") from exc


def outcome_from_dict(data: dict[str, Any]) -> Outcome:
    """Rebuild an outcome from its JSON form.

    Raises:
        ValueError: a field is missing or unknown.
    """
    try:
        return Outcome(**data)
    except TypeError as exc:
        raise ValueError(f"not an outcome record: {exc}") from exc


def decode_exposure(data: bytes | str) -> Exposure:
    """The exposure :func:`encode_exposure` encoded."""
    return exposure_from_dict(from_json(data))


def decode_outcome(data: bytes | str) -> Outcome:
    """The outcome :func:`encode_outcome` encoded."""
    return outcome_from_dict(from_json(data))
