"""Model references: every accepted spelling, and the refusal of the others."""

from __future__ import annotations

import pytest

from sameday.errors import InvalidModelRef
from sameday.models import ModelRef, parse_ref
from sameday.models.refs import check_name


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("als", ModelRef("als")),
        ("als/3", ModelRef("als", version=3)),
        ("als@champion", ModelRef("als", alias="champion")),
        ("home-ranker_v2@ab-2026.12", ModelRef("home-ranker_v2", alias="ab-2026.12")),
        ("models:/als/12", ModelRef("als", version=12, mlflow=True)),
        ("models:/als@champion", ModelRef("als", alias="champion", mlflow=True)),
    ],
)
def test_accepted_forms_parse_and_print_back(text: str, ref: ModelRef) -> None:
    assert parse_ref(text) == ref
    assert str(ref) == text


@pytest.mark.parametrize(
    "text", ["", "als/", "als@", "als/0", "als/x", "als@a@b", "models:/als", "-als", "a b"]
)
def test_other_spellings_are_refused_with_the_accepted_forms(text: str) -> None:
    with pytest.raises(InvalidModelRef, match=r"NAME@ALIAS|numbered from 1"):
        parse_ref(text)


def test_names_and_aliases_are_not_version_numbers() -> None:
    assert check_name("champion", "alias") == "champion"
    with pytest.raises(InvalidModelRef, match="alias '3' is not valid"):
        check_name("3", "alias")
