"""Identifiers of runs and snapshots that sort by time and read well in logs and URLs.

``daily-train-20261123T103000-3fa2``: the pipeline (or result set) name, the UTC start time to
the second, and random hex so that two runs started in the same second still differ. Names are
already ``[a-z0-9-]`` (see ``sameday.config``), so the ids are valid Kubernetes names too.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def _stamp(now: datetime | None) -> str:
    moment = datetime.now(UTC) if now is None else now.astimezone(UTC)
    return moment.strftime("%Y%m%dT%H%M%S")


def new_run_id(pipeline: str, now: datetime | None = None) -> str:
    """A fresh run id for ``pipeline``, e.g. ``daily-train-20261123T103000-3fa2``."""
    return f"{pipeline}-{_stamp(now)}-{secrets.token_hex(2)}"


def new_snapshot_version(result_set: str, now: datetime | None = None) -> str:
    """A fresh snapshot version for ``result_set``, e.g. ``als-20261123T103000-3fa2c1``."""
    return f"{result_set}-{_stamp(now)}-{secrets.token_hex(3)}"
