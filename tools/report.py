"""Print what the checks of ``make test`` measured, from the reports in ``_build/reports/``.

``python tools/report.py build SECONDS`` records the whole-book time of the build that
just finished and prints the execution time of every chapter (written by the Sphinx
extension ``tools/execution_report.py``). ``python tools/report.py summary`` prints the
one summary that ends ``make test``: chapters executed, figures checked, pages opened,
links checked, the whole-book time and the slowest chapter. A report that a step should
have written and did not is an error, so the summary never shows a number that was not
measured; a step that was skipped (no Chromium here) says so in its own report.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPORTS = Path(__file__).resolve().parent.parent / "_build" / "reports"


def load(name: str) -> dict:
    path = REPORTS / f"{name}.json"
    if not path.is_file():
        raise SystemExit(f"error: {path} is missing: the step that writes it did not run")
    return json.loads(path.read_text(encoding="utf-8"))


def chapter_table(chapters: dict[str, dict], again: dict[str, dict] | None = None) -> str:
    """A Markdown table of execution seconds per chapter, slowest first."""
    head = "| chapter | executed in the build (s) |"
    rule = "|---|---:|"
    if again is not None:
        head += " executed again (s) |"
        rule += "---:|"
    rows = [head, rule]
    for name, run in sorted(chapters.items(), key=lambda item: -(item[1]["seconds"] or 0)):
        row = f"| {name} | {run['seconds']:.1f} |"
        if again is not None:
            other = again.get(name)
            row += f" {other['seconds']:.1f} |" if other else " not repeated |"
        rows.append(row)
    return "\n".join(rows)


def build(seconds: float, jobs: int) -> None:
    execution = load("execution")
    chapters = execution["chapters"]
    if not chapters:
        raise SystemExit("error: the build executed no chapter")
    failed = [name for name, run in chapters.items() if not run["succeeded"]]
    if failed:
        raise SystemExit(f"error: these chapters failed to execute: {', '.join(failed)}")
    record = {"seconds": seconds, "jobs": jobs, "chapters": len(chapters)}
    (REPORTS / "build.json").write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")
    total = sum(run["seconds"] for run in chapters.values())
    print()
    print(chapter_table(chapters))
    print()
    print(
        f"{len(chapters)} chapters, {total:.1f} s of execution in all, run "
        f"{jobs} at a time; whole book executed and built in {seconds:.0f} s"
    )


def skipped_line(report: dict, what: str) -> str:
    """The summary line of a step that was skipped, or "" when it ran."""
    return f"- {what} SKIPPED: {report['skipped']}" if report.get("skipped") else ""


def summary() -> None:
    built, execution = load("build"), load("execution")
    repeat, browser, lab, fresh = load("repeat"), load("browser"), load("lab"), load("fresh")
    chapters = execution["chapters"]
    slowest = max(chapters, key=lambda name: chapters[name]["seconds"])
    lines = [
        "",
        "Summary of make test",
        chapter_table(chapters, repeat["chapters"]),
        "",
        f"- chapters executed: {len(chapters)} in the book build, "
        f"{len(repeat['chapters'])} again with identical glued values",
        f"- whole book executed and built in {built['seconds']:.0f} s "
        f"({built['jobs']} chapters at a time)",
        f"- slowest chapter: {slowest} ({chapters[slowest]['seconds']:.1f} s)",
    ]
    lines.append(
        skipped_line(browser, "browser checks")
        or f"- in Chromium: {browser['pages']} pages opened, {browser['figures']} figures "
        f"checked, {browser['links']} internal links checked, {browser['widgets']} widget "
        f"areas checked, {browser['screenshots']} screenshots"
    )
    lines.append(
        skipped_line(lab, "JupyterLab checks")
        or f"- in JupyterLab: {len(lab['chapters'])} chapters run "
        f"({', '.join(lab['chapters'])}), {lab['slider_changes']} slider moves redrew "
        "their figure"
    )
    lines.append(
        f"- fresh clone: `make book` built {fresh['pages']} pages in {fresh['seconds']:.0f} s"
    )
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    timed = sub.add_parser("build", help="record and print the times of the book build")
    timed.add_argument("seconds", type=float, help="wall time of the whole build")
    timed.add_argument("--jobs", type=int, required=True, help="chapters executed at once")
    sub.add_parser("summary", help="print the summary of make test")
    args = parser.parse_args(argv)
    if args.command == "build":
        if args.seconds < 0:
            parser.error(f"seconds must be >= 0, got {args.seconds}")
        if args.jobs < 1:
            parser.error(f"--jobs must be a positive integer, got {args.jobs}")
        build(args.seconds, args.jobs)
    else:
        summary()
    return 0


if __name__ == "__main__":
    sys.exit(main())
