"""Models: immutable bundles in a registry, aliases, MLflow both ways, and a training gate.

A training job registers what it trained with one call::

    import sameday.models
    sameday.models.register("als", "out/model", loader="recs.als:load",
                            params={"factors": 64}, metrics={"ndcg@10": 0.31},
                            datasets={"interactions": "2026-12-01"})

or one line in its pipeline (an output with ``register: als``). Every version is a bundle —
the files and their metadata, content-addressed and verified on load — and aliases
(``champion``, ``challenger``, any name) point at versions; ``NAME@alias``, ``NAME/3`` and
MLflow's ``models:/…`` name a model wherever one is taken. :func:`load_model` is the seam
online scoring calls: it returns an object with ``predict(features)`` (the candidates, a
:class:`Candidates`: rows, and numpy columns); :func:`load_scorer`
also takes ``python:package.module:function`` (what an arm's ``python:`` names).

The package sits below ``pipeline`` and ``results`` (which register and gate from jobs) and
above ``monitor`` (whose ``Finding`` carries a gate's decision) and the stores.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from sameday.config.loader import Project
from sameday.metadata import ModelVersionRecord
from sameday.models.candidates import Candidates
from sameday.models.loader import Features, LoadedModel, Model
from sameday.models.refs import ModelRef, parse_ref
from sameday.models.registry import CHAMPION, GateDecision, Registry, open_registry
from sameday.models.scorer import PythonScorer, load_scorer


def register(
    name: str,
    source: str | Path | None = None,
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
    project: Project | Path | str | None = None,
) -> ModelVersionRecord:
    """Register a trained model in the registry of ``project`` (default: the project holding
    the current folder, as in a pipeline job); see :meth:`Registry.register` for the arguments.
    """
    with open_registry(project) as registry:
        return registry.register(
            name,
            Path(source) if source is not None else None,
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
        )


def load_model(ref: str | ModelRef, *, project: Project | Path | str | None = None) -> LoadedModel:
    """The model ``ref`` names (``als@champion``, ``als/3``, ``models:/als@champion``), its
    bundle verified, ready to ``predict(features)``."""
    with open_registry(project) as registry:
        return registry.load(ref)


__all__ = [
    "CHAMPION",
    "Candidates",
    "Features",
    "GateDecision",
    "LoadedModel",
    "Model",
    "ModelRef",
    "PythonScorer",
    "Registry",
    "load_model",
    "load_scorer",
    "open_registry",
    "parse_ref",
    "register",
]
