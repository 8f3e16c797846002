"""memnb installed as a reader installs it: the wheel, in a new environment, used from outside.

The wheel is built from the working copy's ``pyproject.toml``, ``README.md`` and
``memnb/`` (copied to a temporary folder, so the build leaves nothing in the repository).
A new virtual environment (not the book's ``.venv``; no system or user site-packages)
gets torch 2.13.0 and then the install line of the README's section "Use memnb in your
own project", with the wheel in place of the path: memnb and only what it declares.
``constraints.txt`` pins the versions pip picks, so the run is the same every time and
also checks that the book's pins satisfy the declared ranges. pip may use its cache.

Then, from a temporary folder outside the repository that holds the reader's ``mymod.py``
(the README's code block): every command of the section (``memnb --version``, ``memnb
profile`` and ``python -m memnb profile``), every public module imported (all but
``memnb.widgets``, which must fail with an error naming its extra), one function of each
module of ``memnb.experiments`` with tiny sizes, and the README's Python blocks. Last, the
README's install line with the extras, the import of ``memnb.widgets`` and the blocks that
need the extras. A dependency missing from ``pyproject.toml`` fails one of these.

Every step has a time limit and prints what it runs; what pip installed is printed and
written, with the times, to ``_build/reports/install.json`` (for ``make test``'s summary).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from memnb.battery import PROTOCOLS

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
SECTION = "Use memnb in your own project"
PLACEHOLDER = "/path/to/memnb"
TORCH = "torch==2.13.0"  # the one torch the project uses
VENV_TIMEOUT_S = 180
BUILD_TIMEOUT_S = 300
PIP_TIMEOUT_S = 900
RUN_TIMEOUT_S = 300
DROPPED = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONSAFEPATH")
NEEDS = re.compile(r"#\s*needs memnb\[(\w+)\]")


@dataclass
class Readme:
    """The section of README.md that this test runs."""

    installs: list[str] = field(default_factory=list)  # pip lines, with PLACEHOLDER
    commands: list[str] = field(default_factory=list)  # memnb / python -m memnb lines
    files: dict[str, str] = field(default_factory=dict)  # python blocks headed "# name.py"
    blocks: list[str] = field(default_factory=list)  # python blocks a plain install runs
    extra_blocks: list[str] = field(default_factory=list)  # python blocks needing extras


def readme_section(readme: Path) -> Readme:
    text = readme.read_text(encoding="utf-8")
    found = re.search(rf"^## {re.escape(SECTION)}\n(.*?)(?=^## )", text, re.S | re.M)
    assert found, f"{readme} has no section '## {SECTION}'"
    section = Readme()
    for lang, body in re.findall(r"^```(\w+)\n(.*?)^```", found.group(1), re.S | re.M):
        first = body.splitlines()[0].strip()
        if lang == "sh":
            for line in body.splitlines():
                words = shlex.split(line, comments=True)
                if words[:2] == ["pip", "install"]:
                    section.installs.append(shlex.join(words))
                elif words[:1] == ["memnb"] or words[:3] == ["python", "-m", "memnb"]:
                    section.commands.append(shlex.join(words))
        elif lang == "python" and re.fullmatch(r"#\s*\w+\.py", first):
            section.files[first.lstrip("#").strip()] = body
        elif lang == "python":
            (section.extra_blocks if NEEDS.match(first) else section.blocks).append(body)
    return section


@dataclass
class Install:
    """The clean environment and the reader's folder."""

    base: Path
    python: Path
    reader: Path
    env: dict[str, str]
    wheel: Path
    readme: Readme
    start: float
    report: dict = field(default_factory=dict)

    def run(self, args: list[str], what: str, timeout: float = RUN_TIMEOUT_S):
        """Run ``args`` in the clean environment; fail with its output unless it succeeds."""
        print(f"[install] {what}: {shlex.join(args)}", flush=True)
        try:
            result = subprocess.run(
                args,
                cwd=self.reader,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"{what} took over {timeout} s: {shlex.join(args)}")
        assert result.returncode == 0, (
            f"{what} failed (status {result.returncode}): {shlex.join(args)}\n"
            f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
        )
        return result

    def pip_install(self, line: str, what: str) -> None:
        """A pip line (of the README) with the wheel for PLACEHOLDER, run by the environment's
        pip."""
        words = shlex.split(line.replace(PLACEHOLDER, str(self.wheel)))[2:]
        start = time.monotonic()
        self.run(
            [str(self.python), "-m", "pip", "install", "--progress-bar", "off", *words]
            + ["-c", str(ROOT / "constraints.txt")],
            what,
            timeout=PIP_TIMEOUT_S,
        )
        self.report.setdefault("pip_seconds", []).append(round(time.monotonic() - start, 1))

    def installed(self) -> list[str]:
        out = self.run([str(self.python), "-m", "pip", "list", "--format=freeze"], "pip list")
        return sorted(out.stdout.split(), key=str.lower)

    def check(self, command: str) -> dict:
        """The JSON that ``in_venv.py command`` prints."""
        out = self.run([str(self.python), "in_venv.py", command], f"in_venv.py {command}")
        return json.loads(out.stdout.strip().splitlines()[-1])


