"""``monitors/*.yaml`` and ``notifiers/*.yaml``: what watches the loop, and whom it tells.

A monitor names the checks it runs (all built-in checks by default), when it runs (for the Argo
CronWorkflow; ``sameday monitor run --every`` takes its own interval), how often an open incident
is repeated, and its routes: which notifiers get its alerts, from which severity on. A project
without monitor files runs one monitor, ``default``, with every default.

Notifiers live in files of their own so that several monitors can share one Slack channel or
webhook, and so that the secrets they carry (webhook URLs, HMAC keys, SMTP passwords), written
as ``${VAR}``, sit in a few files that reprs and logs treat as secret.
"""

import difflib
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    Field,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
    model_validator,
)

from sameday import urls
from sameday.config._base import Key, Name, PositiveDuration, StrictModel, empty_list
from sameday.config.drift import Freshness
from sameday.config.pipeline import Schedule
from sameday.config.series import Series

CHECK_NAMES: tuple[str, ...] = ("runs", "freshness", "drift", "dataset", "health", "series")
"""The built-in checks a monitor can run (``sameday.monitor.registry`` builds each one): one
line here and one there plugs a new check in."""

DEFAULT_MONITOR = "default"
"""The name of the monitor a project without monitor files gets."""

Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 0, "warning": 1, "critical": 2}


_POSITIVE = TypeAdapter(PositiveDuration)


def read_duration(text: str) -> float:
    """``text`` (``30s``, ``5m``, ``2h``, ``1d`` or a number of seconds) as seconds, more than 0.

    Raises:
        ValueError: saying how to write a duration.
    """
    try:
        return float(_POSITIVE.validate_python(text))
    except ValidationError:
        raise ValueError(
            f"{text!r} is not a duration: write 30s, 5m, 2h or 1d (more than zero)"
        ) from None


def _known_check(name: str) -> str:
    if name not in CHECK_NAMES:
        close = difflib.get_close_matches(name, CHECK_NAMES, n=1, cutoff=0.6)
        hint = f"did you mean {close[0]!r}?" if close else f"one of {', '.join(CHECK_NAMES)}"
        raise ValueError(f"no built-in check named {name!r}: {hint}")
    return name


CheckName = Annotated[
    str,
    AfterValidator(_known_check),
    WithJsonSchema({"type": "string", "enum": list(CHECK_NAMES)}),
]


class Route(StrictModel):
    """Where the alerts of a monitor go: to these notifiers, from this severity on."""

    to: list[Name] = Field(
        min_length=1, description="Notifiers (notifiers/<name>.yaml) that receive these alerts."
    )
    severity: Severity = Field("warning", description="The lowest severity sent on this route.")
    checks: list[Key] = Field(
        default_factory=empty_list,
        description="Only alerts of these checks ('drift' also covers 'drift.personal'); "
        "empty: every check of the monitor.",
    )

    def takes(self, check: str, severity: str) -> bool:
        """Whether an alert of ``check`` at ``severity`` goes this way."""
        if SEVERITY_RANK[severity] < SEVERITY_RANK[self.severity]:
            return False
        return not self.checks or any(
            check == name or check.startswith(name + ".") for name in self.checks
        )


class Monitor(StrictModel):
    """A monitor: checks run together, on a schedule, with the routes of their alerts."""

    name: Name
    description: str = ""
    checks: list[CheckName] | None = Field(
        None, description="Built-in checks to run (default: all of them)."
    )
    notify: list[Route] | None = Field(
        None,
        description="Routes of this monitor's alerts. Default: every notifier in notifiers/, "
        "from severity warning on. An empty list sends nothing (incidents are still recorded "
        "and shown by `sameday alerts`).",
    )
    remind_after: PositiveDuration = Field(
        6 * 3600.0,
        description="Repeat an alert that is still open after this long (it is sent when it "
        "opens and when it resolves, and only then).",
    )
    schedule: Schedule = Field(
        default_factory=lambda: Schedule(cron="*/15 * * * *"),
        description="When the compiled Argo CronWorkflow runs this monitor.",
    )
    freshness: Freshness = Field(
        default_factory=Freshness,
        description="How the freshness checks judge run durations (deadlines and the maximum "
        "age of live snapshots are set on pipelines and result sets).",
    )
    series: list[Series] = Field(
        default_factory=empty_list,
        description="Metric series the 'series' check watches with the anomaly detector "
        "(built-in or SQL; see docs/monitoring.md, Metric monitors).",
    )

    @model_validator(mode="after")
    def _series_run(self) -> "Monitor":
        names = [s.name for s in self.series]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"series names must be unique in a monitor: {', '.join(twice)}")
        if self.series and self.checks is not None and "series" not in self.checks:
            raise ValueError("this monitor declares series but its checks leave 'series' out")
        return self

    def notifiers_for(self, check: str, severity: str, declared: list[str]) -> tuple[str, ...]:
        """The notifiers an alert of ``check`` at ``severity`` goes to, in route order."""
        routes = self.notify
        if routes is None:
            routes = [Route(to=declared)] if declared else []
        chosen = [name for route in routes if route.takes(check, severity) for name in route.to]
        return tuple(dict.fromkeys(chosen))


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")):
        raise ValueError(f"expected an http:// or https:// URL, got {urls.redact(value)!r}")
    return value


