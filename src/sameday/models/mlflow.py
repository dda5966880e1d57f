"""MLflow, both ways: mirror sameday's registry to a tracking server, and read from its registry.

Out: with ``models.mlflow_tracking_uri`` set, each new sameday version becomes an MLflow run
(parameters, metrics, tags naming the sameday version, the bundle's hash and the producing
sameday run) whose ``model`` artifact is the version exported as a pyfunc model, registered
as a version of the MLflow model of the same name; alias moves are mirrored too. MLflow numbers
its versions itself, so the mapping is the ``sameday.version`` tag on each MLflow version.

In: ``models:/NAME@alias`` and ``models:/NAME/VERSION`` load through ``mlflow.pyfunc`` from
that server's registry, whatever framework logged them. And :func:`export_pyfunc` writes a
folder ``mlflow.pyfunc.load_model`` reads (see :mod:`sameday.models._pyfunc`).

MLflow metric names cannot hold ``@``: ``ndcg@10`` is logged as ``ndcg_at_10``.
"""

from __future__ import annotations

import re
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sameday._extras import extra
from sameday.errors import ModelError, ModelNotFound
from sameday.metadata import ModelVersionRecord
from sameday.models.loader import Features, LoadedModel
from sameday.models.refs import ModelRef

TAG_VERSION = "sameday.version"
TAG_HASH = "sameday.content_hash"
TAG_RUN = "sameday.run_id"


def metric_key(name: str) -> str:
    """``name`` as MLflow accepts it: ``@`` spelt ``_at_``, other odd characters ``_``."""
    return re.sub(r"[^\w.\- /:]", "_", name.replace("@", "_at_"))


def _client(uri: str) -> Any:
    with extra("mlflow", f"MLflow at {uri}"):
        from mlflow import MlflowClient
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


@contextmanager
def _errors(uri: str, what: str) -> Iterator[None]:
    """MLflow's exceptions as a :class:`ModelError` naming the server and the step."""
    with extra("mlflow", f"MLflow at {uri}"):
        from mlflow.exceptions import MlflowException

    try:
        yield
    except MlflowException as exc:
        raise ModelError(f"MLflow at {uri}: {what} failed: {exc.message}") from exc


def export_pyfunc(
    record: ModelVersionRecord, bundle_root: Path, manifest: Mapping[str, Any], out: Path
) -> None:
    """Write the bundle at ``bundle_root`` (its manifest and ``files``) as an MLflow model."""
    with extra("mlflow", "exporting a model to MLflow's format"):
        from sameday.models._pyfunc import ARTIFACT, BundleModel, pyfunc
    pyfunc.save_model(
        path=str(out),
        python_model=BundleModel(),  # type: ignore[abstract]  # predict is set after
        artifacts={ARTIFACT: str(bundle_root)},
        model_config={"content_hash": record.content_hash, "ref": record.ref},
        pip_requirements=["sameday"],
        metadata={
            "sameday": {
                "name": record.name,
                "version": record.version,
                "content_hash": record.content_hash,
                "flavor": manifest.get("flavor"),
            }
        },
    )


def mirror_version(
    uri: str,
    experiment: str,
    record: ModelVersionRecord,
    bundle_root: Path,
    manifest: Mapping[str, Any],
    aliases: Sequence[str],
) -> str:
    """Log ``record`` as an MLflow run, register it as a version of ``record.name`` there,
    and point ``aliases`` at it; the MLflow version number.

    A version mirrored before (same ``sameday.version`` tag) is not logged again; its aliases
    still move.

    Raises:
        ModelError: the server refused a step (the sameday version is registered regardless).
    """
    client = _client(uri)
    existing = _find_version(client, uri, record.name, record.version)
    if existing is None:
        existing = _log_version(client, uri, experiment, record, bundle_root, manifest)
    for alias in aliases:
        with _errors(uri, f"setting {record.name}@{alias}"):
            client.set_registered_model_alias(record.name, alias, existing)
    return existing


