"""Execute notebooks in place, top to bottom, storing outputs and widget state.

Usage: python scripts/execute_notebooks.py book/02_perceptron.ipynb [...]

The stored outputs are what nbval compares against and what the book shows,
so every chapter is executed the same way: a fresh kernel of this Python,
the notebook's own folder as working directory, widget state kept so that
the rendered page can draw the explorers' controls.
"""

import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient


def execute(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(Path(path).parent)}},
        store_widget_state=True,
    )
    start = time.perf_counter()
    client.execute()
    nbformat.write(nb, path)
    return time.perf_counter() - start


def main(paths):
    for path in paths:
        seconds = execute(path)
        print(f"{path}: executed in {seconds:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
