"""The event log as DuckDB views for metric series: every surface, a window of buckets.

Reports read one experiment's log through an ``EventSource``; a metric series reads every
exposure and outcome of a time window, whatever the experiment, so it reads through the log's
``EventSink`` (``read_exposures`` / ``read_outcomes`` with ``since`` and ``until``, which every
backend serves from its time index) and hands DuckDB three Arrow tables:

- ``exposures(request_id, time, ts, bucket, unit, surface, experiment, arm, degraded,
  fallback, default_list)``: ``fallback`` is true when the list was filled, even in part, from a
  result set that is none of its surface's own (its default, its rules', its experiments'
  arms'); ``default_list`` when it was served outside any experiment from the surface's
  default result set;
- ``outcomes(request_id, unit, name, value, time, ts, bucket, item)``;
- ``served(request_id, time, bucket, surface, result_set, version)``: one row per result set
  an exposure's list was read from, with the snapshot version.

``time`` is epoch seconds, ``ts`` the UTC timestamp, ``bucket`` the local start of the series'
bucket (a naive timestamp, ``NULL`` outside the window).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from sameday.monitor.buckets import Buckets

if TYPE_CHECKING:
    import duckdb

    from sameday.config.loader import Project
    from sameday.events.records import Exposure, Outcome
    from sameday.events.sink import EventSink


def _types() -> dict[str, object]:
    import pyarrow as pa

    text, number, flag = pa.string(), pa.float64(), pa.bool_()
    names = ("request_id", "unit", "surface", "experiment", "arm", "name", "item")
    return {
        **dict.fromkeys(names, text),
        **dict.fromkeys(("result_set", "version"), text),
        **dict.fromkeys(("time", "value"), number),
        **dict.fromkeys(("degraded", "fallback", "default_list"), flag),
    }


def own_result_sets(project: Project) -> dict[str, frozenset[str]]:
    """Per surface, the result sets it serves on purpose (anything else is a fallback)."""
    own = {
        name: {surface.result_set, *(rule.result_set for rule in surface.rules)}
        for name, surface in project.surfaces.items()
    }
    for experiment in project.experiments.values():
        own.setdefault(experiment.surface, set()).update(a.result_set for a in experiment.arms)
    return {name: frozenset(sets) for name, sets in own.items()}


def load_views(
    con: duckdb.DuckDBPyConnection, project: Project, sink: EventSink, buckets: Buckets
) -> None:
    """Create ``exposures``, ``outcomes`` and ``served`` in ``con`` for ``buckets``' window."""
    since, until = buckets.since, buckets.until
    exposures = sink.read_exposures(since=since, until=until)
    outcomes = sink.read_outcomes(since=since, until=until)
    _exposure_tables(con, project, exposures, buckets)
    _outcome_table(con, outcomes, buckets)


def _labels(buckets: Buckets, seconds: list[float]) -> tuple[np.ndarray, np.ndarray]:
    """Bucket labels (datetime64, NaT outside) and the UTC timestamps of ``seconds``."""
    times = np.asarray(seconds, dtype=np.float64)
    index = buckets.index(times)
    labels = np.array((*buckets.labels, None), dtype="datetime64[us]")
    ts = (times * 1e6).astype("int64").astype("datetime64[us]")
    return labels[np.where(index >= 0, index, len(buckets))], ts


def _exposure_tables(
    con: duckdb.DuckDBPyConnection, project: Project, rows: Iterable[Exposure], buckets: Buckets
) -> None:
    import pyarrow as pa

    types = _types()
    own = own_result_sets(project)
    defaults = {name: s.result_set for name, s in project.surfaces.items()}
    listed = list(rows)
    empty: frozenset[str] = frozenset()
    cols: dict[str, list[object]] = {
        "request_id": [e.request_id for e in listed],
        "time": [e.time for e in listed],
        "unit": [e.unit for e in listed],
        "surface": [e.surface for e in listed],
        "experiment": [e.experiment for e in listed],
        "arm": [e.arm for e in listed],
        "degraded": [bool(e.degraded) for e in listed],
        "fallback": [not own.get(e.surface, empty).issuperset(e.snapshot_versions) for e in listed],
        "default_list": [
            e.experiment is None and defaults.get(e.surface) in e.snapshot_versions for e in listed
        ],
    }
    pairs = [(e, rs, v) for e in listed for rs, v in e.snapshot_versions.items()]
    served: dict[str, list[object]] = {
        "request_id": [e.request_id for e, _, _ in pairs],
        "time": [e.time for e, _, _ in pairs],
        "surface": [e.surface for e, _, _ in pairs],
        "result_set": [rs for _, rs, _ in pairs],
        "version": [v for _, _, v in pairs],
    }
    bucket, ts = _labels(buckets, cols["time"])  # type: ignore[arg-type]
    table = pa.table(
        {k: pa.array(v, types[k]) for k, v in cols.items()} | {"ts": ts, "bucket": bucket}
    )
    con.register("_sameday_exposures", table)
    con.execute("CREATE OR REPLACE VIEW exposures AS SELECT * FROM _sameday_exposures")
    bucket, _ = _labels(buckets, served["time"])  # type: ignore[arg-type]
    table = pa.table({k: pa.array(v, types[k]) for k, v in served.items()} | {"bucket": bucket})
    con.register("_sameday_served", table)
    con.execute("CREATE OR REPLACE VIEW served AS SELECT * FROM _sameday_served")


def _outcome_table(
    con: duckdb.DuckDBPyConnection, rows: Iterable[Outcome], buckets: Buckets
) -> None:
    import pyarrow as pa

    types = _types()
    names = ("request_id", "unit", "name", "value", "time", "item")
    cols: dict[str, list[object]] = {k: [] for k in names}
    for o in rows:
        for k in names:
            cols[k].append(getattr(o, k))
    bucket, ts = _labels(buckets, cols["time"])  # type: ignore[arg-type]
    table = pa.table(
        {k: pa.array(v, types[k]) for k, v in cols.items()} | {"ts": ts, "bucket": bucket}
    )
    con.register("_sameday_outcomes", table)
    con.execute("CREATE OR REPLACE VIEW outcomes AS SELECT * FROM _sameday_outcomes")


__all__ = ["load_views", "own_result_sets"]
