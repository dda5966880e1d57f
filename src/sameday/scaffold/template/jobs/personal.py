"""Recommend to each user the items that co-occur most with their history."""

import csv
import sys
from collections import Counter, defaultdict
from pathlib import Path

source, target = Path(sys.argv[1]), Path(sys.argv[2])
history: dict[str, set[str]] = defaultdict(set)
with source.open() as handle:
    for row in csv.DictReader(handle):
        history[row["user"]].add(row["item"])
together: dict[str, Counter[str]] = defaultdict(Counter)
for items in history.values():
    for item in items:
        together[item].update(items - {item})
target.parent.mkdir(parents=True, exist_ok=True)
with target.open("w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["user", "item", "score"])
    for user, items in sorted(history.items()):
        scores: Counter[str] = Counter()
        for item in items:
            scores.update(together[item])
        for item, score in scores.most_common(50 + len(items)):
            if item not in items:
                writer.writerow([user, item, score])
