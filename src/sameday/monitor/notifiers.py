"""Notifiers: a Slack incoming webhook, a JSON webhook signed with HMAC-SHA256, and SMTP e-mail.

Each one sends one :class:`~sameday.monitor.check.Alert` or raises :class:`DeliveryFailed`; it
never retries (the outbox does, see :mod:`sameday.monitor.alerts`) and never waits longer than
its ``timeout`` per network step, so a receiver that accepts connections and never answers costs
one timeout, not a hung monitor run.

Secrets (a Slack webhook URL is one; HMAC keys and SMTP passwords) are never part of an error:
messages name the receiver by scheme and host only, and pass through :func:`sameday.urls.scrub`
with the notifier's secrets, since a library's own message may quote the URL.

The signed webhook
------------------

The body is the alert as compact JSON (see :func:`alert_document`). Two headers sign it::

    X-Sameday-Timestamp: 1764748800
    X-Sameday-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>" under the secret>

A receiver recomputes the HMAC over the timestamp, a dot and the exact bytes of the body,
compares it in constant time, and refuses timestamps more than five minutes away from its clock
(a replayed request carries an old one, and changing it breaks the signature):
:func:`verify_signature` does all three. ``X-Sameday-Delivery`` is the same on every retry of
one message, so a receiver can drop duplicates (delivery is at least once).
"""

from __future__ import annotations

import hashlib
import hmac
import smtplib
import ssl
import time
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson

from sameday.config.monitor import (
    EmailSettings,
    NotifierSettings,
    SlackSettings,
    WebhookSettings,
)
from sameday.errors import DeliveryFailed
from sameday.monitor.check import Alert, Notifier
from sameday.urls import scrub

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DeliveryFailed",
    "EmailNotifier",
    "SlackNotifier",
    "WebhookNotifier",
    "alert_document",
    "build_notifier",
    "email_message",
    "sign",
    "slack_message",
    "title",
    "verify_signature",
]

SIGNATURE_HEADER = "X-Sameday-Signature"
TIMESTAMP_HEADER = "X-Sameday-Timestamp"
DELIVERY_HEADER = "X-Sameday-Delivery"
TOLERANCE = 300.0
"""Seconds a signed request's timestamp may be away from the receiver's clock."""

_ICONS = {
    "opened": ":red_circle:",
    "reminder": ":large_orange_circle:",
    "resolved": ":white_check_mark:",
}


def alert_document(alert: Alert) -> dict[str, Any]:
    """The alert as the JSON object webhooks receive (``version`` 1)."""
    finding = alert.finding
    return {
        "version": 1,
        "delivery": alert.delivery_id,
        "kind": alert.kind,
        "project": alert.project,
        "monitor": alert.monitor,
        "check": finding.monitor,
        "subject": finding.subject,
        "status": finding.status,
        "severity": finding.severity,
        "summary": finding.summary,
        "evidence": dict(finding.evidence),
        "incident": alert.incident_id,
        "opened_at": alert.opened_at.isoformat(),
    }


def title(alert: Alert) -> str:
    """One line saying what happened: ``[shop] OPENED critical: runs on daily``."""
    finding = alert.finding
    what = f"{finding.severity} " if alert.kind != "resolved" else ""
    return f"[{alert.project}] {alert.kind.upper()} {what}{finding.monitor} on {finding.subject}"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Sameday-Signature`` value of ``body`` sent at ``timestamp`` (unix seconds)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_signature(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    now: float | None = None,
    tolerance: float = TOLERANCE,
) -> bool:
    """Whether a request a receiver got is a fresh, untouched alert signed with ``secret``.

    ``headers`` is looked up case-sensitively as given: pass a mapping that already handles
    case (most web frameworks' header objects do) or the exact names above.
    """
    signature, stamp = headers.get(SIGNATURE_HEADER), headers.get(TIMESTAMP_HEADER)
    if signature is None or stamp is None or not stamp.isdigit():
        return False
    if abs((time.time() if now is None else now) - int(stamp)) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, int(stamp), body), signature)


