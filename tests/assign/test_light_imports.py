"""``sameday.assign`` is on the serving path: importing it loads the standard library only."""

from __future__ import annotations

import json
import subprocess
import sys

import sameday.assign

PROBE = """
import json, sys
before = set(sys.modules)
import sameday.assign
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def test_import_loads_only_the_standard_library() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(result.stdout)
    third_party = [
        name
        for name in loaded
        if name.split(".")[0] not in sys.stdlib_module_names and name.split(".")[0] != "sameday"
    ]
    assert third_party == []
    assert not {"sameday.config", "sameday.analysis", "sameday.pipeline"} & set(loaded)


def test_public_names_are_exported() -> None:
    assert sorted(sameday.assign.__all__) == sameday.assign.__all__
    for name in sameday.assign.__all__:
        assert getattr(sameday.assign, name) is not None
