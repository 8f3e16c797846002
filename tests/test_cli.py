"""The command line, run as a user runs it: ``python -m memnb profile module:factory``."""

from __future__ import annotations

import argparse
import base64
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import pytest

from memnb import cli
from memnb.battery import HEADLINES, PROTOCOLS, Estimate
from memnb.memories import MEMORIES

# A reader's memory, defined outside memnb, and memories that break the protocol.
MODULE = textwrap.dedent(
    """
    import torch


    class Reader:
        def __init__(self, dim):
            self.matrix = torch.zeros(dim, dim)

        def update(self, keys, values):
            norms = keys.pow(2).sum(dim=-1, keepdim=True)
            error = values - keys @ self.matrix.T
            self.matrix = self.matrix + 0.5 * error.T @ (keys / norms)

        def __call__(self, queries):
            return queries @ self.matrix.T


    class NoUpdate:
        def __init__(self, dim):
            pass

        def __call__(self, queries):
            return queries


    class WrongShape:
        def __init__(self, dim):
            pass

        def update(self, keys, values):
            pass

        def __call__(self, queries):
            return queries[..., :1]


    NOT_A_FACTORY = 3
    """
)


class Page(HTMLParser):
    """The tables (rows of cell texts) and the image sources of an HTML page."""

    def __init__(self, text: str):
        super().__init__()
        self.tables: list[list[list[str]]] = []
        self.images: list[str] = []
        self._cell: list[str] | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "img":
            self.images.append(dict(attrs)["src"])

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def run_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "memnb", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("reader")
    (folder / "reader_memory.py").write_text(MODULE)
    return folder


@pytest.fixture(scope="module")
def report(workdir) -> tuple[subprocess.CompletedProcess, Path]:
    result = run_cli(
        workdir, "profile", "reader_memory:Reader", "--out", "out", "--quick", "--no-references"
    )
    return result, workdir / "out"


def test_profile_writes_a_complete_report(report):
    result, out = report
    assert result.returncode == 0, result.stderr
    for name in ("profile.png", "frame.csv", "summary.csv", "report.md", "report.html"):
        assert (out / name).stat().st_size > 0, name
    frame = pd.read_csv(out / "frame.csv")
    assert set(frame["protocol"]) == set(PROTOCOLS)
    assert set(frame["memory"]) == {"Reader"}


def test_report_states_the_five_headline_numbers_with_their_intervals(report):
    _, out = report
    summary = pd.read_csv(out / "summary.csv", index_col=0)
    assert list(summary.index) == ["Reader"]
    assert len(summary.columns) == 3 * len(HEADLINES) + 1
    assert summary["diverged"].isna().all()  # nothing diverged: an empty cell
    markdown = (out / "report.md").read_text()
    page = Page((out / "report.html").read_text())
    assert "profile.png" in markdown and "chance 1/8" in markdown
    assert page.images == ["data:image/png;base64," + base64_of(out / "profile.png")]
    headlines, beside = page.tables
    assert headlines[0] == ["number", "value", "95 % CI", "what it measures"]
    for row, (key, text) in zip(headlines[1:], HEADLINES.items(), strict=True):
        value, low, high = (
            summary.loc["Reader", f"{text}: {part}"]
            for part in ("value", "95 % CI low", "95 % CI high")
        )
        number, ci = (
            cli.format_number(value),
            f"{cli.format_number(low)} to {cli.format_number(high)}",
        )
        assert low <= value <= high
        assert f"| `{key}` | {number} | {ci} |" in markdown
        assert row == [key, number, ci, text]
    assert [row[0] for row in beside[1:]] == ["Reader"]
    assert beside[1][1:] == [
        cli.interval_text(Estimate(*summary.loc["Reader", [f"{t}: {p}" for p in parts]]))
        for t in HEADLINES.values()
        for parts in [("value", "95 % CI low", "95 % CI high")]
    ]


