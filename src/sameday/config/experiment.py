"""``experiments/*.yaml``: an online test on a surface: arms, design, allocation and metrics."""

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, field_validator, model_validator

from sameday import design_registry
from sameday.config._base import Duration, Key, Name, PositiveDuration, StrictModel, empty_list
from sameday.config.scoring import Scored

Phase = Literal["draft", "running", "stopped", "concluded"]


def _known_design(name: str) -> str:
    problem = design_registry.unknown(name)
    if problem is not None:
        raise ValueError(problem)
    return name


Design = Annotated[
    str,
    AfterValidator(_known_design),
    WithJsonSchema({"type": "string", "enum": list(design_registry.names())}),
]
"""A design's name, as registered in :data:`sameday.design_registry.DESIGNS`."""

Dimension = Annotated[
    str,
    Field(
        pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,62}$",
        description="A request attribute's name: letters, digits and '_', not starting with a "
        "digit, at most 63 characters (analysis reads it by name in SQL).",
    ),
]
"""The name of a unit attribute recorded with each exposure (``Experiment.dimensions``)."""

RESERVED_DIMENSIONS: dict[str, str] = {
    **dict.fromkeys(
        ("request_id", "time", "unit", "arm", "surface", "items", "teams", "seed"),
        "is a column of the exposure log",
    ),
    **dict.fromkeys(
        (
            "params_version",
            "arms",
            "ranks",
            "shared",
            "drafted",
            "method",
            "escaped",
            "first_position",
            "context",
            "model",
            "model_fallback",
        ),
        "is written by the server or the log into the exposure's 'extra'",
    ),
}
"""Names a dimension may not take, and why: exposures already hold them, as columns or as keys of
``extra`` that a design, the OBD import or the event writer sets (``surface`` is always available
to ``sameday report --by`` without being declared)."""


class Arm(Scored):
    """One arm: a result set (with optional fallbacks) served to the units assigned to it,
    re-ranked per request when it names a ``model`` or a ``python`` scorer
    (:class:`~sameday.config.scoring.Scored`)."""

    name: Key
    result_set: Name
    fallbacks: list[Name] | None = Field(
        None, description="Fallback chain for this arm; defaults to the surface's."
    )
    weight: float | None = Field(
        None, ge=0, le=1, description="Share of covered traffic (A/B); equal when omitted."
    )


class Layer(StrictModel):
    """A mutual-exclusion domain: experiments in one layer never share a unit if their ranges
    do not overlap. ``range`` is the slice ``[start, end)`` of the layer's hash space in [0, 1].
    """

    name: Key
    range: tuple[float, float] = Field(
        (0.0, 1.0),
        strict=False,  # YAML gives a list; a strict tuple would refuse it
        description="[start, end) slice of the layer, within [0, 1].",
    )

    @model_validator(mode="after")
    def _ordered(self) -> "Layer":
        start, end = self.range
        if not 0.0 <= start < end <= 1.0:
            raise ValueError("range must be [start, end) with 0 <= start < end <= 1")
        return self


class Hashing(StrictModel):
    """How units are bucketed (GrowthBook-compatible)."""

    attribute: str = Field("unit", description="Request attribute that is hashed.")
    # An int in [1, 2] rather than Literal[1, 2]: a Literal takes `true` for 1 (True == 1).
    version: int = Field(2, ge=1, le=2, description="GrowthBook hash version, 1 or 2.")
    seed: str | None = Field(None, description="Hash seed; defaults to the experiment's name.")
    bucket_version: int = Field(
        0,
        ge=0,
        description="Bump to re-randomise every unit on purpose; changing weights never does.",
    )


class Metrics(StrictModel):
    """Metric names (from ``metrics/*.yaml``) the report analyses."""

    primary: list[Key] = Field(default_factory=empty_list, min_length=0)
    secondary: list[Key] = Field(default_factory=empty_list)
    guardrails: list[Key] = Field(default_factory=empty_list)

    @property
    def all(self) -> list[str]:
        """Every metric name, primary first."""
        return [*self.primary, *self.secondary, *self.guardrails]


class Plan(StrictModel):
    """The hypothesis in numbers, used for power, duration and the sequential tuning."""

    baseline: float | None = Field(None, description="Expected value of the primary metric.")
    mde: float | None = Field(
        None, gt=0, description="Minimum detectable effect, relative (0.05 = +5%)."
    )
    daily_units: int | None = Field(None, ge=1, description="Units expected per day.")
    alpha: float = Field(0.05, gt=0, lt=1)
    power: float = Field(0.8, gt=0, lt=1)
    sequential: bool = Field(True, description="Always-valid intervals, safe to peek at.")


class Health(StrictModel):
    """How a running test is watched by the ``health`` check of the monitors, and whether it
    stops itself when it is broken (see docs/monitoring.md, "Experiment health")."""

    auto_stop: bool = Field(
        False,
        description="Stop the test when a health check fails (a sample-ratio mismatch, a "
        "harmed guardrail, an arm without traffic): its phase becomes stopped, its surface "
        "serves its default, and the decision is recorded and shown by `sameday experiments`.",
    )
    srm_alpha: float = Field(
        0.001,
        gt=0,
        lt=0.5,
        description="Level of the sequential sample-ratio test, valid however often it runs.",
    )
    guardrail_alpha: float | None = Field(
        None,
        gt=0,
        lt=0.5,
        description="Level of the guardrails' always-valid intervals, shared by every "
        "guardrail and arm (Bonferroni); default: the plan's alpha.",
    )
    max_harm: dict[Key, Annotated[float, Field(ge=0)]] = Field(
        default_factory=dict,
        description="Relative harm a guardrail may show before it alerts, by metric: "
        "{latency: 0.05} alerts once latency is surely more than 5% worse than the control. "
        "Guardrails not listed alert on any harm (0).",
    )
    quiet_after: PositiveDuration = Field(
        3600.0,
        description="An arm with no new unit over this long, while the others get enough to "
        "make that implausible, has lost its traffic.",
    )


