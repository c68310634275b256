"""Write the notebooks of the explorer app (served by ``make app`` with Voila).

Usage: python scripts/make_app.py [folder]   (default: _build/app)

One small notebook per explorer, numbered so that Voila's landing page lists an index
page describing them first, then the playground and the other explorers in the course's
order. Generated, not committed:
the list of explorers lives in ``EXPLORERS`` below and in ``nnlab.widgets``.
"""

import sys
from pathlib import Path

import nbformat

EXPLORERS = [
    ("playground", "Train a small network on 2-D data and watch its decision boundary."),
    ("perceptron_explorer", "Steer a perceptron's weights and bias over a logic gate."),
    ("forward_explorer", "The forward pass of a 2-2-1 network, weight by weight."),
    ("activation_explorer", "Activation functions and their slopes."),
    ("initialization_explorer", "How initialization shapes activations through depth."),
    ("loss_explorer", "Losses and their gradients for one prediction."),
    ("learning_rate_explorer", "Gradient descent with a learning rate you choose."),
    ("optimizer_race", "SGD, momentum, Nesterov, AdaGrad, RMSprop and Adam race."),
    ("backprop_explorer", "One weight, its loss curve and backpropagation's tangent."),
    ("gradient_flow_explorer", "Vanishing and exploding gradients, layer by layer."),
    ("kernel_explorer", "Convolution kernels on handwritten digits."),
]


def notebook(cells):
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python",
                                 "name": "python3"}
    return nb


def main(folder="_build/app"):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    links = []
    for i, (name, blurb) in enumerate(EXPLORERS, start=1):
        title = name.replace("_", " ").capitalize()
        path = folder / f"{i:02d}_{name}.ipynb"
        nbformat.write(notebook([
            nbformat.v4.new_markdown_cell(f"# {title}\n\n{blurb} "
                                          "([All the explorers](./00_index.ipynb))"),
            nbformat.v4.new_code_cell(f"import nnlab as nl\n\nnl.widgets.{name}()"),
        ]), path)
        links.append(f"- [{title}](./{path.stem}.ipynb): {blurb}")
    nbformat.write(notebook([nbformat.v4.new_markdown_cell(
        "# nnlab explorers\n\nThe interactive explorers of the nnlab course, live.\n\n"
        + "\n".join(links))]), folder / "00_index.ipynb")
    print(f"wrote {len(EXPLORERS) + 1} notebooks into {folder}")


if __name__ == "__main__":
    main(*sys.argv[1:])
