"""The registry of a project: register bundles, move aliases, gate candidates, load versions.

:class:`Registry` joins the three places a model lives: the metadata store (versions, aliases,
history), the artifact location (bundles, through :mod:`sameday.models._files`), and, when
``models.mlflow_tracking_uri`` is set, the team's MLflow server, which mirrors every
registration and alias move (:mod:`sameday.models.mlflow`). sameday's registry is the source
of truth; a mirror that fails raises after the sameday side is recorded, saying so.
"""

from __future__ import annotations

import functools
import os
import pickle
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sameday.config.loader import Project, load_project
from sameday.errors import ModelError
from sameday.metadata import MetadataStore, ModelEvent, ModelSummary, ModelVersionRecord
from sameday.models import gate as gating
from sameday.models._files import ArtifactFiles, open_files
from sameday.models.bundle import FILES, bundle_path, fetch_bundle, file_table, write_bundle
from sameday.models.environment import code_version, environment
from sameday.models.loader import PICKLE_FILE, LoadedModel, Model, instantiate
from sameday.models.refs import ModelRef, check_name, parse_ref
from sameday.monitor.check import Finding

CHAMPION = "champion"


@dataclass(frozen=True)
class GateDecision:
    """What the gate decided about a candidate of ``name``, and on which evidence.

    ``version`` is the new champion's record when blessed, ``None`` when refused (nothing was
    registered, no alias moved). ``finding`` is the decision for the alerting layer.
    """

    name: str
    blessed: bool
    version: ModelVersionRecord | None
    champion: int | None
    verdict: gating.GateVerdict
    finding: Finding


def _datasets(datasets: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None) -> list[Any]:
    """``{"interactions": "2026-12-01"}`` or ``[{"name": …, "version": …, "uri": …}]`` → list."""
    if datasets is None:
        return []
    if isinstance(datasets, Mapping):
        return [{"name": str(k), "version": v} for k, v in datasets.items()]
    return [dict(d) for d in datasets]


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "double"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def infer_signature(
    example: Sequence[Mapping[str, Any]], scores: Sequence[float]
) -> dict[str, Any]:
    """The input/output signature shown by an example: each feature's type, one score a row."""
    inputs: dict[str, str] = {}
    for row in example:
        for key, value in row.items():
            inputs.setdefault(str(key), _json_type(value))
    if len(scores) != len(example):
        raise ModelError(
            f"predict() returned {len(scores)} scores for {len(example)} example rows: a "
            "model must return one score per candidate"
        )
    return {
        "inputs": [{"name": k, "type": t} for k, t in inputs.items()],
        "outputs": [{"name": "score", "type": "double"}],
    }


