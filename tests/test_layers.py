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


def handler_imports(path: Path) -> set[str]:
    """The handlers modules a module imports (at the top, in functions or under TYPE_CHECKING alike)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:  # the project imports absolutely
            found |= {node.module, *(f"{node.module}.{alias.name}" for alias in node.names)}
    return {name for name in found if name.startswith("handlers.")}


def test_the_handlers_import_no_circle():
    """Flows, the runner and the turn once imported each other (handlers/context.py named the Runner): a circle
    means neither side can be read, changed or tested alone."""
    modules = {
        ".".join(path.relative_to(REPO).with_suffix("").parts).removesuffix(".__init__"): path
        for path in (REPO / "handlers").rglob("*.py")
    }
    graph = {name: handler_imports(path) & modules.keys() - {name} for name, path in modules.items()}
    for package in [name for name, path in modules.items() if path.name == "__init__.py"]:
        graph[package] = set()  # a package's face hands names on; importing it is no import of its parts

    def circle_from(start: str) -> list[str] | None:
        stack, seen = [(start, [start])], set()
        while stack:
            name, trail = stack.pop()
            for target in graph[name]:
                if target == start:
                    return [*trail, start]
                if target not in seen:
                    seen.add(target)
                    stack.append((target, [*trail, target]))
        return None

    circles = [circle for circle in map(circle_from, sorted(graph)) if circle]
    assert circles == []
    assert "handlers.runner" not in graph["handlers.context"] and "handlers.flow" not in graph["handlers.context"]
