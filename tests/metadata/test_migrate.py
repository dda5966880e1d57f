"""Migrations on real SQLite and PostgreSQL: up, down, atomic, and identical to the models."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from sameday.errors import ConfigError, MigrationError, StoreUnavailable
from sameday.metadata import MetadataStore
from sameday.metadata.migrate import (
    current_revision,
    downgrade,
    head_revision,
    schema_status,
    upgrade,
)
from sameday.metadata.models import SCHEMA_REVISION, Base

TABLES = {
    "pipeline_runs",
    "job_attempts",
    "result_sets",
    "snapshots",
    "applied_objects",
    "bandit_params",
    "live_changes",
    "alert_incidents",
    "alert_notifications",
    "alert_mutes",
    "snapshot_profiles",
    "dataset_schemas",
    "dataset_observations",
    "model_versions",
    "model_aliases",
    "model_events",
    "experiment_stops",
}
UNREACHABLE = "postgresql+psycopg://sameday:secret@127.0.0.1:1/metadata"


def tables(url: str) -> set[str]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def execute(url: str, *statements: str) -> None:
    engine = sa.create_engine(url)
    try:
        with engine.begin() as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
    finally:
        engine.dispose()


def schema_diff(url: str, metadata: sa.MetaData) -> list[object]:
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def change_kind(diff: object) -> str:
    """The operation name of one autogenerate diff (column changes come wrapped in a list)."""
    first = diff[0] if isinstance(diff, tuple | list) else diff
    return str(first[0] if isinstance(first, tuple) else first)


def test_head_is_the_revision_the_models_match() -> None:
    assert head_revision() == SCHEMA_REVISION


def test_empty_to_head_to_base_to_head(backend_url: str) -> None:
    assert current_revision(backend_url) is None

    first = upgrade(backend_url)
    assert (first.before, first.after, first.changed) == (None, SCHEMA_REVISION, True)
    assert tables(backend_url) == TABLES
    assert current_revision(backend_url) == SCHEMA_REVISION
    assert "secret" not in first.url

    again = upgrade(backend_url)
    assert (again.before, again.after, again.changed) == (SCHEMA_REVISION, SCHEMA_REVISION, False)

    down = downgrade(backend_url, "base")
    assert (down.before, down.after) == (SCHEMA_REVISION, None)
    assert tables(backend_url) == set()
    assert current_revision(backend_url) is None

    upgrade(backend_url, SCHEMA_REVISION)
    assert tables(backend_url) == TABLES
    assert schema_status(backend_url).up_to_date


def test_migrated_schema_has_no_diff_with_the_models(backend_url: str) -> None:
    upgrade(backend_url)
    assert schema_diff(backend_url, Base.metadata) == []


def test_schema_comparison_would_see_drift(backend_url: str) -> None:
    """The no-diff test above is only worth something if a real difference shows up."""
    upgrade(backend_url)
    drifted = sa.MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["snapshots"].append_column(sa.Column("extra", sa.Integer))
    drifted.tables["pipeline_runs"].c.pipeline.type = sa.String(20)
    assert {change_kind(diff) for diff in schema_diff(backend_url, drifted)} == {
        "add_column",
        "modify_type",
    }


def test_one_live_snapshot_index_is_partial(backend_url: str) -> None:
    upgrade(backend_url)
    engine = sa.create_engine(backend_url)
    try:
        with engine.connect() as connection:
            indexes = {i["name"]: i for i in sa.inspect(connection).get_indexes("snapshots")}
    finally:
        engine.dispose()
    live = indexes["ux_snapshots_one_live"]
    assert live["unique"] and live["column_names"] == ["result_set"]
    where = next(v for k, v in live["dialect_options"].items() if k.endswith("_where"))
    assert "live" in str(where)


def test_a_failed_upgrade_changes_nothing(backend_url: str) -> None:
    execute(backend_url, "CREATE TABLE snapshots (x INTEGER)")
    with pytest.raises(MigrationError, match="rolled back") as info:
        upgrade(backend_url)
    assert "snapshots" in str(info.value)
    assert tables(backend_url) == {"snapshots"}  # pipeline_runs etc. were rolled back too
    assert current_revision(backend_url) is None


def test_upgrade_records_a_history_from_publication_times(backend_url: str) -> None:
    """Databases from before the history get one that rollback can follow."""
    upgrade(backend_url, "0002")
    execute(
        backend_url,
        "INSERT INTO result_sets (name, live_version, updated_at) "
        "VALUES ('als', 'als-1', '2026-11-03 00:00:00')",
        *(
            "INSERT INTO snapshots (version, result_set, status, content_hash, rows, keys, "
            "schema, source, store_url, created_at, published_at) VALUES "
            f"('{version}', 'als', '{status}', 'h', 1, 1, '{{}}', 's', 'u', "
            f"'2026-11-0{day} 00:00:00', {published})"
            for version, status, day, published in [
                ("als-1", "live", 1, "'2026-11-03 00:00:00'"),  # rolled back to on the 3rd
                ("als-2", "retired", 2, "'2026-11-02 00:00:00'"),
                ("als-3", "staged", 3, "NULL"),
            ]
        ),
    )
    upgrade(backend_url)
    with MetadataStore.open(backend_url) as store:
        changes = store.history("als")
    assert [(c.version, c.previous, c.action) for c in changes] == [
        ("als-1", "als-2", "publish"),
        ("als-2", None, "publish"),
    ]
    assert changes[0].at.day == 3 and "0003" in (changes[0].reason or "")
    downgrade(backend_url, "0002")
    assert "live_changes" not in tables(backend_url)
    assert current_revision(backend_url) == "0002"


def test_unknown_target_revision_is_refused(backend_url: str) -> None:
    with pytest.raises(MigrationError, match="Known revisions: 0001"):
        upgrade(backend_url, "0042")
    assert current_revision(backend_url) is None


def test_downgrade_cannot_go_up(backend_url: str) -> None:
    with pytest.raises(MigrationError, match="below the current revision"):
        downgrade(backend_url, SCHEMA_REVISION)


def test_database_migrated_by_a_newer_sameday(backend_url: str) -> None:
    upgrade(backend_url)
    execute(backend_url, "UPDATE alembic_version SET version_num = '0099'")
    status = schema_status(backend_url)
    assert (status.revision, status.known, status.up_to_date) == ("0099", False, False)
    with pytest.raises(MigrationError, match="newer sameday"):
        upgrade(backend_url)
    with pytest.raises(MigrationError, match="newer sameday"):
        MetadataStore.open(backend_url)


def test_concurrent_upgrades_queue_instead_of_failing(backend_url: str) -> None:
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda _: upgrade(backend_url), range(4)))
    assert sum(o.changed for o in outcomes) == 1
    assert all(o.after == SCHEMA_REVISION for o in outcomes)


def test_missing_sqlite_file_is_not_created_by_current(tmp_path: Path) -> None:
    path = tmp_path / "nothing" / "here.db"
    assert current_revision(f"sqlite:///{path}") is None
    assert not path.parent.exists()


def test_upgrade_creates_sqlite_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "meta.db"
    upgrade(f"sqlite:///{path}")
    assert path.is_file()


def test_unreachable_server_is_store_unavailable() -> None:
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1") as info:
        upgrade(UNREACHABLE)
    assert "secret" not in str(info.value)
    with pytest.raises(StoreUnavailable):
        current_revision(UNREACHABLE)


def test_invalid_url_says_what_a_valid_one_looks_like() -> None:
    with pytest.raises(ConfigError, match=r"sqlite:///path/to/file\.db"):
        upgrade("not a url")


def test_importing_the_package_does_not_load_alembic() -> None:
    code = "import sys, sameday.metadata; print('alembic' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"
