"""``sameday/pipeline/dag.py``: cycles, start order and what lies downstream of a job."""

from __future__ import annotations

import itertools
import random

import pytest

from sameday.config.graph import find_cycle
from sameday.pipeline.dag import downstream, topological_order


def test_an_acyclic_graph_has_no_cycle() -> None:
    assert find_cycle({}) is None
    assert find_cycle({"a": [], "b": ["a"], "c": ["a", "b"]}) is None
    assert find_cycle({"a": ["missing"]}) is None  # unknown targets are reported elsewhere


def test_a_cycle_is_returned_as_a_closed_path() -> None:
    assert find_cycle({"a": ["a"]}) == ["a", "a"]
    edges = {"root": [], "a": ["root", "c"], "b": ["a"], "c": ["b"], "d": ["c"]}
    cycle = find_cycle(edges)
    assert cycle is not None and cycle[0] == cycle[-1]
    assert set(cycle) == {"a", "b", "c"} and len(cycle) == 4
    assert all(dep in edges[node] for node, dep in itertools.pairwise(cycle))  # real edges


def test_a_long_chain_does_not_hit_the_recursion_limit() -> None:
    n = 5000  # deeper than Python's default recursion limit of 1000
    chain = {f"j{i}": [f"j{i - 1}"] if i else [] for i in range(n)}
    assert find_cycle(chain) is None
    short = {name: deps for name, deps in list(chain.items())[:300]}  # the order is quadratic
    assert topological_order(dict(reversed(short.items()))) == list(short)
    chain["j0"] = [f"j{n - 1}"]
    cycle = find_cycle(chain)
    assert cycle is not None and len(cycle) == n + 1


def test_order_puts_dependencies_first_and_keeps_declaration_order_on_ties() -> None:
    edges = {"report": ["train", "extract"], "extract": [], "train": ["extract"], "lint": []}
    assert topological_order(edges) == ["extract", "lint", "train", "report"]
    assert topological_order({"b": ["gone"], "a": []}) == ["b", "a"]


def test_order_of_random_graphs_respects_every_edge() -> None:
    rng = random.Random(13)
    for _ in range(50):
        names = [f"n{i}" for i in range(rng.randint(1, 12))]
        rng.shuffle(names)
        # Edges only point to earlier names in a hidden order: acyclic by construction.
        edges = {
            name: rng.sample(names[:index], rng.randint(0, index))
            for index, name in enumerate(names)
        }
        order = topological_order(edges)
        assert sorted(order) == sorted(names)
        position = {name: i for i, name in enumerate(order)}
        assert all(position[dep] < position[node] for node, deps in edges.items() for dep in deps)


def test_order_of_a_cyclic_graph_names_the_cycle() -> None:
    with pytest.raises(ValueError, match=r"^dependency cycle: a -> b -> a$"):
        topological_order({"a": ["b"], "b": ["a"], "c": []})


def test_downstream_is_the_roots_and_everything_depending_on_them() -> None:
    edges = {"a": [], "b": ["a"], "c": ["b"], "d": ["a"], "x": [], "y": ["x", "c"]}
    assert downstream(edges, ["b"]) == {"b", "c", "y"}
    assert downstream(edges, ["a"]) == {"a", "b", "c", "d", "y"}
    assert downstream(edges, ["x", "d"]) == {"x", "d", "y"}
    assert downstream(edges, []) == set()


def _waves(edges: dict[str, list[str]]) -> list[str]:
    """The order by definition: repeatedly take every ready node, in declaration order."""
    remaining = {node: set(deps) & set(edges) for node, deps in edges.items()}
    order: list[str] = []
    while remaining:
        ready = [node for node, deps in remaining.items() if not deps]
        order.extend(ready)
        for node in ready:
            del remaining[node]
        for deps in remaining.values():
            deps.difference_update(ready)
    return order


def test_topological_order_is_by_wave_then_declaration_on_random_graphs() -> None:
    rng = random.Random(3)
    for _ in range(500):
        names = [f"j{i}" for i in range(rng.randint(1, 12))]
        rank = {name: i for i, name in enumerate(names)}
        rng.shuffle(names)
        edges = {
            name: [d for d in names if rank[d] < rank[name] and rng.random() < 0.3]
            + (["elsewhere"] if rng.random() < 0.1 else [])
            for name in names
        }
        assert topological_order(edges) == _waves(edges)


def test_a_long_chain_is_ordered() -> None:
    chain = {f"j{i}": [f"j{i - 1}"] if i else [] for i in range(5000)}
    assert topological_order(chain) == list(chain)
