"""Who may see the dashboard and who may act on it: keys, sessions and CSRF tokens.

Two keys, as for the HTTP API (``serve.api_keys`` in ``sameday.yaml``): the **read** key opens
every page, the **admin** key also opens the actions (rollback, resume, mute, stop, conclude).
A browser trades a key for a session cookie on the login page; scripts may send the key as
``Authorization: Bearer KEY`` on GET requests. With no key configured the dashboard is open to
whoever can reach it, as an admin, so it must listen on loopback only (:func:`check_bind`) and
answers only requests addressed to a loopback name (a page on another site cannot point a DNS
name at 127.0.0.1 and read it).

The cookie holds a role, a random nonce and an HMAC of both, never a key: the HMAC's secret is
derived from the keys (so changing a key ends every session) or, with no key, drawn at start.
Every action is a POST carrying a CSRF token, the HMAC of the session's nonce, which a page of
another site cannot read; its cookie is ``SameSite=Strict`` as well.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
from typing import Literal

from sameday.errors import UnsafeBind

Role = Literal["read", "admin"]
COOKIE = "sameday_ui"
"""The session cookie's name."""
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1", "[::1]")


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or an address, without a port) is this machine only."""
    if host.lower() in LOOPBACK_NAMES or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_bind(host: str, read_key: str | None, admin_key: str | None) -> None:
    """Refuse a non-loopback address when no key is configured: anyone reaching it would be
    an admin.

    Raises:
        UnsafeBind: naming the settings to set.
    """
    if read_key or admin_key or is_loopback(host):
        return
    raise UnsafeBind(
        f"refusing to open the dashboard on {host} without a key: set serve.api_keys.read "
        "(SAMEDAY_READ_KEY, pages only) or serve.api_keys.admin (SAMEDAY_ADMIN_KEY, pages and "
        "actions) in sameday.yaml as ${ENV_VAR} and export it, or listen on 127.0.0.1"
    )


class Access:
    """The keys of one dashboard, and the sessions and CSRF tokens derived from them."""

    def __init__(self, *, read_key: str | None, admin_key: str | None) -> None:
        given: tuple[tuple[str | None, Role], ...] = ((admin_key, "admin"), (read_key, "read"))
        self._keys: tuple[tuple[str, Role], ...] = tuple((key, role) for key, role in given if key)
        if self._keys:
            material = b"\0".join(key.encode() for key, _ in self._keys)
            self._secret = hashlib.sha256(b"sameday-ui-session\0" + material).digest()
        else:
            self._secret = secrets.token_bytes(32)

    def __repr__(self) -> str:
        roles = ", ".join(role for _, role in self._keys) or "none: open on loopback"
        return f"Access(keys: {roles})"

    @property
    def open(self) -> bool:
        """No key configured: every visitor is an admin (loopback only)."""
        return not self._keys

    @property
    def actions_possible(self) -> bool:
        """Whether anyone can act: the admin key is set, or no key at all is."""
        return self.open or any(role == "admin" for _, role in self._keys)

    def role_of_key(self, given: str) -> Role | None:
        """The role ``given`` opens, compared with every key in constant time."""
        found: Role | None = None
        for key, role in self._keys:
            if hmac.compare_digest(given.encode(), key.encode()) and found is None:
                found = role
        return found

    def _sign(self, text: str) -> str:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).hexdigest()[:32]

    def new_session(self, role: Role) -> str:
        """A session cookie's value for ``role``."""
        nonce = secrets.token_urlsafe(16)
        return f"{role}.{nonce}.{self._sign(f'{role}.{nonce}')}"

    def role_of_session(self, cookie: str | None) -> Role | None:
        """The role of a session cookie, or ``None`` if it is missing or forged."""
        if not cookie or cookie.count(".") != 2:
            return None
        role, nonce, signature = cookie.split(".")
        if role not in ("read", "admin") or not hmac.compare_digest(
            signature, self._sign(f"{role}.{nonce}")
        ):
            return None
        return "admin" if role == "admin" else "read"

    def csrf_token(self, cookie: str) -> str:
        """The CSRF token of the session ``cookie``, to put in every form."""
        return self._sign("csrf." + cookie.split(".")[1])

    def csrf_ok(self, cookie: str | None, token: str) -> bool:
        """Whether ``token`` is the CSRF token of the valid session ``cookie``."""
        if cookie is None or self.role_of_session(cookie) is None:
            return False
        return hmac.compare_digest(token.encode(), self.csrf_token(cookie).encode())
