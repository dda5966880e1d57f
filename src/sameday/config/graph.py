"""Cycle detection over a dependency graph, shared by the reference checks and the pipeline DAG.

It sits in ``config`` because ``sameday validate`` reports job cycles while loading, below the
pipeline layer that orders jobs for running.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence


def find_cycle(edges: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A dependency cycle as ``[a, b, ..., a]``, or ``None`` when the graph is acyclic.

    ``edges`` maps each node to the nodes it depends on; unknown targets are ignored (they are
    reported separately as missing dependencies).
    """
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in edges:
        if state.get(start):
            continue
        path: list[str] = [start]
        iterators = [iter(edges[start])]
        state[start] = 1
        while iterators:
            node = next(iterators[-1], None)
            if node is None:
                state[path.pop()] = 2
                iterators.pop()
                continue
            if node not in edges:
                continue
            if state.get(node) == 1:
                return [*path[path.index(node) :], node]
            if not state.get(node):
                state[node] = 1
                path.append(node)
                iterators.append(iter(edges[node]))
    return None
