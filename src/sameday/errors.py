"""Every error sameday raises, in one tree.

::

    SamedayError                         base; carries an ``exit_code`` for the CLI
     ├── ConfigError (ValueError)         project files are wrong; holds every ``Problem`` found
     ├── ProjectNotFound (FileNotFoundError)
     ├── MetadataError                    the metadata database refused or is out of date
     │    └── MigrationError
     ├── PipelineError                    a pipeline could not be run or compiled
     │    └── PipelineFailed              a run ended with failed jobs
     │         └ pipeline.runner.RunCancelled   Ctrl-C or SIGTERM stopped the run
     ├── ResultCheckFailed (ValueError)   a result set's checks rejected a publication
     ├── StoreUnavailable (ConnectionError) a backend could not be reached
     │    └ events.errors.EventsUnavailable  events not committed: resend them
     ├── NotFound (LookupError)           a named run, snapshot or experiment does not exist
     │    └ serve.engine.UnknownSurface
     └ raised next to their cause, each also a builtin:
          store.base.VersionInUse (ValueError)          a snapshot version exists or is live
          results.lifecycle.PublishInProgress (RuntimeError)
          assign.allocation.InvalidAllocation (ValueError)
          events.errors.EventRejected (ValueError), events.obd.OBDFormatError (ValueError)
          deploy.apply.ApplyRefused (ValueError)       nothing was applied
          analysis.stats.errors.StatsInputError (ValueError)
          cli.serve.UnsafeBind (ValueError)
          scaffold.ProjectExists (FileExistsError)     ``sameday init`` would overwrite a project
          http_client.SamedayUnavailable (ConnectionError), http_client.RequestRejected (ValueError)

Library code raises these and never prints or exits; ``sameday.cli`` catches ``SamedayError`` once
and renders it. Third-party errors (sqlite3, psycopg, redis) are translated at the backend edge with
``raise ... from exc`` so the cause stays visible.
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


class MetadataError(SamedayError):
    """The metadata database refused an operation or is not at the expected schema version."""


class MigrationError(MetadataError):
    """A schema migration could not be applied; the database is left as it was."""


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


class ResultCheckFailed(SamedayError, ValueError):
    """A result set failed its checks; nothing was published."""

    def __init__(self, message: str, *, result_set: str, failures: list[str]) -> None:
        self.result_set = result_set
        self.failures = failures
        super().__init__(message)


class StoreUnavailable(SamedayError, ConnectionError):
    """A store could not be reached (PostgreSQL, Redis down) or read (a list stored in a format
    this sameday does not read)."""


class NotFound(SamedayError, LookupError):
    """A named thing (run, snapshot, experiment, result set) does not exist."""
