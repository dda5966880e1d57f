"""A shallow policy tree: the uplift model turned into a targeting rule a person can read.

The tree (Athey & Wager 2021's policy learning, at depth 2) chooses at most three splits of the
dimensions and, in each leaf, whether to treat, so as to maximise the units' doubly-robust scores
``Γ`` (:mod:`~sameday.analysis.uplift.learners`) summed over the treated leaves: the estimated
outcome gain of treating them. The search is exact over the candidate splits: every numeric
dimension is cut at up to :data:`BINS` quantiles (``x ≤ t`` goes left, a missing value right);
a category's values are ordered by their mean ``Γ`` and cut anywhere in that order (the order
that holds the best two-way grouping for a sum, as in CART), a missing value being one more value.

A split must earn its place: it is kept only when it gains more than ``PENALTY·σ·√m`` over not
splitting, with ``σ`` the spread of ``Γ`` and ``m`` the units on the split's smaller side — about
what pure noise would gain on that many units. Leaves hold at least :data:`MIN_LEAF` of the units.

**Honest values.** The tree is learned on a random half of the units and its value estimated on
the other half, with the same scores: the value of treating whom the rule says, of treating
everyone and of treating no one (mean outcomes per unit, by the doubly-robust estimator), and the
differences, each with a normal interval over the evaluation half. Learning and judging a rule on
the same units would flatter it.

The rule is also written as a GrowthBook targeting condition (``$in``, ``$lte``, ``$gt``,
``$exists``, ``$or``): the attributes as the requests send them, booleans as booleans.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from sameday.analysis.uplift.data import BoolArray, Feature, FloatArray, UpliftData
from sameday.analysis.uplift.learners import Scores

BINS = 32
"""Candidate cuts per numeric dimension; categories are grouped into at most this many too."""
MIN_LEAF = 0.05
"""The least share of the learning units a leaf holds."""
PENALTY = 3.0
"""How many noise levels a split must gain (see the module docstring)."""


@dataclass(frozen=True)
class Side:
    """One side of a split: ``feature`` in ``values`` (a category), or ``≤``/``>`` ``threshold``
    (a number); ``missing`` says whether units without the attribute are on this side. With
    neither values nor a threshold, the side is the units without the attribute (``missing``)
    or those with it."""

    feature: Feature
    column: int
    values: tuple[str, ...] = ()
    threshold: float | None = None
    above: bool = False
    missing: bool = False

    def holds(self, x: FloatArray) -> BoolArray:
        """Which rows of ``x`` are on this side."""
        v = x[:, self.column]
        absent = np.isnan(v)
        if self.threshold is not None:
            present = (v > self.threshold) if self.above else (v <= self.threshold)
        elif self.values:
            codes = [self.feature.labels.index(label) for label in self.values]
            present = np.isin(v, np.asarray(codes, dtype=np.float64))
        else:
            present = np.full(v.shape, not self.missing)
        return np.where(absent, self.missing, present & ~absent)

    @property
    def text(self) -> str:
        """``platform in {ios, web}``, ``activity > 3``, ``country absent``."""
        name = self.feature.name
        if self.threshold is not None:
            said = f"{name} {'>' if self.above else '≤'} {self.threshold:g}"
        elif len(self.values) == 1:
            said = f"{name} is {self.values[0]}"
        elif self.values:
            said = f"{name} in {{{', '.join(self.values)}}}"
        elif not self.missing:
            return f"{name} present"
        else:
            said = ""
        if not self.missing:
            return said
        return f"{name} absent" if not said else f"({said} or {name} absent)"

    @property
    def condition(self) -> dict[str, Any]:
        """This side as a GrowthBook condition on the request's attributes."""
        name = self.feature.name
        parts: list[dict[str, Any]] = []
        if self.threshold is not None:
            parts.append({name: {"$gt" if self.above else "$lte": _number(self.threshold)}})
        elif self.values:
            parts.append({name: {"$in": [_attribute(v) for v in self.values]}})
        elif not self.missing:
            parts.append({name: {"$exists": True}})
        if self.missing:
            parts.append({name: {"$exists": False}})
        return parts[0] if len(parts) == 1 else {"$or": parts}


