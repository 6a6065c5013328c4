"""What an install is made of: every imported package declared, every declared one locked."""

from __future__ import annotations

import ast
import importlib.metadata
import re
import sys
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
_PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)")


def declared(*groups: str) -> dict[str, Requirement]:
    lines = [*PROJECT["dependencies"]]
    for group in groups:
        lines += PROJECT["optional-dependencies"][group]
    return {canonicalize_name(r.name): r for r in map(Requirement, lines)}


def imported_distributions(*folders: str) -> set[str]:
    """The distributions that provide the modules the folders' code imports."""
    modules: set[str] = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Import):
                    modules |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    modules |= {f"{node.module}.{alias.name}" for alias in node.names}
    owners = importlib.metadata.packages_distributions()
    found = set()
    for module in modules:
        top = module.split(".")[0]
        if top in sys.stdlib_module_names or top in ("vdc_graph", "tests"):
            continue
        candidates = owners.get(top, [])  # a test helper (tests/jwks_server.py) has none
        if len(candidates) > 1:  # a namespace package: the one holding the module itself
            candidates = _holders(candidates, module)
        found |= {canonicalize_name(d) for d in candidates}
    return found


def _holders(candidates: list[str], module: str) -> list[str]:
    """The distributions holding the longest prefix of ``module`` that one of them holds."""
    parts = module.split(".")
    for length in range(len(parts), 1, -1):
        held = [d for d in candidates if _provides(d, ".".join(parts[:length]))]
        if held:
            return held
    return candidates


def _provides(distribution: str, module: str) -> bool:
    folder = module.replace(".", "/")
    files = importlib.metadata.distribution(distribution).files or []
    return any(str(f).startswith((folder + "/", folder + ".py")) for f in files)


def lock_entries() -> list[str]:
    """One text block per pinned package (its line, hashes and comments)."""
    text = (ROOT / "requirements.lock").read_text()
    return [block for block in re.split(r"\n(?=\S)", text) if _PIN.match(block)]


def locked() -> dict[str, str]:
    """Pinned name -> version, for the packages this platform and Python install."""
    pins = {}
    for block in lock_entries():
        first = block.splitlines()[0].rstrip(" \\")
        name, version = _PIN.match(first).groups()
        marker = first.partition(";")[2].strip()
        if not marker or Marker(marker).evaluate():
            pins[canonicalize_name(name)] = version
    return pins


def test_every_package_the_server_imports_is_a_declared_dependency():
    missing = imported_distributions("vdc_graph") - set(declared())
    assert not missing, f"imported but not in [project.dependencies]: {sorted(missing)}"


def test_every_package_the_tests_import_is_declared_for_them():
    missing = imported_distributions("tests", "benchmarks") - set(declared("test"))
    assert not missing, f"imported by tests but not declared: {sorted(missing)}"


def test_the_lock_pins_every_declared_dependency_within_its_range_with_hashes():
    pins = locked()
    for name, requirement in declared("test").items():
        assert name in pins, f"{name} is not in requirements.lock: run ./dev lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            f"requirements.lock pins {name}=={pins[name]}, outside {requirement}: run ./dev lock"
        )
    unhashed = [block.split()[0] for block in lock_entries() if "--hash=sha256:" not in block]
    assert not unhashed, f"pinned without a hash: {unhashed}"


def test_the_installed_versions_are_the_locked_ones():
    for name, version in locked().items():
        installed = importlib.metadata.version(name)
        assert installed == version, f"{name} {installed} is installed, the lock says {version}"
