"""The convolution explorer: a 3x3 kernel, chosen from presets or set by nine sliders, on a
digit, with its feature map and max-pooled map (``nl.widgets.kernel_explorer``).

Its own module for the menu's bookkeeping: a weight moved by hand turns the preset menu to
"custom", and a preset chosen sets the nine sliders with one redraw, not nine.
"""

import numpy as np

from nnlab import explore
from nnlab import explorer_figures as figures
from nnlab.explorer import Explorer, dropdown, slider, takes_its_arguments
from nnlab.static import Spec


@takes_its_arguments
def kernel_explorer(preset="vertical edges", digit=0):
    """A 3x3 kernel (preset or nine sliders) on a digit -> feature map and max-pooled map.

    Moving a weight's slider sets the preset menu to "custom" (an entry it has only then),
    so that choosing any preset afterwards, the same one again included, loads it.

    Examples
    --------
    >>> nl.widgets.kernel_explorer(preset="blur").state["kernel"][1][1] == 1 / 9
    True
    """
    custom = "custom"   # the menu's entry while the weights are set by hand
    controls = {"preset": dropdown(preset, list(explore.KERNELS), "preset"),
                "digit": slider(digit, 0, 99, 1, "digit number", integer=True, argument="digit")}
    step = 0.1
    cells = {f"k{i}{j}": slider(0.0, -10, 10, step, f"k[{i},{j}]")
             for i in range(3) for j in range(3)}
    # Then the preset's weights, which need not be on the sliders' steps (blur's 1/9): while
    # the menu names a preset, the kernel is the preset's (``with_preset``).
    kernel = explore.KERNELS[controls["preset"].value]
    for (i, j), cell in zip(np.ndindex(3, 3), cells.values(), strict=True):
        cell.value = kernel[i][j]
    controls.update(cells)

    def compute(preset, digit, **k):
        return explore.kernel([[k[f"k{i}{j}"] for j in range(3)] for i in range(3)], digit)

    def with_preset(values):
        if values["preset"] == custom:
            return values
        kernel = explore.KERNELS[values["preset"]]
        return {**values, **{f"k{i}{j}": kernel[i][j] for i in range(3) for j in range(3)}}

    explorer = Explorer(controls, compute, figures.kernel,
                        lambda s: f"feature map range [{s['feature_map'].min():.2f}, "
                                  f"{s['feature_map'].max():.2f}]",
                        note="Red is positive, blue negative, white 0; the feature map and "
                             "the pooled map share one scale.",
                        name="kernel_explorer", complete=with_preset,
                        alt="Four panels: the digit, the 3x3 kernel with its weights written "
                            "in it, the feature map and the pooled map",
                        spec=Spec({"preset": list(explore.KERNELS), "digit": list(range(10))},
                                  grid=("preset",)))
    menu = controls["preset"]

    def show_in_menu(preset):
        options = [*explore.KERNELS, custom] if preset == custom else list(explore.KERNELS)
        if list(menu.options) != options:
            # Setting a menu's options selects their first entry: set both, unobserved.
            menu.unobserve(load_preset, names="value")
            menu.options, menu.value = options, preset
            menu.observe(load_preset, names="value")

    def load_preset(change):
        # Set the nine sliders without nine redraws, then redraw once.
        for (i, j), cell in zip(np.ndindex(3, 3), cells.values(), strict=True):
            cell.unobserve(edit_weight, names="value")
            cell.value = explore.KERNELS[change["new"]][i][j]
            cell.observe(edit_weight, names="value")
        show_in_menu(change["new"])
        explorer.update()

    def edit_weight(change):
        # A weight set by hand: the menu says "custom", from which every preset, the last
        # one loaded included, can be chosen again. Not a browser's slider moving blur's 1/9
        # to its nearest step, 0.1, as it shows the preset: that is no edit.
        if menu.value != custom:
            i, j = divmod(list(cells.values()).index(change["owner"]), 3)
            if abs(change["new"] - round(explore.KERNELS[menu.value][i][j] / step) * step) < 1e-9:
                return
        show_in_menu(custom)
        explorer.update()

    menu.unobserve(explorer._changed, names="value")
    menu.observe(load_preset, names="value")
    for cell in cells.values():
        cell.unobserve(explorer._changed, names="value")
        cell.observe(edit_weight, names="value")
    return explorer