def base64_of(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


@pytest.mark.parametrize(
    ("factory", "extra", "message"),
    [
        (
            "reader_memory:NoUpdate",
            (),
            "error: reader_memory:NoUpdate: factory returned a NoUpdate without "
            "update(keys, values)",
        ),
        (
            "reader_memory:WrongShape",
            (),
            "WrongShape.__call__(queries) returned shape (2, 4, 1) when read with queries of "
            "shape (2, 4, 8); expected (2, 4, 8)",
        ),
        ("missing_module:Reader", (), "error: cannot import module 'missing_module'"),
        ("reader_memory:Missing", (), "error: module 'reader_memory' has no attribute 'Missing'"),
        ("reader_memory:NOT_A_FACTORY", (), "is a int, expected a memory class or a factory"),
    ],
)
def test_a_broken_factory_fails_with_one_clear_line(workdir, factory, extra, message):
    result = run_cli(workdir, "profile", factory, "--out", "bad", "--quick", *extra)
    assert result.returncode == 1
    assert message in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert "Traceback" not in result.stderr
    assert not (workdir / "bad").exists()


def test_cuda_that_is_not_there_is_an_error(workdir):
    import torch

    if torch.cuda.is_available():
        pytest.skip("CUDA is available here, so --device cuda is not an error")
    result = run_cli(workdir, "profile", "reader_memory:Reader", "--out", "bad", "--device", "cuda")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"error: --device cuda was asked for but CUDA is not available "
        f"(torch {torch.__version__}); leave --device out to run on the CPU"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["profile", "reader_memory", "--out", "bad"], "expected package.module:factory"),
        (["profile", "reader_memory:Reader"], "the following arguments are required: --out"),
        (["profile", "reader_memory:Reader", "--out", "bad", "--seed", "-1"], "int >= 0"),
        ([], "the following arguments are required: COMMAND"),
    ],
)
def test_usage_errors_exit_2(workdir, args, message):
    result = run_cli(workdir, *args)
    assert result.returncode == 2
    assert "usage: python -m memnb" in result.stderr
    assert message in result.stderr


class FakeProfile:
    """Stands in for memnb.battery.Profile in the report writer's unit test."""

    def __init__(self, label: str, summary: dict[str, float], settings=None):
        self.label, self.summary, self.notes = label, summary, {}
        self.settings = settings or {}
        self.frame = pd.DataFrame({"protocol": ["adaptation"], "memory": [label], "mse": [0.5]})

    def figure(self, references=()):
        figure, ax = plt.subplots()
        ax.plot([0, 1], [1, 0])
        return figure


def test_write_report_formats_missing_and_whole_numbers(tmp_path):
    values = dict(zip(HEADLINES, [3.0, float("nan"), 0.125, 48.0, 0.99951, 0.5], strict=True))
    mine, other = FakeProfile("Mine", values), FakeProfile("Other", values)
    table = pd.DataFrame.from_dict(
        {p.label: list(p.summary.values()) for p in (mine, other)}, orient="index"
    )
    paths = cli.write_report(
        tmp_path, mine, [other], table, command="test", settings={"quick": True}, seconds=1.0
    )
    assert {p.name for p in paths.values()} == {
        "profile.png",
        "frame.csv",
        "references.csv",
        "summary.csv",
        "report.md",
        "report.html",
    }
    markdown = (tmp_path / "report.md").read_text()
    shown = ["3", "n/a", "0.125", "48", "0.9995", "0.5"]
    rows = list(zip(HEADLINES, shown, strict=True))
    for key, number in rows:
        assert f"| `{key}` | {number} |" in markdown
    assert "Reference memories: Other." in markdown
    # The HTML page is the same report: real tables, and the figure embedded in it.
    page = Page((tmp_path / "report.html").read_text())
    headlines, beside = page.tables
    assert [row[:2] for row in headlines[1:]] == [[key, number] for key, number in rows]
    assert beside[1:] == [["Mine", *shown], ["Other", *shown]]
    assert page.images == ["data:image/png;base64," + base64_of(tmp_path / "profile.png")]


def test_report_shows_intervals_and_the_settings_of_the_references(tmp_path):
    values = dict(zip(HEADLINES, [3.0, 40.0, float("nan"), 48.0, 0.5, 1.0], strict=True))
    mine = FakeProfile("Mine", {k: Estimate(v, v - 1, v + 1) for k, v in values.items()})
    mine.summary["steps_to_90pct"] = Estimate(3.0, 2.0, float("inf"))
    tuned = {"capacity": {"lr": 0.002}, "forgetting": {"lr": 0.0001}}
    other = FakeProfile("Other", values, settings=tuned)
    table = pd.DataFrame.from_dict({"Mine": [1.0], "Other": [2.0]}, orient="index")
    cli.write_report(tmp_path, mine, [other], table, command="test", settings={}, seconds=0.0)
    markdown = (tmp_path / "report.md").read_text()
    assert "| `capacity_95` | 40 | 39 to 41 |" in markdown
    assert "| `steps_to_90pct` | 3 | 2 to not reached |" in markdown
    assert "| `forgetting` | n/a | n/a |" in markdown
    beside = Page((tmp_path / "report.html").read_text()).tables[1]
    assert beside[1][1:3] == ["3 [2, not reached]", "40 [39, 41]"]
    assert beside[2][1:3] == ["3", "40"]  # a plain number has no interval to show
    assert "## Settings of the references" in markdown
    row = "| Other | defaults | lr=0.002 | lr=0.0001 | defaults | defaults | defaults |"
    assert row in markdown and list(PROTOCOLS)[1] == "capacity"


