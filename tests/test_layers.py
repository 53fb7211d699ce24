"""The packages import one way (README: bot → handlers → knowledge, storage; scheduler → handlers, storage;
nothing imports bot), checked on every module's imports, including those inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "knowledge", "scheduler", "storage")
ALLOWED = {
    "storage": {"storage"},
    "knowledge": {"knowledge"},
    "handlers": {"handlers", "knowledge", "storage"},
    "scheduler": {"scheduler", "handlers", "knowledge", "storage"},
    "bot": {"bot", "handlers", "knowledge", "scheduler", "storage"},
}


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_each_package_imports_only_the_layers_below_it(package):
    modules = sorted((REPO / package).rglob("*.py"))
    assert modules
    wrong = {str(path.relative_to(REPO)): sorted(imported_packages(path) - ALLOWED[package]) for path in modules}
    assert {module: packages for module, packages in wrong.items() if packages} == {}