@dataclass(frozen=True)
class Leaf:
    """A leaf: whether its units are treated, and how many learning units it holds."""

    treat: bool
    units: int


@dataclass(frozen=True)
class Branch:
    """A split: units on ``left`` go to ``yes``, the others to ``no``."""

    left: Side
    right: Side
    yes: Node
    no: Node


Node = Leaf | Branch


@dataclass(frozen=True)
class Value:
    """A mean outcome per unit (or a difference of two) with its interval."""

    point: float
    low: float
    high: float


@dataclass(frozen=True)
class Policy:
    """The targeting rule and what it is worth against treating everyone or no one.

    Attributes:
        rule: the rule in words (``everyone``, ``no one``, or conditions joined by and/or).
        condition: the rule as a GrowthBook condition; ``{}`` treats everyone, ``None`` no one.
        tree: the tree the rule reads.
        targeted: the share of the evaluation units the rule treats.
        learn_units, evaluation_units: the two halves.
        value_rule, value_all, value_none: mean outcome per unit under each policy.
        gain_vs_all, gain_vs_none: the rule's value minus the others' (paired, same units).
    """

    rule: str
    condition: dict[str, Any] | None
    tree: Node
    targeted: float
    learn_units: int
    evaluation_units: int
    value_rule: Value
    value_all: Value
    value_none: Value
    gain_vs_all: Value
    gain_vs_none: Value


def learn_policy(data: UpliftData, scores: Scores, *, seed: int, alpha: float = 0.05) -> Policy:
    """Learn the rule on one half of the units, value it on the other (see the module)."""
    learn = np.random.default_rng(seed + 2).random(data.units) < 0.5
    tree = _tree(data, scores.gamma, learn)
    judge = ~learn
    treat = apply(tree, data.x[judge])
    e = scores.propensity
    t, y = data.treated[judge], data.y[judge]
    mu0, mu1, gamma = scores.mu0[judge], scores.mu1[judge], scores.gamma[judge]
    none = mu0 + np.where(t, 0.0, (y - mu0) / (1 - e))
    every = mu1 + np.where(t, (y - mu1) / e, 0.0)
    rule = none + treat * gamma
    z = float(stats.norm.ppf(1 - alpha / 2))
    condition, text = _rule(tree)
    return Policy(
        rule=text,
        condition=condition,
        tree=tree,
        targeted=float(treat.mean()),
        learn_units=int(learn.sum()),
        evaluation_units=int(judge.sum()),
        value_rule=_mean(rule, z),
        value_all=_mean(every, z),
        value_none=_mean(none, z),
        gain_vs_all=_mean(rule - every, z),
        gain_vs_none=_mean(rule - none, z),
    )


def apply(tree: Node, x: FloatArray) -> BoolArray:
    """Whether the tree treats each row of ``x``."""
    if isinstance(tree, Leaf):
        return np.full(x.shape[0], tree.treat)
    left = tree.left.holds(x)
    return np.where(left, apply(tree.yes, x), apply(tree.no, x))


def _mean(values: FloatArray, z: float) -> Value:
    mean = float(values.mean())
    half = z * float(values.std(ddof=1)) / math.sqrt(values.size)
    return Value(mean, mean - half, mean + half)


# --- the search -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Binned:
    """A feature cut into ordered bins: ``bins`` per unit, and the side of each cut."""

    bins: np.ndarray
    count: int
    sides: list[tuple[Side, Side]]


