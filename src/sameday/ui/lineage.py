"""Lineage: the graph around one node, a few hops each way, drawn as SVG.

The graph is the project's (:func:`sameday.monitor.lineage.build_graph`: datasets, jobs, result
sets, surfaces, experiments). Columns are hops from the chosen node — upstream to the left,
downstream to the right — so data flows left to right and the chosen node sits in the middle;
each node is a link that re-centres the graph on it. The same neighbourhood is also written as
two indented lists (what feeds it, what it feeds) for screen readers and for copying.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from urllib.parse import quote

from sameday.monitor.lineage import Graph, Tree, build_graph
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


def columns(up: Tree, down: Tree) -> dict[str, int]:
    """Each node's column: minus its hops upstream, plus its hops downstream."""
    placed: dict[str, int] = {up.node: 0}

    def visit(tree: Tree, sign: int, level: int) -> None:
        for child in tree.children:
            if child.node not in placed:
                placed[child.node] = sign * (level + 1)
            if not child.repeated:
                visit(child, sign, level + 1)

    visit(up, -1, 0)
    visit(down, 1, 0)
    return placed


def draw(node: str, up: Tree, down: Tree, link: str) -> str:
    """The neighbourhood as SVG: boxes in columns, curved edges, each box a link."""
    placed = columns(up, down)
    edges = sorted({*up.edges("upstream"), *down.edges("downstream")})
    by_column: dict[int, list[str]] = {}
    for name, column in placed.items():
        by_column.setdefault(column, []).append(name)
    first = min(by_column)
    rows = max(len(v) for v in by_column.values())
    width = PAD * 2 + len(by_column) * BOX_W + (len(by_column) - 1) * GAP_X
    height = float(PAD * 2 + rows * BOX_H + (rows - 1) * GAP_Y)
    where: dict[str, tuple[float, float]] = {}
    for column, names in by_column.items():
        names.sort(key=lambda n: (n.split(":", 1)[0], n))
        top = (height - (len(names) * BOX_H + (len(names) - 1) * GAP_Y)) / 2
        for index, name in enumerate(names):
            x = PAD + (column - first) * (BOX_W + GAP_X)
            where[name] = (x, top + index * (BOX_H + GAP_Y))
    parts = [
        f'<svg viewBox="0 0 {width} {height:.0f}" width="{width}" height="{height:.0f}" '
        f'class="lineage" role="img" aria-labelledby="lineage-title lineage-desc">'
        f'<title id="lineage-title">Lineage around {escape(node)}</title>'
        f'<desc id="lineage-desc">{len(placed) - 1} nodes within reach: upstream on the left, '
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
        draw(chosen, up, down, link),
        up.lines()[1:],
        down.lines()[1:],
        sorted(graph.nodes),
    )
