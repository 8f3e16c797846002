"""Checks run by the Python of the clean-install environment (test_clean_install.py).

Not a test module: ``python in_venv.py modules`` imports every public module of the
installed memnb; ``python in_venv.py experiments`` calls one function of each module of
``memnb.experiments`` with tiny sizes, on the reader's ``mymod.MyMemory`` of the current
folder. Each prints one JSON object, what worked and what failed with its error; the
test decides what counts as a failure.
"""

from __future__ import annotations

import importlib
import json
import os
import pkgutil
import sys
import traceback
from collections.abc import Callable


def public_modules(package: str) -> list[str]:
    """``package`` and every module below it whose dotted name has no part with ``_``."""
    root = importlib.import_module(package)
    names = [package]
    for info in pkgutil.walk_packages(root.__path__, f"{package}."):
        if not any(part.startswith("_") for part in info.name.split(".")[1:]):
            names.append(info.name)
    return names


def modules() -> dict:
    import memnb

    results = {}
    for name in public_modules("memnb"):
        try:
            importlib.import_module(name)
            results[name] = "ok"
        except Exception as exc:  # reported, not raised: the test decides what may fail
            results[name] = f"{type(exc).__name__}: {exc}"
    typed = os.path.isfile(os.path.join(os.path.dirname(memnb.__file__), "py.typed"))
    return {"memnb": memnb.__file__, "typed": typed, "modules": results}


def tiny_calls() -> dict[str, Callable[[], object]]:
    """One call of each experiment module, with tiny sizes, on the reader's memory."""
    sys.path.insert(0, os.getcwd())  # the reader's folder, as `memnb profile` does
    from mymod import MyMemory

    import memnb
    from memnb import experiments as e

    def sequences() -> object:
        frame = e.free_recall(MyMemory, length=6, trials=4, dim=16, steps=1)
        return memnb.summaries.lag_crp(frame)  # psifr's lag-CRP of the recalls

    return {
        "memnb.experiments.adaptation": lambda: e.adaptation(MyMemory, steps=2, trials=2, dim=8),
        "memnb.experiments.capacity": lambda: e.capacity(
            MyMemory, n_items=(2, 4), steps=1, trials=2, dim=8
        ),
        "memnb.experiments.completion": lambda: e.completion(
            MyMemory, n_patterns=(2, 3), dim=16, trials=2
        ),
        "memnb.experiments.dimensions": lambda: e.token_dimensions(
            MyMemory, dims=(4, 8), n_items=4, steps=1, trials=2
        ),
        "memnb.experiments.forgetting": lambda: e.forgetting(
            MyMemory, steps=2, trials=2, dim=8, n_train=4
        ),
        "memnb.experiments.keys": lambda: e.key_recall(
            MyMemory, n_items=(2, 4), steps=1, trials=2, dim=8, n_unseen=4
        ),
        "memnb.experiments.sequences": sequences,
        "memnb.experiments.sweep": lambda: e.sweep(
            e.adaptation, {"mine": MyMemory, "delta": memnb.DeltaRuleMemory}, steps=2, trials=2
        ),
    }


def experiments() -> dict:
    calls = tiny_calls()
    results = {}
    for name in public_modules("memnb.experiments")[1:]:
        if name not in calls:
            results[name] = "no tiny call for this module in tests/install/in_venv.py"
            continue
        try:
            frame = calls[name]()
            results[name] = f"{len(frame)} rows" if len(frame) else "an empty frame"
        except Exception:
            results[name] = traceback.format_exc(limit=-3).strip().replace("\n", " | ")
    return {"experiments": results}


def main(argv: list[str]) -> int:
    if argv != ["modules"] and argv != ["experiments"]:
        print("usage: python in_venv.py modules|experiments", file=sys.stderr)
        return 2
    result = modules() if argv == ["modules"] else experiments()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