def _tree(data: UpliftData, gamma: FloatArray, learn: BoolArray) -> Node:
    x, g = data.x[learn], gamma[learn]
    n = g.size
    min_leaf = max(math.ceil(MIN_LEAF * n), 1)
    noise = PENALTY * float(g.std())
    binned = [b for j, f in enumerate(data.features) for b in _bins(f, j, x[:, j], g)]
    total = float(g.sum())
    best_value = max(total, 0.0)
    best: Node = Leaf(total > 0, n)
    for a in binned:
        cuts = len(a.sides)
        if not cuts:
            continue
        sums = np.bincount(a.bins, weights=g, minlength=a.count)
        counts = np.bincount(a.bins, minlength=a.count).astype(np.float64)
        left_sum, left_n = np.cumsum(sums)[:cuts], np.cumsum(counts)[:cuts]
        # the best subtree on each side of each cut of `a`: a leaf, or one more split
        side_values = np.maximum(np.column_stack([left_sum, total - left_sum]), 0.0)
        side_trees: list[list[Node]] = [
            [
                Leaf(bool(left_sum[s] > 0), int(left_n[s])),
                Leaf(bool(total > left_sum[s]), int(n - left_n[s])),
            ]
            for s in range(cuts)
        ]
        for b in binned:
            if not b.sides:
                continue
            pair = a.bins * b.count + b.bins
            h = np.asarray(np.bincount(pair, weights=g, minlength=a.count * b.count), np.float64)
            h = h.reshape(a.count, b.count)
            c = np.bincount(pair, minlength=a.count * b.count).reshape(a.count, b.count)
            for k, (hs, cs) in enumerate(_halves(h, c.astype(np.float64), cuts)):
                # hs[s, :]: Γ per bin of b among the units on side k of cut s of a
                inner = np.cumsum(hs, axis=1)[:, : len(b.sides)]
                inner_n = np.cumsum(cs, axis=1)[:, : len(b.sides)]
                outer = hs.sum(axis=1, keepdims=True) - inner
                outer_n = cs.sum(axis=1, keepdims=True) - inner_n
                small = np.minimum(inner_n, outer_n)
                value = np.maximum(inner, 0) + np.maximum(outer, 0) - noise * np.sqrt(small)
                value[small < min_leaf] = -np.inf
                best_cut = np.argmax(value, axis=1)
                for s in range(cuts):
                    j = int(best_cut[s])
                    if value[s, j] > side_values[s, k]:
                        side_values[s, k] = value[s, j]
                        yes, no = b.sides[j]
                        side_trees[s][k] = Branch(
                            yes,
                            no,
                            Leaf(bool(inner[s, j] > 0), int(inner_n[s, j])),
                            Leaf(bool(outer[s, j] > 0), int(outer_n[s, j])),
                        )
        small = np.minimum(left_n, n - left_n)
        root = side_values.sum(axis=1) - noise * np.sqrt(small)
        root[small < min_leaf] = -np.inf
        s = int(np.argmax(root))
        if root[s] > best_value:
            best_value = float(root[s])
            left, right = a.sides[s]
            best = Branch(left, right, side_trees[s][0], side_trees[s][1])
    return _simplified(best)


def _halves(h: FloatArray, c: FloatArray, cuts: int) -> list[tuple[FloatArray, FloatArray]]:
    """For every cut ``s`` of the first feature, the per-bin sums of the second feature among
    the units left (bins ``≤ s``) and right of it: two ``(cuts, bins_b)`` arrays each."""
    left_h, left_c = np.cumsum(h, axis=0)[:cuts], np.cumsum(c, axis=0)[:cuts]
    return [(left_h, left_c), (h.sum(axis=0) - left_h, c.sum(axis=0) - left_c)]


