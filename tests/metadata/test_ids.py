"""Run ids and snapshot versions: readable, time-sortable, unique."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

from sameday.metadata.ids import new_run_id, new_snapshot_version

WHEN = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)


def test_run_id_shape() -> None:
    assert re.fullmatch(r"daily-train-20261123T103000-[0-9a-f]{4}", new_run_id("daily-train", WHEN))


def test_snapshot_version_shape() -> None:
    assert re.fullmatch(r"als-20261123T103000-[0-9a-f]{6}", new_snapshot_version("als", WHEN))


def test_ids_are_in_utc() -> None:
    local = WHEN.astimezone(timezone(timedelta(hours=9)))
    assert new_run_id("daily", local).startswith("daily-20261123T103000-")


def test_ids_differ_within_one_second() -> None:
    assert len({new_snapshot_version("als", WHEN) for _ in range(200)}) == 200
