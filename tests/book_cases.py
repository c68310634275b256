"""The repository's root and the files of the book's table of contents, shared by the
book tests."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def toc_files():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", [toc]):   # the chapters, in parts or not
        files += [entry["file"] for entry in part.get("chapters", [])]
    return files
