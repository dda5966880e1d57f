"""Scorers: what re-ranks candidates at request time, a registered model or a Python function.

Online scoring (:mod:`sameday.serve.scoring`) names a scorer as an experiment arm or a surface
does: a model reference (``ranker@champion``, ``ranker/3``, ``models:/ranker@champion``) or
``python:package.module:function``. Either way it loads into an object with
``predict(features)`` — one mapping of features per candidate in, one score per candidate out —
and a ``ref`` naming exactly what scores (``ranker/3`` once an alias is resolved), which the
exposures record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sameday.config.loader import Project
from sameday.config.scoring import PYTHON_PREFIX
from sameday.errors import ModelError
from sameday.models.candidates import Candidates
from sameday.models.loader import Features, LoadedModel, as_floats, load_entry_point


class PythonScorer:
    """A Python function (or an object with ``predict``) used as a scorer.

    Attributes:
        ref: ``python:package.module:function``, what exposures record as the scorer.
    """

    def __init__(self, spec: str, target: Any) -> None:
        self.ref = f"{PYTHON_PREFIX}{spec}"
        predict = getattr(target, "predict", None)
        if callable(predict):
            self._predict: Callable[[Features], Sequence[float]] = predict
        elif callable(target):
            self._predict = target
        else:
            raise ModelError(
                f"{self.ref}: {type(target).__name__} is neither a function nor an object with "
                "predict(); point at a function taking the candidates' features"
            )

    def predict(self, features: Features) -> list[float]:
        """One score per candidate of ``features``, as plain floats (a plain sequence of
        mappings is given as :class:`Candidates`, as :class:`LoadedModel` does)."""
        return as_floats(self._predict(Candidates.from_rows(features)))

    def __repr__(self) -> str:
        return f"PythonScorer({self.ref!r})"


def load_python_scorer(spec: str, root: Path | None = None) -> PythonScorer:
    """The scorer ``package.module:function`` names, imported from the installed packages or
    from the project folder ``root``.

    Raises:
        ModelError: it cannot be imported, or is neither callable nor has ``predict``.
    """
    return PythonScorer(spec, load_entry_point(spec, "python scorer", root))


def load_scorer(
    name: str, *, project: Project | Path | str | None = None
) -> LoadedModel | PythonScorer:
    """The scorer ``name`` names: ``python:package.module:function``, or a model reference
    loaded from the registry of ``project`` (see :func:`sameday.models.load_model`)."""
    if name.startswith(PYTHON_PREFIX):
        root = None
        if project is not None:
            root = project.root if isinstance(project, Project) else Path(project)
        return load_python_scorer(name[len(PYTHON_PREFIX) :], root)
    from sameday.models import load_model

    return load_model(name, project=project)
