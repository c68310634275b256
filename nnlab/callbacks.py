"""Callbacks: code that ``Sequential.fit`` runs at fixed points of training.

``fit`` calls ``on_train_begin(model)`` once, ``on_epoch_end(epoch, logs)``
after every epoch (``logs`` holds that epoch's numbers, such as ``loss`` and
``val_loss``) and ``on_train_end()`` at the end. A callback stops training by
setting ``model.stop_training = True``.
"""

import numpy as np

from nnlab._checks import check_number


class Callback:
    """Base class; every hook does nothing unless overridden."""

    def on_train_begin(self, model):
        self.model = model

    def on_epoch_end(self, epoch, logs):
        """Called with the epoch index (from 0) and a dict of that epoch's numbers."""

    def on_train_end(self):
        """Called once when training stops, for whatever reason."""


class History(Callback):
    """Records every epoch's numbers; ``fit`` returns it.

    Attributes
    ----------
    history : dict of str -> list of float
        E.g. ``history["loss"][e]`` is the training loss of epoch ``e``.
    epoch : list of int
        The epochs recorded.

    Examples
    --------
    >>> h = History()
    >>> h.on_epoch_end(0, {"loss": 0.5})
    >>> h.history
    {'loss': [0.5]}
    """

    def __init__(self):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs):
        self.epoch.append(epoch)
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"History({len(self.epoch)} epochs: {keys})"


class EarlyStopping(Callback):
    """Stop training when a monitored number has stopped improving.

    Parameters
    ----------
    monitor : str
        A key of the epoch logs, usually ``"val_loss"``.
    patience : int
        Epochs without improvement to wait before stopping.
    min_delta : float
        The smallest change that counts as an improvement.
    mode : {"auto", "min", "max"}
        Whether lower or higher is better; "auto" means higher for accuracy-like
        names, lower otherwise.
    restore_best_weights : bool
        At the end, put back the parameters of the best epoch.

    Examples
    --------
    >>> stop = EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    """

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=False):
        self.monitor = monitor
        self.patience = check_number(patience, "patience", low=0, integer=True)
        self.min_delta = abs(check_number(min_delta, "min_delta"))
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"mode must be 'auto', 'min' or 'max'; got {mode!r}")
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.sign = 1.0 if mode == "min" else -1.0
        self.restore_best_weights = restore_best_weights
        self.stopped_epoch = None
        self.best_epoch = None

    def on_train_begin(self, model):
        super().on_train_begin(model)
        self.best = np.inf
        self.wait = 0
        self.best_weights = None
        self.stopped_epoch = None
        self.best_epoch = None

    def on_epoch_end(self, epoch, logs):
        if self.monitor not in logs:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which fit does not "
                             f"log; available: {', '.join(logs)} (pass validation data to "
                             "monitor 'val_loss')")
        score = self.sign * logs[self.monitor]
        if score < self.best - self.min_delta:
            self.best, self.wait, self.best_epoch = score, 0, epoch
            if self.restore_best_weights:
                self.best_weights = [p.copy() for p in self.model.params]
            return
        self.wait += 1
        if self.wait > self.patience:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self):
        if self.restore_best_weights and self.best_weights is not None:
            for p, best in zip(self.model.params, self.best_weights, strict=True):
                p[...] = best
