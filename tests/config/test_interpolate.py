"""``${VAR}`` interpolation: values from the environment are used, and never shown in errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from sameday.config import load_project
from sameday.errors import ConfigError

SECRET = "TOPSECRET-9f3"


def settings_with(project_dir: Path, old: str, new: str) -> None:
    file = project_dir / "sameday.yaml"
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        ("port: 8000", "port: ${PORT}", "serve.port"),
        ("parallel: 2 ", "parallel: ${PORT} ", "orchestrator.local.parallel"),
        ("default: local", "default: ${PORT}", "orchestrator.default"),
        ("serve:\n", "serve:\n  refresh_interval: ${PORT}\n", "serve.refresh_interval"),
    ],
)
def test_an_interpolated_value_is_never_echoed_in_a_validation_error(
    project_dir: Path, old: str, new: str, field: str
) -> None:
    settings_with(project_dir, old, new)
    with pytest.raises(ConfigError) as caught:
        load_project(project_dir, environ={"PORT": SECRET})
    message = str(caught.value)
    assert SECRET not in message
    assert f"{field}: " in message
    assert "${PORT}" in message  # what the file says, so the user knows where the value came from


def test_an_interpolated_storage_url_is_shown_without_its_password(project_dir: Path) -> None:
    settings_with(
        project_dir,
        "metadata: ${SAMEDAY_METADATA_URL:-sqlite:///.sameday/metadata.db}",
        "metadata: ${DB_URL}",
    )
    with pytest.raises(ConfigError) as caught:
        load_project(project_dir, environ={"DB_URL": f"postgres://app:{SECRET}@db/x"})
    assert SECRET not in str(caught.value)
    assert "storage.metadata: unsupported scheme postgres://" in str(caught.value)


def test_a_valid_interpolated_value_is_used(project_dir: Path) -> None:
    settings_with(project_dir, "port: 8000", "port: ${PORT}")
    assert load_project(project_dir, environ={"PORT": "8123"}).settings.serve.port == 8123


def test_only_interpolated_number_fields_are_read_as_numbers(project_dir: Path) -> None:
    settings_with(project_dir, "port: 8000", "port: ${PORT}")
    settings_with(project_dir, "admin: ${SAMEDAY_ADMIN_KEY:-}", "admin: ${ADMIN}")
    environ = {"PORT": "8123", "ADMIN": "123456"}
    settings = load_project(project_dir, environ=environ).settings
    assert settings.serve.api_keys.admin == "123456"  # a numeric secret stays text
    with pytest.raises(ConfigError, match=r"serve\.port.*\(got '\$\{PORT\}'\)"):
        load_project(project_dir, environ={**environ, "PORT": "80.5"})
    settings_with(project_dir, "port: ${PORT}", 'port: "8000"')
    with pytest.raises(ConfigError, match="without quotes"):
        load_project(project_dir, environ=environ)  # text written in the file stays text


def test_the_settings_repr_hides_passwords_and_keys(project_dir: Path) -> None:
    settings_with(
        project_dir,
        "metadata: ${SAMEDAY_METADATA_URL:-sqlite:///.sameday/metadata.db}",
        "metadata: ${DB_URL}",
    )
    environ = {
        "DB_URL": f"postgresql+psycopg://app:{SECRET}@db/x",
        "SAMEDAY_ADMIN_KEY": SECRET + "-admin",
        "SAMEDAY_SERVING_KEY": SECRET + "-serving",
    }
    settings = load_project(project_dir, environ=environ).settings
    for shown in (repr(settings), str(settings), repr(settings.storage), repr(settings.serve)):
        assert SECRET not in shown
    assert "postgresql+psycopg://app:***@db/x" in repr(settings.storage)
    assert settings.serve.api_keys.admin == SECRET + "-admin"  # the value itself is intact
