"""Print what the book build and the checks of ``make test`` measured (``_build/reports/``).

``report.py build SECONDS`` records the whole-book time of the build that just finished and
prints every chapter's time (from ``tools/execute_book.py``) and what the explorers' grids
cost (:func:`grids`). ``report.py summary`` ends ``make test``: chapters executed and
validated by nbval, pages, figures and links checked in Chromium, the JupyterLab,
fresh-clone and clean-install runs, the whole-book time and the slowest chapter. A missing
report is an error (no number shown was not measured); a skipped step says so in its own.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

REPORTS = Path(__file__).resolve().parent.parent / "_build" / "reports"


def load(name: str) -> dict:
    path = REPORTS / (name if "." in name else f"{name}.json")
    if not path.is_file():
        raise SystemExit(f"error: {path} is missing: the step that writes it did not run")
    if path.suffix == ".xml":  # pytest's JUnit XML: one <testsuite> per run
        return ET.parse(path).getroot().find("testsuite").attrib
    return json.loads(path.read_text(encoding="utf-8"))


KINDS = ("kernel", "imports", "experiments", "figures", "glue")  # tools/execute_book.py's
STATE = re.compile(
    r'<script type="application/vnd\.jupyter\.widget-state\+json">(.*?)</script>', re.S
)


def grids(html: Path) -> str:
    """What the explorers' grids cost the pages: each explorer stores its grid's kernel CPU
    seconds (``grid_cpu_seconds``); each figure is an Image model of the widget state."""
    pages = {}  # page -> [explorers, figures, CPU seconds, image bytes, page bytes]
    for path in sorted(html.rglob("*.html")):
        text, found = path.read_text(encoding="utf-8"), [0, 0, 0.0, 0, 0]
        for match in STATE.finditer(text):
            for model in json.loads(match.group(1)).get("state", {}).values():
                if "memnb-explorer" in model.get("state", {}).get("_dom_classes", []):
                    found[0] += 1
                    found[2] += float(model["state"].get("grid_cpu_seconds", 0.0))
                elif model.get("model_name") == "ImageModel":
                    found[1] += 1
                    found[3] += len(json.dumps(model))
        if found[0]:
            pages[path.relative_to(html).as_posix()] = found[:4] + [len(text.encode())]
    if not pages:
        return "explorer grids: none found in the built pages"
    total = [sum(column) for column in zip(*pages.values(), strict=True)]
    top = max(pages, key=lambda page: pages[page][3])
    return (
        f"explorer grids: {total[1]} figures for {total[0]} explorers on {len(pages)} pages, "
        f"drawn in {total[2]:.1f} s of kernel CPU time (at most "
        f"{max(p[2] for p in pages.values()):.1f} s in a chapter); they add "
        f"{total[3] / 1e3:.0f} kB to the pages, at most {pages[top][3] / 1e3:.0f} kB to one "
        f"({top}, {pages[top][4] / 1e3:.0f} kB in all)"
    )


def build(seconds: float) -> None:
    execution = load("execution.json")
    chapters, cpu = execution["chapters"], execution["cpu_seconds"]
    (REPORTS / "build.json").write_text(json.dumps({"seconds": seconds}) + "\n", encoding="utf-8")
    print(f"\n| chapter | executed in (s) | CPU (s) | {' | '.join(KINDS)} |\n|---|" + "---:|" * 7)
    for name, took in sorted(chapters.items(), key=lambda item: -item[1]):
        parts = " | ".join(f"{cpu[name][k]:.1f}" for k in KINDS)
        print(f"| {name} | {took:.1f} | {sum(cpu[name].values()):.1f} | {parts} |")
    print(
        "\nCPU: seconds of each chapter's kernel, by what its cells do (kernel: its start "
        f"before the first cell; see tools/execute_book.py).\n\n{len(chapters)} chapters, "
        f"{sum(chapters.values()):.1f} s of execution in all "
        f"({sum(sum(split.values()) for split in cpu.values()):.1f} s of CPU), run "
        f"{execution['jobs']} at a time; whole book executed and built in {seconds:.0f} s"
    )
    print(grids(REPORTS.parent / "html"))


def summary() -> None:
    built, chapters = load("build.json"), load("execution.json")["chapters"]
    nbval, references = load("nbval.xml"), load("nbval_references.json")
    browser, lab, fresh, install = map(load, ("browser", "lab", "fresh", "install"))
    slowest = max(chapters, key=chapters.get)
    failed = int(nbval["failures"]) + int(nbval["errors"])
    lines = [
        "",
        "Summary of make test",
        f"- chapters executed: {len(chapters)} in the book build, and again by nbval: "
        f"{nbval['tests']} cells run in {float(nbval['time']):.0f} s, {failed} failed; "
        f"{references['compared']} cells compared with the book's (not compared: "
        f"{references['run_only']} cells that end with ';' or show a widget, and "
        f"{', '.join(references['chapters_run_only'])})",
        f"- whole book executed and built in {built['seconds']:.0f} s; slowest chapter: "
        f"{slowest} ({chapters[slowest]:.1f} s)",
    ]
    skipped = "- {} checks SKIPPED: {}".format
    lines += [
        skipped("browser", browser["skipped"])
        if browser.get("skipped")
        else f"- in Chromium: {browser['pages']} pages opened, {browser['figures']} figures, "
        f"{browser['links']} internal links and {browser['widgets']} widget areas "
        f"checked, {browser['screenshots']} screenshots",
        skipped("JupyterLab", lab["skipped"])
        if lab.get("skipped")
        else f"- in JupyterLab: {len(lab['chapters'])} chapters run ({', '.join(lab['chapters'])})"
        f", {lab['slider_changes']} slider moves redrew their figure",
        f"- fresh clone: `make book` built {fresh['pages']} pages in {fresh['seconds']:.0f} s",
        f"- clean install: {install['wheel']} with {len(install['packages'])} packages in a new "
        f"venv; {', '.join(f'`{c}`' for c in install['commands'])}, {install['modules']} "
        f"public modules and {len(install['experiments'])} experiment modules run, then the "
        f"extras {', '.join(install['extras'])} (+{len(install['extra_packages'])} packages); "
        f"{install['seconds']:.0f} s",
    ]
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    timed = sub.add_parser("build", help="record and print the times of the book build")
    timed.add_argument("seconds", type=float, help="wall time of the whole build")
    sub.add_parser("summary", help="print the summary of make test")
    args = parser.parse_args(argv)
    if args.command == "build" and args.seconds < 0:
        parser.error(f"seconds must be >= 0, got {args.seconds}")
    build(args.seconds) if args.command == "build" else summary()
    return 0


if __name__ == "__main__":
    sys.exit(main())
