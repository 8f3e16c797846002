"""Command line: ``memnb profile package.module:factory --out DIR`` (the console command
that ``pip install`` makes), or ``python -m memnb profile ...``; ``memnb --version``.

Profiles a memory factory (or one of the book's memories by its name in
:data:`memnb.memories.MEMORIES`) with :func:`memnb.battery.profile`, by default beside the
reference memories of :func:`memnb.battery.reference_profiles` (each at its tuned setting
for each protocol), and writes into ``DIR`` the panel figure (PNG), the frame (CSV), the
headline table with 95 % confidence intervals (CSV) and a short report as Markdown and as
HTML with the figure embedded.

Exit status: 0 for a complete profile; 1 for an error (one line ``error: ...`` on
stderr); 2 for a usage error (argparse); 3 for a profile written in full where some
headline of the memory diverged (its trials had reads that were not finite: the number is
NaN, or read from the trials that stayed finite, and the notes say which), so that a
script or CI job can tell a broken memory from a working one.
"""

from __future__ import annotations

import argparse
import base64
import html
import importlib
import math
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch

from . import __version__
from ._validate import ProtocolError
from .memories import MEMORIES

FIGURE = "profile.png"
FRAME = "frame.csv"
REFERENCE_FRAME = "references.csv"
SUMMARY = "summary.csv"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"

# The exit statuses of ``python -m memnb profile``.
OK, ERROR, USAGE, DIVERGED = 0, 1, 2, 3
EXIT_STATUS = (
    "exit status: 0 the profile is complete; 1 an error (one line 'error: ...'); "
    "2 a usage error; 3 the profile is written but some headline of the memory diverged "
    "(reads that were not finite; see the notes)"
)


class CLIError(Exception):
    """A failure the command line reports as one ``error: ...`` line and exit status 1."""


def factory_path(text: str) -> str:
    """Check the form ``package.module:attribute``, or a name in
    :data:`memnb.memories.MEMORIES` (an argparse ``type``)."""
    if text in MEMORIES:
        return text
    module, sep, attribute = text.partition(":")
    if not sep or not module or not attribute or ":" in attribute:
        raise argparse.ArgumentTypeError(
            f"expected package.module:factory (a module path, one colon, a name) or a memory "
            f"of the book (one of {', '.join(MEMORIES)}), got {text!r}"
        )
    return text


def seed_value(text: str) -> int:
    """A seed: an int >= 0 (an argparse ``type``)."""
    try:
        seed = int(text)
    except ValueError:
        seed = -1
    if seed < 0:
        raise argparse.ArgumentTypeError(f"expected an int >= 0, got {text!r}")
    return seed


def load_factory(path: str) -> Any:
    """Import ``package.module:attribute`` (the current directory is importable too), or
    look up a memory of the book by its name in :data:`memnb.memories.MEMORIES`."""
    if factory_path(path) in MEMORIES:
        return MEMORIES[path]
    module_name, _, attribute = path.partition(":")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module_name.startswith(exc.name):
            raise CLIError(
                f"cannot import module {module_name!r} (from {path!r}): no module named "
                f"{exc.name!r}; run from the folder that holds it or install it"
            ) from exc
        raise CLIError(f"importing module {module_name!r} failed: {_one_line(exc)}") from exc
    except Exception as exc:
        raise CLIError(f"importing module {module_name!r} failed: {_one_line(exc)}") from exc
    obj: Any = module
    for name in attribute.split("."):
        if not hasattr(obj, name):
            raise CLIError(f"module {module_name!r} has no attribute {attribute!r} (from {path!r})")
        obj = getattr(obj, name)
    if not callable(obj):
        raise CLIError(
            f"{path} is a {type(obj).__name__}, expected a memory class or a factory "
            "callable as factory(dim) or factory(dim, trials=T)"
        )
    return obj


def check_device(name: str | None) -> str | None:
    """Return ``name`` if torch can use that device here, else raise :class:`CLIError`."""
    if name is None:
        return None
    try:
        device = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise CLIError(f"--device {name!r} is not a torch device: {_one_line(exc)}") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise CLIError(
            f"--device {name} was asked for but CUDA is not available "
            f"(torch {torch.__version__}); leave --device out to run on the CPU"
        )
    if device.type == "cuda" and device.index is not None:
        if device.index >= torch.cuda.device_count():
            raise CLIError(
                f"--device {name}: only {torch.cuda.device_count()} CUDA device(s) available"
            )
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise CLIError(f"--device {name} was asked for but MPS is not available")
    return name