def _origin(url: str) -> str:
    """``scheme://host[:port]`` of ``url``: where it goes, without the secret path or token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")


class _HttpNotifier:
    """POSTs a JSON body; any answer but 2xx, any network error or a timeout fails."""

    def __init__(self, name: str, settings: SlackSettings | WebhookSettings) -> None:
        self.name = name
        self._url = settings.url
        self._timeout = settings.timeout
        self._secrets = settings.secrets()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r}, {_origin(self._url)!r})"

    def _post(self, body: bytes, headers: dict[str, str]) -> None:
        where = f"notifier {self.name!r} ({_origin(self._url)})"
        try:
            with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
                response = client.post(
                    self._url,
                    content=body,
                    headers={"Content-Type": "application/json", **headers},
                )
        except httpx.TimeoutException as exc:
            raise DeliveryFailed(
                f"{where} did not answer within {self._timeout:g}s ({type(exc).__name__})"
            ) from None
        except httpx.HTTPError as exc:
            reason = scrub(str(exc) or type(exc).__name__, self._secrets)
            raise DeliveryFailed(f"{where} could not be reached: {reason}") from None
        if not 200 <= response.status_code < 300:
            text = scrub(response.text[:200].strip(), self._secrets)
            raise DeliveryFailed(f"{where} refused the alert: HTTP {response.status_code} {text}")


class SlackNotifier(_HttpNotifier):
    """Posts to a Slack incoming webhook: a header, the summary, and the evidence."""

    def send(self, alert: Alert) -> None:
        """Post ``alert``; raises :class:`DeliveryFailed`."""
        self._post(orjson.dumps(slack_message(alert)), {})


def slack_message(alert: Alert) -> dict[str, Any]:
    """The Slack message of ``alert``: ``text`` for notifications, ``blocks`` for the channel."""
    finding = alert.finding
    evidence = ", ".join(f"{key}: {value}" for key, value in finding.evidence.items())
    context = (
        f"monitor {alert.monitor} · incident {alert.incident_id} · "
        f"opened {alert.opened_at:%Y-%m-%d %H:%M} UTC"
    )
    summary = f"{_ICONS[alert.kind]} {finding.summary}"
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": title(alert)[:150]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": summary[:3000]}},
    ]
    if evidence:
        blocks.append(
            {"type": "section", "text": {"type": "mrkdwn", "text": f"```{evidence[:2900]}```"}}
        )
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": context}]})
    return {"text": f"{title(alert)}: {finding.summary}", "blocks": blocks}


class WebhookNotifier(_HttpNotifier):
    """POSTs :func:`alert_document` as JSON, signed with HMAC-SHA256 (see the module docs)."""

    def __init__(self, name: str, settings: WebhookSettings) -> None:
        super().__init__(name, settings)
        self._key = settings.secret

    def send(self, alert: Alert) -> None:
        """Post ``alert`` signed; raises :class:`DeliveryFailed`."""
        body = orjson.dumps(alert_document(alert))
        stamp = int(time.time())
        headers = {
            TIMESTAMP_HEADER: str(stamp),
            SIGNATURE_HEADER: sign(self._key, stamp, body),
            DELIVERY_HEADER: str(alert.delivery_id),
        }
        self._post(body, headers)


class EmailNotifier:
    """Sends a plain-text e-mail over SMTP: STARTTLS (default), implicit TLS, or none."""

    def __init__(self, name: str, settings: EmailSettings) -> None:
        self.name = name
        self._settings = settings

    def __repr__(self) -> str:
        settings = self._settings
        return f"EmailNotifier({self.name!r}, 'smtp://{settings.host}:{settings.port}')"

    def send(self, alert: Alert) -> None:
        """Send ``alert`` to every recipient; raises :class:`DeliveryFailed`."""
        settings = self._settings
        where = f"notifier {self.name!r} (smtp://{settings.host}:{settings.port})"
        message = email_message(alert, settings)
        try:
            self._send(message)
        except (TimeoutError, smtplib.SMTPServerDisconnected) as exc:
            # smtplib reports a read that timed out as a disconnection, caused by the timeout.
            if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
                raise DeliveryFailed(
                    f"{where} did not answer within {settings.timeout:g}s"
                ) from None
            raise DeliveryFailed(f"{where} closed the connection: {exc}") from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryFailed(
                f"{where} refused the login of {settings.username!r} ({exc.smtp_code}): check "
                "the username and password"
            ) from None
        except (smtplib.SMTPException, ssl.SSLError, OSError) as exc:
            reason = scrub(str(exc) or type(exc).__name__, settings.secrets())
            raise DeliveryFailed(f"{where} failed: {type(exc).__name__}: {reason}") from None

    def _send(self, message: EmailMessage) -> None:
        settings = self._settings
        context = ssl.create_default_context(cafile=settings.ca_file)
        smtp: smtplib.SMTP
        if settings.security == "tls":
            smtp = smtplib.SMTP_SSL(
                settings.host, settings.port, timeout=settings.timeout, context=context
            )
        else:
            smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        with smtp:
            smtp.ehlo()
            if settings.security == "starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if settings.username is not None and settings.password is not None:
                smtp.login(settings.username, settings.password)
            smtp.send_message(message)


def email_message(alert: Alert, settings: EmailSettings) -> EmailMessage:
    """The e-mail of ``alert``: the title as subject, the summary and evidence as the text."""
    finding = alert.finding
    message = EmailMessage()
    message["Subject"] = title(alert)
    message["From"] = settings.sender
    message["To"] = ", ".join(settings.to)
    message["X-Sameday-Delivery"] = str(alert.delivery_id)
    lines = [
        finding.summary,
        "",
        f"project:  {alert.project}",
        f"monitor:  {alert.monitor}",
        f"check:    {finding.monitor}",
        f"subject:  {finding.subject}",
        f"status:   {finding.status} ({finding.severity})",
        f"incident: {alert.incident_id}, opened {alert.opened_at.isoformat()}",
    ]
    if finding.evidence:
        lines += ["", "evidence:"]
        lines += [f"  {key}: {value}" for key, value in finding.evidence.items()]
    mute = f"sameday alerts mute {finding.monitor} --subject {finding.subject} --until 4h"
    lines += ["", f"Mute it for four hours with: {mute}"]
    message.set_content("\n".join(lines) + "\n")
    return message


def build_notifier(settings: NotifierSettings) -> Notifier:
    """The notifier a ``notifiers/*.yaml`` file declares."""
    if settings.slack is not None:
        return SlackNotifier(settings.name, settings.slack)
    if settings.webhook is not None:
        return WebhookNotifier(settings.name, settings.webhook)
    assert settings.email is not None  # the model guarantees exactly one section
    return EmailNotifier(settings.name, settings.email)