def _bins(feature: Feature, column: int, values: FloatArray, gamma: FloatArray) -> list[_Binned]:
    """Ordered bins of one feature on the learning units, and the two sides of each cut.

    A number with missing values is binned twice, the missing ones last (they go with the
    large values) and first (with the small ones, or alone): a cut may put them either side.
    """
    absent = np.isnan(values)
    if feature.kind == "number":
        present = values[~absent]
        edges = np.array([])
        if present.size:
            edges = np.unique(np.quantile(present, np.linspace(0, 1, BINS + 1)[1:-1]))
            edges = edges[edges < present.max()]
        bins = np.searchsorted(edges, np.where(absent, np.inf, values), side="left")
        if not absent.any():
            sides = [
                (Side(feature, column, threshold=t), Side(feature, column, threshold=t, above=True))
                for t in edges.tolist()
            ]
            return [_Binned(bins.astype(np.int64), edges.size + 1, sides)]
        last = [
            (
                Side(feature, column, threshold=t),
                Side(feature, column, threshold=t, above=True, missing=True),
            )
            for t in edges.tolist()
        ]
        first = [(Side(feature, column, missing=True), Side(feature, column))] + [
            (
                Side(feature, column, threshold=t, missing=True),
                Side(feature, column, threshold=t, above=True),
            )
            for t in edges.tolist()
        ]
        count = edges.size + 2
        return [
            _Binned(np.where(absent, count - 1, bins).astype(np.int64), count, last),
            _Binned(np.where(absent, 0, bins + 1).astype(np.int64), count, first),
        ]
    # a category: values (and "missing") ordered by their mean Γ, grouped into at most BINS
    codes = np.where(absent, len(feature.labels), values).astype(np.int64)
    size = len(feature.labels) + 1
    sums = np.bincount(codes, weights=gamma, minlength=size)
    counts = np.bincount(codes, minlength=size)
    seen = np.flatnonzero(counts)
    order = seen[np.argsort(-sums[seen] / counts[seen], kind="stable")]
    group = np.zeros(size, dtype=np.int64)
    group[order] = (np.arange(order.size) * min(BINS, order.size)) // max(order.size, 1)
    groups = int(group[order].max()) + 1 if order.size else 1
    sides = []
    for cut in range(groups - 1):
        left = [int(c) for c in order if group[c] <= cut]
        right = [int(c) for c in order if group[c] > cut]
        sides.append(
            (_category_side(feature, column, left), _category_side(feature, column, right))
        )
    return [_Binned(group[codes], groups, sides)]


def _category_side(feature: Feature, column: int, codes: list[int]) -> Side:
    missing = len(feature.labels) in codes
    labels = tuple(feature.labels[c] for c in codes if c < len(feature.labels))
    return Side(feature, column, values=labels, missing=missing)


def _simplified(node: Node) -> Node:
    """Merge a split whose two leaves decide alike into one leaf."""
    if isinstance(node, Leaf):
        return node
    yes, no = _simplified(node.yes), _simplified(node.no)
    if isinstance(yes, Leaf) and isinstance(no, Leaf) and yes.treat == no.treat:
        return Leaf(yes.treat, yes.units + no.units)
    return Branch(node.left, node.right, yes, no)


# --- the rule -----------------------------------------------------------------------------------


def _rule(tree: Node) -> tuple[dict[str, Any] | None, str]:
    """The tree's treated leaves as a GrowthBook condition and in words."""
    paths = list(_treated_paths(tree, []))
    if not paths:
        return None, "no one"
    if paths == [[]]:
        return {}, "everyone"
    conditions = [_all_of([side.condition for side in path]) for path in paths]
    texts = [" and ".join(side.text for side in path) for path in paths]
    if len(paths) == 1:
        return conditions[0], texts[0]
    return {"$or": conditions}, " or ".join(f"({t})" for t in texts)


def _treated_paths(node: Node, path: list[Side]) -> Any:
    if isinstance(node, Leaf):
        if node.treat:
            yield path
        return
    yield from _treated_paths(node.yes, [*path, node.left])
    yield from _treated_paths(node.no, [*path, node.right])


def _all_of(conditions: list[dict[str, Any]]) -> dict[str, Any]:
    """Conditions that must all hold: merged into one object when their keys differ."""
    keys = [k for c in conditions for k in c]
    if len(keys) == len(set(keys)):
        return {k: v for c in conditions for k, v in c.items()}
    return {"$and": conditions}


def _attribute(label: str) -> Any:
    """A logged category as the request sends it: ``true``/``false`` were booleans."""
    return {"true": True, "false": False}.get(label, label)


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else float(value)
