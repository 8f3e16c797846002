"""Fetch the JavaScript that renders Jupyter widgets in the built book, offline.

The book's pages embed the widget state that was recorded while the chapters
executed. To turn that state back into sliders and figures, a page needs
RequireJS and the ipywidgets HTML manager (``embed-amd.js``). Instead of
loading them from a CDN, this script downloads pinned release tarballs from
the npm registry, checks their published sha512 integrity, and copies the
files the pages need into ``_static/widgets/``. Sphinx then copies that folder
into ``_build/html/_static/widgets/``.

Only the standard library is used. Running the script again does nothing when
the files are already in place with the expected content.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import posixpath
import sys
import tarfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DEST = ROOT / "_static" / "widgets"
MANIFEST = ".manifest.json"
FONT_SUFFIXES = (".woff", ".woff2", ".ttf", ".eot", ".svg")
TIMEOUT_S = 60
LAYOUT = 2


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    url: str
    integrity: str  # "sha512-<base64>", as published in the registry's dist.integrity
    license_id: str
    copyright: str


HTML_MANAGER = Package(
    name="@jupyter-widgets/html-manager",
    version="1.0.15",
    url="https://registry.npmjs.org/@jupyter-widgets/html-manager/-/html-manager-1.0.15.tgz",
    integrity=(
        "sha512-5thBIV6ymNgmPVOHvzx+gGy8ZSKmSazhtGw4/c4xJDVzRhG9PTeQsRjF3FUTopvFi//SABeNz1yp47bCrJ3CQA=="
    ),
    license_id="BSD-3-Clause",
    copyright="Copyright (c) 2015 Project Jupyter Contributors",
)

REQUIREJS = Package(
    name="requirejs",
    version="2.3.8",
    url="https://registry.npmjs.org/requirejs/-/requirejs-2.3.8.tgz",
    integrity=(
        "sha512-7/cTSLOdYkNBNJcDMWf+luFvMriVm7eYxp4BcFCsAX0wF421Vyce5SXP17c+Jd5otXKGNehIonFlyQXSowL6Mw=="
    ),
    license_id="MIT",
    copyright="Copyright jQuery Foundation and other contributors, https://jquery.org/",
)

BSD_3_CLAUSE = """\
{copyright}
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
"""

MIT = """\
{copyright}

