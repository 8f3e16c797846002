"""memnb's public names: each is used somewhere, and every ``__all__`` is accurate.

A public name is one listed in a module's ``__all__`` or a top-level ``def`` or ``class``
of memnb whose name does not start with an underscore. It counts as used when code
refers to it (a name or an attribute, parsed with ``ast``) anywhere outside its own
definition: in memnb, tests/, benchmarks/, tools/ or a code cell of chapters/*.ipynb, or
when a code span of README.md or of a chapter's prose names it (documented for readers).
Imports and ``__all__`` entries alone are not uses.

``__all__`` is accurate when it holds no duplicates, names only what the module binds (or
a submodule that the package's ``__getattr__`` loads), and lists every public ``def`` and
``class`` of the module; in a package ``__init__`` it lists every name imported from the
package's own submodules.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CODE_FOLDERS = ("memnb", "tests", "benchmarks", "tools")
CODE_SPAN = re.compile(r"```.*?```|`[^`\n]+`", re.DOTALL)


@dataclass(frozen=True)
class Definition:
    name: str
    path: Path
    line: int


def _all_list(tree: ast.Module) -> list[str] | None:
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets
        ):
            value = ast.literal_eval(node.value)
            return [str(v) for v in value]
    return None


def _bound(tree: ast.Module) -> set[str]:
    """Every name the module binds at top level."""
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names.update(n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _public_defs(tree: ast.Module) -> dict[str, int]:
    return {
        node.name: node.lineno
        for node in tree.body
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
        and not node.name.startswith("_")
    }


def _lazy_submodules(path: Path, tree: ast.Module) -> set[str]:
    """Submodules that a package's module-level ``__getattr__`` loads: the submodule names
    written as strings in its body."""
    if path.name != "__init__.py":
        return set()
    submodules = {p.stem for p in path.parent.glob("*.py")} | {
        p.parent.name for p in path.parent.glob("*/__init__.py")
    }
    return {
        sub.value
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
        for sub in ast.walk(node)
        if isinstance(sub, ast.Constant) and sub.value in submodules
    }


def check_all(path: Path, tree: ast.Module, where: str) -> list[str]:
    """What is wrong with the ``__all__`` of one module (nothing when it has none)."""
    listed = _all_list(tree)
    if listed is None:
        return []
    problems = [
        f"{where}: __all__ lists {n!r} twice" for n in sorted(set(listed)) if listed.count(n) > 1
    ]
    lazy = _lazy_submodules(path, tree)
    bound = _bound(tree)
    problems += [
        f"{where}: __all__ lists {n!r}, which the module does not define"
        for n in listed
        if n not in bound and n not in lazy
    ]
    expected = set(_public_defs(tree)) | lazy
    if path.name == "__init__.py":
        expected |= {
            a.asname or a.name
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and node.level >= 1
            for a in node.names
            if not (a.asname or a.name).startswith("_")
        }
    problems += [
        f"{where}: {n!r} is public but missing from __all__" for n in sorted(expected - set(listed))
    ]
    return problems


def definitions(root: Path) -> tuple[list[Definition], list[str]]:
    """Every public name of memnb, and the problems found in the ``__all__`` lists."""
    found: list[Definition] = []
    problems: list[str] = []
    for path in sorted((root / "memnb").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        problems += check_all(path, tree, str(path.relative_to(root)))
        defs = _public_defs(tree)
        for name in _all_list(tree) or []:
            found.append(Definition(name, path, defs.get(name, 1)))
        found += [Definition(name, path, line) for name, line in defs.items()]
    return found, problems


def _uses(tree: ast.AST) -> Iterator[tuple[str, str | None]]:
    """``(name, enclosing top-level definition)`` for every name and attribute in ``tree``."""
    top = tree.body if isinstance(tree, ast.Module) else []
    for node in top:
        owner = (
            node.name
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)
            else None
        )
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name):
                yield sub.id, owner
            elif isinstance(sub, ast.Attribute):
                yield sub.attr, owner


def _notebook_sources(path: Path) -> Iterator[tuple[str, str]]:
    """``(cell_type, source)`` of every cell of a notebook."""
    for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
        source = cell.get("source", "")
        yield cell.get("cell_type", ""), "".join(source) if isinstance(source, list) else source


def used_names(root: Path) -> tuple[dict[Path, list[tuple[str, str | None]]], set[str]]:
    """Names used in each Python file (with their enclosing definition), and the words
    of code in notebooks and of code spans in notebook prose and README.md."""
    by_file: dict[Path, list[tuple[str, str | None]]] = {}
    for folder in CODE_FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            by_file[path] = list(_uses(ast.parse(path.read_text(encoding="utf-8"))))
    words: set[str] = set()
    readme = root / "README.md"
    texts = [readme.read_text(encoding="utf-8")] if readme.exists() else []
    for path in sorted((root / "chapters").glob("*.ipynb")):
        for kind, source in _notebook_sources(path):
            if kind == "code":
                lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
                try:
                    words |= {name for name, _ in _uses(ast.parse("\n".join(lines)))}
                except SyntaxError:
                    words |= set(re.findall(r"\w+", source))
            else:
                texts.append(source)
    for text in texts:
        for span in CODE_SPAN.findall(text):
            words |= set(re.findall(r"\w+", span))
    return by_file, words


def unused(root: Path, defs: list[Definition]) -> list[Definition]:
    """The definitions whose name is used nowhere outside the definition itself."""
    by_file, used = used_names(root)
    package = root / "memnb"
    for path, uses in by_file.items():
        inside = path.is_relative_to(package)
        # Inside memnb, a use within the top-level definition of that name (a function
        # calling itself, a class naming itself) is not a use.
        used |= {name for name, owner in uses if not inside or owner != name}
    return [d for d in defs if d.name not in used]


def test_every_all_lists_what_its_module_defines():
    _, problems = definitions(ROOT)
    assert not problems, "\n".join(problems)


def test_every_public_name_is_used():
    defs, _ = definitions(ROOT)
    unused_names = [f"{d.path.relative_to(ROOT)}:{d.line}: {d.name}" for d in unused(ROOT, defs)]
    assert defs and not unused_names, (
        "public names of memnb used nowhere (not in memnb, tests, benchmarks, tools, the "
        "chapters or README.md); use them, or make them private with a leading underscore:\n"
        + "\n".join(unused_names)
    )


def test_the_checks_find_an_unused_name_and_a_wrong_all(tmp_path):
    (tmp_path / "memnb").mkdir()
    module = "__all__ = ['used', 'used', 'ghost']\n\ndef used(): ...\n\ndef forgotten(): ...\n"
    (tmp_path / "memnb" / "mod.py").write_text(module, encoding="utf-8")
    (tmp_path / "README.md").write_text("Call `used()`.\n", encoding="utf-8")
    defs, problems = definitions(tmp_path)
    assert problems == [
        "memnb/mod.py: __all__ lists 'used' twice",
        "memnb/mod.py: __all__ lists 'ghost', which the module does not define",
        "memnb/mod.py: 'forgotten' is public but missing from __all__",
    ]
    assert sorted({d.name for d in unused(tmp_path, defs)}) == ["forgotten", "ghost"]
