"""The playground's training session, without widgets: data, network, optimizer and curves.

``nnlab.widgets.playground`` wraps one session in controls and buttons; the
static book page trains fresh sessions to precompute its frames. Both go
through ``Session``, so a frame in the book is exactly what pressing Train
shows in a live notebook.

Examples
--------
>>> from nnlab import playground
>>> session = playground.Session(dataset="circles")
>>> before = session.summary()["train_loss"]
>>> session.train(20).summary()["train_loss"] < before
True
"""

import warnings

import numpy as np

from nnlab import datasets, initializers
from nnlab._checks import as_rng, check_number, lookup
from nnlab.callbacks import Callback
from nnlab.layers import Activation, Dense
from nnlab.losses import BinaryCrossEntropy
from nnlab.model import Sequential
from nnlab.optimizers import get as get_optimizer
from nnlab.preprocessing import standardize
from nnlab.training import LossGrowthWarning, TrainingDivergedWarning

#: The settings of a session and their defaults (the playground's controls).
DEFAULTS = {"dataset": "circles", "noise": 0.1, "train_ratio": 0.7, "hidden_layers": 2,
            "units": 8, "activation": "tanh", "lr": 0.03, "batch_size": 16, "l2": 1e-5,
            "optimizer": "adam"}


PLAYGROUND_DATA = ("circles", "xor", "spirals", "moons", "blobs")


def playground_data(dataset="circles", noise=0.1, train_ratio=0.7, n=300, seed=0):
    """A 2-D classification problem for the playground, split into train and test parts.

    Both parts are standardized with the mean and standard deviation of the training part,
    as new data would be: the test points play no part in the scaling.

    Parameters
    ----------
    dataset : str
        One of ``PLAYGROUND_DATA``.
    noise : float, >= 0
        How far the points scatter around the problem's shape.
    train_ratio : float, in (0, 1)
        The share of the points that train; the rest test.
    n : int, >= 4
        The number of points, split in a stratified way: each part needs a point of each
        class, and each class two. Four are enough for the data sets with classes of
        equal size; xor draws each point's class at random, so a few may not be.
    seed : int, >= 0
        Seeds the points and the split.

    Returns
    -------
    X_train, X_test, y_train, y_test : ndarray

    Examples
    --------
    >>> from nnlab import playground
    >>> Xtr, Xte, ytr, yte = playground.playground_data("xor", train_ratio=0.5, n=100)
    >>> len(Xtr), len(Xte)
    (50, 50)
    """
    name = lookup(dataset, {d: d for d in PLAYGROUND_DATA}, "dataset")
    # Checked first, by their own names: blobs would call a bad noise its std.
    check_number(noise, "noise", low=0)
    check_number(train_ratio, "train_ratio", low=0, high=1, low_open=True, high_open=True)
    # Two points of each class, one for each part, at the least where the classes are of
    # equal size; the split names a class too small (the data sets call n n_samples).
    check_number(n, "n", low=4, integer=True)
    if name == "blobs":
        X, y = datasets.blobs(n, centers=[[-1.5, -1.0], [1.5, 1.0]], std=0.6 + 2 * noise,
                              seed=seed)
    elif name == "spirals":
        X, y = datasets.spirals(n, noise=noise * 2, seed=seed)
    else:
        X, y = getattr(datasets, name)(n, noise=noise, seed=seed)
    try:
        X_train, X_test, y_train, y_test = datasets.train_test_split(
            X, y, test_size=1 - train_ratio, seed=seed, stratify=True)
    except ValueError as exc:   # a part too small for the classes, named by the split's terms
        raise ValueError(f"train_ratio={train_ratio} leaves a part of the {n} points too "
                         f"small (a larger n or a ratio nearer 0.5 helps): {exc}") from exc
    # Scaled after the split: statistics of all the points would pass some of the test
    # part's into the inputs the network trains on.
    X_train, X_test = standardize(X_train, X_test)
    return X_train, X_test, y_train, y_test


