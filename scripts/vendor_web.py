"""Fetch the browser library the book serves itself, MathJax, so its pages work offline.

Usage: python scripts/vendor_web.py [destination]   (default: _vendor/web)

The rendered book needs MathJax for its maths (its explorers are plain HTML and
JavaScript of their own, ``nnlab/static_explorer.js``). Instead of loading MathJax from
a CDN, ``make book`` takes it from its npm package, at the pinned version and integrity
hash below, with ``npm pack`` (only the package tarball is downloaded; nothing is
installed), and copies the files the pages use into ``destination``. Nothing here is
committed: the package is the source. When npm is not available the book is built with
the CDN copy instead.
"""

import base64
import fnmatch
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

# (package, version, npm integrity, target folder, file patterns to copy from the package)
PACKAGES = [
    ("mathjax", "3.2.2",
     "sha512-Bt+SSVU8eBG27zChVewOicYs7Xsdt40qm4+UpHyX7k0/O9NliPc+x77k1/FEsPsjKPZGJvtRZM1vO+geW0OhGw==",
     "mathjax", ["es5/tex-mml-chtml.js", "es5/output/chtml/fonts/woff-v2/*", "LICENSE"]),
]


def stamp_text():
    return json.dumps([p[:3] for p in PACKAGES], indent=1)


def check_integrity(path, integrity):
    algorithm, expected = integrity.split("-", 1)
    digest = hashlib.new(algorithm, path.read_bytes()).digest()
    if base64.b64encode(digest).decode() != expected:
        raise SystemExit(f"{path.name}: integrity check failed (expected {integrity})")


def extract(tarball, wanted, target):
    """Copy the members matching ``wanted`` into ``target``, without their top folder
    (``es5/``, ``dist/``); a package's LICENSE keeps the package name beside it."""
    with tarfile.open(tarball) as tar:
        for member in tar.getmembers():
            name = member.name.removeprefix("package/")
            if not member.isfile() or not any(fnmatch.fnmatch(name, w) for w in wanted):
                continue
            if name == "LICENSE":
                relative = Path(f"LICENSE.{tarball.name.rsplit('-', 1)[0]}")
            else:
                relative = Path(*Path(name).parts[1:]) if "/" in name else Path(name)
            out = target / relative
            out.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)


def main(destination="_vendor/web"):
    destination = Path(destination)
    stamp = destination / "versions.json"
    if stamp.exists() and stamp.read_text() == stamp_text():
        return 0
    npm = shutil.which("npm")
    if npm is None:
        print("npm not found: the book will load MathJax from its CDN")
        return 0
    specs = [f"{name}@{version}" for name, version, *_ in PACKAGES]
    print(f"fetching {', '.join(specs)} with npm")
    with tempfile.TemporaryDirectory() as tmp:
        try:
            # Offline, npm's own retries and 5-minute timeouts stall for ten minutes: ask for
            # the cache first, one try, and give up after two minutes in all.
            out = subprocess.run([npm, "pack", *specs, "--json", "--pack-destination", tmp,
                                  "--prefer-offline", "--fetch-retries=0",
                                  "--fetch-timeout=30000"],
                                 capture_output=True, text=True, check=True, timeout=120)
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as exc:
            # No registry (offline): the book still builds, with MathJax's CDN copy.
            print(f"npm pack failed ({exc}): the book will load MathJax from its CDN")
            return 0
        packed = {p["id"]: p for p in json.loads(out.stdout)}
        # Unpacked in a temporary folder: the old copy is removed only once all is there
        # (and the stamp, written last, makes an interrupted copy be made again).
        fresh = Path(tmp) / "web"
        for name, version, integrity, folder, wanted in PACKAGES:
            tarball = Path(tmp) / packed[f"{name}@{version}"]["filename"]
            check_integrity(tarball, integrity)
            extract(tarball, wanted, fresh / folder)
        shutil.rmtree(destination, ignore_errors=True)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(fresh, destination)
    stamp.write_text(stamp_text())
    print(f"vendored {', '.join(specs)} into {destination}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
