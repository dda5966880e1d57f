"""``surfaces/*.yaml``: a place in the product that asks for a list."""

from typing import Any

from pydantic import Field

from sameday.config._base import Key, Name, StrictModel, empty_list
from sameday.config.scoring import Scored


class Rule(StrictModel):
    """Serve another chain to requests whose attributes match ``when``.

    ``when`` is a GrowthBook-style condition, e.g. ``{is_new: true}`` or
    ``{country: {$in: [JP, US]}}``. The first matching rule wins.
    """

    name: Key
    when: dict[str, Any] = Field(description="Condition on request attributes.")
    result_set: Name
    fallbacks: list[Name] = Field(default_factory=empty_list)


class Surface(Scored):
    """A surface: a default result set, its fallbacks, and the shape of the list; its default
    list is re-ranked per request when it names a ``model`` or a ``python`` scorer."""

    name: Name
    description: str = ""
    result_set: Name = Field(description="Result set served when no experiment or rule applies.")
    fallbacks: list[Name] = Field(
        default_factory=empty_list,
        description="Result sets that fill the list, in order, when the key is missing or its "
        "list is shorter than n (e.g. [popular]).",
    )
    key: str = Field(
        "unit",
        description="Request attribute used as the lookup key: 'unit' (a user id), or another "
        "attribute such as 'item' for item-to-item or 'query' for related search.",
    )
    n: int = Field(20, ge=1, le=1000, description="List length when the request gives none.")
    max_n: int = Field(100, ge=1, le=10_000, description="Largest n a request may ask for.")
    rules: list[Rule] = Field(default_factory=empty_list)
