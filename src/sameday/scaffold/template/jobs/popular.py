"""Rank items by how many users interacted with them; one list under the key "*"."""

import csv
import sys
from collections import Counter
from pathlib import Path

source, target = Path(sys.argv[1]), Path(sys.argv[2])
with source.open() as handle:
    counts = Counter(row["item"] for row in csv.DictReader(handle))
target.parent.mkdir(parents=True, exist_ok=True)
with target.open("w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["key", "item", "score"])
    for item, count in counts.most_common(50):
        writer.writerow(["*", item, count])
