"""``sameday/ope/candidates.py``: the candidate policies named on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from sameday.errors import PolicyError
from sameday.ope.candidates import parse_candidate
from sameday.ope.policies import BernoulliTS, Fixed, ResultSet, Uniform
from sameday.store.memory import MemoryStore

PRIORS = "all: {alpha: [1, 2], beta: [3, 4]}\nmen: {alpha: [5, 6, 7], beta: [1, 1, 1]}\n"


def test_uniform_and_fixed() -> None:
    assert parse_candidate("uniform") == Uniform()
    fixed = parse_candidate("fixed:item-7")
    assert fixed == Fixed("item-7", name="fixed:item-7")
    assert fixed.name == "fixed:item-7"  # reports name a candidate as it was written


def test_bts_priors_are_read_relative_to_the_project(tmp_path: Path) -> None:
    (tmp_path / "priors.yaml").write_text(PRIORS)
    default = parse_candidate("bts:priors.yaml", root=tmp_path)
    assert isinstance(default, BernoulliTS)
    assert (list(default.alpha), list(default.beta)) == ([1.0, 2.0], [3.0, 4.0])
    men = parse_candidate(f"bts:{tmp_path / 'priors.yaml'}#men", root=Path("/elsewhere"))
    assert isinstance(men, BernoulliTS) and list(men.actions) == ["0", "1", "2"]
    with pytest.raises(PolicyError, match="has no 'women' priors with 'alpha' and 'beta' lists"):
        parse_candidate("bts:priors.yaml#women", root=tmp_path)


def test_a_result_set_needs_the_serving_store() -> None:
    with pytest.raises(PolicyError, match="needs the project's serving store"):
        parse_candidate("result-set:personal")
    store = MemoryStore()
    candidate = parse_candidate("result-set:personal", store=store)
    assert isinstance(candidate, ResultSet)
    assert (candidate.result_set, candidate.name, candidate.store) == (
        "personal",
        "result-set:personal",
        store,
    )


@pytest.mark.parametrize(
    "spec", ["", "greedy", "uniform:3", "fixed", "fixed:", "bts:", "result-set:", "Uniform"]
)
def test_anything_else_is_refused_with_the_forms_that_exist(spec: str) -> None:
    with pytest.raises(PolicyError) as err:
        parse_candidate(spec, store=MemoryStore())
    assert str(err.value) == (
        f"unknown candidate policy {spec!r}: use uniform, fixed:ACTION, "
        "bts:PRIORS.yaml[#campaign] or result-set:NAME"
    )