def _log_version(
    client: Any,
    uri: str,
    experiment: str,
    record: ModelVersionRecord,
    bundle_root: Path,
    manifest: Mapping[str, Any],
) -> str:
    with extra("mlflow", f"MLflow at {uri}"):
        from mlflow.entities import Metric, Param
    with _errors(uri, f"mirroring {record.ref}"):
        found = client.get_experiment_by_name(experiment)
        experiment_id = found.experiment_id if found else client.create_experiment(experiment)
        tags = {TAG_VERSION: str(record.version), TAG_HASH: record.content_hash}
        if record.run_id:
            tags[TAG_RUN] = record.run_id
        run = client.create_run(
            experiment_id, tags={**tags, "sameday.model": record.name}, run_name=record.ref
        )
        run_id = run.info.run_id
        now = int(time.time() * 1000)
        metrics = [
            Metric(metric_key(k), float(v), now, 0)
            for k, v in record.metrics.items()
            if isinstance(v, int | float) and not isinstance(v, bool)
        ]
        params = [Param(k, str(v)[:6000]) for k, v in record.params.items()]
        client.log_batch(run_id, metrics=metrics, params=params)
        with tempfile.TemporaryDirectory(prefix="sameday-mlflow-") as tmp:
            folder = Path(tmp) / "model"
            export_pyfunc(record, bundle_root, manifest, folder)
            client.log_artifacts(run_id, str(folder), "model")
        client.set_terminated(run_id)
        if not client.search_registered_models(f"name = '{record.name}'"):
            client.create_registered_model(record.name)
        version = client.create_model_version(
            record.name,
            source=f"{run.info.artifact_uri}/model",
            run_id=run_id,
            tags=tags,
            description=record.description,
        )
    return str(version.version)


def _find_version(client: Any, uri: str, name: str, version: int) -> str | None:
    """The MLflow version mirroring sameday's ``name/version``, or ``None``."""
    with _errors(uri, f"looking up {name}"):
        if not client.search_registered_models(f"name = '{name}'"):
            return None
        for found in client.search_model_versions(f"name = '{name}'"):
            if found.tags.get(TAG_VERSION) == str(version):
                return str(found.version)
    return None


def mirror_alias(uri: str, name: str, alias: str, version: int | None) -> None:
    """Point MLflow's ``name@alias`` at the mirror of sameday's ``name/version`` (``None``:
    remove the alias).

    Raises:
        ModelError: that version was never mirrored (registered before the tracking URI was
            set), or the server refused.
    """
    client = _client(uri)
    if version is None:
        with _errors(uri, f"removing {name}@{alias}"):
            client.delete_registered_model_alias(name, alias)
        return
    mirrored = _find_version(client, uri, name, version)
    if mirrored is None:
        raise ModelError(
            f"{name}/{version} is not in MLflow at {uri} (registered before the tracking URI was "
            f"set?): the alias {alias!r} moved in sameday only"
        )
    with _errors(uri, f"setting {name}@{alias}"):
        client.set_registered_model_alias(name, alias, mirrored)


class PyfuncScorer:
    """An MLflow pyfunc model behind sameday's ``predict(features)``: rows become a DataFrame."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def predict(self, features: Features) -> list[float]:
        with extra("mlflow", "scoring with an MLflow model"):
            import pandas as pd

        scores = self._model.predict(pd.DataFrame(list(features)))
        values = scores.tolist() if hasattr(scores, "tolist") else list(scores)
        return [float(v[0] if isinstance(v, list) else v) for v in values]


def pin(uri: str, ref: ModelRef) -> ModelRef:
    """The MLflow version ``ref`` names now: ``models:/NAME@alias`` becomes ``models:/NAME/7``
    (asked of the server each time: an alias moved in MLflow is followed), a version stays.

    Raises:
        ModelNotFound: the server has no such model or alias.
        ModelError: the server refused or cannot be reached.
    """
    if ref.alias is None:
        return ref
    client = _client(uri)
    with extra("mlflow", f"MLflow at {uri}"):
        from mlflow.exceptions import MlflowException
    try:
        found = client.get_model_version_by_alias(ref.name, ref.alias)
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise ModelNotFound(f"MLflow at {uri} has no {ref}: {exc.message}") from exc
        raise ModelError(f"MLflow at {uri}: resolving {ref} failed: {exc.message}") from exc
    return ModelRef(ref.name, version=int(found.version), mlflow=True)


def load(uri: str, ref: ModelRef) -> LoadedModel:
    """The MLflow model ``ref`` (``models:/NAME@alias``, ``models:/NAME/VERSION``) from the
    registry at ``uri``, ready to predict.

    Raises:
        ModelNotFound: the server has no such model, version or alias.
    """
    with extra("mlflow", f"loading {ref}"):
        import mlflow
        from mlflow.exceptions import MlflowException

        from sameday.models._pyfunc import pyfunc  # imported with MLflow's warnings quiet
    previous = (mlflow.get_tracking_uri(), mlflow.get_registry_uri())
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        model = pyfunc.load_model(str(ref))
    except MlflowException as exc:
        if exc.error_code in ("RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"):
            raise ModelNotFound(f"MLflow at {uri} has no {ref}: {exc.message}") from exc
        raise ModelError(f"MLflow at {uri}: loading {ref} failed: {exc.message}") from exc
    finally:
        mlflow.set_tracking_uri(previous[0])
        mlflow.set_registry_uri(previous[1])
    return LoadedModel(str(ref), PyfuncScorer(model), None, None)
