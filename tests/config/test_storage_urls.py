"""Storage URLs in ``sameday.yaml``: the loader and the JSON Schema (what editors check as you
type) refuse the same mistyped schemes, and both accept ``${VAR}`` (resolved at load time)."""

from __future__ import annotations

import jsonschema
import pytest

from sameday.config.project import ProjectSettings
from sameday.config.schema import schemas

ACCEPTED = [
    ("metadata", "sqlite:///.sameday/metadata.db"),
    ("metadata", "postgresql+psycopg://app:${PGPASSWORD}@db/x"),
    ("serving", "redis://cache:6379/0"),
    ("serving", "rediss://:pw@cache:6380/1"),
    ("serving", "unix:///run/redis.sock"),
    ("events", "postgres://app@db/x"),
    ("events", "memory://"),
    ("serving", "${SAMEDAY_SERVING_URL:-sqlite:///.sameday/serving.db}"),
]
REFUSED = [
    ("metadata", "postgresq://app@db/x"),
    ("metadata", "redis://cache/0"),
    ("serving", "redsi://cache/0"),
    ("serving", "postgresql://app@db/x"),
    ("events", "redis://cache/0"),
    ("events", ".sameday/events.db"),
]


def schema_accepts(kind: str, url: str) -> bool:
    validator = jsonschema.Draft202012Validator(schemas()["project"])
    return validator.is_valid({"name": "p", "storage": {kind: url}})


@pytest.mark.parametrize(("kind", "url"), ACCEPTED)
def test_the_schema_accepts_known_schemes_and_variables(kind: str, url: str) -> None:
    assert schema_accepts(kind, url)
    if "${" not in url:  # the loader sees the value after interpolation
        ProjectSettings.model_validate({"name": "p", "storage": {kind: url}})


@pytest.mark.parametrize(("kind", "url"), REFUSED)
def test_the_schema_and_the_loader_refuse_the_same_schemes(kind: str, url: str) -> None:
    assert not schema_accepts(kind, url)
    with pytest.raises(ValueError, match=f"storage.{kind}|{kind}"):
        ProjectSettings.model_validate({"name": "p", "storage": {kind: url}})
