"""``monitors/*.yaml`` and ``notifiers/*.yaml``: defaults, located errors, references, secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from sameday.config import load_project
from sameday.config.monitor import Monitor, Route
from sameday.errors import ConfigError

SLACK = "https://hooks.slack.com/services/T000/B000/very-secret-token"


def write(project_dir: Path, folder: str, name: str, body: str) -> None:
    (project_dir / folder).mkdir(exist_ok=True)
    (project_dir / folder / f"{name}.yaml").write_text(body)


def problems(project_dir: Path, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_project(project_dir, environ=environ or {})
    return [str(p) for p in info.value.problems]


def test_the_scaffold_has_a_monitor_and_no_notifier(project_dir: Path) -> None:
    project = load_project(project_dir, environ={})
    assert list(project.monitors) == ["health"] and project.notifiers == {}
    assert project.monitors["health"].checks == ["runs"]


def test_monitor_and_notifiers_load_with_defaults(project_dir: Path) -> None:
    (project_dir / "monitors" / "health.yaml").unlink()
    write(project_dir, "notifiers", "team", "slack: {url: '${SLACK_URL}'}\n")
    write(project_dir, "monitors", "nightly", "checks: [runs]\n")
    project = load_project(project_dir, environ={"SLACK_URL": SLACK})
    monitor = project.monitors["nightly"]
    assert monitor.checks == ["runs"] and monitor.notify is None
    assert monitor.remind_after == 6 * 3600 and monitor.schedule.cron == "*/15 * * * *"
    notifier = project.notifiers["team"]
    assert notifier.slack is not None and notifier.settings.url == SLACK
    assert SLACK not in repr(notifier) and SLACK not in repr(project)
    assert notifier.settings.secrets() == (SLACK,)


def test_routing_by_severity_and_check(project_dir: Path) -> None:
    monitor = Monitor(
        name="m",
        notify=[
            Route(to=["chat"], severity="warning"),
            Route(to=["pager", "chat"], severity="critical", checks=["drift"]),
        ],
    )
    assert monitor.notifiers_for("runs", "info", []) == ()
    assert monitor.notifiers_for("runs", "critical", []) == ("chat",)
    assert monitor.notifiers_for("drift.personal", "critical", []) == ("chat", "pager")
    assert monitor.notifiers_for("drifter", "critical", []) == ("chat",)
    default = Monitor(name="d")
    assert default.notifiers_for("runs", "warning", ["a", "b"]) == ("a", "b")
    assert default.notifiers_for("runs", "info", ["a", "b"]) == ()
    assert Monitor(name="q", notify=[]).notifiers_for("runs", "critical", ["a"]) == ()


def test_unknown_check_and_key_get_a_located_did_you_mean(project_dir: Path) -> None:
    write(project_dir, "monitors", "nightly", "checks: [rusn]\nremind_afer: 1h\n")
    found = problems(project_dir)
    assert any(
        "monitors/nightly.yaml:1:10: checks[0]: no built-in check named 'rusn': "
        "did you mean 'runs'?" in m
        for m in found
    ), found
    assert any(
        "nightly.yaml:2:1: remind_afer: unknown key 'remind_afer'; did you mean 'remind_after'?"
        in m
        for m in found
    ), found


def test_routes_must_name_declared_notifiers(project_dir: Path) -> None:
    write(project_dir, "notifiers", "team-slack", f"slack: {{url: '{SLACK}'}}\n")
    write(
        project_dir,
        "monitors",
        "nightly",
        "notify:\n  - to: [team-slak]\n  - to: [pager]\n    severity: critical\n",
    )
    found = problems(project_dir)
    assert any(
        "nightly.yaml:2:10: notify[0].to[0]: no notifier named 'team-slak'; "
        "did you mean 'team-slack'?" in m
        for m in found
    ), found
    assert any(
        "notify[1].to[0]: no notifier named 'pager' (declared: team-slack)" in m for m in found
    )


def test_a_notifier_is_exactly_one_kind(project_dir: Path) -> None:
    write(
        project_dir,
        "notifiers",
        "both",
        f"slack: {{url: '{SLACK}'}}\n"
        "webhook: {url: 'https://x.test', secret: '0123456789abcdef'}\n",
    )
    write(project_dir, "notifiers", "none", "description: nothing\n")
    found = problems(project_dir)
    assert sum("give exactly one of 'slack', 'webhook' or 'email'" in m for m in found) == 2


def test_secrets_never_appear_in_errors(project_dir: Path) -> None:
    write(
        project_dir,
        "notifiers",
        "hook",
        "webhook: {url: '${HOOK_URL}', secret: '${HOOK_SECRET}'}\n",
    )
    write(
        project_dir,
        "notifiers",
        "mail",
        "email: {host: smtp.test, username: u, password: '${SMTP_PASSWORD}', sender: a@b.c, "
        "to: [x@y.z], port: 0}\n",
    )
    secret_url = "ftp://user:hunter2hunter2@hooks.test/path"
    environ = {"HOOK_URL": secret_url, "HOOK_SECRET": "short", "SMTP_PASSWORD": "pa55word!"}
    found = "\n".join(problems(project_dir, environ))
    assert "webhook.url" in found and "webhook.secret" in found and "email.port" in found
    for secret in ("hunter2hunter2", "short", "pa55word!"):
        assert secret not in found


def test_email_login_needs_both_halves(project_dir: Path) -> None:
    write(
        project_dir,
        "notifiers",
        "mail",
        "email: {host: smtp.test, username: u, sender: a@b.c, to: [x@y.z]}\n",
    )
    (found,) = problems(project_dir)
    assert "give both 'username' and 'password' to log in, or neither" in found


def test_a_password_is_never_sent_in_clear(project_dir: Path) -> None:
    write(
        project_dir,
        "notifiers",
        "mail",
        "email: {host: relay.test, security: none, username: u, password: p, sender: a@b.c, "
        "to: [x@y.z]}\n",
    )
    (found,) = problems(project_dir)
    assert "security 'none' would send the password in clear" in found
    write(
        project_dir,
        "notifiers",
        "mail",
        "email: {host: relay.test, port: 25, security: none, sender: a@b.c, to: [x@y.z]}\n",
    )
    assert load_project(project_dir, environ={}).notifiers["mail"].email is not None
