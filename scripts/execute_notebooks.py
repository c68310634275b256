"""Execute notebooks in place, top to bottom, storing outputs and widget state.

Usage: python scripts/execute_notebooks.py book/02_perceptron.ipynb [...]

The stored outputs are what nbval compares against and what the book shows,
so every chapter is executed the same way: a fresh kernel of this Python,
the notebook's own folder as working directory, widget state kept, and the
explorers' static versions included (``NNLAB_STATIC_EXPLORERS=1``).

Re-executing an unchanged notebook writes the same bytes: no timing metadata
is recorded, a cell's printed text is one output however the kernel flushed
it, and the random ids that ipywidgets gives its models are replaced by ids
derived from the notebook's name and the order in which the displayed views reach the
models (``stable_widget_ids``).
"""

import hashlib
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def execute(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(Path(path).parent)}},
        store_widget_state=True,
        record_timing=False,
        coalesce_streams=True,
    )
    start = time.perf_counter()
    os.environ["NNLAB_STATIC_EXPLORERS"] = "1"
    client.execute()
    Path(path).write_text(stable_widget_ids(nb, Path(path).stem) + "\n", encoding="utf-8")
    return time.perf_counter() - start


def stable_widget_ids(nb, name):
    """The notebook as JSON text with every widget model renamed in a stable order.

    Models are numbered in the order they are reached from the displayed views (cells in
    order), following ``IPY_MODEL_`` references key by key; a model reached from none
    comes last, ordered by its content.
    """
    widgets = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    state = widgets.get("state", {})
    order = []

    def visit(model_id):
        if model_id in state and model_id not in order:
            order.append(model_id)
            for ref in re.findall(r"IPY_MODEL_([0-9a-f]+)", json.dumps(state[model_id],
                                                                      sort_keys=True)):
                visit(ref)

    for cell in nb.cells:
        for output in cell.get("outputs", []):
            view = output.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if view:
                visit(view["model_id"])
    order += sorted(set(state) - set(order), key=lambda m: json.dumps(state[m], sort_keys=True))
    text = nbformat.writes(nb)
    for number, model_id in enumerate(order):
        text = text.replace(model_id, hashlib.sha256(f"{name}:{number}".encode()).hexdigest()[:32])
    # nbformat writes keys sorted: write again so the state is sorted by the new ids.
    return nbformat.writes(nbformat.reads(text, as_version=4))


def main(paths):
    for path in paths:
        seconds = execute(path)
        print(f"{path}: executed in {seconds:.1f} s")


if __name__ == "__main__":
    main(sys.argv[1:])
