"""One row per unit: its dimensions, its arm and its outcome, ready for the uplift models.

The outcome is the experiment's metric computed exactly as the report computes it
(:mod:`sameday.analysis.metric_sql`: first exposure, attribution window, cap), so the uplift
analysis and the report agree on the average effect. A unit's dimensions are those of its first
exposure. Only the control and the one treatment arm analysed are kept.

Dimensions are logged as text. A dimension whose every value reads as a number (``3``, ``2.5``)
is a numeric feature; any other is a category, coded by frequency (code 0 the most common value).
Histogram gradient boosting takes at most 255 categories per feature, so beyond
:data:`MAX_CATEGORIES` the rarest values share one code, labelled :data:`OTHER`. A unit without
the dimension has a missing value (NaN), which the models handle natively and a targeting rule
writes as "attribute absent". The CUPED covariate of a metric (the same event before the first
exposure) is a numeric feature too, ``pre_<event>``: it is measured before the unit saw any arm,
so it cannot carry the treatment's effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import duckdb
import numpy as np
import numpy.typing as npt

from sameday import design_registry
from sameday.analysis.metric_sql import columns, statements
from sameday.analysis.phases import CURRENT, Scope, Selection, restrict
from sameday.analysis.source import open_events
from sameday.config.experiment import Experiment
from sameday.config.metric import Metric
from sameday.errors import StoreUnavailable, UnsupportedAnalysis
from sameday.events.source import EventQuery, EventSource

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MAX_CATEGORIES = 254
"""Categories kept per dimension (the rest share :data:`OTHER`): histogram gradient boosting's
limit is 255 bins, one of which is kept for missing values."""
OTHER = "(other)"
"""The label of the rare values merged beyond :data:`MAX_CATEGORIES`."""
MIN_UNITS_PER_ARM = 200
"""Fewer units than this in an arm leave nothing to learn, let alone to cross-fit."""

Outcome = Literal["binary", "continuous"]


@dataclass(frozen=True)
class Feature:
    """One model input: a dimension (or the metric's covariate), numeric or a category.

    ``labels[code]`` is the logged text of category ``code``; empty for a numeric feature.
    """

    name: str
    kind: Literal["category", "number"]
    labels: tuple[str, ...] = ()


@dataclass(frozen=True, eq=False)
class UpliftData:
    """The units of one treatment-control comparison.

    Attributes:
        x: ``(units, features)``; category codes or numbers, NaN where missing.
        features: what each column of ``x`` is.
        treated: whether each unit was served the treatment arm.
        y: each unit's outcome (the metric's per-unit value).
        outcome: ``binary`` (a proportion metric: 0 or 1) or ``continuous``.
        metric, control, arm: what is compared.
    """

    x: FloatArray
    features: tuple[Feature, ...]
    treated: BoolArray
    y: FloatArray
    outcome: Outcome
    metric: str
    control: str
    arm: str

    def __repr__(self) -> str:
        return (
            f"UpliftData(units={self.units:,}, features={[f.name for f in self.features]}, "
            f"{self.arm} vs {self.control} on {self.metric})"
        )

    @property
    def units(self) -> int:
        """How many units are compared."""
        return int(self.y.size)

    @property
    def share_treated(self) -> float:
        """The share of units in the treatment arm: the propensity, the same for every unit
        since assignment is randomised."""
        return float(self.treated.mean())

    @property
    def categorical(self) -> BoolArray:
        """Which columns of ``x`` are categories (what the models need to know)."""
        return np.array([f.kind == "category" for f in self.features], dtype=bool)


def check_design(experiment: Experiment) -> None:
    """Refuse what uplift modelling cannot do with the experiment's design.

    Raises:
        UnsupportedAnalysis: an interleaving or bandit experiment, or no dimensions declared.
    """
    design = design_registry.design(experiment.design)
    if not design.fixed_split:
        raise UnsupportedAnalysis(
            f"{experiment.name!r} is {design.unsplit_why}: there are no treated and untreated "
            "units to compare and no per-unit uplift to model. Uplift models need a randomised "
            "A/B test: to learn who benefits, run the arms as one, with dimensions"
        )
    if not experiment.dimensions:
        raise UnsupportedAnalysis(
            f"experiment {experiment.name!r} declares no dimensions, so its exposures record "
            "nothing to tell units apart by: add 'dimensions: [platform, is_new, ...]' to its "
            "file and send those attributes with each request"
        )


def load_units(
    source: EventSource | str,
    experiment: Experiment,
    metric: Metric,
    *,
    arm: str,
    selection: Selection = CURRENT,
) -> tuple[UpliftData, Scope]:
    """The units of ``experiment``'s control and ``arm``, with ``metric`` as the outcome.

    Raises:
        UnsupportedAnalysis: a ratio metric (no per-unit outcome), or too few units.
        NotFound: the selected phase has no exposures.
        StoreUnavailable: the event log cannot be read.
    """
    if metric.type == "ratio":
        raise UnsupportedAnalysis(
            f"metric {metric.name!r} is a ratio of sums over units, which has no per-unit value "
            "to model: use a proportion, mean or count metric (--metric)"
        )
    dims = tuple(experiment.dimensions)
    control = experiment.arms[0].name
    query = EventQuery(experiment=experiment.name, events=tuple(metric.events), dimensions=dims)
    con = open_events(source, query)
    try:
        scope = restrict(con, experiment, selection)
        data = _units(con, experiment, metric, dims, control, arm)
    except duckdb.Error as exc:
        raise StoreUnavailable(
            f"cannot read the units of experiment {experiment.name!r} from the event log: {exc}"
        ) from exc
    finally:
        con.close()
    return data, scope


def _units(
    con: duckdb.DuckDBPyConnection,
    experiment: Experiment,
    metric: Metric,
    dims: tuple[str, ...],
    control: str,
    arm: str,
) -> UpliftData:
    pairs = con.execute("SELECT DISTINCT arm, surface FROM exposures").fetchall()
    arms = [a.name for a in experiment.arms]
    arm_names = [*arms, *sorted({str(a) for a, _ in pairs} - set(arms))]
    surfaces = sorted({str(s) for _, s in pairs if s is not None})
    for sql in statements([metric], dims, arms=arm_names, surfaces=surfaces):
        con.execute(sql)
    (col,) = columns([metric])
    kept = f"arm IN ({arm_names.index(control)}, {arm_names.index(arm)})"
    counts = dict(
        con.execute(f"SELECT arm, count(*) FROM unit_values WHERE {kept} GROUP BY arm").fetchall()
    )
    for name in (control, arm):
        have = int(counts.get(arm_names.index(name), 0))
        if have < MIN_UNITS_PER_ARM:
            raise UnsupportedAnalysis(
                f"arm {name!r} of {experiment.name!r} has {have:,} units in the analysed phase; "
                f"uplift models need at least {MIN_UNITS_PER_ARM:,} per arm"
            )
    features: list[Feature] = []
    selected: list[str] = []
    if col.x is not None:
        features.append(Feature(f"pre_{metric.covariate}", "number"))
        selected.append(col.x)
    numeric = _numeric(con, dims, kept)
    for d in dims:
        if numeric[d]:
            features.append(Feature(d, "number"))
            selected.append(f"TRY_CAST({d} AS DOUBLE)")
        else:
            labels = _labels(con, d, kept)
            features.append(Feature(d, "category", labels))
            selected.append(_coded(d, labels))
    if len(surfaces) > 1:
        features.append(Feature("surface", "category", tuple(surfaces)))
        selected.append("surface")
    # in unit order: DuckDB's parallel GROUP BY returns the units in a different order on each
    # run, and the folds, the bootstrap and the rule's halves are drawn by row, so without it
    # the same seed would not give the same numbers
    table = con.execute(
        f"SELECT arm, {col.y} AS y"
        + "".join(f", {c} AS f{i}" for i, c in enumerate(selected))
        + f" FROM unit_values WHERE {kept} ORDER BY unit"
    ).fetchnumpy()
    return UpliftData(
        x=np.column_stack([_floats(table[f"f{i}"]) for i in range(len(selected))]),
        features=tuple(features),
        treated=np.asarray(table["arm"]) == arm_names.index(arm),
        y=np.asarray(table["y"], dtype=np.float64),
        outcome="binary" if metric.type == "proportion" else "continuous",
        metric=metric.name,
        control=control,
        arm=arm,
    )


def _numeric(con: duckdb.DuckDBPyConnection, dims: tuple[str, ...], kept: str) -> dict[str, bool]:
    """Whether each dimension's every logged value reads as a number."""
    if not dims:
        return {}
    parts = ", ".join(f"count({d}), count(TRY_CAST({d} AS DOUBLE))" for d in dims)
    row = con.execute(f"SELECT {parts} FROM unit_values WHERE {kept}").fetchone() or ()
    return {d: bool(row[2 * i]) and row[2 * i] == row[2 * i + 1] for i, d in enumerate(dims)}


