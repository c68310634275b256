"""The playground explorer: TensorFlow-Playground-like training of a small network on a
2-D problem, with Train, Step and Reset buttons.

The training itself is ``nnlab.playground.Session``, which works without widgets; this
module wires it to the controls, like the other explorers of ``nnlab.widgets`` (where
``nl.widgets.playground`` is found).
"""

import inspect

import ipywidgets as W
import numpy as np

from nnlab import explorer_figures as figures
from nnlab._checks import check_number
from nnlab.explorer import (
    Explorer,
    activation_entry,
    choice_slider,
    dropdown,
    one_blas_thread,
    slider,
    takes_its_arguments,
    warning_html,
    young_garbage,
)
from nnlab.playground import PLAYGROUND_DATA, Session, epoch_text
from nnlab.static import Spec

#: The static playground's one other value of each control besides the current one: no
#: hidden layer (a straight boundary), two units a layer (too few to bend it far), a rate so
#: small that 100 epochs hardly move the network, batches of 64 (under a third of the
#: steps an epoch that 16 take) and an L2 penalty that flattens the network's answer.
#: 45 frames, about 720 KB of page. Not a rate too large: Adam's path at such a rate is
#: chaotic, so a frame's numbers would depend on the last bits of the CPU's arithmetic,
#: and the page would not be the same from one machine to the next.
STATIC_CHANGES = {"hidden_layers": [0], "units": [2], "lr": [1e-4], "batch_size": [64],
                  "l2": [0.1]}