def clean_env(base: Path, venv: Path) -> dict[str, str]:
    """This process's environment with the new venv first on PATH and nothing of the
    repository or its .venv on PATH or PYTHONPATH; no user site-packages."""
    inside = [ROOT.resolve(), (ROOT / ".venv").resolve()]
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    paths = [
        p
        for p in env.get("PATH", "").split(os.pathsep)
        if p and not any(Path(p).resolve().is_relative_to(r) for r in inside)
    ]
    env["PATH"] = os.pathsep.join([str(venv / "bin"), *paths])
    env["VIRTUAL_ENV"] = str(venv)
    env["PYTHONNOUSERSITE"] = "1"
    env["MPLBACKEND"] = "Agg"
    env["MPLCONFIGDIR"] = str(base / "matplotlib")
    env["OMP_NUM_THREADS"] = env.get("OMP_NUM_THREADS", "1")
    return env


def build_wheel(base: Path) -> Path:
    """The wheel of the working copy, built from a copy of what goes into it."""
    source = base / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "memnb", source / "memnb", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    dist = base / "dist"
    args = [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps"]
    args += ["--no-build-isolation", "-q", "-w", str(dist)]
    print(f"[install] building the wheel: {shlex.join(args)}", flush=True)
    result = subprocess.run(args, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S)
    assert result.returncode == 0, f"building the wheel failed:\n{result.stdout}{result.stderr}"
    wheels = list(dist.glob("memnb-*.whl"))
    assert len(wheels) == 1, f"expected one memnb wheel in {dist}, found {wheels}"
    return wheels[0]


def base_python(env: dict[str, str]) -> str:
    """A Python 3.11+ outside the repository: python3.11 (or python3) on the clean PATH."""
    for name in ("python3.11", "python3"):
        found = shutil.which(name, path=env["PATH"])
        if found:
            return found
    pytest.fail("neither python3.11 nor python3 is on PATH to create the clean environment")


@pytest.fixture(scope="module")
def install():
    readme = readme_section(ROOT / "README.md")
    assert readme.installs and readme.commands and "mymod.py" in readme.files, (
        f"the README's section '{SECTION}' needs pip install lines, memnb commands and a "
        f"mymod.py block; found {readme}"
    )
    for line in readme.installs:
        assert PLACEHOLDER in line, f"the README's install line {line!r} has no {PLACEHOLDER}"
    base = Path(tempfile.mkdtemp(prefix="memnb-install-")).resolve()
    try:
        start = time.monotonic()
        wheel = build_wheel(base)
        venv = base / "venv"
        env = clean_env(base, venv)
        reader = base / "reader"
        reader.mkdir()
        python = base_python(env)
        print(f"[install] new venv {venv} with {python} (at most {VENV_TIMEOUT_S} s)", flush=True)
        try:
            subprocess.run(
                [python, "-m", "venv", str(venv)], check=True, env=env, timeout=VENV_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            pytest.fail(f"creating the venv took over {VENV_TIMEOUT_S} s")
        for name, text in readme.files.items():
            (reader / name).write_text(text, encoding="utf-8")
        shutil.copy2(HERE / "in_venv.py", reader / "in_venv.py")
        done = Install(base, venv / "bin" / "python", reader, env, wheel, readme, start)
        done.run([str(done.python), "-m", "pip", "--version"], "the new venv's pip")
        plain = [line for line in readme.installs if "[" not in line]
        assert plain, f"the README's section '{SECTION}' has no plain install line"
        done.pip_install(f"pip install {TORCH}", "installing torch")
        for line in plain:
            done.pip_install(line, f"installing the wheel as the README says ({line})")
        packages = done.installed()
        print(f"[install] installed {len(packages)} packages: {' '.join(packages)}", flush=True)
        done.report.update(wheel=wheel.name, packages=packages, commands=[])
        yield done
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_reader_folder_is_outside_the_repository(install):
    assert not install.reader.is_relative_to(ROOT.resolve())
    assert not install.python.resolve().is_relative_to((ROOT / ".venv").resolve())
    install.run([str(install.python), "-m", "pip", "check"], "pip check")


def test_memnb_version(install):
    version = install.wheel.name.split("-")[1]
    for command in install.readme.commands:
        if command.endswith("--version"):
            out = install.run(shlex.split(command), command)
            assert out.stdout.strip() == f"memnb {version}", out.stdout
            install.report["commands"].append(command)
    assert install.report["commands"], "the README shows no `memnb --version`"


def test_memnb_profile_from_the_console_command_and_python_m(install):
    profiles = [c for c in install.readme.commands if " profile " in c]
    starts = {c.split(" profile ")[0] for c in profiles}
    assert starts == {"memnb", "python -m memnb"}, f"the README's profile commands: {profiles}"
    for command in profiles:
        words = shlex.split(command)
        out = install.reader / words[words.index("--out") + 1]
        shutil.rmtree(out, ignore_errors=True)
        result = install.run(words, command)
        for name in ("profile.png", "frame.csv", "references.csv", "summary.csv", "report.html"):
            assert (out / name).is_file(), f"`{command}` wrote no {name}:\n{result.stderr}"
        report = (out / "report.md").read_text(encoding="utf-8")
        assert f"`{command.split(' profile ')[0]} profile " in report, report[:600]
        done = f"{len(PROTOCOLS)}/{len(PROTOCOLS)}"  # the bar counts the battery's protocols
        assert done in result.stderr, f"`{command}` showed no progress bar:\n{result.stderr}"
        install.report["commands"].append(command)


def test_every_public_module_imports(install):
    result = install.check("modules")
    assert Path(result["memnb"]).resolve().is_relative_to(install.base), result["memnb"]
    assert result["typed"], "the installed memnb has no py.typed"
    failed = {k: v for k, v in result["modules"].items() if v != "ok"}
    widgets = failed.pop("memnb.widgets", "")
    assert not failed, f"public modules that a plain install cannot import: {failed}"
    assert "memnb[widgets]" in widgets, (
        f"without the widgets extra, import memnb.widgets must fail naming it: {widgets!r}"
    )
    install.report["modules"] = len(result["modules"])


def test_one_function_of_each_experiment_module(install):
    result = install.check("experiments")["experiments"]
    failed = {k: v for k, v in result.items() if not v.endswith(" rows")}
    assert result and not failed, f"experiment modules that fail after a plain install: {failed}"
    install.report["experiments"] = sorted(result)


def test_readme_python_blocks(install):
    for i, block in enumerate(install.readme.blocks):
        install.run([str(install.python), "-c", block], f"the README's Python block {i + 1}")
    install.report["blocks"] = len(install.readme.blocks)


# Last: it adds the extras to the environment the tests above check as a plain install.
def test_extras(install):
    lines = [line for line in install.readme.installs if "[" in line]
    assert lines, f"the README's section '{SECTION}' has no install line with extras"
    for line in lines:
        install.pip_install(line, f"installing the extras ({line})")
    added = sorted(set(install.installed()) - set(install.report["packages"]), key=str.lower)
    print(f"[install] the extras added {len(added)} packages: {' '.join(added)}", flush=True)
    failed = {k: v for k, v in install.check("modules")["modules"].items() if v != "ok"}
    assert not failed, f"public modules that fail with the extras installed: {failed}"
    extras = {m for line in lines for m in re.findall(r"\[([\w,]+)\]", line)[0].split(",")}
    needed = {NEEDS.match(b).group(1) for b in install.readme.extra_blocks}
    assert needed == extras, f"README blocks for extras {needed}, extras installed {extras}"
    for block in install.readme.extra_blocks:
        first = block.splitlines()[0].strip()
        install.run([str(install.python), "-c", block], f"the README's block '{first}'")
    install.run([str(install.python), "-m", "pip", "check"], "pip check with the extras")
    write_report(
        {
            **install.report,
            "extras": sorted(extras),
            "extra_packages": added,
            "seconds": round(time.monotonic() - install.start, 1),
        }
    )


def write_report(data: dict) -> None:
    reports = Path(os.environ.get("MEMNB_REPORTS", ROOT / "_build" / "reports"))
    reports.mkdir(parents=True, exist_ok=True)
    (reports / "install.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
