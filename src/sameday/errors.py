"""Every error sameday raises, in one tree, all defined here.

::

    SamedayError                              base; carries an ``exit_code`` for the CLI
     ├── ConfigError (ValueError)             project files are wrong; holds every ``Problem``
     ├── ProjectNotFound (FileNotFoundError)  no ``sameday.yaml`` here or above
     ├── ProjectExists (FileExistsError)      ``sameday init`` would overwrite a project
     ├── MetadataError                        the metadata database refused or is out of date
     │    ├── MigrationError                  a schema migration could not be applied
     │    └── BanditParamsConflict            a newer bandit snapshot was saved first
     ├── PipelineError                        a pipeline could not be run or compiled
     │    ├── PipelineFailed                  a run ended with failed jobs
     │    │    └── RunCancelled               Ctrl-C or SIGTERM stopped the run
     │    └── IsolationError                  an isolated job's declared files are missing
     ├── ResultCheckFailed (ValueError)       a result set's checks rejected a publication
     ├── PublishInProgress (RuntimeError)     another publish holds the result set's lock
     ├── VersionInUse (ValueError)            a snapshot version exists or is live
     ├── StoreUnavailable (ConnectionError)   a backend could not be reached or read; exit 75
     │    └── EventsUnavailable               events not committed: resend them
     ├── DeliveryFailed (ConnectionError)     an alert did not reach its receiver: retried later
     ├── EventRejected (ValueError)           a sink refused a record: resending will not help
     ├── NotFound (LookupError)               a named run, snapshot or experiment does not exist
     │    ├── UnknownSurface                  a request names a surface that is not applied
     │    └── ModelNotFound                   no such model, version or alias
     ├── ModelError                           a model could not be registered, loaded or gated
     │    ├── InvalidModelRef (ValueError)    ``NAME@alias``, ``NAME/3``, ``models:/…`` misspelt
     │    ├── BundleCorrupted (ValueError)    a bundle's files do not match their checksums
     │    └── GateError (ValueError)          a gate condition cannot be read or evaluated
     ├── MissingDependency (ImportError)      an optional extra is not installed; names it
     ├── BadRequest (ValueError)              an HTTP request that cannot be served (400)
     │    ├── BodyTooLarge                    a body over ``serve.max_body`` (413)
     │    └── BodyTooSlow                     a body that did not arrive in time (408)
     ├── InvalidAllocation (ValueError)       impossible weights, coverage or ranges
     ├── ApplyRefused (ValueError)            nothing was applied
     ├── BanditSettingsError (ValueError)     a bandit's settings give no valid allocation
     ├── NotABandit (ValueError)              a bandit operation on another design
     ├── StatsInputError (ValueError)         inputs a statistical function cannot work with
     ├── SeriesError (ValueError)             a metric series' SQL failed or gave unreadable rows
     ├── UnsupportedAnalysis (ValueError)     segments or uplift the design or data cannot give
     ├── OfflineInputError (ValueError)       lists or held-out items that cannot be scored
     ├── LoggedDataError (ValueError)         logged rounds that cannot be evaluated off-policy
     ├── PolicyError (ValueError)             a candidate policy that does not fit the logs
     ├── OPEUsageError (ValueError)           evaluation options that do not fit together
     ├── OBDFormatError (ValueError)          a file not in the Open Bandit Dataset's format
     ├── SimulationError (ValueError)         simulator settings it cannot honour
     ├── DemoError (RuntimeError)             a step of the demo failed
     ├── SamedayUnavailable (ConnectionError) the HTTP client got no usable answer in time
     ├── RequestRejected (ValueError)         the server answered 4xx to the HTTP client
     ├── UnsafeBind (ValueError)              listening beyond localhost without the keys
     ├── PortInUse (OSError)                  the address to listen on is taken
     ├── UnsharedStorage (ValueError)         ``--workers`` on storage each process would copy
     └── WorkerFailed (RuntimeError)          a worker process could not start: the server stops

Library code raises these and never prints or exits; ``sameday.cli`` catches ``SamedayError`` once
and renders it. Third-party errors (sqlite3, psycopg, redis) are translated at the backend edge with
``raise ... from exc`` so the cause stays visible. The modules that raise an error also re-export
it (``sameday.serve.engine.UnknownSurface`` is this ``UnknownSurface``); ``tests/test_errors.py``
holds this drawing to the classes, so it cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class SamedayError(Exception):
    """Base of every error sameday raises on purpose."""

    exit_code: int = 1


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a project file, located as precisely as the YAML allows.

    ``line`` and ``column`` are 1-based, like editors and compilers count them; either is ``None``
    when the problem is not tied to one node (a missing file, say).
    """

    path: Path | None
    line: int | None
    column: int | None
    message: str
    field: str | None = None

    def __str__(self) -> str:
        where = str(self.path) if self.path is not None else "<project>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        prefix = f"{self.field}: " if self.field else ""
        return f"{where}: {prefix}{self.message}"


