"""The design registry: every experiment design's name, and the object that implements it.

One table, :data:`DESIGNS`, maps a design's name (what ``design:`` says in an experiment file
and what an exposure records) to its implementation, a :class:`~sameday.designs.base.Design`.
The built-in designs are named by ``"module:attr"`` strings and imported only when first asked
for (as :mod:`sameday.registry` does for storage backends), so this module sits low in the
layers and the config, serve, analysis and reports packages find a design by its name without
importing :mod:`sameday.designs`, which sits above them all. This is the one place the design
names are written.

Adding a design is one entry here plus its module; a design kept outside sameday (a plugin, a
test) calls :func:`register` before the project is loaded.
"""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sameday.designs.base import Design

DESIGNS: dict[str, str | Design] = {
    "ab": "sameday.designs.ab:AB_DESIGN",
    "interleave": "sameday.designs.interleave:INTERLEAVE_DESIGN",
    "bandit": "sameday.designs.bandit:BANDIT_DESIGN",
}
"""name → the design, or the ``"module:attr"`` where it lives."""


def names() -> tuple[str, ...]:
    """The registered design names, sorted."""
    return tuple(sorted(DESIGNS))


def unknown(name: str) -> str | None:
    """Why ``name`` is no design, or ``None`` when it is one."""
    if name in DESIGNS:
        return None
    close = difflib.get_close_matches(name, list(DESIGNS), n=1, cutoff=0.5)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return f"no design named {name!r}{hint} (designs: {', '.join(names())})"


def design(name: str) -> Design:
    """The design registered as ``name``, imported on first use.

    Raises:
        KeyError: ``name`` is not registered (configuration refuses such names at load, see
            :func:`unknown`, so this means a caller skipped validation).
    """
    found = DESIGNS[name]
    if not isinstance(found, str):
        return found
    module_name, _, attr = found.partition(":")
    loaded: Design = getattr(importlib.import_module(module_name), attr)
    return loaded


def register(name: str, implementation: Design | str) -> None:
    """Make ``implementation`` (a design, or ``"module:attr"`` naming one) the design ``name``.

    Raises:
        ValueError: ``name`` is taken: a design cannot silently replace another, since
            exposures already logged under the name would change meaning.
    """
    if name in DESIGNS:
        raise ValueError(f"design {name!r} is already registered; choose another name")
    DESIGNS[name] = implementation