HttpUrl = Annotated[
    str,
    AfterValidator(_http_url),
    # A value with ${VAR} is left to the loader, which checks it once interpolated.
    WithJsonSchema({"type": "string", "pattern": r"^(?:.*\$\{.*|https?://.*)$"}),
]


class _Secretive(StrictModel):
    """Settings whose reprs never show the fields listed in ``_secret``."""

    _secret: ClassVar[tuple[str, ...]] = ()

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        for name, value in super().__repr_args__():
            yield name, urls.HIDDEN if name in self._secret and value else value

    def secrets(self) -> tuple[str, ...]:
        """The secret values, for scrubbing them out of error messages."""
        values = (getattr(self, name) for name in self._secret)
        return tuple(value for value in values if isinstance(value, str) and value)


class SlackSettings(_Secretive):
    """A Slack incoming webhook (the URL is the secret: write it as ``${SLACK_WEBHOOK_URL}``)."""

    _secret: ClassVar[tuple[str, ...]] = ("url",)
    url: HttpUrl = Field(description="The incoming webhook URL; write it as ${VAR}.")
    timeout: PositiveDuration = Field(10.0, description="Give up on one delivery after this.")


class WebhookSettings(_Secretive):
    """A JSON POST signed with HMAC-SHA256 (``X-Sameday-Signature``, see docs/monitoring.md)."""

    _secret: ClassVar[tuple[str, ...]] = ("url", "secret")
    url: HttpUrl = Field(description="Where to POST the alert.")
    secret: str = Field(
        min_length=16, description="HMAC-SHA256 key, at least 16 characters; write it as ${VAR}."
    )
    timeout: PositiveDuration = Field(10.0, description="Give up on one delivery after this.")


class EmailSettings(_Secretive):
    """E-mail over SMTP, with STARTTLS (default), implicit TLS, or none (a local relay)."""

    _secret: ClassVar[tuple[str, ...]] = ("password",)
    host: str = Field(min_length=1, description="SMTP server host name.")
    port: int = Field(587, ge=1, le=65535, description="SMTP port (587 STARTTLS, 465 TLS).")
    security: Literal["starttls", "tls", "none"] = Field(
        "starttls", description="starttls, tls (implicit, port 465) or none (local relay only)."
    )
    username: str | None = Field(None, description="Log in as this user (with password).")
    password: str | None = Field(None, description="SMTP password; write it as ${VAR}.")
    sender: str = Field(min_length=3, description="The From address.")
    to: list[str] = Field(min_length=1, description="Recipient addresses.")
    ca_file: str | None = Field(
        None,
        description="PEM file of the certificate authorities to trust for this server (a "
        "private relay); default: the system's.",
    )
    timeout: PositiveDuration = Field(10.0, description="Give up on one delivery after this.")

    @model_validator(mode="after")
    def _login_pair(self) -> "EmailSettings":
        if (self.username is None) != (self.password is None):
            raise ValueError("give both 'username' and 'password' to log in, or neither")
        if self.password is not None and self.security == "none":
            raise ValueError(
                "security 'none' would send the password in clear: use starttls or tls, or "
                "drop username and password for a relay that needs no login"
            )
        return self


class NotifierSettings(StrictModel):
    """A notifier: exactly one of ``slack``, ``webhook`` or ``email``."""

    name: Name
    description: str = ""
    slack: SlackSettings | None = None
    webhook: WebhookSettings | None = None
    email: EmailSettings | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "NotifierSettings":
        if sum(part is not None for part in (self.slack, self.webhook, self.email)) != 1:
            raise ValueError("give exactly one of 'slack', 'webhook' or 'email'")
        return self

    @property
    def settings(self) -> SlackSettings | WebhookSettings | EmailSettings:
        """The one section that is set."""
        found = self.slack or self.webhook or self.email
        assert found is not None  # the validator guarantees one
        return found


__all__ = [
    "CHECK_NAMES",
    "DEFAULT_MONITOR",
    "EmailSettings",
    "Monitor",
    "NotifierSettings",
    "Route",
    "Severity",
    "SlackSettings",
    "WebhookSettings",
    "read_duration",
]
