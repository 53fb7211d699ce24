"""Installs are reproducible and the declared ranges say what the code needs: every dependency of pyproject.toml
is pinned in constraints.txt within its range, the set-up scripts install with those pins, and nothing is
declared that the code does not use."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent


def declared() -> list[Requirement]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return [Requirement(line) for line in [*project["dependencies"], *extras["test"], *extras["ptb"]]]


def pins() -> dict[str, str]:
    found = {}
    for line in (REPO / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            name, _, pinned = line.partition("==")
            assert pinned, f"constraints.txt: not an exact pin: {line}"
            found[canonicalize_name(name)] = pinned
    return found


def test_every_declared_dependency_is_pinned_within_its_range():
    pinned = pins()
    for requirement in declared():
        name = canonicalize_name(requirement.name)
        assert name in pinned, f"{name} is declared but not pinned: run scripts/lock"
        assert requirement.specifier.contains(pinned[name], prereleases=True), (name, pinned[name])
        assert any(spec.operator == ">=" for spec in requirement.specifier), f"{name} has no floor"


def test_the_running_environment_has_the_pinned_versions():
    mismatched = {name: (pinned, version(name)) for name, pinned in pins().items() if version(name) != pinned}
    assert not mismatched, (
        f"installed versions differ from constraints.txt (pip install -c constraints.txt): {mismatched}"
    )


def test_the_set_up_scripts_install_with_the_pins():
    for script in ("scripts/start", "scripts/test", "scripts/lint"):
        assert "-c constraints.txt" in (REPO / script).read_text(encoding="utf-8"), script
    assert "scripts/test" in (REPO / ".ci/run").read_text(encoding="utf-8")


def test_nothing_unused_is_declared():
    names = {canonicalize_name(requirement.name) for requirement in declared()}
    assert "xlsxwriter" not in names  # exports are written with openpyxl
    assert "defusedxml" in names  # openpyxl parses through it only when it is installed


def test_aiohttp_floor_excludes_the_versions_with_published_advisories():
    """Request smuggling fixed in 3.12.14 (GHSA-9548-qrrj-x5pj), later ones up to 3.14.3: no declared range admits
    an aiohttp before them, directly or through aiogram."""
    floors = {
        canonicalize_name(req.name): min(Version(spec.version) for spec in req.specifier if spec.operator == ">=")
        for req in declared()
    }
    assert floors["aiohttp"] >= Version("3.12.14")
    aiohttp = next(req for req in declared() if canonicalize_name(req.name) == "aiohttp")
    assert not aiohttp.specifier.contains("3.12.13") and aiohttp.specifier.contains(pins()["aiohttp"])
    print(f"aiohttp floor {floors['aiohttp']} (advisories fixed in 3.12.14), pinned {pins()['aiohttp']}")
