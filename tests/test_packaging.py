"""memnb's declared dependencies: complete, and consistent with the book's pins.

Every third-party module that memnb imports (at the top of a module or inside a
function, read with ``ast``) belongs to a distribution that ``pyproject.toml`` declares,
as a dependency or in an extra; every declared distribution is pinned in
``constraints.txt`` at a version inside its range, and ``requirements.txt`` (the book's
direct dependencies) pins it at the same version. tests/install/ then installs the wheel
with only what it declares and runs it.
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import memnb

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Imported only where it is there, with a fallback when it is not (no extra needed):
# myst-nb's glue, which memnb.claims uses inside the book and skips elsewhere.
OPTIONAL = {"myst_nb"}


def declared() -> dict[str, Requirement]:
    """Every requirement of pyproject.toml, dependencies and extras, by canonical name."""
    project = PYPROJECT["project"]
    lines = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        lines += extra
    return {canonicalize_name(r.name): r for r in map(Requirement, lines)}


def imported_modules() -> dict[str, str]:
    """Top-level names of the modules memnb imports, with a file that imports each."""
    found: dict[str, str] = {}
    for path in sorted((ROOT / "memnb").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], str(path.relative_to(ROOT)))
    return found


def pins(path: Path) -> dict[str, str]:
    """``name==version`` lines of a requirements file, by canonical name."""
    found = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if "==" in line:
            name, version = line.split("==", 1)
            found[canonicalize_name(name)] = version.strip()
    return found


def test_every_imported_module_is_declared():
    distributions = packages_distributions()
    stdlib = sys.stdlib_module_names | {"memnb", "__future__"}
    names = declared()
    missing = []
    for module, where in imported_modules().items():
        if module in stdlib or module in OPTIONAL:
            continue
        owners = {canonicalize_name(d) for d in distributions.get(module, [])}
        if not owners & set(names):
            missing.append(f"{module} (imported in {where}; from {sorted(owners) or '?'})")
    assert not missing, "memnb imports modules that pyproject.toml does not declare: " + (
        ", ".join(missing)
    )


def test_declared_ranges_hold_the_pinned_versions():
    constraints, requirements = pins(ROOT / "constraints.txt"), pins(ROOT / "requirements.txt")
    problems = []
    for name, requirement in declared().items():
        pinned = constraints.get(name)
        if pinned is None:
            problems.append(f"{name} is not pinned in constraints.txt")
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(f"constraints.txt pins {name}=={pinned}, outside {requirement}")
        if requirements.get(name) != pinned:
            problems.append(
                f"requirements.txt pins {name} at {requirements.get(name)}, constraints.txt "
                f"at {pinned}: the book's direct dependencies include memnb's, at the same pins"
            )
    assert not problems, "\n".join(problems)


def test_console_command_version_and_typed_package():
    project = PYPROJECT["project"]
    assert project["scripts"] == {"memnb": "memnb.cli:main"}
    assert "version" in project["dynamic"] and "version" not in project
    assert PYPROJECT["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "memnb.__version__"}
    assert memnb.__version__.count(".") == 2
    assert (ROOT / "memnb" / "py.typed").is_file()
    assert "py.typed" in PYPROJECT["tool"]["setuptools"]["package-data"]["memnb"]
