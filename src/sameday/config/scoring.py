"""Online scoring settings shared by experiment arms and surfaces: ``model:`` or ``python:``.

A list can be re-ranked at request time (two stages: the batch pipeline retrieves candidates
into a result set, a model orders them per request). An arm or a surface names the scorer —
a registered model (``model: ranker@champion``) or a Python function (``python:
recs.rank:score``) — how many candidates it ranks, where its features come from, and its
latency budget. The serving side is :mod:`sameday.serve.scoring`.

The spelling of a model reference lives here, below :mod:`sameday.models.refs` which parses it,
so that ``sameday validate`` refuses a malformed one at its file and line without importing the
models package.
"""

import re
from typing import Annotated

from pydantic import AfterValidator, Field, WithJsonSchema, model_validator

from sameday.config._base import Name, StrictModel, empty_list

MODEL_NAME = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}"
"""A model name or an alias (``sameday.models.refs`` parses references with it)."""
MODEL_REF = re.compile(
    rf"^(?P<mlflow>models:/)?(?P<name>{MODEL_NAME})(?:/(?P<version>[0-9]+)|@(?P<alias>{MODEL_NAME}))?$"
)
"""``NAME``, ``NAME/3``, ``NAME@alias``, ``models:/NAME/3``, ``models:/NAME@alias``."""
ENTRY_POINT = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*$")
"""``package.module:function``."""
PYTHON_PREFIX = "python:"
"""How a Python scorer is named where a model could be: ``python:recs.rank:score``."""
DEFAULT_TIMEOUT_MS = 20.0
"""The latency budget of a scorer when the file gives none: above a small model's predict on
100 candidates (well under a millisecond), under what a list request may take."""


def _model_ref(text: str) -> str:
    match = MODEL_REF.match(text)
    if match is None or (match["mlflow"] and not (match["version"] or match["alias"])):
        raise ValueError(
            f"{text!r} is not a model reference: write NAME@ALIAS (ranker@champion), "
            "NAME/VERSION (ranker/3), NAME (its newest version), models:/NAME@ALIAS or "
            "models:/NAME/VERSION; names are letters, digits, '.', '-' and '_'"
        )
    if match["version"] is not None and int(match["version"]) == 0:
        raise ValueError(f"{text!r}: model versions are numbered from 1")
    return text


def _entry_point(text: str) -> str:
    if not ENTRY_POINT.match(text):
        raise ValueError(
            f"{text!r} is not a Python scorer: write 'package.module:function', the function "
            "taking one mapping of features per candidate and returning one score each"
        )
    return text


ModelRefText = Annotated[
    str,
    AfterValidator(_model_ref),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": MODEL_REF.pattern,
            "description": "A registered model: NAME@ALIAS, NAME/VERSION, NAME, "
            "models:/NAME@ALIAS or models:/NAME/VERSION.",
        }
    ),
]
EntryPoint = Annotated[
    str,
    AfterValidator(_entry_point),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": ENTRY_POINT.pattern,
            "description": "A Python scorer: 'package.module:function'.",
        }
    ),
]


class FeatureTable(StrictModel):
    """A result set read as a feature table: one row per key, its payload columns the features.

    Published like any result set (a pipeline job writes it, checks and snapshots apply); its
    key is an item id (``key: item``, looked up for each candidate) or a request attribute
    (``key: unit``, looked up once per request).
    """

    table: Name = Field(description="The result set holding the features.")
    key: str = Field(
        "item",
        description="'item' to look each candidate up, or the request attribute to look the "
        "request up by (unit, country, ...).",
    )


class Scored(StrictModel):
    """The online-scoring fields an arm or a surface may carry (see the module docstring)."""

    model: ModelRefText | None = Field(
        None, description="A registered model that re-ranks the candidates at request time."
    )
    python: EntryPoint | None = Field(
        None, description="Or a Python function that re-ranks them: 'package.module:function'."
    )
    timeout_ms: float | None = Field(
        None,
        gt=0,
        le=10_000,
        description="Latency budget of the scorer in milliseconds (default 20); past it the "
        "list is served in the batch order, flagged in the answer and counted in /metrics.",
    )
    candidates: int | None = Field(
        None,
        ge=1,
        le=10_000,
        description="Candidates read from the result set and scored (default 100; at least "
        "the list length is read).",
    )
    features: list[FeatureTable] = Field(
        default_factory=empty_list,
        description="Feature tables joined to each candidate's features, besides the request's "
        "attributes and the candidate's own score and payload.",
    )
    inline: bool | None = Field(
        None,
        description="Let the scorer run on the request's own thread once it has proven fast "
        "(default true: saves a thread hand-off per list). false for a scorer that may block, "
        "one calling a service for instance: it then always runs on a worker thread, where "
        "timeout_ms can cut it off.",
    )

    @model_validator(mode="after")
    def _one_scorer(self) -> "Scored":
        if self.model is not None and self.python is not None:
            raise ValueError("give 'model' or 'python', not both: one scorer orders the list")
        if self.model is None and self.python is None:
            given = [
                key
                for key in ("timeout_ms", "candidates", "features", "inline")
                if getattr(self, key) not in (None, [])
            ]
            if given:
                raise ValueError(
                    f"{', '.join(given)}: only with a scorer; add 'model: NAME@ALIAS' or "
                    "'python: package.module:function'"
                )
        return self

    @property
    def scorer(self) -> str | None:
        """The scorer as serving names it: the model reference, ``python:module:function``,
        or ``None`` when the list is served in the batch order."""
        if self.model is not None:
            return self.model
        if self.python is not None:
            return f"{PYTHON_PREFIX}{self.python}"
        return None
