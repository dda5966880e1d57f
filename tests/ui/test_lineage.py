"""The lineage page: the neighbourhood of a node, left to right."""

from __future__ import annotations

import re

from sameday.ui.lineage import columns, lineage_page
from sameday.ui.state import Dashboard


def test_every_edge_points_right() -> None:
    nodes = {"a", "b", "c", "d"}
    edges = [("a", "b"), ("b", "c"), ("a", "c"), ("d", "c")]
    placed = columns(nodes, edges)
    assert placed == {"a": 0, "b": 1, "c": 2, "d": 0}
    assert all(placed[s] < placed[t] for s, t in edges)


def test_a_cycle_still_places_every_node() -> None:
    placed = columns({"a", "b"}, [("a", "b"), ("b", "a")])
    assert set(placed) == {"a", "b"}


def test_the_page_draws_the_nodes_within_reach_as_links(dashboard: Dashboard) -> None:
    page = lineage_page(dashboard, "popular", 1, "/lineage?node=")
    assert page is not None and page.node == "result_set:popular"
    linked = set(re.findall(r'href="/lineage\?node=([^"]+)"', page.svg))
    assert linked == {
        "result_set:popular", "job:daily.popular", "surface:home", "experiment:home-personal",
    }  # fmt: skip
    assert "job daily.popular" in page.upstream[0]
    deeper = lineage_page(dashboard, "popular", 3, "/lineage?node=")
    assert deeper is not None and "job:daily.extract" in deeper.svg