Permission is hereby granted, free of charge, to any person obtaining
a copy of this software and associated documentation files (the
"Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to
permit persons to whom the Software is furnished to do so, subject to
the following conditions:

The above copyright notice and this permission notice shall be
included in all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE
LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""

LICENSE_TEXTS = {"BSD-3-Clause": BSD_3_CLAUSE, "MIT": MIT}


class FetchError(RuntimeError):
    """A download, integrity or content problem, reported without a traceback."""


def sha512_integrity(data: bytes) -> str:
    return "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode("ascii")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def download(pkg: Package) -> bytes:
    request = urllib.request.Request(pkg.url, headers={"User-Agent": "memnb-fetch-widget-js"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            data = response.read()
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise FetchError(
            f"could not download {pkg.name}@{pkg.version} from {pkg.url}: {reason}.\n"
            "The first build of the book needs access to the npm registry "
            "(https://registry.npmjs.org) to fetch the widget JavaScript; "
            "check the network or proxy settings and run this again."
        ) from None
    got = sha512_integrity(data)
    if got != pkg.integrity:
        raise FetchError(
            f"integrity check failed for {pkg.name}@{pkg.version}:\n"
            f"  expected {pkg.integrity}\n  got      {got}"
        )
    return data


def members(data: bytes) -> dict[str, bytes]:
    """Map each regular file of an npm tarball to its bytes, keyed by its path."""
    files: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for info in tar.getmembers():
            if not info.isfile():
                continue
            name = posixpath.normpath(info.name)
            if name.startswith(("/", "..")):
                raise FetchError(f"unexpected path in tarball: {info.name!r}")
            extracted = tar.extractfile(info)
            assert extracted is not None
            files[name] = extracted.read()
    return files


def select_html_manager(files: dict[str, bytes]) -> dict[str, bytes]:
    """embed-amd.js plus the font files it loads (names webpack put into the bundle)."""
    try:
        embed = files["package/dist/embed-amd.js"]
    except KeyError:
        raise FetchError("html-manager tarball has no package/dist/embed-amd.js") from None
    text = embed.decode("utf-8", errors="replace")
    chosen = {"embed-amd.js": embed}
    for path, content in files.items():
        directory, name = posixpath.split(path)
        if directory != "package/dist" or not name.endswith(FONT_SUFFIXES):
            continue
        if name in text:
            chosen[name] = content
    if len(chosen) == 1:
        raise FetchError("found no font files referenced by embed-amd.js")
    # Notices of the third-party code inside the bundle (jQuery, jQuery UI, ...).
    notices = files.get("package/dist/embed.js.LICENSE.txt")
    if notices is not None:
        chosen["LICENSE.html-manager-bundled.txt"] = notices
    return chosen


def select_requirejs(files: dict[str, bytes]) -> dict[str, bytes]:
    try:
        return {"require.js": files["package/require.js"]}
    except KeyError:
        raise FetchError("requirejs tarball has no package/require.js") from None


def license_text(pkg: Package) -> bytes:
    header = (
        f"{pkg.name} {pkg.version}, as published on the npm registry, is distributed\n"
        f"under the {pkg.license_id} license:\n\n"
    )
    body = LICENSE_TEXTS[pkg.license_id].format(copyright=pkg.copyright)
    return (header + body).encode("utf-8")


def wanted_manifest() -> dict[str, object]:
    return {
        # Bump when the set of extracted files changes, so older folders are refreshed.
        "layout": LAYOUT,
        "packages": {p.name: {"version": p.version, "integrity": p.integrity} for p in PACKAGES},
    }


PACKAGES = (HTML_MANAGER, REQUIREJS)
SELECTORS = {HTML_MANAGER.name: select_html_manager, REQUIREJS.name: select_requirejs}
LICENSE_NAMES = {
    HTML_MANAGER.name: "LICENSE.html-manager.txt",
    REQUIREJS.name: "LICENSE.requirejs.txt",
}


def manifest_holds(dest: Path, wanted: dict[str, object], required: tuple[str, ...]) -> bool:
    """True when dest's manifest records ``wanted`` (layout and packages), names every file
    of ``required``, and each file it lists is in place with the recorded content."""
    try:
        recorded = json.loads((dest / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if recorded.get("layout") != wanted["layout"] or recorded.get("packages") != wanted["packages"]:
        return False
    files = recorded.get("files")
    if not isinstance(files, dict) or any(name not in files for name in required):
        return False
    for name, digest in files.items():
        try:
            if sha256_hex((dest / name).read_bytes()) != digest:
                return False
        except OSError:
            return False
    return True


def write_files(dest: Path, out: dict[str, bytes], wanted: dict[str, object]) -> None:
    """Write ``out`` (paths below dest) atomically, then the manifest of ``wanted`` + files."""
    for name, content in out.items():
        target = dest / posixpath.normpath(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(content)
        tmp.replace(target)
    manifest = dict(wanted, files={name: sha256_hex(out[name]) for name in sorted(out)})
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(out)} files to {dest}")


def command_line(
    description: str, fetch: Callable[..., bool], default_dest: Path, what: str
) -> Callable[[list[str] | None], int]:
    """A ``main(argv)`` for a fetch script: ``--dest``, ``--force``, exit status 1 on error."""

    def main(argv: list[str] | None = None) -> int:
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("--dest", type=Path, default=default_dest, help="target folder")
        parser.add_argument("--force", action="store_true", help="download even if up to date")
        args = parser.parse_args(argv)
        try:
            changed = fetch(args.dest, force=args.force)
        except FetchError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if not changed:
            print(f"{what} already in place in {args.dest}")
        return 0

    return main


def up_to_date(dest: Path) -> bool:
    """True when a previous run left every file in place with the recorded content."""
    return manifest_holds(dest, wanted_manifest(), ("require.js", "embed-amd.js"))


def fetch(dest: Path, force: bool = False) -> bool:
    """Put the widget files into dest. Returns False when nothing had to be done."""
    if not force and up_to_date(dest):
        return False
    out: dict[str, bytes] = {}
    for pkg in PACKAGES:
        print(f"fetching {pkg.name}@{pkg.version}", flush=True)
        out.update(SELECTORS[pkg.name](members(download(pkg))))
        out[LICENSE_NAMES[pkg.name]] = license_text(pkg)
    dest.mkdir(parents=True, exist_ok=True)
    write_files(dest, out, wanted_manifest())
    return True


main = command_line(__doc__.splitlines()[0], fetch, DEFAULT_DEST, "widget JavaScript")


if __name__ == "__main__":
    sys.exit(main())
