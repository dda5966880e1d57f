"""A tiny project with one result set, and helpers to write its source rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from sameday.config import Project, load_project

MakeProject = Callable[..., Project]


def rows(keys: int = 20, items: int = 5, prefix: str = "i") -> list[dict[str, Any]]:
    """Deterministic rows: every key has ``items`` distinct items with falling scores."""
    return [
        {"user": f"u{k:03d}", "item": f"{prefix}{(k + j) % 50}", "score": 1.0 - j / 10}
        for k in range(keys)
        for j in range(items)
    ]


def write_parquet(path: Path, records: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(records), path)
    return path


@pytest.fixture
def make_project(tmp_path: Path) -> MakeProject:
    """Build a project with result set ``recs`` reading ``out/recs.parquet``.

    Keyword arguments override the result set's declaration; ``serving`` and ``metadata`` set
    the store URLs; ``records`` are written as the source (the default: :func:`rows`).
    """

    def build(
        *,
        serving: str | None = None,
        metadata: str | None = None,
        records: list[dict[str, Any]] | None = None,
        **declaration: Any,
    ) -> Project:
        root = tmp_path / "proj"
        (root / "results").mkdir(parents=True, exist_ok=True)
        settings: dict[str, Any] = {"name": "demo"}
        storage = {"serving": serving, "metadata": metadata}
        if serving or metadata:
            settings["storage"] = {k: v for k, v in storage.items() if v}
        (root / "sameday.yaml").write_text(yaml.safe_dump(settings))
        spec: dict[str, Any] = {
            "name": "recs",
            "source": {"path": "out/recs.parquet"},
            "columns": {"key": "user", "item": "item", "score": "score"},
            "retention": 3,
            **declaration,
        }
        (root / "results" / "recs.yaml").write_text(yaml.safe_dump(spec))
        write_parquet(root / "out" / "recs.parquet", rows() if records is None else records)
        return load_project(root)

    return build
