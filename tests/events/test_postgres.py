"""What is particular to the PostgreSQL sink: URL forms, reconnection, jsonb, refusals."""

from __future__ import annotations

import psycopg
import pytest

from sameday.errors import ConfigError, EventRejected, StoreUnavailable
from sameday.events.postgres import PostgresSink
from tests.events.factories import exposure, outcome


def test_both_url_forms_reach_the_same_database(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://")
    with PostgresSink(postgres_url) as sqlalchemy_form:
        sqlalchemy_form.write_exposures([exposure(0)])
    with PostgresSink(postgres_url.replace("+psycopg", "")) as libpq_form:
        assert [e.request_id for e in libpq_form.read_exposures()] == ["req-00000"]


def test_lists_are_queryable_jsonb(postgres_url: str) -> None:
    with PostgresSink(postgres_url) as sink:
        sink.write_exposures([exposure(7)])
    with psycopg.connect(postgres_url.replace("+psycopg", "")) as conn:
        row = conn.execute("SELECT items->>0, snapshot_versions->>'popular' FROM exposures")
        assert row.fetchone() == ("item-7", "v1")


def test_a_lost_connection_is_reported_then_reopened(postgres_url: str) -> None:
    with PostgresSink(postgres_url) as sink:
        sink.write_outcomes([outcome(0)])
        with psycopg.connect(postgres_url.replace("+psycopg", ""), autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        with pytest.raises(StoreUnavailable, match="cannot write to the PostgreSQL event log"):
            sink.write_outcomes([outcome(1)])
        assert sink.write_outcomes([outcome(1), outcome(2)]) == 2
        assert len(list(sink.read_outcomes())) == 3


def test_text_postgresql_cannot_hold_is_refused(postgres_url: str) -> None:
    with PostgresSink(postgres_url) as sink:
        with pytest.raises(EventRejected, match="refused"):
            sink.write_outcomes([outcome(0, name="cl\x00ick")])
        assert sink.write_outcomes([outcome(0)]) == 1


def test_an_unreachable_server_is_unavailable_without_leaking_the_password() -> None:
    sink = PostgresSink("postgresql+psycopg://me:s3cret@127.0.0.1:1/events", connect_timeout=2)
    with pytest.raises(StoreUnavailable, match=r"127\.0\.0\.1:1/events is unreachable") as info:
        sink.write_exposures([exposure(0)])
    assert "s3cret" not in str(info.value)
    with pytest.raises(StoreUnavailable):
        list(sink.read_outcomes())
    sink.close()
    with pytest.raises(ConfigError, match="not a PostgreSQL URL") as refused:
        PostgresSink("mysql://me:s3cret@db/x")
    assert "s3cret" not in str(refused.value)
