"""Every notifier against a real local receiver: delivered, refused, down, and hanging."""

from __future__ import annotations

import email
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from sameday.config.monitor import EmailSettings, SlackSettings, WebhookSettings
from sameday.monitor.check import Alert, Finding
from sameday.monitor.notifiers import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    DeliveryFailed,
    EmailNotifier,
    SlackNotifier,
    WebhookNotifier,
    sign,
    verify_signature,
)
from tests.monitor.receivers import (
    free_port,
    hanging_receiver,
    http_receiver,
    make_certificates,
    smtp_receiver,
)

SECRET = "hmac-key-0123456789-abcdef"
PASSWORD = "smtp-pa55word-xyz"


def alert(kind: str = "opened") -> Alert:
    finding = Finding(
        monitor="runs",
        subject="daily",
        status="fail",
        summary="pipeline 'daily': the latest run failed",
        severity="critical",
        evidence={"run_id": "daily-1", "status": "failed"},
    )
    opened = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    return Alert(kind, finding, 7, opened, "shop", "health", 42)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    return make_certificates(tmp_path_factory.mktemp("tls"))


def test_webhook_is_signed_and_the_receiver_can_verify_it() -> None:
    with http_receiver() as receiver:
        receiver.answer = lambda headers, body: (
            200 if verify_signature(SECRET, body, headers) else 401
        )
        WebhookNotifier("hook", WebhookSettings(url=receiver.url, secret=SECRET)).send(alert())
    ((path, headers, body),) = receiver.requests
    assert path == "/hooks/T0/B0/secret-path-token"
    assert headers["Content-Type"] == "application/json"
    assert headers[DELIVERY_HEADER] == "42"
    stamp = int(headers[TIMESTAMP_HEADER])
    assert abs(stamp - time.time()) < 60
    assert headers[SIGNATURE_HEADER] == sign(SECRET, stamp, body)
    document = orjson.loads(body)
    assert document["version"] == 1 and document["delivery"] == 42
    assert (document["kind"], document["check"], document["subject"]) == ("opened", "runs", "daily")
    assert document["evidence"] == {"run_id": "daily-1", "status": "failed"}


def test_a_webhook_with_the_wrong_key_is_refused_and_the_error_shows_no_secret() -> None:
    with http_receiver() as receiver:
        receiver.answer = lambda headers, body: (
            200 if verify_signature(SECRET, body, headers) else 401
        )
        wrong = WebhookSettings(url=receiver.url, secret="another-key-0123456789")
        with pytest.raises(DeliveryFailed) as info:
            WebhookNotifier("hook", wrong).send(alert())
    message = str(info.value)
    assert "notifier 'hook' (http://127.0.0.1:" in message and "HTTP 401" in message
    assert "secret-path-token" not in message and "another-key" not in message


def test_signature_verification_refuses_tampering_and_replays() -> None:
    body = b'{"kind":"opened"}'
    now = 1_764_748_800
    headers = {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: sign(SECRET, now, body)}
    assert verify_signature(SECRET, body, headers, now=now + 10)
    assert not verify_signature(SECRET, body + b" ", headers, now=now)
    assert not verify_signature("other-key-0123456789", body, headers, now=now)
    assert not verify_signature(SECRET, body, headers, now=now + 301)  # a replay, later
    moved = {**headers, TIMESTAMP_HEADER: str(now + 301)}  # the replayer moves the time
    assert not verify_signature(SECRET, body, moved, now=now + 301)
    assert not verify_signature(SECRET, body, {SIGNATURE_HEADER: headers[SIGNATURE_HEADER]})


def test_slack_gets_text_and_blocks() -> None:
    with http_receiver() as receiver:
        SlackNotifier("team", SlackSettings(url=receiver.url)).send(alert("resolved"))
    ((_, _, body),) = receiver.requests
    message = orjson.loads(body)
    assert message["text"].startswith("[shop] RESOLVED runs on daily: pipeline 'daily'")
    kinds = [block["type"] for block in message["blocks"]]
    assert kinds == ["header", "section", "section", "context"]
    assert "run_id: daily-1" in message["blocks"][2]["text"]["text"]


