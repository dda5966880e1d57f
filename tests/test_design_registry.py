"""The design registry: names, lookups, and a registration that cannot replace a design."""

from __future__ import annotations

import pytest

from sameday import design_registry
from sameday.designs.ab import AB_DESIGN
from sameday.designs.bandit import BANDIT_DESIGN
from sameday.designs.interleave import INTERLEAVE_DESIGN


def test_the_built_in_designs_are_imported_on_first_use() -> None:
    assert design_registry.names() == ("ab", "bandit", "interleave")
    assert design_registry.design("ab") is AB_DESIGN
    assert design_registry.design("interleave") is INTERLEAVE_DESIGN
    assert design_registry.design("bandit") is BANDIT_DESIGN


def test_an_unknown_name_is_explained() -> None:
    assert design_registry.unknown("ab") is None
    assert design_registry.unknown("bandits") == (
        "no design named 'bandits'; did you mean 'bandit'? (designs: ab, bandit, interleave)"
    )
    assert design_registry.unknown("holdout") == (
        "no design named 'holdout' (designs: ab, bandit, interleave)"
    )


def test_a_registered_name_cannot_be_taken_again() -> None:
    with pytest.raises(ValueError, match="design 'ab' is already registered"):
        design_registry.register("ab", "mypackage.designs:AB")
    assert design_registry.design("ab") is AB_DESIGN
