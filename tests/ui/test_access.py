"""Keys, sessions and CSRF tokens of the dashboard (:mod:`sameday.ui.access`)."""

from __future__ import annotations

import pytest

from sameday.errors import UnsafeBind
from sameday.ui.access import Access, check_bind, is_loopback


def test_each_key_opens_its_role_and_nothing_else() -> None:
    access = Access(read_key="r-key", admin_key="a-key")
    assert access.role_of_key("r-key") == "read"
    assert access.role_of_key("a-key") == "admin"
    assert access.role_of_key("r-ke") is None and access.role_of_key("") is None
    assert not access.open and access.actions_possible
    assert not Access(read_key="r-key", admin_key=None).actions_possible
    assert "r-key" not in repr(access) and "a-key" not in repr(access)


def test_a_session_cannot_be_forged_or_promoted() -> None:
    access = Access(read_key="r-key", admin_key="a-key")
    cookie = access.new_session("read")
    assert access.role_of_session(cookie) == "read"
    _, nonce, signature = cookie.split(".")
    assert access.role_of_session(f"admin.{nonce}.{signature}") is None
    assert access.role_of_session(f"read.{nonce}x.{signature}") is None
    assert access.role_of_session("read..") is None and access.role_of_session(None) is None
    assert "r-key" not in cookie and "a-key" not in cookie


def test_sessions_outlive_a_restart_but_not_a_new_key() -> None:
    cookie = Access(read_key="r", admin_key="a").new_session("admin")
    assert Access(read_key="r", admin_key="a").role_of_session(cookie) == "admin"
    assert Access(read_key="r", admin_key="a2").role_of_session(cookie) is None
    open_one = Access(read_key=None, admin_key=None).new_session("admin")
    assert Access(read_key=None, admin_key=None).role_of_session(open_one) is None


def test_the_csrf_token_belongs_to_one_session() -> None:
    access = Access(read_key="r", admin_key="a")
    mine, theirs = access.new_session("admin"), access.new_session("admin")
    token = access.csrf_token(mine)
    assert access.csrf_ok(mine, token)
    assert not access.csrf_ok(theirs, token)
    assert not access.csrf_ok(mine, "") and not access.csrf_ok(None, token)


def test_without_a_key_only_loopback_may_listen() -> None:
    for host in ("127.0.0.1", "::1", "localhost", "127.0.0.2"):
        check_bind(host, None, None)
        assert is_loopback(host)
    check_bind("0.0.0.0", "r", None)
    with pytest.raises(UnsafeBind, match=r"serve\.api_keys\.read .*or listen on 127\.0\.0\.1"):
        check_bind("0.0.0.0", None, None)
    assert not is_loopback("dash.example.com") and not is_loopback("10.0.0.1")
