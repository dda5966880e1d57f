"""The job graph of a pipeline: dependency order and cycle detection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sameday.config.graph import find_cycle


def topological_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Nodes ordered so each comes after everything it depends on; ties keep declaration order.

    Raises:
        ValueError: if the graph has a cycle.
    """
    remaining = {node: set(deps) & set(edges) for node, deps in edges.items()}
    order: list[str] = []
    while remaining:
        ready = [node for node, deps in remaining.items() if not deps]
        if not ready:
            cycle = find_cycle(edges) or []
            raise ValueError("dependency cycle: " + " -> ".join(cycle))
        for node in ready:
            order.append(node)
            del remaining[node]
        for deps in remaining.values():
            deps.difference_update(ready)
    return order


def downstream(edges: Mapping[str, Sequence[str]], roots: Sequence[str]) -> set[str]:
    """``roots`` and every node that depends on one of them, directly or through others."""
    dependents: dict[str, list[str]] = {node: [] for node in edges}
    for node, deps in edges.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(node)
    found: set[str] = set()
    stack = list(roots)
    while stack:
        node = stack.pop()
        if node not in found:
            found.add(node)
            stack.extend(dependents.get(node, ()))
    return found