class Interleave(StrictModel):
    """Settings of ``design: interleave``."""

    method: Literal["team_draft", "balanced"] = Field(
        "team_draft", description="team_draft (multileaving with three or more arms) or balanced."
    )
    credit: Literal["all", "competitive_pairs"] = Field(
        "all", description="competitive_pairs: items both rankers would place earn no credit."
    )
    events: list[Key] = Field(default_factory=lambda: ["click"])


class Reward(StrictModel):
    """The bandit's reward: an outcome event within ``window`` after the exposure."""

    event: Key = "click"
    window: Duration = 3600.0


class Bandit(StrictModel):
    """Settings of ``design: bandit``."""

    algorithm: Literal["thompson", "epsilon_greedy", "softmax"] = "thompson"
    reward: Reward = Field(default_factory=Reward)
    epsilon: float = Field(0.1, ge=0, le=1)
    temperature: float = Field(0.1, gt=0)
    min_share: float = Field(0.0, ge=0, lt=1, description="Least traffic share any arm keeps.")
    warmup_units: int = Field(0, ge=0, description="Exposures served uniformly before learning.")
    update_interval: PositiveDuration = Field(300.0, description="How often posteriors refresh.")
    prior_alpha: float = Field(1.0, gt=0)
    prior_beta: float = Field(1.0, gt=0)


class Experiment(StrictModel):
    """An experiment on a surface."""

    name: Name
    description: str = ""
    hypothesis: str = ""
    surface: Name
    design: Design = "ab"
    phase: Phase = "draft"
    arms: list[Arm] = Field(min_length=2)
    coverage: float = Field(1.0, ge=0, le=1, description="Share of eligible units included.")
    layer: Layer | None = None
    targeting: dict[str, Any] = Field(
        default_factory=dict, description="GrowthBook-style condition on request attributes."
    )
    dimensions: list[Dimension] = Field(
        default_factory=empty_list,
        description="Request attributes recorded with every exposure of this experiment "
        "(platform, is_new, country, ...), to break results down by (`sameday report --by`) "
        "and to model who benefits (`sameday uplift`). Send them as the request's attributes.",
    )
    hashing: Hashing = Field(default_factory=Hashing)
    metrics: Metrics = Field(default_factory=Metrics)
    plan: Plan = Field(default_factory=Plan)
    interleave: Interleave | None = None
    bandit: Bandit | None = None
    health: Health = Field(
        default_factory=Health, description="How the running test is watched, and stopped."
    )
    winner: Key | None = Field(None, description="The arm that won; required when concluded.")

    @field_validator("arms")
    @classmethod
    def _arms(cls, arms: list[Arm]) -> list[Arm]:
        # A field check, not a model one: it runs (and reports) even when another field fails.
        names = [arm.name for arm in arms]
        duplicated = sorted({name for name in names if names.count(name) > 1})
        if duplicated:
            raise ValueError(f"arm names must be unique; repeated: {', '.join(duplicated)}")
        weights = [arm.weight for arm in arms]
        given = [w for w in weights if w is not None]
        if given and len(given) != len(weights):
            raise ValueError("give a weight to every arm or to none")
        if given and abs(sum(given) - 1.0) > 1e-6:
            raise ValueError(f"arm weights must sum to 1, they sum to {sum(given):g}")
        return arms

    @field_validator("dimensions")
    @classmethod
    def _dimensions(cls, dimensions: list[str]) -> list[str]:
        repeated = sorted({d for d in dimensions if dimensions.count(d) > 1})
        if repeated:
            raise ValueError(f"dimensions must be unique; repeated: {', '.join(repeated)}")
        for name in dimensions:
            if name in RESERVED_DIMENSIONS:
                raise ValueError(
                    f"dimension {name!r} {RESERVED_DIMENSIONS[name]}: name the attribute "
                    "differently"
                )
        return dimensions

    @model_validator(mode="after")
    def _consistent(self) -> "Experiment":
        names = [arm.name for arm in self.arms]
        if self.interleave is not None and self.design != "interleave":
            raise ValueError("'interleave' settings need design: interleave")
        if self.bandit is not None and self.design != "bandit":
            raise ValueError("'bandit' settings need design: bandit")
        problems = design_registry.design(self.design).check(self)
        if problems:
            raise ValueError("; ".join(problems))
        if self.phase == "concluded" and self.winner is None:
            raise ValueError("a concluded experiment names its 'winner' arm")
        unknown = sorted(set(self.health.max_harm) - set(self.metrics.all))
        if unknown:
            raise ValueError(
                f"health.max_harm names metrics the experiment does not list: {', '.join(unknown)}"
            )
        if self.winner is not None and self.winner not in names:
            raise ValueError(f"winner {self.winner!r} is not an arm ({', '.join(names)})")
        return self

    @property
    def seed(self) -> str:
        """The hash seed: the given seed or the name, with the bucket version appended if bumped."""
        base = self.hashing.seed or self.name
        version = self.hashing.bucket_version
        return base if version == 0 else f"{base}:v{version}"

    @property
    def weights(self) -> list[float]:
        """Each arm's share of covered traffic."""
        if self.arms[0].weight is None:
            return [1.0 / len(self.arms)] * len(self.arms)
        return [float(arm.weight or 0.0) for arm in self.arms]
