"""Drift gates of a result set, and freshness: how snapshots and runs may differ from history.

Every publish records a profile of the snapshot (rows, keys, list lengths, items, scores,
overlap with the snapshot before; :mod:`sameday.monitor.profile`). These settings say which
differences from the result set's recent history are findings, and whether a finding blocks the
publish or only warns. Limits are effect sizes (a relative change, a population stability index,
a Kolmogorov-Smirnov distance), never p-values: on a snapshot of a million rows every difference
is "significant", and a gate that fires on every publish is a gate people switch off.

Used as ``drift:`` in ``results/*.yaml`` (and, once monitor files exist, as their defaults).
:class:`Freshness` holds the settings of the freshness checks (deadlines and ``max_age`` are
declared on pipelines and result sets; these say how run durations and late runs are judged).
"""

from typing import Literal

from pydantic import Field

from sameday.config._base import Duration, StrictModel

Action = Literal["block", "warn", "off"]
"""``block`` refuses the publish (nothing changes), ``warn`` publishes and records the finding,
``off`` skips the check."""

CHECKS = (
    "rows",
    "keys",
    "items",
    "list_length",
    "top_share",
    "gini",
    "scores",
    "list_lengths",
    "item_mix",
    "overlap",
)
"""The drift checks, by name (``actions`` overrides the action of each)."""
CheckName = Literal[
    "rows",
    "keys",
    "items",
    "list_length",
    "top_share",
    "gini",
    "scores",
    "list_lengths",
    "item_mix",
    "overlap",
]


class Changes(StrictModel):
    """Largest relative change of a number against the median of the history (0.5 = ±50%);
    ``null`` turns that check off."""

    rows: float | None = Field(0.5, ge=0, description="Rows in the snapshot.")
    keys: float | None = Field(0.5, ge=0, description="Distinct keys.")
    items: float | None = Field(0.5, ge=0, description="Distinct items recommended.")
    list_length: float | None = Field(0.5, ge=0, description="Mean items per key.")
    top_share: float | None = Field(
        0.5, ge=0, description="Share of all recommendations that go to the top 1% of items."
    )
    gini: float | None = Field(0.25, ge=0, description="Gini coefficient of item frequencies.")


class Distributions(StrictModel):
    """Largest allowed distance between a distribution and the history's; ``null`` turns a
    measure off. A distribution check fires when any of its measures passes its limit."""

    psi: float | None = Field(
        0.25,
        ge=0,
        description="Population stability index over deciles (0.1 small, 0.25 large shift).",
    )
    ks: float | None = Field(
        0.25, ge=0, le=1, description="Kolmogorov-Smirnov statistic: largest gap between CDFs."
    )
    wasserstein: float | None = Field(
        0.5,
        ge=0,
        description="Wasserstein distance divided by the history's spread (IQR / 1.349).",
    )
    js: float | None = Field(
        0.1,
        ge=0,
        le=1,
        description="Jensen-Shannon divergence (bits) of the items' shares of recommendations.",
    )


class Drift(StrictModel):
    """How a snapshot may differ from the last ``history`` snapshots before it is a finding."""

    action: Action = Field(
        "warn",
        description="What a finding does: block the publish, warn (publish and record it), "
        "or off (no drift checks).",
    )
    actions: dict[CheckName, Action] = Field(
        default_factory=dict,
        description="Per-check actions overriding 'action', e.g. {keys: block, scores: warn}.",
    )
    history: int = Field(
        5, ge=1, le=100, description="Snapshots (newest first) the new one is compared with."
    )
    min_history: int = Field(
        3,
        ge=1,
        le=100,
        description="Snapshots needed before the checks judge; fewer, and they are 'learning'.",
    )
    changes: Changes = Field(default_factory=Changes)
    distributions: Distributions = Field(default_factory=Distributions)
    min_overlap: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Smallest mean Jaccard overlap of the top 10 items with the previous "
        "snapshot, on a fixed sample of keys (a key-id mix-up shows as an overlap near 0).",
    )

    def action_of(self, check: str) -> Action:
        """The action of ``check``: its override, else :attr:`action`."""
        for name, action in self.actions.items():
            if name == check:
                return action
        return self.action


class Freshness(StrictModel):
    """How the freshness checks judge run durations and scheduled runs."""

    duration_history: int = Field(
        20, ge=2, le=500, description="Finished runs of a pipeline its last run is compared with."
    )
    duration_min_history: int = Field(
        5, ge=2, le=500, description="Finished runs needed before durations are judged."
    )
    duration_limit: float = Field(
        5.0,
        gt=0,
        description="Largest robust z-score of a run's duration: its distance from the median "
        "of the history in units of 1.4826 x the median absolute deviation (at least a tenth "
        "of the median, and a second).",
    )
    late_after: Duration = Field(
        900.0,
        description="How long after its scheduled time a run may not have started before the "
        "pipeline counts as late.",
    )
