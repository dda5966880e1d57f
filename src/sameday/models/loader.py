"""Turning a verified bundle into something that predicts.

A bundle says how it loads in its manifest's ``flavor``:

* ``pickle``: ``files/model.pkl`` holds a pickled object with a ``predict`` method (what
  :func:`sameday.models.register` writes when given ``model=``). Its class must be importable
  where the model loads: define it in a module, not in ``__main__``;
* ``python``: ``loader: "package.module:function"`` is called with the bundle's ``files``
  folder and returns the object (for frameworks with their own file format: a LightGBM text
  file, an ``implicit`` ``.npz``, ONNX…);
* ``files``: just files, for whoever reads them; loading one for prediction is refused.

The returned :class:`LoadedModel` is the seam online scoring builds on: ``predict(features)``
with one mapping of features per candidate, returning one score per candidate.
"""

from __future__ import annotations

import importlib
import pickle
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sameday.errors import ModelError
from sameday.metadata import ModelVersionRecord
from sameday.models.candidates import Candidates

PICKLE_FILE = "model.pkl"
FLAVORS = ("pickle", "python", "files")

Features = Sequence[Mapping[str, Any]]
"""The candidates a scorer orders: one mapping of feature name to value per candidate (the
request's attributes and the item's). Online scoring passes a
:class:`~sameday.models.candidates.Candidates`, which also answers in columns."""


class Model(Protocol):
    """Anything that scores candidates: one score per row of ``features``."""

    def predict(self, features: Features) -> Sequence[float]:
        """Score each candidate (higher ranks first)."""
        ...


class LoadedModel:
    """A model version ready to predict, with the record of what it is.

    Attributes:
        record: the registry's record (name, version, hash, metadata), or ``None`` for a model
            loaded from MLflow's registry.
        ref: the reference it was loaded by, resolved (``als/3``, ``models:/als/2``).
        path: the local folder of its files (``None`` for an MLflow model).
        inner: the object the bundle's flavor produced.
    """

    def __init__(
        self, ref: str, inner: Model, record: ModelVersionRecord | None, path: Path | None
    ) -> None:
        self.ref = ref
        self.inner = inner
        self.record = record
        self.path = path

    def predict(self, features: Features) -> list[float]:
        """One score per candidate of ``features``, as plain floats; a plain sequence of
        mappings is given to the model as :class:`Candidates` (rows and columns) too."""
        return as_floats(self.inner.predict(Candidates.from_rows(features)))

    def __repr__(self) -> str:
        return f"LoadedModel({self.ref!r}, {type(self.inner).__name__})"


def as_floats(scores: Any) -> list[float]:
    """A model's scores as plain floats: in one step for a 1-D array or a list of numbers,
    one by one otherwise (a column of 1-element rows, say)."""
    try:
        array = np.asarray(scores, dtype=np.float64)
    except (TypeError, ValueError):
        array = None
    if array is not None and array.ndim == 1:
        values: list[float] = array.tolist()
        return values
    return [float(score) for score in scores]


def load_entry_point(spec: str, what: str, root: Path | None = None) -> Any:
    """The object named by ``"package.module:attribute"``, looked for in the installed packages,
    then in the project folder ``root`` (where training code usually lives, and where jobs run).

    Raises:
        ModelError: the module cannot be imported or has no such attribute.
    """
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ModelError(f"{what} {spec!r} is not 'package.module:function'")
    try:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if root is None or str(root) in sys.path or exc.name != module_name.split(".")[0]:
                raise
            sys.path.append(str(root))
            module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ModelError(
            f"{what} {spec!r}: cannot import {module_name!r} ({exc}); install it, or run from "
            "the folder that holds it"
        ) from exc
    try:
        return getattr(module, attribute)
    except AttributeError as exc:
        raise ModelError(f"{what} {spec!r}: {module_name!r} has no {attribute!r}") from exc


def instantiate(
    folder: Path, manifest: Mapping[str, Any], ref: str, root: Path | None = None
) -> Model:
    """The predicting object of the bundle whose verified files are in ``folder``; a loader is
    looked for in the project folder ``root`` too.

    Raises:
        ModelError: the flavor is unknown or ``files``, or loading failed.
    """
    flavor = manifest.get("flavor")
    if flavor == "pickle":
        try:
            with (folder / PICKLE_FILE).open("rb") as handle:
                inner = pickle.load(handle)
        except (AttributeError, ImportError, pickle.UnpicklingError) as exc:
            raise ModelError(
                f"{ref}: cannot unpickle {PICKLE_FILE} ({type(exc).__name__}: {exc}); the "
                "model's class must be importable here (defined in a module, not __main__)"
            ) from exc
    elif flavor == "python":
        loader = load_entry_point(str(manifest.get("loader")), f"{ref}: loader", root)
        inner = loader(folder)
    elif flavor == "files":
        raise ModelError(
            f"{ref} is a bundle of files with no loader: register it with model=… or "
            "loader='package.module:function' to load it for prediction"
        )
    else:
        raise ModelError(f"{ref}: unknown flavor {flavor!r} (known: {', '.join(FLAVORS)})")
    if not callable(getattr(inner, "predict", None)):
        raise ModelError(f"{ref}: the loaded {type(inner).__name__} has no predict() method")
    model: Model = inner
    return model