class ConfigError(SamedayError, ValueError):
    """The project files are invalid. ``problems`` lists every problem found in one load."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(
            problems,
            key=lambda p: (str(p.path or ""), p.line or 0, p.column or 0, p.message),
        )
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the project files"
        super().__init__(head + ":\n" + "\n".join(str(p) for p in self.problems))


class ProjectNotFound(SamedayError, FileNotFoundError):
    """No ``sameday.yaml`` in the given folder or any of its parents."""


class ProjectExists(SamedayError, FileExistsError):
    """``sameday init`` would overwrite an existing project."""


class MetadataError(SamedayError):
    """The metadata database refused an operation or is not at the expected schema version."""


class MigrationError(MetadataError):
    """A schema migration could not be applied; the database is left as it was."""


class BanditParamsConflict(MetadataError):
    """Another update saved a newer snapshot first; re-read the latest and update again."""


class PipelineError(SamedayError):
    """A pipeline could not be planned, run or compiled."""

    def __init__(self, message: str, *, pipeline: str | None = None, job: str | None = None):
        self.pipeline = pipeline
        self.job = job
        super().__init__(message)


class PipelineFailed(PipelineError):
    """A run finished with at least one failed, timed-out or cancelled job."""

    def __init__(self, message: str, *, pipeline: str, run_id: str, status: str) -> None:
        self.run_id = run_id
        self.status = status
        super().__init__(message, pipeline=pipeline)


class RunCancelled(PipelineFailed):
    """A run was cancelled (Ctrl-C or ``SIGTERM``); the CLI exits 130, as an interrupted shell."""

    exit_code = 130


class IsolationError(PipelineError):
    """A job's declared files are missing: an input nobody stored, an output it did not write."""


class ResultCheckFailed(SamedayError, ValueError):
    """A result set failed its checks; nothing was published."""

    def __init__(self, message: str, *, result_set: str, failures: list[str]) -> None:
        self.result_set = result_set
        self.failures = failures
        super().__init__(message)


class PublishInProgress(SamedayError, RuntimeError):
    """Another publish or rollback of the same result set held the lock for too long."""


class VersionInUse(SamedayError, ValueError):
    """A version cannot be loaded or dropped: it exists already, or it is the live one."""


TRY_AGAIN_EXIT_CODE = 75
"""The CLI's exit code for an outage worth retrying (``EX_TEMPFAIL`` in ``sysexits.h``): a
scheduler retries a step that exits with it, and only then (Argo's publish ``retryStrategy``)."""


class StoreUnavailable(SamedayError, ConnectionError):
    """A store could not be reached (PostgreSQL, Redis down) or read (a list stored in a format
    this sameday does not read). The CLI exits with :data:`TRY_AGAIN_EXIT_CODE`."""

    exit_code = TRY_AGAIN_EXIT_CODE


class EventsUnavailable(StoreUnavailable):
    """Records were not (or not yet) committed: the buffer is full, the sink is down, or a wait
    ran out of time. Nothing acknowledged is lost; the caller should retry the same records."""


class DeliveryFailed(SamedayError, ConnectionError):
    """A notifier's receiver could not be reached, did not answer in time, or refused an alert.

    The message names the notifier and its receiver (scheme and host only) and the reason; it
    never holds a secret. The alert stays in the outbox and is tried again later.
    """


class EventRejected(SamedayError, ValueError):
    """A record is invalid (a value no event log can store): refused before it is queued, or
    refused by a sink and dropped. Retrying it unchanged will not help.

    Attributes:
        field: the record's field at fault, when known (``"unit"``).
        event_ids: the ids of the outcomes refused (when a sink refused them after they were
            queued, the others of their batch are stored).
    """

    def __init__(
        self, message: str, *, field: str | None = None, event_ids: tuple[str, ...] = ()
    ) -> None:
        super().__init__(message)
        self.field = field
        self.event_ids = event_ids


class NotFound(SamedayError, LookupError):
    """A named thing (run, snapshot, experiment, result set) does not exist."""


class UnknownSurface(NotFound):
    """The request names a surface that is not applied."""


class ModelNotFound(NotFound):
    """No model, version or alias by that name in the registry (or in MLflow's)."""


class ModelError(SamedayError):
    """A model could not be registered, loaded, exported or gated (the message says why)."""


class InvalidModelRef(ModelError, ValueError):
    """A model reference that is none of ``NAME``, ``NAME@alias``, ``NAME/VERSION``,
    ``models:/NAME@alias`` or ``models:/NAME/VERSION``."""


class BundleCorrupted(ModelError, ValueError):
    """A bundle's manifest or files do not match the checksums recorded when it was registered:
    it was changed or truncated after registration, and is refused rather than served.

    Attributes:
        url: where the bundle lives.
        problems: each file (or the manifest) that failed, with what was expected.
    """

    def __init__(self, message: str, *, url: str, problems: list[str]) -> None:
        super().__init__(message)
        self.url = url
        self.problems = problems


class GateError(ModelError, ValueError):
    """A gate condition cannot be parsed, or names a metric the evaluation did not produce."""


