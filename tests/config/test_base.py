"""The building blocks of ``config._base``: what every project-file model shares."""

from __future__ import annotations
import __future__

import importlib
import pkgutil
import typing
from typing import Any

from pydantic import BaseModel

import sameday.config
from sameday.config import KINDS
from sameday.config._base import StrictModel, empty_list
from sameday.config.project import ProjectSettings


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> set[type[BaseModel]]:
    """``model`` and every model its fields hold, however nested (lists, unions, dicts)."""
    if model in seen:
        return seen
    seen.add(model)
    for info in model.model_fields.values():
        stack: list[Any] = [info.annotation]
        while stack:
            annotation = stack.pop()
            if isinstance(annotation, type) and issubclass(annotation, BaseModel):
                _models(annotation, seen)
            stack.extend(typing.get_args(annotation))
    return seen


def test_no_model_field_has_list_as_its_default_factory() -> None:
    """``inspect.signature(list)``, which pydantic calls on a default factory, costs each load
    ~4 ms (see ``empty_list``); a field written ``default_factory=list`` would bring it back."""
    seen: set[type[BaseModel]] = set()
    for model in (ProjectSettings, *(kind.model for kind in KINDS)):
        _models(model, seen)
    assert len(seen) > 50  # the walk reaches nested models, not just the top-level ones
    offenders = sorted(
        f"{model.__name__}.{name}"
        for model in seen
        for name, info in model.model_fields.items()
        if info.default_factory is list
    )
    assert offenders == []


def test_empty_list_gives_a_new_list_each_time() -> None:
    first = empty_list()
    first.append(1)
    assert empty_list() == []


def test_modules_of_models_keep_annotations_evaluated() -> None:
    """Postponed annotations cost each load ~8 ms of ``ForwardRef`` evaluation (see ``_base``)."""
    modules = [
        importlib.import_module(info.name)
        for info in pkgutil.iter_modules(sameday.config.__path__, "sameday.config.")
    ]
    with_models = [
        module
        for module in modules
        if any(
            isinstance(value, type) and issubclass(value, StrictModel)
            for name, value in vars(module).items()
            if getattr(value, "__module__", None) == module.__name__
        )
    ]
    assert len(with_models) >= 12
    postponed = [
        module.__name__
        for module in with_models
        if getattr(module, "annotations", None) is __future__.annotations
    ]
    assert postponed == []