def format_number(value: object) -> str:
    """A headline number as text: 4 significant digits, ``n/a`` for a missing one."""
    if value is None:
        return "n/a"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    if math.isnan(number):
        return "n/a"
    if math.isinf(number):
        return "not reached"
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return f"{number:.4g}"


def interval_text(value: object) -> str:
    """A headline number with its 95 % confidence interval, ``12.5 [10.1, 14]``: the
    number as :func:`format_number` writes it, and its ``low`` and ``high`` when it has
    them (``n/a`` for a missing number, the number alone when it has no interval)."""
    number = format_number(value)
    low, high = (getattr(value, name, math.nan) for name in ("low", "high"))
    if number == "n/a" or math.isnan(low) or math.isnan(high):
        return number
    return f"{number} [{format_number(low)}, {format_number(high)}]"


def flat_columns(table: Any) -> Any:
    """A copy of :func:`memnb.battery.summary_table`'s table with one level of column
    names, ``"<headline>: value"``, ``"... : 95 % CI low"`` and ``"... : 95 % CI high"``
    (for a CSV file that any tool reads), and a last column ``diverged``: the headlines
    of each memory whose trials diverged, separated by ``;`` (empty when none) from the
    table's ``attrs["diverged"]``."""
    flat = table.copy()
    if getattr(flat.columns, "nlevels", 1) == 2:
        names = {"value": "value", "low": "95 % CI low", "high": "95 % CI high"}
        flat.columns = [f"{headline}: {names.get(part, part)}" for headline, part in flat.columns]
    diverged = table.attrs.get("diverged")
    if diverged is not None:
        flat["diverged"] = ["; ".join(diverged.get(label, [])) for label in flat.index]
    return flat