class MissingDependency(SamedayError, ImportError):
    """A feature needs an optional extra that is not installed; the message names the extra.

    Raised by :func:`sameday._extras.extra` around the lazy import of a backend.
    """


class BadRequest(SamedayError, ValueError):
    """Input that cannot be served: answered with ``status`` (400) and this message."""

    status = 400

    def __init__(self, message: str, field: str | None = None) -> None:
        self.field = field
        super().__init__(message)


class BodyTooLarge(BadRequest):
    """A body over the cap: 413, said before reading it when ``Content-Length`` tells."""

    status = 413


class BodyTooSlow(BadRequest):
    """A body that did not arrive in time: 408, so a slow client cannot hold a request open."""

    status = 408


class InvalidAllocation(SamedayError, ValueError):
    """An allocation's settings are impossible (weights, coverage, ranges or hash version)."""


class ApplyRefused(SamedayError, ValueError):
    """Applying would create an invalid or conflicting state; nothing was changed."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__(
            "apply refused, nothing was changed:\n" + "\n".join(f"  - {r}" for r in reasons)
        )


class BanditSettingsError(SamedayError, ValueError):
    """A bandit's settings cannot give a valid allocation (e.g. ``min_share`` too large)."""


class NotABandit(SamedayError, ValueError):
    """A bandit operation was asked of an experiment whose design is not ``bandit``."""


class StatsInputError(SamedayError, ValueError):
    """Inputs a statistical function cannot work with: an impossible summary (negative count,
    sum of squares below what the sum implies), too few units for the test, a rate outside
    (0, 1), an alpha outside (0, 1). The message names the quantity and what was expected.
    """


class SeriesError(SamedayError, ValueError):
    """A metric series' query failed, or its rows lack the time or value column, or hold
    something that is not a time or a number (the message names the series and the column)."""


class UnsupportedAnalysis(SamedayError, ValueError):
    """Segment effects or an uplift model that the experiment's design or its data cannot give:
    an interleaving or bandit experiment, an outcome that is no per-unit value, too few units.
    The message says why and what would work instead."""


class OfflineInputError(SamedayError, ValueError):
    """Recommendations or held-out items that cannot be scored (the message says why)."""


class LoggedDataError(SamedayError, ValueError):
    """Logged rounds cannot be evaluated (no rounds, or a missing or zero propensity)."""


class PolicyError(SamedayError, ValueError):
    """A candidate policy cannot be built or does not fit the logged actions."""


class OPEUsageError(SamedayError, ValueError):
    """The options of an evaluation do not fit together."""

    exit_code = 2


class OBDFormatError(SamedayError, ValueError):
    """A file is not in the Open Bandit Dataset's CSV format."""


class SimulationError(SamedayError, ValueError):
    """The simulator was given settings it cannot honour (the message says which and why)."""


class DemoError(SamedayError, RuntimeError):
    """A step of the demo failed; the message names the step and where its log is."""


class SamedayUnavailable(SamedayError, ConnectionError):
    """No usable answer from sameday after every allowed attempt.

    Attributes:
        reason: the last failure in a few words (``"cannot connect: ..."``, ``"answered 503:
            ..."``), for logs and health checks.
        attempts: how many requests were sent (or tried to be).
        status: the last HTTP status received (a 5xx), or ``None`` when none came.
    """

    def __init__(
        self, message: str, *, reason: str, attempts: int, status: int | None = None
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.attempts = attempts
        self.status = status


class RequestRejected(SamedayError, ValueError):
    """sameday answered 4xx: the request is wrong (or the API key), so it was not retried.

    Attributes:
        status: the HTTP status (400, 401, 404, 408, 413).
        message: the server's explanation.
        field: the input field at fault (``"n"``, ``"events[3].unit"``), when the server names one.
    """

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        where = f" (field {field!r})" if field else ""
        super().__init__(f"sameday refused the request with {status}{where}: {message}")
        self.status = status
        self.message = message
        self.field = field


class UnsafeBind(SamedayError, ValueError):
    """Refusing to listen beyond localhost without both API keys."""

    exit_code = 2


class PortInUse(SamedayError, OSError):
    """The address to listen on is taken (or not ours to take)."""


class UnsharedStorage(SamedayError, ValueError):
    """``sameday serve --workers N`` (N > 1) on storage that worker processes cannot share: a
    ``memory://`` serving store or event log lives inside one process, so each worker would serve
    and log on a copy of its own. The message names the setting and what to use instead.

    Attributes:
        setting: the ``sameday.yaml`` key at fault (``"storage.serving"``).
    """

    exit_code = 2

    def __init__(self, message: str, *, setting: str) -> None:
        super().__init__(message)
        self.setting = setting


class WorkerFailed(SamedayError, RuntimeError):
    """A worker process of ``sameday serve --workers N`` failed at the server's start, before it
    could serve (its own error is logged above): the supervisor stops every worker instead of
    restarting it in a loop (a replacement that cannot start is retried instead).

    Attributes:
        status: the status the worker exited with.
    """

    def __init__(self, message: str, *, status: int) -> None:
        super().__init__(message)
        self.status = status
