"""The MLflow ``pyfunc`` face of a sameday bundle, for ``sameday models export --format mlflow``.

The exported folder carries the whole bundle (manifest and files) as an MLflow artifact, and
this class as its Python model: loading it verifies the bundle against the hash recorded at
export, then loads it exactly as sameday does, so ``mlflow.pyfunc.load_model(out).predict``
and sameday's ``predict`` run the same code on the same bytes. MLflow passes a DataFrame; each
row becomes one candidate's features, given to the model as sameday gives them
(:class:`~sameday.models.candidates.Candidates`: rows, and columns).

This module imports MLflow at the top: import it only under ``extra("mlflow", …)``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

from sameday.models._files import LocalFiles
from sameday.models.bundle import fetch_bundle
from sameday.models.candidates import Candidates
from sameday.models.loader import Model, as_floats, instantiate

# MLflow warns about its own type hints while it loads.
with warnings.catch_warnings():
    warnings.filterwarnings("ignore", ".*[Tt]ype hint", UserWarning)
    import mlflow.pyfunc as pyfunc
    from mlflow.pyfunc.model import PythonModel

ARTIFACT = "bundle"
__all__ = ["ARTIFACT", "BundleModel", "pyfunc"]


class BundleModel(PythonModel):
    """An MLflow Python model that scores with a verified sameday bundle."""

    def load_context(self, context: Any) -> None:
        """Verify the bundle carried as an artifact and load it as sameday does."""
        root = Path(context.artifacts[ARTIFACT])
        config = context.model_config
        folder, manifest = fetch_bundle(
            LocalFiles(root.parent), root.name, config["content_hash"], root.parent
        )
        self._model: Model = instantiate(folder, manifest, config["ref"])


def _predict(self, context, model_input, params=None):  # type: ignore[no-untyped-def]
    """One score per row of ``model_input`` (a DataFrame, or a list of feature dicts)."""
    rows = model_input.to_dict("records") if hasattr(model_input, "to_dict") else model_input
    return as_floats(self._model.predict(Candidates.from_rows(rows)))


# Unannotated, and attached after the class is made, on purpose: MLflow reads the type hints of
# a PythonModel's predict as an input schema (converting the DataFrame it is given, and warning
# whatever the hints are, or that there are none). A bundle's signature is its own; the rows go
# through as they come.
setattr(BundleModel, "predict", _predict)  # noqa: B010
