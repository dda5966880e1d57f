"""One off-policy evaluation run, as ``sameday ope`` asks for it: read logs, build candidates,
estimate."""

from __future__ import annotations

from pathlib import Path

from sameday.errors import OPEUsageError
from sameday.ope.candidates import parse_candidate
from sameday.ope.data import Level, LoggedData, from_exposures, from_obd
from sameday.ope.estimators import ESTIMATORS, Estimate, estimate


def run_ope(
    *,
    project_dir: Path | None,
    fmt: str,
    logs: Path | None,
    experiment: str | None,
    level: str,
    event: str,
    policies: list[str],
    estimators: list[str] | None,
    clip: float | None,
    n_boot: int,
    seed: int,
) -> list[Estimate]:
    """Estimates of every policy by every estimator, in that order.

    Raises:
        OPEUsageError: ``--format obd`` without ``--logs``.
        LoggedDataError, PolicyError: the logs or a candidate cannot be used.
    """
    from sameday.store.base import ServingStore

    root: Path | None = None
    store: ServingStore | None = None
    needs_project = fmt == "sameday" or any(p.startswith("result-set:") for p in policies)
    try:
        if needs_project:
            from sameday.config import load_project

            project = load_project(project_dir)
            root = project.root
            if any(p.startswith("result-set:") for p in policies):
                store = project.open_serving_store()
        if fmt == "obd":
            if logs is None:
                raise OPEUsageError("--format obd needs --logs PATH to an OBD all.csv file")
            data: LoggedData = from_obd(logs)
        else:
            with project.open_event_sink() as sink:
                data = from_exposures(
                    sink.read_exposures(experiment=experiment),
                    sink.read_outcomes(experiment=experiment),
                    level=_level(level),
                    reward_event=event,
                    source=f"the event log{f' of {experiment}' if experiment else ''}",
                )
        results: list[Estimate] = []
        for spec in policies:
            candidate = parse_candidate(spec, root=root or Path.cwd(), store=store)
            results += estimate(
                data,
                candidate,
                estimators=estimators or ESTIMATORS,
                clip=clip,
                n_boot=n_boot,
                seed=seed,
            )
        return results
    finally:
        if store is not None:
            store.close()


def _level(value: str) -> Level:
    if value not in ("item", "arm"):
        raise OPEUsageError(f"--level must be item or arm, got {value!r}")
    return "arm" if value == "arm" else "item"