class Registry:
    """The model registry of ``project``, over an open ``metadata`` store.

    Example::

        with open_registry() as registry:
            record = registry.register("als", Path("out/model"), loader="train:load",
                                       metrics={"ndcg@10": 0.31}, aliases=["challenger"])
            model = registry.load("als@challenger")
            scores = model.predict([{"user": "u1", "item": "i9"}])
    """

    def __init__(self, project: Project, metadata: MetadataStore) -> None:
        self.project = project
        self.metadata = metadata
        self.cache = project.path(project.settings.models.cache)

    @functools.cached_property
    def files(self) -> ArtifactFiles:
        """The artifact location; opened on first use, so listing models needs no fsspec."""
        return open_files(self.project.settings.storage.artifacts, self.project.root)

    def __repr__(self) -> str:
        artifacts = self.project.settings.storage.artifacts
        return f"Registry(project={self.project.name!r}, artifacts={artifacts!r})"

    # Registering.

    def register(
        self,
        name: str,
        source: Path | None = None,
        *,
        model: Model | None = None,
        loader: str | None = None,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, Any] | None = None,
        datasets: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        signature: Mapping[str, Any] | None = None,
        input_example: Sequence[Mapping[str, Any]] | None = None,
        run_id: str | None = None,
        description: str | None = None,
        aliases: Sequence[str] = (),
        actor: str | None = None,
    ) -> ModelVersionRecord:
        """Write a bundle and register it as ``name``'s next version (or the version it already
        is: registering the same bundle twice returns the first).

        Args:
            source: the file or folder the training job wrote (any framework).
            model: an object with ``predict``, pickled into the bundle (flavor ``pickle``).
            loader: ``"package.module:function"`` that loads ``source``'s files (flavor
                ``python``); without ``model`` or ``loader`` the bundle is files only.
            params, metrics: training parameters and offline metrics (JSON values).
            datasets: the training data and versions, ``{name: version}`` or a list of dicts.
            signature: ``{"inputs": […], "outputs": […]}``; inferred from ``input_example``.
            run_id: the producing run (default: ``$SAMEDAY_RUN_ID``, set in pipeline jobs).
            aliases: aliases to point at the new version (``["challenger"]``).

        Raises:
            ModelError: nothing to register, or the metadata is not JSON.
            InvalidModelRef: a bad name or alias.
        """
        check_name(name)
        for alias in aliases:
            check_name(alias, "alias")
        record, _ = self._register(
            name,
            source,
            model=model,
            loader=loader,
            params=params,
            metrics=metrics,
            datasets=datasets,
            signature=signature,
            input_example=input_example,
            run_id=run_id,
            description=description,
            aliases=aliases,
            actor=actor,
        )
        return record

    def _register(
        self,
        name: str,
        source: Path | None,
        *,
        model: Model | None,
        loader: str | None,
        params: Mapping[str, Any] | None,
        metrics: Mapping[str, Any] | None,
        datasets: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None,
        signature: Mapping[str, Any] | None,
        input_example: Sequence[Mapping[str, Any]] | None,
        run_id: str | None,
        description: str | None,
        aliases: Sequence[str],
        actor: str | None,
        alias_action: str = "register",
        evidence: dict[str, Any] | None = None,
    ) -> tuple[ModelVersionRecord, bool]:
        if model is None and source is None:
            raise ModelError(f"register {name!r}: give the files (source) or a model object")
        if model is not None and loader is not None:
            raise ModelError(f"register {name!r}: give model= or loader=, not both")
        run_id = run_id if run_id is not None else os.environ.get("SAMEDAY_RUN_ID")
        flavor = "pickle" if model is not None else "python" if loader else "files"
        with tempfile.TemporaryDirectory(prefix="sameday-model-") as tmp:
            folder = Path(tmp) / FILES
            folder.mkdir()
            if source is not None:
                source = source if source.is_absolute() else self.project.root / source
                if not source.exists():
                    raise ModelError(f"register {name!r}: {source} does not exist")
                target = folder / source.name if source.is_file() else folder
                _copy(source, target)
            if model is not None:
                with (folder / PICKLE_FILE).open("wb") as handle:
                    pickle.dump(model, handle, protocol=pickle.HIGHEST_PROTOCOL)
            if signature is None and input_example is not None:
                how = {"flavor": flavor, "loader": loader}
                root = self.project.root
                scorer = model if model is not None else instantiate(folder, how, name, root)
                signature = infer_signature(input_example, list(scorer.predict(input_example)))
            values = {"params": dict(params or {}), "metrics": dict(metrics or {})}
            env = environment()
            lineage: dict[str, Any] = {
                "datasets": _datasets(datasets),
                "code": code_version(self.project.root),
                "signature": dict(signature) if signature is not None else None,
                "loader": loader,
            }
            metadata = {
                "flavor": flavor,
                **values,
                **lineage,
                "environment": env,
                "run_id": run_id,
                "description": description,
            }
            stored = write_bundle(self.files, name, folder.parent, metadata)
        # The registry row keeps what people query; the package lock stays in the manifest.
        lineage["environment"] = {k: v for k, v in env.items() if k != "packages"}
        record, created = self.metadata.create_model_version(
            name,
            content_hash=stored.content_hash,
            bundle_url=stored.url,
            flavor=flavor,
            params=values["params"],
            metrics=values["metrics"],
            lineage=lineage,
            run_id=run_id,
            description=description,
            actor=actor,
            aliases=aliases,
            alias_action=alias_action,
            evidence=evidence,
        )
        if created or aliases:
            self._mirror(record, aliases)
        return record, created

    def _mirror(self, record: ModelVersionRecord, aliases: Sequence[str]) -> None:
        uri = self.project.settings.models.mlflow_tracking_uri
        if not uri:
            return
        from sameday.models import mlflow as mlflow_interop

        folder, manifest = self._fetch(record)
        experiment = self.project.settings.models.mlflow_experiment or self.project.name
        mlflow_interop.mirror_version(uri, experiment, record, folder.parent, manifest, aliases)

    def _mirror_alias(self, name: str, alias: str, version: int | None) -> None:
        uri = self.project.settings.models.mlflow_tracking_uri
        if uri:
            from sameday.models import mlflow as mlflow_interop

            mlflow_interop.mirror_alias(uri, name, alias, version)

    # Reading.

    def resolve(self, ref: str | ModelRef) -> ModelVersionRecord:
        """The version ``ref`` names now (``NAME``: the newest).

        Raises:
            InvalidModelRef: ``ref`` is malformed, or a ``models:/`` one (see :meth:`load`).
            ModelNotFound: no such model, version or alias.
        """
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        if parsed.mlflow:
            from sameday.errors import InvalidModelRef

            raise InvalidModelRef(
                f"{parsed} names a model in MLflow's registry, not a sameday version: load or "
                "export it, or name the sameday version (NAME/VERSION, NAME@ALIAS)"
            )
        return self.metadata.model_version(parsed.name, version=parsed.version, alias=parsed.alias)

    def pin(self, ref: str | ModelRef) -> str:
        """The exact version ``ref`` names now, as a reference: ``ranker@champion`` becomes
        ``ranker/4``, ``models:/ranker@champion`` ``models:/ranker/7`` (asked of MLflow).

        A server polls this to follow an alias, wherever the alias lives.

        Raises:
            InvalidModelRef: ``ref`` is malformed.
            ModelNotFound: no such model, version or alias.
        """
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        if parsed.mlflow:
            from sameday.models import mlflow as mlflow_interop

            return str(mlflow_interop.pin(self._tracking_uri(parsed), parsed))
        return self.resolve(parsed).ref

    def list_models(self) -> list[ModelSummary]:
        """Every model, by name."""
        return self.metadata.list_models()

    def versions(self, name: str, limit: int | None = None) -> list[ModelVersionRecord]:
        """The newest ``limit`` versions of ``name`` (every one by default), newest first."""
        return self.metadata.model_versions(name, limit)

    def aliases(self, name: str) -> dict[str, int]:
        """Every alias of ``name`` and the version it points at, by alias."""
        return self.metadata.model_aliases(name)

    def history(self, name: str, limit: int | None = None) -> list[ModelEvent]:
        """``name``'s registrations, alias moves and gate decisions, newest first."""
        return self.metadata.model_history(name, limit)

    def manifest(self, ref: str | ModelRef) -> dict[str, Any]:
        """The verified manifest of the bundle ``ref`` names (the whole metadata)."""
        return self._fetch(self.resolve(ref))[1]

    def _fetch(self, record: ModelVersionRecord) -> tuple[Path, dict[str, Any]]:
        path = bundle_path(record.name, record.content_hash)
        return fetch_bundle(self.files, path, record.content_hash, self.cache)

    def load(self, ref: str | ModelRef) -> LoadedModel:
        """The model ``ref`` names, verified and ready to predict.

        ``models:/NAME@alias`` and ``models:/NAME/VERSION`` load from the MLflow registry of
        ``models.mlflow_tracking_uri``.

        Raises:
            BundleCorrupted: the bundle's bytes are not those registered.
            ModelNotFound, ModelError: see :meth:`resolve` and the flavors in
                :mod:`sameday.models.loader`.
        """
        parsed = parse_ref(ref) if isinstance(ref, str) else ref
        if parsed.mlflow:
            from sameday.models import mlflow as mlflow_interop

            return mlflow_interop.load(self._tracking_uri(parsed), parsed)
        record = self.resolve(parsed)
        folder, manifest = self._fetch(record)
        inner = instantiate(folder, manifest, record.ref, self.project.root)
        return LoadedModel(record.ref, inner, record, folder)

    def _tracking_uri(self, ref: ModelRef) -> str:
        uri = self.project.settings.models.mlflow_tracking_uri
        if not uri:
            raise ModelError(
                f"{ref} is an MLflow reference, but the project has no MLflow server: set "
                "models.mlflow_tracking_uri in sameday.yaml"
            )
        return uri

    def export(self, ref: str | ModelRef, out: Path, *, format: str = "mlflow") -> Path:
        """Write the version ``ref`` names as an MLflow model folder that
        ``mlflow.pyfunc.load_model(out)`` loads and that predicts as :meth:`load`'s does.

        Raises:
            ModelError: an unknown ``format``, or ``out`` exists.
        """
        if format != "mlflow":
            raise ModelError(f"unknown export format {format!r}: the one format is 'mlflow'")
        if out.exists():
            raise ModelError(f"{out} exists: export writes a new folder, choose another path")
        record = self.resolve(ref)
        folder, manifest = self._fetch(record)
        # Refuse a bundle that cannot predict, rather than export one MLflow cannot load.
        instantiate(folder, manifest, record.ref, self.project.root)
        from sameday.models import mlflow as mlflow_interop

        mlflow_interop.export_pyfunc(record, folder.parent, manifest, out)
        return out

    # Aliases.

    def set_alias(self, ref: str, alias: str, *, reason: str | None = None) -> ModelEvent:
        """Point ``alias`` at the version ``ref`` names (``als/3``, ``als@challenger``)."""
        check_name(alias, "alias")
        record = self.resolve(ref)
        event = self.metadata.set_model_alias(record.name, alias, record.version, reason=reason)
        self._mirror_alias(record.name, alias, record.version)
        return event

    def delete_alias(self, name: str, alias: str, *, reason: str | None = None) -> ModelEvent:
        """Remove ``name@alias``."""
        event = self.metadata.delete_model_alias(name, alias, reason=reason)
        self._mirror_alias(name, alias, None)
        return event

    def promote(self, ref: str, *, to: str = CHAMPION, reason: str | None = None) -> ModelEvent:
        """Make the version ``ref`` names the ``to`` alias's (default: the champion)."""
        check_name(to, "alias")
        record = self.resolve(ref)
        event = self.metadata.set_model_alias(
            record.name, to, record.version, action="promote", reason=reason
        )
        self._mirror_alias(record.name, to, record.version)
        return event

    def rollback(
        self, name: str, *, alias: str = CHAMPION, reason: str | None = None
    ) -> ModelEvent:
        """Point ``name@alias`` back where it pointed before its latest move."""
        event = self.metadata.rollback_model_alias(name, alias, reason=reason)
        self._mirror_alias(name, alias, event.version)
        return event

    # The gate.

    def gate(
        self,
        name: str,
        source: Path | None,
        conditions: Sequence[str],
        metrics: Mapping[str, Any],
        *,
        champion_metrics: Mapping[str, Any] | None = None,
        model: Model | None = None,
        loader: str | None = None,
        params: Mapping[str, Any] | None = None,
        datasets: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
        signature: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        description: str | None = None,
    ) -> GateDecision:
        """Compare a candidate with the champion; register and crown it only when blessed.

        Blessed: the candidate becomes ``name``'s next version with the alias ``champion``, in
        one transaction with the decision and its evidence. Refused: nothing is written but
        the decision in ``name``'s history; the returned finding says why.

        Args:
            metrics: the candidate's offline metrics, from the evaluate job.
            champion_metrics: the champion's, scored by the same evaluation (default: the
                metrics registered with the champion version).

        Raises:
            GateError: a condition is malformed or names a metric that is missing.
        """
        check_name(name)
        parsed = [gating.parse_condition(text) for text in conditions]
        champion = self._champion(name)
        reference = None
        if champion is not None:
            reference = champion_metrics if champion_metrics is not None else champion.metrics
        verdict = gating.evaluate(parsed, metrics, reference)
        run_id = run_id if run_id is not None else os.environ.get("SAMEDAY_RUN_ID")
        evidence: dict[str, Any] = {
            "conditions": [c.text for c in parsed],
            "checks": gating.checks_evidence(verdict),
            "candidate": dict(metrics),
            "champion": {
                "version": champion.version if champion else None,
                "metrics": dict(reference) if reference is not None else None,
                "scored_by": "evaluation" if champion_metrics is not None else "registry",
            },
            "run_id": run_id,
        }
        champion_version = champion.version if champion else None
        decision_finding = gating.finding(name, verdict, champion_version, evidence)
        if not verdict.blessed:
            if source is not None and source.exists():
                evidence["candidate_files"] = _files_digest(source)
            self.metadata.record_model_event(
                name, "gate-refused", reason=decision_finding.summary, evidence=evidence
            )
            return GateDecision(name, False, None, champion_version, verdict, decision_finding)
        record, _ = self._register(
            name,
            source,
            model=model,
            loader=loader,
            params=params,
            metrics=metrics,
            datasets=datasets,
            signature=signature,
            input_example=None,
            run_id=run_id,
            description=description or decision_finding.summary,
            aliases=[CHAMPION],
            actor=None,
            alias_action="gate-blessed",
            evidence=evidence,
        )
        return GateDecision(name, True, record, champion_version, verdict, decision_finding)

    def _champion(self, name: str) -> ModelVersionRecord | None:
        from sameday.errors import ModelNotFound

        try:
            return self.metadata.model_version(name, alias=CHAMPION)
        except ModelNotFound:
            return None


def _copy(source: Path, target: Path) -> None:
    if source.is_file():
        target.write_bytes(source.read_bytes())
        return
    for file in sorted(source.rglob("*")):
        if file.is_file():
            destination = target / file.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(file.read_bytes())


def _files_digest(source: Path) -> dict[str, str]:
    """The SHA-256 of each candidate file: evidence of what was refused, with nothing kept."""
    if source.is_file():
        return {source.name: file_table(source.parent)[source.name]["sha256"]}
    return {path: entry["sha256"] for path, entry in file_table(source).items()}


@contextmanager
def open_registry(project: Project | Path | str | None = None) -> Iterator[Registry]:
    """The registry of ``project`` (a loaded project, its folder, or ``None``: the project
    holding the current folder), with its metadata store open for the block."""
    loaded = project if isinstance(project, Project) else load_project(project)
    url = loaded.url(loaded.settings.storage.metadata)
    with MetadataStore.open(url, migrate=True) as metadata:
        yield Registry(loaded, metadata)
