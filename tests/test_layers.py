"""Packages use each other's public modules only: ``sameday.x._private`` stays inside ``x``.

The upward/downward rule between packages is import-linter's (``[tool.importlinter]`` in
pyproject.toml, run by ``make test``); this test adds what a layers contract cannot say.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src" / "sameday"


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{alias.name}") for alias in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
    return found


def test_no_package_imports_another_packages_private_module() -> None:
    offences = []
    for path in SRC.rglob("*.py"):
        if "template" in path.parts:
            continue
        package = path.relative_to(SRC).parts[0].removesuffix(".py")
        for line, module in _imports(path):
            parts = module.split(".")
            if parts[0] != "sameday" or len(parts) < 3:
                continue
            if parts[1] != package and parts[2].startswith("_") and not parts[2].startswith("__"):
                offences.append(f"{path.relative_to(SRC.parent)}:{line}: imports {module}")
    assert offences == []
