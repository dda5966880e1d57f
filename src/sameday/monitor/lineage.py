"""The project's lineage graph: datasets → jobs → result sets → surfaces → experiments.

Built from the project files alone, so it is right before anything ran and answers "what
breaks downstream if this table changes?" in review. Nodes are ``kind:name``:

* ``dataset:NAME`` — declared under a pipeline's ``datasets:``;
* ``job:PIPELINE.JOB`` — fed by the datasets it ``reads`` and the jobs it ``depends_on``;
  feeding the datasets it ``writes`` and the result sets its outputs ``publish``;
* ``result_set:NAME`` — feeding the surfaces that serve it (default, fallbacks, rules) and
  the experiments whose arms use it;
* ``surface:NAME`` — feeding the experiments that run on it;
* ``experiment:NAME``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from sameday.errors import NotFound

if TYPE_CHECKING:
    from sameday.config.loader import Project

Direction = Literal["upstream", "downstream"]


@dataclass
class Graph:
    """Nodes (``kind:name``) and edges in the direction data flows."""

    nodes: set[str] = field(default_factory=set)
    down: dict[str, set[str]] = field(default_factory=dict)
    up: dict[str, set[str]] = field(default_factory=dict)

    def add(self, source: str, target: str) -> None:
        """An edge: ``target`` is made from (or served from) ``source``."""
        self.nodes.update((source, target))
        self.down.setdefault(source, set()).add(target)
        self.up.setdefault(target, set()).add(source)

    def neighbours(self, node: str, direction: Direction) -> list[str]:
        """The nodes one step ``direction`` of ``node``, sorted."""
        edges = self.down if direction == "downstream" else self.up
        return sorted(edges.get(node, ()))

    def find(self, name: str) -> str:
        """The node ``name`` means: ``kind:name`` exactly, or a unique bare name (a job also
        by its name without the pipeline).

        Raises:
            NotFound: nothing matches (with the closest names), or several do.
        """
        if name in self.nodes:
            return name
        matches = sorted(n for n in self.nodes if n.split(":", 1)[1] == name)
        if not matches:
            matches = sorted(
                n for n in self.nodes if n.startswith("job:") and n.rsplit(".", 1)[-1] == name
            )
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise NotFound(
                f"{name!r} is ambiguous: {', '.join(matches)}; pass one of them as KIND:NAME"
            )
        names = sorted({n.split(":", 1)[1] for n in self.nodes})
        close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise NotFound(f"nothing named {name!r} in the lineage graph{hint}")

    def walk(self, root: str, direction: Direction, depth: int | None) -> Tree:
        """The tree of everything ``direction`` of ``root``, at most ``depth`` steps away.

        A node reached twice is expanded the first time only (the second is marked
        ``repeated``), so diamonds and cycles stay finite.
        """
        seen: set[str] = {root}

        def grow(node: str, level: int) -> Tree:
            children: list[Tree] = []
            if depth is None or level < depth:
                for child in self.neighbours(node, direction):
                    if child in seen:
                        children.append(Tree(child, repeated=True))
                        continue
                    seen.add(child)
                    children.append(grow(child, level + 1))
            return Tree(node, children)

        return grow(root, 0)


@dataclass
class Tree:
    """A node and what lies beyond it in one direction."""

    node: str
    children: list[Tree] = field(default_factory=list)
    repeated: bool = False

    def nodes(self) -> Iterator[str]:
        """Every node of the tree, root first."""
        yield self.node
        for child in self.children:
            yield from child.nodes()

    def edges(self, direction: Direction) -> Iterator[tuple[str, str]]:
        """Every edge of the tree as (from, to) in the direction data flows."""
        for child in self.children:
            yield (child.node, self.node) if direction == "upstream" else (self.node, child.node)
            yield from child.edges(direction)

    def as_dict(self) -> dict[str, object]:
        """JSON-able: ``{"node", "children", "repeated"?}``."""
        shown: dict[str, object] = {"node": self.node}
        if self.repeated:
            shown["repeated"] = True
        shown["children"] = [child.as_dict() for child in self.children]
        return shown

    def lines(self) -> list[str]:
        """The tree as text, one node a line, with branches drawn."""
        out = [_label(self.node)]

        def draw(tree: Tree, prefix: str) -> None:
            for index, child in enumerate(tree.children):
                last = index == len(tree.children) - 1
                mark = " (see above)" if child.repeated else ""
                out.append(f"{prefix}{'└── ' if last else '├── '}{_label(child.node)}{mark}")
                draw(child, prefix + ("    " if last else "│   "))

        draw(self, "")
        return out


def _label(node: str) -> str:
    kind, name = node.split(":", 1)
    return f"{kind.replace('_', ' ')} {name}"


def build_graph(project: Project) -> Graph:
    """The lineage graph of ``project``'s files."""
    graph = Graph()
    for pipeline in project.pipelines.values():
        for dataset in pipeline.datasets:
            graph.nodes.add(f"dataset:{dataset}")
        for job in pipeline.jobs:
            node = f"job:{pipeline.name}.{job.name}"
            graph.nodes.add(node)
            for dependency in job.depends_on:
                graph.add(f"job:{pipeline.name}.{dependency}", node)
            for dataset in job.reads:
                graph.add(f"dataset:{dataset}", node)
            for dataset in job.writes:
                graph.add(node, f"dataset:{dataset}")
            for output in job.outputs:
                if output.publish is not None:
                    graph.add(node, f"result_set:{output.publish}")
    for name in project.result_sets:
        graph.nodes.add(f"result_set:{name}")
    for surface in project.surfaces.values():
        node = f"surface:{surface.name}"
        served = [surface.result_set, *surface.fallbacks]
        for rule in surface.rules:
            served += [rule.result_set, *rule.fallbacks]
        for result_set in served:
            graph.add(f"result_set:{result_set}", node)
    for experiment in project.experiments.values():
        node = f"experiment:{experiment.name}"
        graph.add(f"surface:{experiment.surface}", node)
        for arm in experiment.arms:
            for result_set in [arm.result_set, *(arm.fallbacks or [])]:
                graph.add(f"result_set:{result_set}", node)
    return graph
