"""The job graph of a pipeline: dependency order and cycle detection."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from sameday.config.graph import find_cycle


def topological_order(edges: Mapping[str, Sequence[str]]) -> list[str]:
    """Nodes ordered so each comes after everything it depends on; ties keep declaration order.

    Raises:
        ValueError: if the graph has a cycle.
    """
    # Kahn's algorithm in waves: a node's wave is one more than its latest dependency's, and the
    # order is by wave, then declaration (what running each wave's ready nodes in turn gives).
    position = {node: index for index, node in enumerate(edges)}
    waiting = {node: len(set(deps) & position.keys()) for node, deps in edges.items()}
    dependents: dict[str, list[str]] = {node: [] for node in edges}
    for node, deps in edges.items():
        for dep in set(deps) & position.keys():
            dependents[dep].append(node)
    wave = dict.fromkeys(edges, 0)
    ready = [node for node, count in waiting.items() if count == 0]
    done = 0
    while ready:
        node = ready.pop()
        done += 1
        for dependent in dependents[node]:
            wave[dependent] = max(wave[dependent], wave[node] + 1)
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    if done < len(edges):
        cycle = find_cycle(edges) or []
        raise ValueError("dependency cycle: " + " -> ".join(cycle))
    return sorted(edges, key=lambda node: (wave[node], position[node]))


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