def markdown_table(frame: Any) -> str:
    """A pandas frame as a GitHub Markdown table (index as the first column)."""
    index_name = frame.index.name or ""
    header = [_markdown_text(str(c)) for c in (index_name, *frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in frame.iterrows():
        cells = [_markdown_text(str(index)), *(format_number(v) for v in row.tolist())]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _markdown_text(text: str) -> str:
    """``text`` with the characters that Markdown (and its tables) would read escaped."""
    return "".join(f"\\{c}" if c in "\\`*_[]<|" else c for c in text)


def _markdown_code(text: str) -> str:
    """``text`` as a Markdown code span, fenced by more backticks than it holds in a row."""
    fence = "`" * (max(map(len, re.findall("`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def write_report(
    out: Path,
    profile: Any,
    references: Sequence[Any],
    table: Any,
    *,
    command: str,
    settings: dict[str, object],
    seconds: float,
) -> dict[str, Path]:
    """Write the figure, frames, headline table and the Markdown and HTML reports to ``out``.

    ``profile`` and ``references`` are :class:`memnb.battery.Profile` objects (anything
    with ``label``, ``frame``, ``summary`` and ``figure(references)``); ``table`` is the
    headline table of all of them. The HTML report is the Markdown report rendered by
    markdown-it, with the figure embedded. Returns the paths written, by kind.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    paths = {"figure": out / FIGURE, "frame": out / FRAME, "summary": out / SUMMARY}
    figure = profile.figure(references=tuple(references))
    try:
        figure.savefig(paths["figure"], dpi=120, bbox_inches="tight")
    finally:
        plt.close(figure)
    profile.frame.to_csv(paths["frame"], index=False)
    if references:
        paths["references"] = out / REFERENCE_FRAME
        pd.concat([r.frame for r in references], ignore_index=True).to_csv(
            paths["references"], index=False
        )
    flat_columns(table).to_csv(paths["summary"])
    files = [p.name for p in paths.values()] + [REPORT_MD, REPORT_HTML]
    text = report_markdown(
        profile, references, table, command=command, settings=settings, seconds=seconds, files=files
    )
    paths["markdown"] = out / REPORT_MD
    paths["markdown"].write_text(text, encoding="utf-8")
    paths["html"] = out / REPORT_HTML
    page = markdown_to_html(
        text, title=f"Memory profile: {profile.label}", images={FIGURE: paths["figure"]}
    )
    paths["html"].write_text(page, encoding="utf-8")
    return paths


def report_markdown(
    profile: Any,
    references: Sequence[Any],
    table: Any,
    *,
    command: str,
    settings: dict[str, object],
    seconds: float,
    files: Sequence[str],
) -> str:
    """The report as Markdown: headline numbers with their 95 % confidence intervals, the
    table beside the references (and the settings each reference ran at), the figure
    (linked as ``profile.png``) and the list of ``files`` written."""
    from .battery import HEADLINES

    label = _markdown_text(str(profile.label))
    notes = [f"{key}: {text}" for key, text in getattr(profile, "notes", {}).items()]
    diverged = getattr(profile, "diverged", {})

    def value(key: str) -> str:
        number = profile.summary.get(key)
        shown = format_number(number)
        return "diverged" if shown == "n/a" and key in diverged else shown

    table_note = str(table.attrs.get("note", ""))
    ref_names = ", ".join(str(r.label) for r in references) or "none (--no-references)"
    setting_text = ", ".join(f"{k}={v}" for k, v in settings.items())
    profiles = [profile, *references]
    beside = pd.DataFrame(
        {
            text: [interval_text(p.summary.get(key)) for p in profiles]
            for key, text in HEADLINES.items()
        },
        index=pd.Index([str(p.label) for p in profiles], name="memory"),
    )
    tuned = [r for r in references if getattr(r, "settings", None)]
    lines = [
        f"# Memory profile: {label}",
        "",
        f"Command: {_markdown_code(command)}  ",
        f"Settings: {_markdown_text(setting_text)}; memnb {__version__}, "
        f"torch {torch.__version__}; {seconds:.1f} s.  ",
        f"Reference memories: {_markdown_text(ref_names)}.",
        "",
        "## Headline numbers",
        "",
        "| number | value | 95 % CI | what it measures |",
        "|---|---|---|---|",
        *(
            f"| `{key}` | {value(key)} | {_ci_text(profile.summary.get(key))} | {text} |"
            for key, text in HEADLINES.items()
        ),
        "",
        "Each number is the mean over trials (or read off the mean curve), with its 95 % "
        "percentile bootstrap interval over trials. Forgetting is scored as the nearest of "
        "the 8 values of two clustered tasks (chance 1/8) and quoted only where the memory "
        "learned task A (accuracy on A at least halfway from chance to 1). A number whose "
        "trials had reads that were not finite is reported as diverged, never as a score.",
        "",
        *(f"- {_markdown_text(note)}" for note in notes),
        *([""] if notes else []),
        "## Beside the references",
        "",
        markdown_table(beside),
        "",
        *([_markdown_text(table_note), ""] if table_note else []),
        *(_settings_lines(tuned) if tuned else []),
        "## Panel figure",
        "",
        f"![Panel figure of {label}]({FIGURE})",
        "",
        "## Files",
        "",
        *(f"- `{name}`" for name in files),
        "",
    ]
    return "\n".join(lines)


def _ci_text(value: object) -> str:
    """``low to high`` of a headline number, ``n/a`` when it has no interval."""
    low, high = (getattr(value, name, math.nan) for name in ("low", "high"))
    if math.isnan(low) or math.isnan(high):
        return "n/a"
    return f"{format_number(low)} to {format_number(high)}"


def _settings_lines(references: Sequence[Any]) -> list[str]:
    """The report's section on the settings each reference memory ran at."""
    from .battery import PROTOCOLS

    def text(setting: dict) -> str:
        return ", ".join(f"{k}={v}" for k, v in setting.items()) or "defaults"

    lines = [
        "## Settings of the references",
        "",
        "Each reference memory runs each protocol at its best setting for it, found with "
        "`memnb.battery.tune_references` on seeds 1 and 2 (not on the seeds reported).",
        "",
        "| memory | " + " | ".join(PROTOCOLS) + " |",
        "|---|" + "---|" * len(PROTOCOLS),
    ]
    for r in references:
        cells = [_markdown_text(text(r.settings.get(p, {}))) for p in PROTOCOLS]
        lines.append(f"| {_markdown_text(str(r.label))} | " + " | ".join(cells) + " |")
    return [*lines, ""]


# The look of the HTML report, the only styling it has.
REPORT_CSS = """\
body { font-family: sans-serif; max-width: 60em; margin: 2em auto; padding: 0 1em; }
table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ccc; padding: 0.3em 0.6em; text-align: left; }
img { max-width: 100%; }
"""


def markdown_to_html(text: str, *, title: str, images: dict[str, Path]) -> str:
    """A standalone HTML page of the Markdown ``text`` (CommonMark with tables).

    Raw HTML in ``text`` is shown as text, not run. Every image whose link is a key of
    ``images`` is embedded: its link becomes the ``data:`` URI of that PNG file.
    """
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False}).enable("table")
    tokens = md.parse(text)
    for token in tokens:
        for child in token.children or ():
            source = child.attrGet("src") if child.type == "image" else None
            if source in images:
                data = base64.b64encode(images[source].read_bytes()).decode("ascii")
                child.attrSet("src", f"data:image/png;base64,{data}")
    body = md.renderer.render(tokens, md.options, {})
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{REPORT_CSS}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    )


def run_profile(args: argparse.Namespace) -> int:
    """The ``profile`` subcommand."""
    device = check_device(args.device)
    factory = load_factory(args.factory)
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} exists and is not a folder")
    from . import battery

    # A broken memory fails here in a second, before the long run and its progress bar.
    try:
        battery.validate(battery.on_device(factory, device), seed=args.seed)
    except Exception as exc:
        raise CLIError(f"{args.factory}: {_one_line(exc)}") from exc
    label = args.label or args.factory.rpartition(":")[2].rsplit(".", 1)[-1]
    start = time.perf_counter()
    try:
        profile = battery.profile(
            factory, quick=args.quick, seed=args.seed, device=device, label=label, progress=True
        )
    except Exception as exc:
        raise CLIError(f"profiling {args.factory} failed: {_one_line(exc)}") from exc
    references: list[Any] = []
    if args.references:
        print("profiling the reference memories ...", file=sys.stderr, flush=True)
        references = [
            r
            for r in battery.reference_profiles(quick=args.quick, seed=args.seed, device=device)
            if r.label != profile.label
        ]
    table = battery.summary_table([profile, *references])
    seconds = time.perf_counter() - start
    settings = {"quick": args.quick, "seed": args.seed, "device": device or "default"}
    command = f"{_program()} " + " ".join(args.argv)
    paths = write_report(
        out, profile, references, table, command=command, settings=settings, seconds=seconds
    )
    print(f"wrote {len(paths)} files to {out}: " + ", ".join(p.name for p in paths.values()))
    if profile.diverged:
        said = "; ".join(f"{key}: {text}" for key, text in profile.diverged.items())
        print(f"diverged: {said} (exit status {DIVERGED})", file=sys.stderr)
        return DIVERGED
    return OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=_program(),
        description="memnb: experiments on episodic (key-value) memories.",
        epilog=EXIT_STATUS,
    )
    parser.add_argument("--version", action="version", version=f"memnb {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    profile = commands.add_parser(
        "profile",
        help="run every protocol of the book on a memory and write a report",
        description=(
            "Run the battery of the book (adaptation, capacity, forgetting, dimensions, "
            "A→B→C contiguity, noisy cues) on a memory factory and write the panel figure, "
            "the frame and a report (Markdown and HTML) into --out."
        ),
        epilog=EXIT_STATUS,
    )
    profile.add_argument(
        "factory",
        type=factory_path,
        help="the memory class or factory as package.module:name (modules in the current "
        f"folder are importable), or one of the book's memories: {', '.join(MEMORIES)}",
    )
    profile.add_argument("--out", required=True, help="folder to write the report into")
    profile.add_argument("--quick", action="store_true", help="fewer trials and sizes (seconds)")
    profile.add_argument(
        "--seed", type=seed_value, default=0, help="seed of every protocol (default 0)"
    )
    profile.add_argument(
        "--device", default=None, help="torch device to run on, e.g. cuda (default: the CPU)"
    )
    profile.add_argument("--label", default=None, help="name of the memory in the report")
    profile.add_argument(
        "--references",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also profile memnb's memories and show them beside yours (default: yes)",
    )
    profile.add_argument(
        "--traceback", action="store_true", help="on an error, show the full traceback"
    )
    profile.set_defaults(handler=run_profile)
    return parser


def _program() -> str:
    """How the command line was started: ``memnb`` (the console command of
    ``[project.scripts]``) or ``python -m memnb``."""
    started = Path(sys.argv[0]).name if sys.argv else ""
    return "memnb" if started in ("memnb", "memnb.exe", "memnb-script.py") else "python -m memnb"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    try:
        return args.handler(args)
    except CLIError as exc:
        if args.traceback:
            raise
        print(f"error: {exc}", file=sys.stderr)
        return ERROR
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.traceback:
            raise
        print(f"error: {_one_line(exc)} (run with --traceback for details)", file=sys.stderr)
        return ERROR


def _one_line(exc: BaseException) -> str:
    """The message of ``exc`` on one line; the exception's name where it adds to it."""
    text = " ".join(str(exc).split())
    if text and isinstance(exc, TypeError | ValueError | ProtocolError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
