"""Fetch the JavaScript that the built book loads from itself: widgets and MathJax, offline.

Usage: ``python tools/fetch_js.py [--force] [--static DIR]`` (default: ``_static``).

Widgets come back to life in a built page from the widget state stored in it, with
RequireJS and the ipywidgets HTML manager (``embed-amd.js`` and its icon fonts); equations
are typeset by MathJax 3 (``es5/tex-mml-chtml.js``, its fonts, and the TeX extensions it
loads on demand). Instead of a CDN, the pinned release tarballs are downloaded from the
npm registry, checked against their published sha512 integrity, and the files the pages
need are copied into ``_static/widgets/`` and ``_static/mathjax/`` with their licenses,
together with ``tools/offline_widgets.js``. A manifest in each folder records what was
written; run again, the script downloads nothing while every file is in place.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import re
import shutil
import sys
import tarfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = ".manifest.json"
FONT = r"[0-9a-f]+\.(?:woff2?|ttf|eot|svg)"
MIT = """{notice}

Permission is hereby granted, free of charge, to any person obtaining a copy of this
software and associated documentation files (the "Software"), to deal in the Software
without restriction, including without limitation the rights to use, copy, modify, merge,
publish, distribute, sublicense, and/or sell copies of the Software, and to permit persons
to whom the Software is furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED,
INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR
PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE
FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR
OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER
DEALINGS IN THE SOFTWARE.
"""


class FetchError(RuntimeError):
    """A download, integrity or content problem, reported without a traceback."""


@dataclass(frozen=True)
class Package:
    """An npm release tarball, and which of its files go where below the folder."""

    name: str
    version: str
    integrity: str  # "sha512-<base64>", the registry's dist.integrity
    files: dict[str, str]  # regular expression on a path in the tarball -> path in folder

    @property
    def url(self) -> str:
        return f"https://registry.npmjs.org/{self.name}/-/{self.name.split('/')[-1]}-{self.version}.tgz"


FOLDERS = {
    "widgets": (
        Package(
            "@jupyter-widgets/html-manager",
            "1.0.15",
            "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA==",
            {
                rf"package/dist/(embed-amd\.js|{FONT})": r"\1",
                r"package/dist/embed\.js\.LICENSE\.txt": "LICENSE.html-manager-bundled.txt",
            },
        ),
        Package(
            "requirejs",
            "2.3.8",
            "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw==",
            {r"package/require\.js": "require.js"},
        ),
    ),
    "mathjax": (
        Package(
            "mathjax",
            "3.2.2",
            "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
            {
                r"package/(es5/tex-mml-chtml\.js|LICENSE)": r"\1",
                r"package/(es5/output/chtml/fonts/woff-v2/[^/]+\.woff)": r"\1",
                r"package/(es5/input/tex/extensions/[^/]+\.js)": r"\1",
            },
        ),
    ),
}
REQUIRED = {"widgets": ("require.js", "embed-amd.js"), "mathjax": ("es5/tex-mml-chtml.js",)}


def license_notices() -> dict[str, bytes]:
    """The licenses of the widget files that their tarballs do not carry."""
    try:  # the html manager is part of ipywidgets, under the same license
        bsd = distribution("ipywidgets").read_text("licenses/LICENSE")
    except PackageNotFoundError:
        bsd = None
    if not bsd:
        raise FetchError("the license of ipywidgets is missing: install requirements.txt")
    notice = "RequireJS 2.3.8: Copyright jQuery Foundation and other contributors."
    return {
        "LICENSE.html-manager.txt": f"@jupyter-widgets/html-manager 1.0.15\n\n{bsd}".encode(),
        "LICENSE.requirejs.txt": MIT.format(notice=notice).encode(),
    }


def download(package: Package) -> dict[str, bytes]:
    """The files of the package's tarball that the book needs, by their path in the folder."""
    request = urllib.request.Request(package.url, headers={"User-Agent": "memnb-fetch-js"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            data = response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise FetchError(
            f"could not download {package.name}@{package.version} from {package.url}: "
            f"{getattr(exc, 'reason', exc)}. The first build needs the npm registry; check "
            "the network or proxy settings and run this again."
        ) from None
    digest = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")
    if digest != package.integrity:
        raise FetchError(f"{package.url} has sha512 {digest}, expected {package.integrity}")
    found, matched = {}, set()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            for pattern, target in package.files.items():
                if member.isfile() and re.fullmatch(pattern, member.name):
                    found[re.sub(pattern, target, member.name)] = tar.extractfile(member).read()
                    matched.add(pattern)
    if set(package.files) - matched:
        raise FetchError(f"{package.url} has no file matching {set(package.files) - matched}")
    return found


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def up_to_date(folder: Path, packages: tuple[Package, ...]) -> bool:
    """Does the folder hold every file that its manifest lists, as written, for packages?"""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        files = manifest["files"]
        return manifest["packages"] == {p.name: p.integrity for p in packages} and all(
            sha256((folder / name).read_bytes()) == digest for name, digest in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError):
        return False


def fetch(static: Path, force: bool = False) -> None:
    for name, packages in FOLDERS.items():
        folder = static / name
        if not force and up_to_date(folder, packages):
            continue
        files = license_notices() if name == "widgets" else {}
        for package in packages:
            print(f"fetching {package.name}@{package.version}", flush=True)
            files.update(download(package))
        missing = [path for path in REQUIRED[name] if path not in files]
        if missing:
            raise FetchError(f"the tarballs of {name} lack {missing}")
        for path, content in files.items():
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            (folder / path).write_bytes(content)
        manifest = {"packages": {p.name: p.integrity for p in packages}}
        manifest["files"] = {path: sha256(content) for path, content in sorted(files.items())}
        (folder / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {len(files)} files to {folder}")
    shutil.copyfile(
        ROOT / "tools" / "offline_widgets.js", static / "widgets" / "offline_widgets.js"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--static", type=Path, default=ROOT / "_static", help="target folder")
    parser.add_argument("--force", action="store_true", help="download even if up to date")
    args = parser.parse_args(argv)
    try:
        fetch(args.static, force=args.force)
    except FetchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
