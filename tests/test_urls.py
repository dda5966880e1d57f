"""``sameday.urls``: one helper hides passwords; the backend factories use it with the registry's
check, so a URL given in code fails as it does in ``sameday.yaml``, without its password."""

from __future__ import annotations

import logging
import traceback

import pytest

from sameday.errors import ConfigError
from sameday.events.sink import open_sink
from sameday.metadata.store import MetadataStore
from sameday.store.factory import open_store
from sameday.urls import redact, scrub, scrub_logs

SECRET = "TOPSECRET"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://app:TOPSECRET@db:5432/x", "postgresql://app:***@db:5432/x"),
        ("redis://:TOPSECRET@cache:6379/0", "redis://:***@cache:6379/0"),
        ("redis://app:TOP@SECRET@cache/0", "redis://app:***@cache/0"),
        ("unix:///run/r.sock?db=0&password=TOPSECRET", "unix:///run/r.sock?db=0&password=***"),
        ("postgresql://app:TOPSECRET@[::1/x", "postgresql://app:***@[::1/x"),
        ("sqlite:///.sameday/serving.db", "sqlite:///.sameday/serving.db"),
        ("redis://cache:6379/0", "redis://cache:6379/0"),
    ],
)
def test_redact_hides_the_password_and_keeps_the_rest(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_scrub_hides_credentials_quoted_in_driver_messages() -> None:
    text = (
        'missing "=" after "postgresql://app:TOPSECRET@db/x" in connection info string; '
        "host=db password=TOPSECRET user=app; key " + "k3y-TOPSECRET"
    )
    scrubbed = scrub(text, secrets=("k3y-TOPSECRET",))
    assert SECRET not in scrubbed
    assert "postgresql://app:***@db/x" in scrubbed
    assert "password=***" in scrubbed


def chain(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def test_open_store_refuses_a_bad_url_without_the_password() -> None:
    with pytest.raises(ConfigError, match="unsupported serving store URL") as caught:
        open_store(f"redsi://:{SECRET}@127.0.0.1:6379/0")
    assert SECRET not in chain(caught.value)
    with pytest.raises(ConfigError, match="cannot parse") as caught:
        open_store(f"redis://:{SECRET}@127.0.0.1:port/0")
    assert SECRET not in chain(caught.value)


def test_open_sink_refuses_a_bad_url_without_the_password() -> None:
    with pytest.raises(ConfigError, match="did you mean postgresql") as caught:
        open_sink(f"postgresq://postgres:{SECRET}@127.0.0.1:5432/x")
    assert SECRET not in chain(caught.value)


def test_the_metadata_store_refuses_a_bad_url_without_the_password() -> None:
    with pytest.raises(ConfigError, match="did you mean postgresql") as caught:
        MetadataStore.open(f"postgresq://postgres:{SECRET}@127.0.0.1:5432/x")
    assert SECRET not in chain(caught.value)


def test_server_logs_show_no_password(caplog: pytest.LogCaptureFixture) -> None:
    scrub_logs()
    dsn = f"postgresql://app:{SECRET}@db/x"
    try:
        raise RuntimeError(f'missing "=" after "{dsn}" in connection info string')
    except RuntimeError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application (%s)", dsn)
    assert "Exception in ASGI application" in caplog.text
    assert "connection info string" in caplog.text
    assert SECRET not in caplog.text


def with_password(url: str) -> str:
    scheme, _, rest = url.partition("://")
    user, _, host = rest.rpartition("@")
    if user:
        return f"{scheme}://{user}:{SECRET}@{host}"
    return f"{scheme}://:{SECRET}@{rest}"


@pytest.mark.postgres
@pytest.mark.redis
def test_reprs_of_open_stores_show_no_password(postgres_url: str, redis_url: str) -> None:
    """The servers here need no password and ignore the one given (trust auth, no requirepass)."""
    meta = MetadataStore.open(with_password(postgres_url))
    store = open_store(with_password(redis_url))
    sink = open_sink(with_password(postgres_url))
    try:
        for opened in (meta, store, sink):
            assert SECRET not in repr(opened)
        assert SECRET not in meta.url
    finally:
        meta.close()
        store.close()
        sink.close()


def test_open_store_refuses_a_redis_option_it_cannot_read_without_the_password() -> None:
    with pytest.raises(ConfigError, match="socket_timeout") as caught:
        open_store(f"redis://:{SECRET}@127.0.0.1:6379/0?socket_timeout=soon")
    assert SECRET not in chain(caught.value)
