"""A publish that cannot succeed on a second try (a missing extra, a wrong storage URL) fails
its job at once; one that may (a server briefly down) is retried like any failed attempt."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from sameday.config import Pipeline, Project, load_project
from sameday.config.pipeline import Output
from sameday.errors import (
    ConfigError,
    MissingDependency,
    PipelineFailed,
    Problem,
    StoreUnavailable,
)
from sameday.metadata import MetadataStore
from sameday.pipeline.runner import Runner, plan_run

JOB = {
    "name": "make",
    "command": "echo k,i > out.csv",
    "retries": {"limit": 2, "backoff": {"delay": "10ms"}},
}


@pytest.fixture
def project(tmp_path: Path) -> Project:
    (tmp_path / "pipelines").mkdir()
    settings = {"name": "t", "storage": {"metadata": "sqlite:///meta.db"}}
    (tmp_path / "sameday.yaml").write_text(yaml.safe_dump(settings))
    (tmp_path / "pipelines" / "p.yaml").write_text(yaml.safe_dump({"name": "p", "jobs": [JOB]}))
    loaded = load_project(tmp_path)
    outputs = [{"path": "out.csv", "publish": "popular"}]
    loaded.pipelines["p"] = Pipeline.model_validate(
        {"name": "p", "jobs": [{**JOB, "outputs": outputs}]}
    )
    return loaded


@pytest.fixture
def store(tmp_path: Path) -> Iterator[MetadataStore]:
    with MetadataStore.open(f"sqlite:///{tmp_path / 'meta.db'}") as opened:
        yield opened


def attempts_when_publish_raises(project: Project, store: MetadataStore, error: Exception) -> list:  # type: ignore[type-arg]
    def publish(output: Output, source: Path, run_id: str) -> None:
        raise error

    plan, _ = plan_run(project, "p", store)
    with pytest.raises(PipelineFailed) as info:
        Runner(project, store, publisher=publish).run(plan)
    return store.attempts(info.value.run_id, "make")


@pytest.mark.parametrize(
    "error",
    [
        MissingDependency("the serving store needs redis: pip install 'sameday[redis]'"),
        ConfigError([Problem(None, None, None, "unsupported scheme", field="storage.serving")]),
    ],
)
def test_a_publish_that_cannot_succeed_is_not_retried(
    project: Project, store: MetadataStore, error: Exception
) -> None:
    attempts = attempts_when_publish_raises(project, store, error)
    assert len(attempts) == 1
    assert str(error).splitlines()[0] in (attempts[0].reason or "")


def test_a_publish_to_a_store_that_is_down_is_retried(
    project: Project, store: MetadataStore
) -> None:
    attempts = attempts_when_publish_raises(project, store, StoreUnavailable("redis is down"))
    assert len(attempts) == 3
