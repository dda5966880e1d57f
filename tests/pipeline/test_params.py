"""Run parameters: -p parsing, declared defaults, the ds date, env names and substitution."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from sameday.config import Pipeline
from sameday.errors import PipelineError
from sameday.pipeline.params import (
    env_name,
    param_env,
    parse_assignments,
    resolve_params,
    substitute,
    today_in,
)


def pipeline(**extra: object) -> Pipeline:
    return Pipeline.model_validate(
        {"name": "p", "jobs": [{"name": "a", "command": "true"}], **extra}
    )


def test_assignments_split_on_the_first_equals_sign() -> None:
    assert parse_assignments(["ds=2024-01-01", "q=a=b", "e="]) == {
        "ds": "2024-01-01",
        "q": "a=b",
        "e": "",
    }
    with pytest.raises(PipelineError, match="not key=value"):
        parse_assignments(["ds"])
    with pytest.raises(PipelineError, match="not key=value"):
        parse_assignments(["=1"])


def test_ds_defaults_to_today_in_the_schedule_timezone() -> None:
    late_utc = datetime(2024, 3, 1, 20, 30, tzinfo=UTC)  # already March 2nd in Tokyo
    tokyo = pipeline(params={"ds": {}}, schedule={"cron": "0 3 * * *", "timezone": "Asia/Tokyo"})
    assert resolve_params(tokyo, {}, now=late_utc) == {"ds": "2024-03-02"}
    assert today_in(pipeline(), late_utc).isoformat() == "2024-03-01"
    assert resolve_params(tokyo, {"ds": "2023-12-31"}, now=late_utc) == {"ds": "2023-12-31"}


def test_declared_defaults_given_values_and_errors() -> None:
    model = pipeline(params={"ds": {"default": "2024-01-05"}, "k": {"default": "10"}, "model": {}})
    assert resolve_params(model, {"model": "als"}) == {
        "ds": "2024-01-05",
        "k": "10",
        "model": "als",
    }
    with pytest.raises(PipelineError, match="has no default: pass -p model=VALUE"):
        resolve_params(model, {})
    with pytest.raises(PipelineError, match="has no parameter 'kk'"):
        resolve_params(model, {"model": "x", "kk": "1"})
    with pytest.raises(PipelineError, match="YYYY-MM-DD, got '01/02/2024'"):
        resolve_params(model, {"model": "x", "ds": "01/02/2024"})
    assert resolve_params(pipeline(), {}) == {}  # no ds unless declared, as on Argo


def test_params_become_env_vars_and_substitutions() -> None:
    assert env_name("model.version") == "MODEL_VERSION"
    assert param_env({"ds": "d", "top-k": "5"}) == {"DS": "d", "TOP_K": "5"}
    text = "run --ds {{params.ds}} --k {{ params.top-k }} {{other}}"
    assert substitute(text, {"ds": "d", "top-k": "5"}, where="job 'a' command") == (
        "run --ds d --k 5 {{other}}"
    )
    with pytest.raises(PipelineError, match=r"job 'a' command refers to \{\{params.nope\}\}"):
        substitute("{{params.nope}}", {"ds": "d"}, where="job 'a' command")