def test_html_report_shows_markup_in_labels_as_text(tmp_path):
    values = dict.fromkeys(HEADLINES, 1.0)
    mine = FakeProfile("<b>Mine</b> | *x*", values)
    table = pd.DataFrame.from_dict({mine.label: list(values.values())}, orient="index")
    cli.write_report(tmp_path, mine, [], table, command="a `b`", settings={}, seconds=0.0)
    text = (tmp_path / "report.html").read_text()
    assert "<b>" not in text and "&lt;b&gt;Mine&lt;/b&gt; | *x*" in text
    page = Page(text)
    assert page.tables[1][1][0] == "<b>Mine</b> | *x*"  # one cell, however the label reads
    assert "<code>a `b`</code>" in text


def test_a_memory_of_the_book_is_named_without_a_module():
    assert cli.load_factory("DeltaRuleMemory") is MEMORIES["DeltaRuleMemory"]
    with pytest.raises(argparse.ArgumentTypeError, match="one of EpisodicMemory, Matrix"):
        cli.factory_path("Hopfield")


# ---------------------------------------------------------------------------------------------
# Exit statuses with broken reader memories (tests/readers.py, imported as a reader would)


@pytest.fixture(scope="module")
def broken(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("broken")
    (folder / "bad.py").write_text((Path(__file__).parent / "readers.py").read_text())
    return folder


@pytest.mark.parametrize("name", ["Overflow", "LateNaN"])
def test_a_diverged_profile_is_written_and_exits_3(broken, name):
    result = run_cli(broken, "profile", f"bad:{name}", "--out", name, "--quick", "--no-references")
    assert result.returncode == cli.DIVERGED == 3, result.stderr
    summary = pd.read_csv(broken / name / "summary.csv", index_col=0)
    values = summary[[f"{text}: value" for text in HEADLINES.values()]]
    assert values.isna().all().all()  # never 0, never a good value
    assert summary.loc[name, "diverged"] == "; ".join(HEADLINES)
    markdown = (broken / name / "report.md").read_text()
    for key in HEADLINES:
        assert f"| `{key}` | diverged | n/a |" in markdown
    assert "diverged in 8 of 8 trials at write" in markdown
    assert "diverged: steps_to_90pct: diverged in 8 of 8 trials" in result.stderr


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "NumpyRead",
            "error: bad:NumpyRead: NumpyRead.__call__(queries) with queries of shape (4, 8) "
            "returned a numpy.ndarray; expected a torch.Tensor (torch.as_tensor converts it)",
        ),
        (
            "RaisesInUpdate",
            "error: bad:RaisesInUpdate: RaisesInUpdate.update(keys, values) with keys of shape "
            "(4, 8) raised RuntimeError: my update is broken",
        ),
    ],
)
def test_a_bad_read_or_update_exits_1_with_one_line(broken, name, message):
    result = run_cli(broken, "profile", f"bad:{name}", "--out", name, "--quick")
    assert result.returncode == cli.ERROR == 1
    assert result.stderr.strip() == message
    assert not (broken / name).exists()


def test_a_float16_memory_exits_0_with_a_dtype_note(broken):
    result = run_cli(
        broken, "profile", "bad:HalfPrecision", "--out", "half", "--quick", "--no-references"
    )
    assert result.returncode == cli.OK == 0, result.stderr
    markdown = (broken / "half" / "report.md").read_text()
    assert "- reads: the memory read in torch.float16; its reads were scored in torch.float32" in (
        markdown
    )


def test_help_documents_the_exit_statuses(tmp_path):
    for args in (["--help"], ["profile", "--help"]):
        result = run_cli(tmp_path, *args)
        text = " ".join(result.stdout.split())
        assert result.returncode == 0
        assert "exit status: 0 the profile is complete; 1 an error" in text
        assert "3 the profile is written but some headline of the memory diverged" in text
