"""Check that committed notebooks carry no execution results.

The chapters are executed when the book is built, so the notebooks in the
repository hold only their sources: no outputs, no execution counts and no
stored widget state. Outputs in git would go stale, bloat diffs and could hide
a chapter that no longer runs.

Usage: python tools/check_notebooks_clean.py [PATH ...]   (default: chapters)
Fix a notebook with: nbstripout PATH.ipynb
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def notebooks(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p
                for p in sorted(path.rglob("*.ipynb"))
                if not any(part.startswith(".") or part == "_build" for part in p.parts)
            )
        elif path.suffix == ".ipynb":
            found.append(path)
    return found


def problems(path: Path) -> list[str]:
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return [f"cannot be read as JSON: {exc}"]
    found: list[str] = []
    if "widgets" in nb.get("metadata", {}):
        found.append("notebook metadata holds widget state ('widgets')")
    for index, cell in enumerate(nb.get("cells", [])):
        if cell.get("cell_type") != "code":
            continue
        if cell.get("outputs"):
            found.append(f"cell {index} has {len(cell['outputs'])} output(s)")
        if cell.get("execution_count") is not None:
            found.append(f"cell {index} has execution_count {cell['execution_count']}")
    return found


def main(argv: list[str]) -> int:
    paths = [Path(a) for a in argv] or [ROOT / "chapters"]
    missing = [p for p in paths if not p.exists()]
    if missing:
        print("error: no such path: " + ", ".join(map(str, missing)), file=sys.stderr)
        return 2
    checked = notebooks(paths)
    dirty = {path: found for path in checked if (found := problems(path))}
    for path, found in dirty.items():
        for problem in found:
            print(f"{path}: {problem}")
    if dirty:
        print(
            f"{len(dirty)} of {len(checked)} notebook(s) are not clean; "
            "strip them with: nbstripout " + " ".join(map(str, dirty)),
            file=sys.stderr,
        )
        return 1
    print(f"{len(checked)} notebook(s) clean (no outputs, no execution counts)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
