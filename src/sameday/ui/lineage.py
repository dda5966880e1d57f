"""Lineage: the graph around one node, a few hops each way, drawn as SVG.

The graph is the project's (:func:`sameday.monitor.lineage.build_graph`: datasets, jobs, result
sets, surfaces, experiments). Columns are steps along the longest chain of edges, so every edge
points right: data flows left to right, what feeds the chosen node sits to its left;
each node is a link that re-centres the graph on it. The same neighbourhood is also written as
two indented lists (what feeds it, what it feeds) for screen readers and for copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from sameday.monitor.lineage import Graph, build_graph
from sameday.ui.state import Dashboard

DEPTHS = (1, 2, 3, 4)
KIND_COLOURS = {
    "dataset": "#e8eef7",
    "job": "#fdf1e3",
    "result_set": "#e9f5e7",
    "surface": "#f3eaf3",
    "experiment": "#fdeaea",
}
BOX_W, BOX_H, GAP_X, GAP_Y, PAD = 168, 34, 56, 14, 12


@dataclass(frozen=True)
class LineagePage:
    """The neighbourhood of ``node``: the SVG and the two trees as text."""

    node: str
    depth: int
    svg: str
    upstream: list[str]
    downstream: list[str]
    nodes: list[str]


def label(node: str) -> str:
    """``result_set:als`` as ``als``; the kind is the box's colour and its title."""
    return node.split(":", 1)[1]


def columns(nodes: set[str], edges: list[tuple[str, str]]) -> dict[str, int]:
    """Each node's column: the longest chain of edges leading to it within ``nodes``, so every
    edge points right (a cycle, which a project should not have, is cut where it closes)."""
    feeding: dict[str, int] = {n: 0 for n in nodes}
    for _, target in edges:
        feeding[target] += 1
    placed = {n: 0 for n in nodes}
    ready = sorted(n for n, count in feeding.items() if count == 0)
    done: set[str] = set()
    while ready:
        node = ready.pop()
        done.add(node)
        for source, target in edges:
            if source == node:
                placed[target] = max(placed[target], placed[node] + 1)
                feeding[target] -= 1
                if feeding[target] == 0:
                    ready.append(target)
    for node in sorted(nodes - done):
        placed[node] = max(placed.values()) + 1
    return placed


def draw(node: str, graph: Graph, nodes: set[str], link: str) -> str:
    """The neighbourhood as SVG: boxes in columns, curved edges, each box a link."""
    edges = sorted((a, b) for a in nodes for b in graph.neighbours(a, "downstream") if b in nodes)
    placed = columns(nodes, edges)
    by_column: dict[int, list[str]] = {}
    for name, column in placed.items():
        by_column.setdefault(column, []).append(name)
    count = max(by_column) + 1
    rows = max(len(v) for v in by_column.values())
    width = PAD * 2 + count * BOX_W + (count - 1) * GAP_X
    height = float(PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y)
    where: dict[str, tuple[float, float]] = {}
    for column, names in by_column.items():
        names.sort(key=lambda n: (n.split(":", 1)[0], n))
        top = (height - (len(names) * BOX_H + (len(names) - 1) * GAP_Y)) / 2
        for index, name in enumerate(names):
            where[name] = (PAD + column * (BOX_W + GAP_X), top + index * (BOX_H + GAP_Y))
    parts = [
        f'<svg viewBox="0 0 {width} {height:.0f}" width="{width}" height="{height:.0f}" '
        f'class="lineage" role="group" aria-labelledby="lineage-title lineage-desc">'
        f'<title id="lineage-title">Lineage around {escape(node)}</title>'
        f'<desc id="lineage-desc">{len(nodes) - 1} nodes within reach: upstream on the left, '
        "downstream on the right; the lists below say the same in words.</desc>"
    ]
    for source, target in edges:
        (x1, y1), (x2, y2) = where[source], where[target]
        sx, sy, tx, ty = x1 + BOX_W, y1 + BOX_H / 2, x2, y2 + BOX_H / 2
        bend = max(GAP_X / 2, abs(tx - sx) / 2)
        parts.append(
            f'<path class="edge" d="M{sx:.0f},{sy:.0f} C{sx + bend:.0f},{sy:.0f} '
            f'{tx - bend:.0f},{ty:.0f} {tx:.0f},{ty:.0f}"/>'
        )
    for name, (bx, by) in where.items():
        kind = name.split(":", 1)[0]
        text = label(name)
        shown = text if len(text) <= 22 else text[:21] + "…"
        focus = " focus" if name == node else ""
        parts.append(
            f'<a href="{escape(link + quote(name, safe=":"))}" class="node{focus}">'
            f"<title>{escape(kind.replace('_', ' '))} {escape(text)}</title>"
            f'<rect x="{bx:.0f}" y="{by:.0f}" width="{BOX_W}" height="{BOX_H}" rx="6" '
            f'fill="{KIND_COLOURS.get(kind, "#eee")}"/>'
            f'<text x="{bx + 8:.0f}" y="{by + 14:.0f}" class="kind">'
            f"{escape(kind.replace('_', ' '))}</text>"
            f'<text x="{bx + 8:.0f}" y="{by + 28:.0f}" class="name">{escape(shown)}</text></a>'
        )
    parts.append("</svg>")
    return "".join(parts)


def default_node(graph: Graph) -> str | None:
    """Where the page starts: the first experiment, else the first result set, else any."""
    for kind in ("experiment", "result_set", "job", "dataset", "surface"):
        found = sorted(n for n in graph.nodes if n.startswith(kind + ":"))
        if found:
            return found[0]
    return None


def lineage_page(dash: Dashboard, node: str | None, depth: int, link: str) -> LineagePage | None:
    """The neighbourhood of ``node`` (``kind:name`` or a unique name), ``depth`` hops each way;
    ``None`` for a project with nothing declared.

    Raises:
        NotFound: no such node (with the closest names).
    """
    graph = build_graph(dash.project())
    chosen = graph.find(node) if node else default_node(graph)
    if chosen is None:
        return None
    depth = depth if depth in DEPTHS else 2
    up = graph.walk(chosen, "upstream", depth)
    down = graph.walk(chosen, "downstream", depth)
    return LineagePage(
        chosen,
        depth,
        draw(chosen, graph, {*up.nodes(), *down.nodes()}, link),
        up.lines()[1:],
        down.lines()[1:],
        sorted(graph.nodes),
    )