def _labels(con: duckdb.DuckDBPyConnection, dim: str, kept: str) -> tuple[str, ...]:
    """A category's values, most frequent first (ties by value), the rarest merged as OTHER."""
    rows = con.execute(
        f"SELECT {dim} FROM unit_values WHERE {kept} AND {dim} IS NOT NULL "
        f"GROUP BY {dim} ORDER BY count(*) DESC, {dim}"
    ).fetchall()
    labels = [str(r[0]) for r in rows]
    return tuple(labels if len(labels) <= MAX_CATEGORIES else [*labels[:MAX_CATEGORIES], OTHER])


def _coded(dim: str, labels: tuple[str, ...]) -> str:
    """SQL of the category code of ``dim``: its index in ``labels``, the last for the merged
    rare values, NULL when missing."""
    listed = labels[:MAX_CATEGORIES]
    literal = "[" + ", ".join("'" + v.replace("'", "''") + "'" for v in listed) + "]"
    return (
        f"CASE WHEN {dim} IS NOT NULL THEN CAST(least(coalesce(list_position({literal}, {dim}), "
        f"{len(listed) + 1}) - 1, {len(listed)}) AS DOUBLE) END"
    )


def _floats(column: object) -> FloatArray:
    """A fetched column as floats, NULL as NaN."""
    values: np.ma.MaskedArray[tuple[int], np.dtype[np.float64]] = np.ma.asarray(
        column, dtype=np.float64
    )
    return np.asarray(np.ma.filled(values, np.nan), dtype=np.float64)
