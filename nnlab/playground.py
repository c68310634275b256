"""The playground's training session, without widgets: data, network, optimizer and curves.

``nnlab.widgets.playground`` wraps one session in controls and buttons; the
static book page trains fresh sessions to precompute its frames. Both go
through ``Session``, so a frame in the book is exactly what pressing Train
shows in a live notebook.

Examples
--------
>>> session = Session(dataset="circles")
>>> before = session.summary()["train_loss"]
>>> session.train(20).summary()["train_loss"] < before
True
"""

import numpy as np

from nnlab import explore
from nnlab.losses import BinaryCrossEntropy
from nnlab.optimizers import get as get_optimizer

#: The settings of a session and their defaults (the playground's controls).
DEFAULTS = {"dataset": "circles", "noise": 0.1, "train_ratio": 0.7, "hidden_layers": 2,
            "units": 8, "activation": "tanh", "lr": 0.03, "batch_size": 16, "l2": 1e-5,
            "optimizer": "adam"}


class Session:
    """A small network training on a 2-D problem, one chunk of epochs or one batch at a time.

    Parameters
    ----------
    seed : int
        Seeds the data, the initial weights and the order of the mini-batches.
    **settings
        Any of ``DEFAULTS``.
    """

    def __init__(self, seed=0, **settings):
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown playground settings {sorted(unknown)}; "
                             f"valid: {sorted(DEFAULTS)}")
        self.seed, self.settings = seed, {**DEFAULTS, **settings}
        s = self.settings
        self.data = explore.playground_data(s["dataset"], s["noise"], s["train_ratio"],
                                            seed=seed)
        self.model = explore.playground_model(s["hidden_layers"], s["units"], s["activation"],
                                              seed=seed)
        self.model.compile(BinaryCrossEntropy(from_logits=True),
                           get_optimizer(s["optimizer"], lr=s["lr"], weight_decay=s["l2"]),
                           metrics=["accuracy"])
        self.epoch, self.history = 0, {"loss": [], "test_loss": []}
        self.rng = np.random.default_rng(seed)
        self.stop_reason = None
        self._record()

    def train(self, epochs):
        """Train for ``epochs`` more epochs in one ``fit`` (it stops early if the loss diverges)."""
        X, Xt, y, yt = self.data
        with np.errstate(all="ignore"):
            h = self.model.fit(X, y, epochs=epochs, batch_size=self.settings["batch_size"],
                               validation_data=(Xt, yt), seed=self.rng)
        self.epoch += len(h.history["loss"])
        self.history["loss"] += h.history["loss"]
        self.history["test_loss"] += h.history["val_loss"]
        self.stop_reason = self.model.stop_reason
        return self

    def step(self):
        """One mini-batch update; the curves get one more point."""
        X, _, y, _ = self.data
        idx = self.rng.choice(len(X), size=min(self.settings["batch_size"], len(X)),
                              replace=False)
        self.model.train_step(X[idx], y[idx, None].astype(float))
        self._record()
        return self

    def _record(self):
        X, Xt, y, yt = self.data
        self.history["loss"].append(self.model.evaluate(X, y)[0])
        self.history["test_loss"].append(self.model.evaluate(Xt, yt)[0])

    def summary(self):
        """The numbers the playground shows: epoch, losses, test accuracy, the curves."""
        X, Xt, y, yt = self.data
        train_loss, _ = self.model.evaluate(X, y)
        test_loss, test_accuracy = self.model.evaluate(Xt, yt)
        return {"epoch": self.epoch, "train_loss": train_loss, "test_loss": test_loss,
                "test_accuracy": test_accuracy, "history": self.history, **self.settings}
