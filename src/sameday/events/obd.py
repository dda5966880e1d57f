"""Exposure logs ↔ the Open Bandit Dataset's shape, the lingua franca of off-policy evaluation.

An OBD row is one item shown in one slot (``position``, 1-based) at ``timestamp``, whether it was
clicked, and the probability the logging policy had of showing it there (``propensity_score``),
followed by context columns (user features, user-item affinities). The mapping:

- **rows → records** (:func:`from_obd_csv`): each row becomes an exposure of one item, its
  ``request_id`` and ``unit`` taken from the file's unnamed index column (``obd-<index>``), its
  slot kept in ``extra["first_position"]`` and its context columns, as text, in
  ``extra["context"]``; a clicked row also becomes an outcome named after the reward event, tied
  to the exposure's request id and item.
- **records → rows** (:func:`to_obd_rows`): each item of each exposure becomes a row; its position
  is ``extra["first_position"]`` (default 1) plus its index in the list; the reward is 1 when an
  outcome named ``reward_event`` refers to the exposure's request and that item (or to the
  request with no item: a list-level reward), else 0; the propensity is the exposure's.

So logs written by sameday feed the OPE estimators, and the vendored OBD sample
(``../shared/vendor/obd/``) round-trips into sameday's records as a test fixture.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sameday.errors import OBDFormatError
from sameday.events.records import Exposure, Outcome

OBD_COLUMNS = ("timestamp", "item_id", "position", "click", "propensity_score")
"""The columns every OBD row has, before its context columns."""


def to_obd_rows(
    exposures: Iterable[Exposure], outcomes: Iterable[Outcome], reward_event: str = "click"
) -> list[dict[str, Any]]:
    """One OBD-shaped row per item shown, in exposure then list order (see the module docstring).

    Each row has :data:`OBD_COLUMNS` (``timestamp`` as OBD writes it, ``2019-11-24
    00:00:34.762830+00:00``; ``item_id`` the item id; ``position`` and ``click`` integers;
    ``propensity_score`` a float or ``None``) followed by the exposure's context columns.
    """
    per_item: set[tuple[str, str]] = set()
    per_list: set[str] = set()
    for outcome in outcomes:
        if outcome.name != reward_event or outcome.request_id is None:
            continue
        if outcome.item is None:
            per_list.add(outcome.request_id)
        else:
            per_item.add((outcome.request_id, outcome.item))
    rows: list[dict[str, Any]] = []
    for exposure in exposures:
        first = int(exposure.extra.get("first_position", 1))
        context = exposure.extra.get("context", {})
        timestamp = _format_time(exposure.time)
        listed = exposure.request_id in per_list
        for index, item in enumerate(exposure.items):
            rows.append(
                {
                    "timestamp": timestamp,
                    "item_id": item,
                    "position": first + index,
                    "click": int(listed or (exposure.request_id, item) in per_item),
                    "propensity_score": exposure.propensity,
                    **context,
                }
            )
    return rows


def from_obd_csv(
    path: str | Path, *, surface: str = "obd", reward_event: str = "click"
) -> tuple[list[Exposure], list[Outcome]]:
    """Read an OBD ``all.csv``-style file into exposures and reward outcomes.

    Args:
        path: the CSV file (first column the unnamed row index, then :data:`OBD_COLUMNS` and the
            context columns).
        surface: the surface the exposures are attributed to.
        reward_event: the name given to the outcomes of clicked rows.

    Raises:
        OBDFormatError: a required column is missing or a value cannot be parsed.
    """
    path = Path(path)
    exposures: list[Exposure] = []
    outcomes: list[Outcome] = []
    with path.open(newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if header is None:
            raise OBDFormatError(f"{path} is empty; expected an OBD CSV with a header row")
        missing = [c for c in OBD_COLUMNS if c not in header]
        if missing:
            raise OBDFormatError(
                f"{path} lacks the OBD column(s) {', '.join(missing)}; its header is "
                f"{', '.join(header[:8])}, ..."
            )
        at = {name: header.index(name) for name in OBD_COLUMNS}
        indexed = header[0] == ""
        context = [(i, c) for i, c in enumerate(header) if c not in OBD_COLUMNS and c != ""]
        for line, row in enumerate(reader, start=2):
            try:
                request_id = f"obd-{row[0] if indexed else line - 2}"
                when = _parse_time(row[at["timestamp"]])
                item = row[at["item_id"]]
                exposures.append(
                    Exposure(
                        request_id=request_id,
                        time=when,
                        unit=request_id,
                        surface=surface,
                        items=(item,),
                        propensity=float(row[at["propensity_score"]]),
                        extra={
                            "first_position": int(row[at["position"]]),
                            "context": {name: row[i] for i, name in context},
                        },
                    )
                )
                if int(row[at["click"]]):
                    outcomes.append(
                        Outcome(
                            event_id=f"{request_id}:{reward_event}",
                            unit=request_id,
                            name=reward_event,
                            time=when,
                            request_id=request_id,
                            item=item,
                        )
                    )
            except (ValueError, IndexError) as exc:
                raise OBDFormatError(f"{path}:{line}: not an OBD row: {exc}") from exc
    return exposures, outcomes


def _parse_time(text: str) -> float:
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _format_time(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat(sep=" ", timespec="microseconds")
