"""Errors on the admin and unexpected paths keep the API's JSON error shape."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from sameday.serve.app import create_app
from sameday.serve.client import Client


def corrupt(database: Path) -> None:
    """Overwrite a SQLite file's first pages, and its write-ahead log and index, in place."""
    for path in (database, database.with_name(database.name + "-wal")):
        if path.exists():
            with path.open("r+b") as file:
                file.write(b"\x00" * min(8192, path.stat().st_size))
    shm = database.with_name(database.name + "-shm")
    if shm.exists():
        with shm.open("r+b") as file:
            file.write(b"\xff" * shm.stat().st_size)


def test_a_corrupt_metadata_file_on_refresh_is_a_json_503(
    project_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Client.from_project(project_dir, refresh_interval=0, update_bandits=False) as client:
        before = client.state.fingerprint
        corrupt(project_dir / ".sameday" / "metadata.db")
        app = create_app(client, admin_key="admin-key")
        with TestClient(app, raise_server_exceptions=False) as http:
            answer = http.post("/v1/admin/refresh", headers={"Authorization": "Bearer admin-key"})
            assert answer.status_code == 503
            assert answer.headers["content-type"] == "application/json"
            error = answer.json()["error"]
            assert error["status"] == 503 and error["field"] is None
            assert "metadata database" in error["message"]
            assert "keeps serving" in error["message"] and before[:12] in error["message"]
            assert http.get("/healthz").status_code == 200
        assert client.state.fingerprint == before
    assert "could not be reloaded" in caplog.text


def test_an_unexpected_error_is_a_json_500(project_dir: Path) -> None:
    with Client.from_project(project_dir, refresh_interval=0, update_bandits=False) as client:

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("a bug")

        client.engine.prepare = broken  # type: ignore[method-assign]
        with TestClient(create_app(client), raise_server_exceptions=False) as http:
            answer = http.post("/v1/recommend/home/batch", json={"requests": [{"unit": "u"}]})
    assert answer.status_code == 500
    error = answer.json()["error"]
    assert error["status"] == 500 and "RuntimeError" in error["message"]
    assert "a bug" not in error["message"]  # details go to the server log, not to callers


def test_an_unexpected_error_on_the_fast_path_is_a_json_500(
    project_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Client.from_project(project_dir, refresh_interval=0, update_bandits=False) as client:

        def broken(*args: object, **kwargs: object) -> None:
            raise RuntimeError("a bug")

        client.engine.prepare = broken  # type: ignore[method-assign]
        with TestClient(create_app(client), raise_server_exceptions=False) as http:
            answer = http.get("/v1/recommend/home", params={"unit": "u"})
    assert answer.status_code == 500
    assert answer.json()["error"]["status"] == 500
    assert "a bug" in caplog.text  # with its traceback, in the server's log
