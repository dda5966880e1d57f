"""Candidate policies named on the command line: ``uniform``, ``fixed:ACTION``,
``bts:PRIORS.yaml[#campaign]`` and ``result-set:NAME``."""

from __future__ import annotations

from pathlib import Path

from sameday.errors import PolicyError
from sameday.ope.policies import BernoulliTS, Candidate, Fixed, ResultSet, Uniform
from sameday.store.base import ServingStore


def parse_candidate(
    spec: str, *, root: Path | None = None, store: ServingStore | None = None
) -> Candidate:
    """The candidate ``spec`` names; relative priors paths are taken from ``root``.

    Raises:
        PolicyError: the spec names no known candidate, or a result set without a store.
    """
    kind, _, arg = spec.partition(":")
    if kind == "uniform" and not arg:
        return Uniform()
    if kind == "fixed" and arg:
        return Fixed(arg, name=spec)
    if kind == "bts" and arg:
        path_text, _, campaign = arg.partition("#")
        path = Path(path_text)
        if root is not None and not path.is_absolute():
            path = root / path
        return BernoulliTS.from_yaml(path, campaign or "all")
    if kind == "result-set" and arg:
        if store is None:
            raise PolicyError("a result-set candidate needs the project's serving store")
        return ResultSet(store, arg, name=spec)
    raise PolicyError(
        f"unknown candidate policy {spec!r}: use uniform, fixed:ACTION, "
        "bts:PRIORS.yaml[#campaign] or result-set:NAME"
    )
