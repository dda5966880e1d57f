"""The public surface and the import budget."""

from __future__ import annotations

import subprocess
import sys

import sameday


def test_public_names_are_pinned() -> None:
    assert sameday.__all__ == sorted(sameday.__all__)
    assert sameday.__all__ == ["Client", "ConfigError", "Problem", "SamedayError", "__version__"]
    from sameday.serve.client import Client

    assert sameday.Client is Client


HEAVY = ["pandas", "scipy", "statsmodels", "duckdb", "pyarrow"]


def test_light_imports() -> None:
    """``import sameday``, the config layer and the serving path load no analysis library."""
    code = (
        "import sys, sameday, sameday.config, sameday.errors\n"
        "import sameday.serve.app, sameday.serve.client, sameday.assign, sameday.store\n"
        "sameday.Client\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""


def test_serving_every_design_loads_no_analysis_library() -> None:
    """The designs sit above analysis and reports, and serving one imports neither."""
    code = (
        "import sys\n"
        "from sameday.serve.engine import Engine\n"
        "from sameday.serve.state import build_state\n"
        "from sameday.store.memory import MemoryStore\n"
        "from sameday.testing import experiment_spec, load_lists, surface_spec\n"
        "store = MemoryStore()\n"
        "load_lists(store, 'a', 'a1', {'*': ['x', 'y']})\n"
        "load_lists(store, 'b', 'b1', {'*': ['y', 'z']})\n"
        "for design in ('ab', 'interleave', 'bandit'):\n"
        "    specs = {('surface', 's'): surface_spec('s', 'a', n=2),\n"
        "             ('experiment', 'e'): experiment_spec('e', 's', {'a': 'a', 'b': 'b'},\n"
        "                                                  design=design)}\n"
        "    served = Engine(store, state=build_state(specs)).recommend('s', 'u1')\n"
        "    assert served.experiment == 'e', design\n"
        f"heavy = [m for m in {HEAVY!r} + ['numpy', 'rich'] if m in sys.modules]\n"
        "print(','.join(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
