"""``metrics/*.yaml``: what a report measures, defined over exposures and outcome events."""

from typing import Literal

from pydantic import Field, model_validator

from sameday.config._base import Duration, Key, StrictModel


class Metric(StrictModel):
    """A metric, computed per unit from the unit's first exposure onward.

    - ``proportion``: share of exposed units with at least one ``event``.
    - ``mean``: per-unit sum of ``event`` values, averaged over exposed units.
    - ``count``: per-unit number of ``event``, averaged over exposed units.
    - ``ratio``: per-unit sums of ``numerator`` over ``denominator`` (delta method).
    """

    name: Key
    description: str = ""
    type: Literal["proportion", "mean", "count", "ratio"]
    event: Key | None = Field(None, description="Outcome event name (not for ratio).")
    numerator: Key | None = Field(None, description="Event summed above the line (ratio).")
    denominator: Key | None = Field(
        None, description="Event summed below the line (ratio); 'exposure' counts served lists."
    )
    window: Duration | None = Field(
        None, description="Count events this long after the unit's first exposure (null: all)."
    )
    cap: float | None = Field(None, gt=0, description="Cap each unit's value at this number.")
    direction: Literal["increase", "decrease"] = Field(
        "increase", description="Which way is better."
    )
    guardrail: bool = Field(False, description="A guardrail must not get significantly worse.")
    covariate: Key | None = Field(
        None, description="Pre-exposure event used for CUPED variance reduction."
    )
    min_units: int = Field(
        100, ge=2, description="Units every arm needs before the report draws a verdict on it."
    )
    min_nonzero: int = Field(
        30,
        ge=0,
        description="Units with a non-zero value (conversions, buyers) every arm needs before "
        "the report draws a verdict on it.",
    )
    nonnegative: bool = Field(
        True,
        description="Values are never negative (counts, amounts): relative lifts are at least "
        "-100%. Set false when event values can be negative.",
    )

    @model_validator(mode="after")
    def _fields_for_type(self) -> "Metric":
        if self.type == "ratio":
            if self.numerator is None or self.denominator is None:
                raise ValueError("a ratio metric needs 'numerator' and 'denominator'")
            if self.event is not None:
                raise ValueError("a ratio metric takes 'numerator' and 'denominator', not 'event'")
        else:
            if self.event is None:
                raise ValueError(f"a {self.type} metric needs 'event'")
            if self.numerator is not None or self.denominator is not None:
                raise ValueError("'numerator' and 'denominator' are only for ratio metrics")
        return self

    @property
    def events(self) -> list[str]:
        """Every event name this metric reads."""
        names = [self.event, self.numerator, self.denominator, self.covariate]
        return [name for name in names if name is not None and name != "exposure"]
