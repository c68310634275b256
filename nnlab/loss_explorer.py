"""The loss explorer: a loss and its gradient for one prediction and its true class
(``nl.widgets.loss_explorer``).

Its own module for the slider that follows the chosen loss: each loss takes predictions of
its own range (probabilities for binary cross-entropy, scores for the hinges), and choosing
another loss moves the slider into the new range.
"""

import ipywidgets as W

from nnlab import explore, losses
from nnlab import explorer_figures as figures
from nnlab._checks import check_number
from nnlab.explorer import (
    LAYOUT,
    READOUT,
    STYLE,
    Explorer,
    check_on_a_step,
    dropdown,
    takes_its_arguments,
)
from nnlab.static import Spec


def menu_entry(name):
    """The menu's entry for the loss ``nl.losses.get(name)`` returns ("mse" -> "squared error",
    "categorical_crossentropy" -> "categorical cross-entropy"), or None."""
    kind = type(losses.get(name))
    return next((entry for entry, (loss, *_) in explore.LOSSES.items() if type(loss) is kind),
                None)


@takes_its_arguments
def loss_explorer(loss="binary cross-entropy", prediction=0.7, positive=True):
    """A loss and its gradient for one prediction and a true class.

    The slider sets the prediction for class 1: its probability for binary cross-entropy,
    a number for the squared error, its score for the hinge and for the two three-class
    losses (categorical cross-entropy from logits and the multiclass hinge), whose scores
    are ``(1, prediction, 0)`` (``explore.FIXED_SCORES``). The true class is class 1
    (``positive``) or another one: label 0 (-1 for the hinge), or class 0 of the three.
    The slider spans the predictions the chosen loss takes (``explore.LOSSES``), so that no
    part of it is clipped away; choosing another loss moves it into the new range. At a
    kink of a hinge the numbers give the slope on either side besides the gradient.
    ``loss`` is a menu entry or another name ``nl.losses.get`` knows for one, such as Keras's.

    Examples
    --------
    >>> nl.widgets.loss_explorer("mse").controls["loss"].value
    'squared error'
    >>> e = nl.widgets.loss_explorer(prediction=0.5)
    >>> round(e.state["loss"], 4)
    0.6931
    >>> e.controls["loss"].value = "multiclass hinge"
    >>> e.controls["prediction"].min, e.controls["prediction"].max
    (-3.0, 3.0)
    """
    def prediction_range(name):
        # Steps of 0.001 reach the probabilities' ends 0.001 and 0.999, which the static
        # page offers under every loss.
        low, high = explore.LOSSES[name][1]
        return {"min": low, "max": high, "step": 0.001}

    # Checks the name before its range.
    menu = dropdown(loss, list(explore.LOSSES), "loss", resolve=menu_entry)
    span = prediction_range(menu.value)
    check_number(prediction, f"prediction (for {menu.value})",
                 low=span["min"], high=span["max"])
    check_on_a_step(prediction, span["min"], span["step"], "prediction")
    controls = {"loss": menu,
                "prediction": W.FloatSlider(value=prediction, **span,
                                            description="prediction", readout_format=READOUT,
                                            layout=LAYOUT, style=STYLE),
                "positive": dropdown(positive, [("1 (the slider's class)", True),
                                                 ("0 or -1 (another class)", False)],
                                     "true class", argument="positive")}

    def compute(loss, prediction, positive):
        other, slider_class = explore.LOSSES[loss][2]
        return explore.loss(loss, prediction, slider_class if positive else other)

    def describe(s):
        if len(s["y_pred"]) == 1:
            sample = f"prediction {s['prediction']:.3f}, label {s['label']}"
        else:
            first, last = explore.FIXED_SCORES
            sample = (f"scores ({first:g}, {s['prediction']:.3f}, {last:g}), "
                      f"true class {s['label']}")
        loss, gradient = (round(s[k], 4) + 0 for k in ("loss", "gradient"))   # no -0.0000
        left, right = (round(v, 4) + 0 for v in s["sides"])
        # The hinges' kinks: the gradient there is one side's; BCE's steep ends are no kink.
        kink = (f" (a kink: slope {left:.4f} from the left, {right:.4f} from the right)"
                if abs(left - right) > 1e-4 * max(1.0, abs(gradient)) else "")
        return f"{sample}: loss {loss:.4f}, gradient {gradient:.4f}{kink}"

    # Every loss's range, from its first prediction to its last, in the static page too:
    # whole scores, and probabilities from 0.3 to 0.7 besides the ends. Five losses, two
    # labels and these 12 values give 120 frames, about 660 KB of page (of 800 allowed).
    ranges = {name: bounds for name, (_, bounds, _) in explore.LOSSES.items()}
    ends = [end for bounds in ranges.values() for end in bounds]
    predictions = sorted({-3.0, -2.0, -1.0, 0.0, 0.3, 0.5, 0.7, 1.0, 2.0, 3.0, *ends})
    spec = Spec({"loss": list(ranges), "positive": [True, False], "prediction": predictions},
                grid=("loss", "positive", "prediction"),
                follow={"prediction": ("loss", {k: (*b, None) for k, b in ranges.items()})})

    def nearest_offered(values):
        # The page has a frame for each value under each loss, and never shows one outside
        # the loss's range (explore.loss refuses it): that one gets the range's nearest end.
        low, high = ranges[values["loss"]]
        return {**values, "prediction": min(max(values["prediction"], low), high)}

    explorer = Explorer(controls, compute, figures.loss, describe, redraw=figures.loss_redraw,
                        note="The slider sets class 1's prediction over each loss's own "
                             "range: for binary cross-entropy a probability, from 0.001 to "
                             "0.999; for the three-class losses the score s of class 1 in the "
                             "scores (1, s, 0) of classes 0, 1 and 2. Another class is label "
                             "0 (-1 for the hinge); of three classes, class 0.",
                        name="loss_explorer", spec=spec, complete=nearest_offered,
                        alt="Left, the loss as a curve over the prediction; right, its "
                            "gradient; a dot on each at the slider's prediction")

    def fit_prediction(name):
        # The slider moves its value inside the new range. Held, it checks min <= max once
        # both are set, not in between, where a new range beside the old one would fail.
        slider, bounds = controls["prediction"], prediction_range(name)
        with slider.hold_trait_notifications():
            slider.min, slider.max, slider.step = bounds["min"], bounds["max"], bounds["step"]

    explorer.follow("loss", fit_prediction)
    return explorer
