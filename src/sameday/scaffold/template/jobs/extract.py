"""Write a day of (synthetic) interactions. Replace with a query against your warehouse."""

import argparse
import csv
import random
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("--ds", required=True)
parser.add_argument("--out", required=True)
args = parser.parse_args()

rng = random.Random(args.ds)
items = [f"item-{i}" for i in range(200)]
weights = [1.0 / (rank + 1) for rank in range(len(items))]
out = Path(args.out)
out.parent.mkdir(parents=True, exist_ok=True)
with out.open("w", newline="") as handle:
    writer = csv.writer(handle)
    writer.writerow(["user", "item"])
    for user in range(500):
        for item in set(rng.choices(items, weights, k=rng.randint(3, 15))):
            writer.writerow([f"user-{user}", item])