class Playground(Explorer):
    """Train a small network on a 2-D problem, TensorFlow-Playground style.

    ``train(epochs)``, ``step()`` (one mini-batch, a fraction of an epoch) and ``reset()``
    work without a browser; the Train / Step / Reset buttons call them. Changing a control
    starts a new ``nnlab.playground.Session`` (epoch 0). The static page shows networks
    after ``STATIC_EPOCHS`` epochs of training, and says so instead of explaining the
    buttons: for each data set, one per activation and one per value of
    ``STATIC_CHANGES``. The L2 slider is logarithmic, so it cannot hold 0: its lowest
    setting, ``l2=1e-5`` (the default), is practically no penalty. ``seed``, an integer
    >= 0, seeds every session alike: its data, initial weights and mini-batches.
    """

    TRAIN_EPOCHS = 20
    STATIC_EPOCHS = 100

    def __init__(self, *, dataset="circles", noise=0.1, train_ratio=0.7, hidden_layers=2, units=8,
                 activation="tanh", lr=0.03, batch_size=16, l2=1e-5, optimizer="adam", seed=0):
        # Not a control, so checked here: the first session's ValueError would be shown as
        # a warning, leaving an explorer with no session for train and step.
        self.seed = check_number(seed, "seed", low=0, integer=True)
        controls = {
            "dataset": dropdown(dataset, list(PLAYGROUND_DATA), "data set",
                                argument="dataset"),
            "noise": slider(noise, 0, 0.5, 0.05, "noise", continuous=False),
            "train_ratio": slider(train_ratio, 0.1, 0.9, 0.1, "train ratio", continuous=False,
                                  argument="train_ratio"),
            "hidden_layers": slider(hidden_layers, 0, 4, 1, "hidden layers", integer=True,
                                    continuous=False, argument="hidden_layers"),
            "units": slider(units, 1, 16, 1, "units per layer", integer=True,
                            continuous=False, argument="units"),
            "activation": dropdown(activation, ["tanh", "relu", "sigmoid", "linear"],
                                   "activation", resolve=activation_entry),
            "lr": slider(lr, 1e-4, 1, 0.05, "learning rate", log=True, continuous=False,
                         argument="lr (the learning rate)"),
            "batch_size": choice_slider(batch_size, [1, 4, 16, 64], "batch size",
                                        argument="batch_size"),
            "l2": slider(l2, 1e-5, 0.1, 0.05, "L2 (weight decay)", log=True, continuous=False,
                         argument="l2 (the L2 penalty)"),
            "optimizer": dropdown(optimizer, ["sgd", "momentum", "adam", "rmsprop"],
                                  "optimizer"),
        }
        self.buttons = {name: W.Button(description=name) for name in ("Train", "Step", "Reset")}
        self.buttons["Train"].on_click(lambda _: self.train(self.TRAIN_EPOCHS))
        self.buttons["Step"].on_click(lambda _: self.step())
        self.buttons["Reset"].on_click(lambda _: self.reset())
        # Each data set, and on each one setting changed at a time from the current ones:
        # every activation, and one value of each other control the course names, chosen to
        # teach (STATIC_CHANGES). Crossed with the activations too, they would take 120 frames.
        vary = {"dataset": list(PLAYGROUND_DATA),
                "activation": list(controls["activation"].options), **STATIC_CHANGES}
        spec = Spec({name: vary[name] for name in controls if name in vary},   # live order
                    grid=("dataset",))
        # No compute function: a frame is a whole training session, which ``frame`` and
        # ``_update`` below make themselves (only ``_update`` makes it the one on show).
        super().__init__(controls, None, self._draw_session, _playground_numbers,
                         name="playground", spec=spec,
                         alt="Left, the network's two class regions under the training "
                             "points (filled) and test points (hollow); right, the training "
                             "and test loss per epoch",
                         note=f"Filled points are training data, hollow ones test data. "
                              f"Train runs {self.TRAIN_EPOCHS} epochs, Step one mini-batch; "
                              "Reset, or a change of any control, starts again from epoch 0.",
                         static_note=f"Filled points are training data, hollow ones test "
                                     f"data. Each network is shown after "
                                     f"{self.STATIC_EPOCHS} epochs of training.")
        self.children = (*self.children[:1], W.HBox(list(self.buttons.values())),
                         *self.children[1:])

    def _draw_session(self, state, session=None):
        session = session or self.session
        return figures.playground(session.model, session.data, session.history)

    def frame(self, values):
        """``Explorer.frame``: a new session with these settings, at epoch 0, drawn. The
        session on show is not touched; a change of a control makes the new one live."""
        return self._frame_of(Session(seed=self.seed, **values))

    def _update(self):
        try:
            self.session = Session(seed=self.seed, **self.values())
        except (ValueError, FloatingPointError, OverflowError) as exc:   # as Explorer's
            self.warning.value = warning_html(str(exc))
            return
        self._show()

    @property
    def model(self):
        return self.session.model

    @property
    def data(self):
        return self.session.data

    @property
    def epoch(self):
        return self.session.epoch

    @property
    def history(self):
        return self.session.history

    def reset(self):
        """A fresh network and data set from the current controls; epoch 0."""
        self.update()
        return self

    def train(self, epochs=TRAIN_EPOCHS):
        """Train for ``epochs`` more epochs (in one chunk) and redraw.

        The Train button says "Training..." meanwhile, and takes no click: at batch size 1,
        20 epochs take a second or two, and a second click would queue 20 more."""
        button = self.buttons["Train"]
        button.disabled, button.description = True, "Training..."
        try:
            with one_blas_thread():   # as each update of an explorer
                self.session.train(epochs)
        finally:
            button.disabled, button.description = False, "Train"
        self._show()
        return self

    def step(self):
        """One mini-batch update, and redraw."""
        with one_blas_thread():
            self.session.step()
        self._show()
        return self

    def _show(self):
        with young_garbage(), one_blas_thread(), np.errstate(all="ignore"):   # as in update
            state = self.session.summary()
            self.show_frame(state, self._draw(state), self._describe(state),
                            self.session.warning())

    def static_frame(self, values):
        """A fresh session with these settings, trained for ``STATIC_EPOCHS`` epochs."""
        return self._frame_of(Session(seed=self.seed, **values).train(self.STATIC_EPOCHS))

    def _frame_of(self, session):
        state = session.summary()
        with np.errstate(all="ignore"):   # a diverged network's boundary, as in _show
            figure = self._draw_session(state, session)
        return state, figure, _playground_numbers(state), session.warning()


def _playground_numbers(s):
    return (f"epoch {epoch_text(s['epoch'])}: train loss {_shown(s['train_loss'], '.4f')}, "
            f"test loss {_shown(s['test_loss'], '.4f')}, "
            f"test accuracy {_shown(s['test_accuracy'], '.3f')}")


def _shown(value, spec):
    # A diverged network has no loss or accuracy to speak of: a dash, not "nan".
    return format(value, spec) if np.isfinite(value) else "&mdash;"


def playground(*args, **settings):
    """The TensorFlow-Playground-like explorer; see ``Playground`` for the settings.

    Examples
    --------
    >>> pg = nl.widgets.playground(dataset="circles")
    >>> before = pg.state["train_loss"]
    >>> pg.train(20).state["train_loss"] < before
    True
    """
    return takes_its_arguments(Playground, name="playground")(*args, **settings)


playground.__signature__ = inspect.signature(Playground)   # help() lists the settings