def playground_model(hidden_layers=2, units=8, activation="tanh", seed=0):
    """The playground's network: ``hidden_layers`` x ``units`` hidden units, one logit out."""
    check_number(hidden_layers, "hidden_layers", low=0, integer=True)
    check_number(units, "units", low=1, integer=True)   # not left to Dense, as its n_out
    rng = as_rng(seed, "seed")
    init = initializers.suited_to(activation)
    layers, width = [], 2
    for _ in range(hidden_layers):
        layers += [Dense(width, units, init=init, rng=rng), Activation(activation)]
        width = units
    return Sequential([*layers, Dense(width, 1, rng=rng)])


class Session:
    """A small network training on a 2-D problem, one chunk of epochs or one batch at a time.

    Parameters
    ----------
    seed : int, >= 0
        Seeds the data, the initial weights and the order of the mini-batches. An integer,
        as for ``Playground``: a session is reproducible, so that a book page's frame is
        what pressing Train shows (None, fresh entropy, would not be).
    **settings
        Any of ``DEFAULTS``. A bad one is a ValueError that names it, raised here, not by
        the first ``step`` or ``train``.
    """

    def __init__(self, seed=0, **settings):
        check_number(seed, "seed", low=0, integer=True)
        unknown = set(settings) - set(DEFAULTS)
        if unknown:
            raise ValueError(f"unknown playground settings {sorted(unknown)}; "
                             f"valid: {sorted(DEFAULTS)}")
        self.seed, self.settings = seed, {**DEFAULTS, **settings}
        s = self.settings
        # Checked here, not by the optimizer, which calls l2 weight_decay, nor by the first
        # step, where numpy would refuse a batch of 1.5 samples with a TypeError.
        check_number(s["batch_size"], "batch_size", low=1, integer=True)
        check_number(s["l2"], "l2", low=0)
        optimizer = get_optimizer(s["optimizer"], lr=s["lr"], weight_decay=s["l2"])
        if optimizer.decoupled_weight_decay:
            # The explorer calls "l2" an L2 penalty, a term of the gradient; AdamW's decay
            # is not one, and would run under that name unnoticed.
            raise ValueError(f"the playground's l2 is an L2 penalty, added to the gradient; "
                             f"optimizer {s['optimizer']!r} decays the weights directly: "
                             "choose another optimizer")
        self.data = playground_data(s["dataset"], s["noise"], s["train_ratio"], seed=seed)
        self.model = playground_model(s["hidden_layers"], s["units"], s["activation"],
                                      seed=seed)
        self.model.compile(BinaryCrossEntropy(from_logits=True), optimizer,
                           metrics=["accuracy"])
        self.epoch, self.history = 0, {"epoch": [], "loss": [], "test_loss": []}
        self.rng = as_rng(seed, "seed")
        self.stop_reason = None
        self._record()

    def train(self, epochs):
        """Train for ``epochs`` more epochs in one ``fit`` (it stops early if the loss diverges).

        The curves get a point after every epoch: the losses of the network as it then is,
        not ``fit``'s training loss, which averages the batches of an epoch while the
        network changes under them, so that the last point is the loss ``summary`` reports.
        """
        X, _, y, _ = self.data
        # A diverging run is reported by ``stop_reason`` (the playground's warning line),
        # not also by fit's warnings, which count the epochs of this call only.
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", TrainingDivergedWarning)
            warnings.simplefilter("ignore", LossGrowthWarning)
            h = self.model.fit(X, y, epochs=epochs, batch_size=self.settings["batch_size"],
                               seed=self.rng, callbacks=[_EpochRecorder(self)])
        # fit's stop_reason counts the epochs of this call, the playground's all of them. A
        # network that diverged before (in a step, or an earlier call) keeps its epoch.
        if not self.model.stop_reason:
            self.stop_reason = None
        elif self.stop_reason is None:
            self._diverged(h.history["loss"][-1])
        return self

    def step(self):
        """One mini-batch update, a ``batch_size / n_train`` part of an epoch; the curves get
        one more point."""
        X, _, y, _ = self.data
        batch = min(self.settings["batch_size"], len(X))
        idx = self.rng.choice(len(X), size=batch, replace=False)
        with np.errstate(all="ignore"):   # a diverging step is reported below, not raised
            self.model.train_step(X[idx], y[idx, None].astype(float))
        self.epoch += batch / len(X)
        self._record()
        if self.stop_reason is None and not np.isfinite(self.history["loss"][-1]):
            self._diverged(self.history["loss"][-1])   # the step where it happened
        return self

    def warning(self):
        """What the playground's warning line says: training that diverged (``stop_reason``),
        or a training loss that grew by more than a tenth since the first epoch began, which
        a rate too large for the steps does long before anything overflows ("" if neither).

        Examples
        --------
        >>> from nnlab import playground
        >>> playground.Session(lr=1.0).train(20).warning().startswith("The training loss grew")
        True
        """
        if self.stop_reason:
            return f"Training diverged: {self.stop_reason}."
        first, last = self.history["loss"][0], self.history["loss"][-1]
        if not last <= 1.1 * first:
            return (f"The training loss grew, from {first:.3g} to {last:.3g}, in "
                    f"{epoch_text(self.epoch)} epochs: steps this large overshoot; try a "
                    "smaller learning rate.")
        return ""

    def _diverged(self, loss):
        self.stop_reason = f"the training loss became {loss} in epoch {epoch_text(self.epoch)}"

    def _record(self):
        X, Xt, y, yt = self.data
        with np.errstate(all="ignore"):   # a diverged network's losses are NaN, no error
            self.history["epoch"].append(self.epoch)
            self.history["loss"].append(self.model.evaluate(X, y)[0])
            self.history["test_loss"].append(self.model.evaluate(Xt, yt)[0])

    def summary(self):
        """The numbers the playground shows: epoch, losses, test accuracy, the curves.

        The epoch counts the passes over the training data so far: whole ones from
        ``train``, a fraction of one from each ``step``. ``loss`` is ``train_loss``, under
        the name a History gives it; ``weights`` are copies of the Dense layers' ``W``.
        """
        X, Xt, y, yt = self.data
        with np.errstate(all="ignore"):   # a diverged network's losses are NaN, no error
            train_loss, _ = self.model.evaluate(X, y)
            test_loss, test_accuracy = self.model.evaluate(Xt, yt)
        # Copies of the curves: a summary keeps the numbers of its moment as training goes on.
        history = {name: list(values) for name, values in self.history.items()}
        weights = [layer.params["W"].copy() for layer in self.model.layers if "W" in layer.params]
        return {"epoch": self.epoch, "loss": train_loss, "train_loss": train_loss,
                "test_loss": test_loss, "test_accuracy": test_accuracy, "history": history,
                "weights": weights, **self.settings}


def epoch_text(epoch):
    """An epoch count as the playground shows it: whole epochs as integers, a fraction of one
    (after ``Session.step``) to three decimals.

    A step is more than 1/300 of an epoch (batch size 1 on part of the session's 300
    points), so that three decimals change with every step (``.4g`` showed 20.0048 as 20).

    Examples
    --------
    >>> from nnlab import playground
    >>> playground.epoch_text(20), playground.epoch_text(20 + 1 / 270)
    ('20', '20.004')
    """
    return f"{epoch:.0f}" if round(epoch, 3) % 1 == 0 else f"{epoch:.3f}"


class _EpochRecorder(Callback):
    """Counts each epoch of a ``fit`` into the session and records its losses."""

    def __init__(self, session):
        super().__init__()
        self.session = session

    def on_epoch_end(self, epoch, logs=None):
        self.session.epoch += 1
        self.session._record()