def test_slack_refusal_hides_the_webhook_url() -> None:
    with http_receiver() as receiver:
        receiver.answer = lambda headers, body: 403
        with pytest.raises(DeliveryFailed, match="HTTP 403 invalid_token") as info:
            SlackNotifier("team", SlackSettings(url=receiver.url)).send(alert())
    assert "secret-path-token" not in str(info.value)


def test_a_receiver_that_is_down_fails_fast() -> None:
    url = f"http://127.0.0.1:{free_port()}/hook/secret-path-token"
    started = time.monotonic()
    with pytest.raises(DeliveryFailed, match="could not be reached") as info:
        WebhookNotifier("hook", WebhookSettings(url=url, secret=SECRET)).send(alert())
    assert time.monotonic() - started < 2
    assert "secret-path-token" not in str(info.value)


def test_a_receiver_that_never_answers_costs_one_timeout() -> None:
    with hanging_receiver() as port:
        url = f"http://127.0.0.1:{port}/hook"
        settings = SlackSettings(url=url, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(DeliveryFailed, match=r"did not answer within 0\.5s"):
            SlackNotifier("team", settings).send(alert())
        assert time.monotonic() - started < 2


def email_settings(port: int, ca: Path, **changes: object) -> EmailSettings:
    fields: dict[str, object] = {
        "host": "127.0.0.1",
        "port": port,
        "username": "alerts",
        "password": PASSWORD,
        "sender": "sameday@shop.test",
        "to": ["oncall@shop.test", "team@shop.test"],
        "ca_file": str(ca),
        "timeout": 5,
        **changes,
    }
    return EmailSettings.model_validate(fields)


def test_email_over_starttls_with_login(certificates: tuple[Path, Path, Path]) -> None:
    with smtp_receiver(certificates, user="alerts", password=PASSWORD) as receiver:
        EmailNotifier("mail", email_settings(receiver.port, certificates[0])).send(alert())
    ((sender, recipients, content),) = receiver.messages
    assert receiver.logins == ["alerts"]
    assert sender == "sameday@shop.test"
    assert recipients == ["oncall@shop.test", "team@shop.test"]
    message = email.message_from_bytes(content)
    assert message["Subject"] == "[shop] OPENED critical runs on daily"
    assert message["X-Sameday-Delivery"] == "42"
    text = message.get_payload(decode=True).decode()
    assert "pipeline 'daily': the latest run failed" in text and "run_id: daily-1" in text


def test_email_refuses_an_untrusted_server(
    certificates: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    other_ca, _, _ = make_certificates(tmp_path)
    with smtp_receiver(certificates, user="alerts", password=PASSWORD) as receiver:
        settings = email_settings(receiver.port, other_ca)
        with pytest.raises(DeliveryFailed, match="CERTIFICATE_VERIFY_FAILED"):
            EmailNotifier("mail", settings).send(alert())
    assert receiver.messages == []


def test_a_wrong_smtp_password_is_named_but_not_shown(
    certificates: tuple[Path, Path, Path],
) -> None:
    with smtp_receiver(certificates, user="alerts", password=PASSWORD) as receiver:
        settings = email_settings(receiver.port, certificates[0], password="wrong-pa55word")
        with pytest.raises(DeliveryFailed, match="refused the login of 'alerts'") as info:
            EmailNotifier("mail", settings).send(alert())
    assert "wrong-pa55word" not in str(info.value) and receiver.messages == []


def test_smtp_down_and_hanging(certificates: tuple[Path, Path, Path]) -> None:
    down = email_settings(free_port(), certificates[0])
    with pytest.raises(DeliveryFailed, match=r"Connection refused|ConnectionRefused"):
        EmailNotifier("mail", down).send(alert())
    with hanging_receiver() as port:
        hanging = email_settings(port, certificates[0], timeout=0.5)
        started = time.monotonic()
        with pytest.raises(DeliveryFailed, match=r"did not answer within 0\.5s"):
            EmailNotifier("mail", hanging).send(alert())
        assert time.monotonic() - started < 2
