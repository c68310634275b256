"""Callbacks: code that ``Sequential.fit`` runs at fixed points of training.

``fit`` calls, on every callback in its ``callbacks`` list, these hooks with Keras's names
and arguments (Keras's per-batch hooks are not called)::

    on_train_begin(logs)            # after every check passed, before the first update
    on_epoch_begin(epoch, logs)     # logs = {} at the beginnings
    on_epoch_end(epoch, logs)       # logs = {"loss": ..., "accuracy": ..., "val_loss": ...}
    on_train_end(logs)              # the last epoch's logs

Before that it gives each callback the model (``callback.model``) and the
run's settings (``callback.params``: epochs, batch_size, steps, samples and
``metrics``, the names the logs will hold). A callback stops training by
setting ``model.stop_training = True`` (and ``model.stop_reason`` to say why).
"""

import numpy as np

from nnlab import metrics as metric_functions
from nnlab._checks import check_bool, check_number, check_verbose, did_you_mean


def check_callbacks(callbacks):
    """``callbacks`` as a new list, if it is a list (or tuple, or None) of Callbacks."""
    if isinstance(callbacks, Callback) or not isinstance(callbacks, list | tuple | None):
        raise ValueError(f"callbacks must be a list of nnlab.callbacks.Callback instances; "
                         f"got {callbacks!r}: write callbacks=[...]")
    callbacks = list(callbacks or [])
    wrong = [c for c in callbacks if not isinstance(c, Callback)]
    if wrong:
        raise ValueError(f"callbacks must be a list of nnlab.callbacks.Callback instances; "
                         f"got {wrong[0]!r} among them")
    twice = [c for i, c in enumerate(callbacks) if any(c is d for d in callbacks[:i])]
    if twice:   # its hooks would run twice an epoch: a History would record each epoch twice
        raise ValueError(f"callbacks lists the same object twice: {twice[0]!r}; "
                         "pass each callback once")
    return callbacks


class Callback:
    """Base class: every hook does nothing; override the ones you need.

    Examples
    --------
    >>> class PrintLoss(nl.callbacks.Callback):
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         print(epoch, round(logs["loss"], 3))
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass


class History(Callback):
    """Records the logs of every epoch; ``fit`` returns it.

    It is ``model.history`` from the end of each epoch on, as in Keras, so that a callback
    can read the run so far. Given to a second ``fit``, it starts again (Keras's restarts
    ``epoch`` but goes on appending to ``history``).

    Attributes
    ----------
    history : dict of str -> list of float
        One list per logged quantity ("loss", "accuracy", "val_loss", ...), one
        entry per epoch. If training diverged, the last entry is the epoch that
        diverged: a NaN or infinite loss, or a finite one whose update overflowed the
        weights or the optimizer's state (``model.stop_reason`` says which).
    epoch : list of int
        The epoch numbers (from 0) the lists refer to.
    params : dict
        The settings of the run (epochs, batch_size, steps, samples, metrics).

    Examples
    --------
    >>> h = nl.callbacks.History()
    >>> h.on_train_begin()
    >>> h.on_epoch_end(0, {"loss": 0.5})
    >>> h.history, h.epoch
    ({'loss': [0.5]}, [0])
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.history = {}
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:   # as in Keras: a callback can plot model.history live
            self.model.history = self

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


#: The metrics that ``EarlyStopping(mode="auto")`` maximizes, by the names that
#: ``nnlab.metrics.get`` takes (their aliases and Keras's class names, as in
#: "val_TruePositives", name the same functions): those that are better higher, as each
#: Keras 3 metric object says of itself (its four confusion counts say nothing: see
#: ``EarlyStopping``).
HIGHER_IS_BETTER = ("accuracy", "binary_accuracy", "top_k_categorical_accuracy", "precision",
                    "recall", "f1_score", "f_beta_score", "r2_score", "auc", "true_positives",
                    "true_negatives", "cosine_similarity", "binary_iou", "pearson_correlation",
                    "concordance_correlation")


def _auto_mode(monitor):
    """"max" or "min" for the log name ``monitor``: that of the metric it names, found by its
    whole name (without ``val_``), not by a part of it: "jaccard_distance" holds "acc"."""
    name = monitor.removeprefix("val_")
    if name == "loss":
        return "min"
    try:
        fn = metric_functions.get(name)
    except ValueError:
        prefix = monitor.removesuffix(name)   # "val_" or ""
        known = [prefix + known for known in ("loss", *metric_functions.NAMES)]
        raise ValueError(f"EarlyStopping cannot tell whether {monitor!r} is better higher or "
                         "lower: it names no metric that nnlab knows (a function of your own?); "
                         "pass mode='max' or mode='min'" + did_you_mean(monitor, known)) from None
    return "max" if any(metric_functions.get(h) is fn for h in HIGHER_IS_BETTER) else "min"


def _made_by_fit(monitor, logged):
    """Whether ``monitor`` names a log that only ``fit`` makes (the loss, a compiled metric or
    one that nnlab knows, or their ``val_`` forms), not one a callback of one's own adds."""
    name = monitor.removeprefix("val_")
    if name == "loss" or name in logged:
        return True
    try:
        metric_functions.get(name)
    except ValueError:
        return False
    return True


class EarlyStopping(Callback):
    """Stop training when a monitored quantity has stopped improving (Keras semantics).

    An epoch improves on the best value so far if it is lower by more than
    ``min_delta`` (``mode="min"``) or higher by more than ``min_delta``
    (``mode="max"``). ``"auto"`` takes the direction of the metric that ``monitor`` names
    (without ``val_``), as Keras 3 does: max for the scores that are better higher
    (accuracy, precision, recall, F1, R^2, AUC, the true positives and negatives, cosine
    similarity, correlations and IoU: see ``HIGHER_IS_BETTER``), min for "loss" and the
    other metrics of ``nnlab.metrics`` (the losses, the errors, the false positives and
    negatives); for a name that nnlab does not know (a metric function of one's own) it
    raises ValueError: pass "min" or "max". Keras 3.15.1 gives its four confusion counts
    no direction and raises for them too; nnlab maximizes the true and minimizes the
    false ones, which is what counting them means.
    Training stops after ``patience`` epochs in a row with no improvement
    (as in Keras, patience 0 and 1 both stop at the first one, though never at the first
    epoch watched), so it ends at epoch ``best_epoch + max(patience, 1)`` at the latest.
    A NaN never improves: a diverged epoch is no best. (Keras 3.15.1 takes the first
    watched value as the best whatever it is, so a NaN there stays the best, its weights
    the ones restored: nnlab waits for a number.)

    Parameters
    ----------
    monitor : str
        A key of the logs, e.g. "val_loss", "loss", "val_accuracy". Checked
        against what ``fit`` will log before training starts; a key that no metric makes
        (one that a callback before this one adds) is checked at the first epoch's end.
    patience : int
        Number of epochs with no improvement after which training stops.
    min_delta : float
        An improvement must be larger than this change (>= 0); one of exactly
        ``min_delta`` is none.
    mode : {"auto", "min", "max"}
    restore_best_weights : bool
        At the end of training, put back the weights of the best epoch
        (whether or not training stopped early); if no epoch improved (every value NaN,
        say), those of the first watched epoch, as Keras does.
    verbose : {0, 1}
        1 prints, at the end of training, the epoch that stopped it and the epoch
        whose weights were restored, as Keras does.
    baseline : float, optional
        A value to beat: until an epoch beats it, even epochs that improve on the best so
        far do not restart the count, so training stops at the first epoch without
        improvement once ``patience`` epochs have passed. The count then holds the epochs
        since the last one that both improved and beat the baseline, and the message in
        ``model.stop_reason`` says so.
    start_from_epoch : int
        Epochs to wait before watching (warm-up), as in Keras.

    Attributes
    ----------
    best, best_epoch, stopped_epoch, wait
        The epochs count from 0, as the callbacks' ``epoch`` arguments do; the message in
        ``model.stop_reason`` counts them from 1, as Keras prints them. ``stopped_epoch``
        is the epoch at which the stop condition was met, 0 if it never was (as in Keras:
        it never stops at epoch 0); met at the last epoch, it is that epoch, and
        ``verbose=1`` reports it, as Keras does, though ``fit`` had no epoch left to skip
        (its ``stop_reason`` is then None);
        ``best_epoch`` is None until an epoch improves; with ``restore_best_weights``,
        it is the first watched epoch until then (its weights stand for the best, as in
        Keras: they are the ones restored if no epoch ever improves).

    Examples
    --------
    >>> stop = nl.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True)
    >>> stop.mode
    'min'
    """

    def __init__(self, monitor="val_loss", patience=0, min_delta=0.0, mode="auto",
                 restore_best_weights=False, verbose=0, baseline=None, start_from_epoch=0):
        super().__init__()
        if not isinstance(monitor, str):
            raise ValueError(f"EarlyStopping monitor must be a log name (str); got {monitor!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping mode must be 'auto', 'min' or 'max'; got {mode!r}")
        if not isinstance(restore_best_weights, bool):
            raise ValueError("EarlyStopping restore_best_weights must be True or False; "
                             f"got {restore_best_weights!r}")
        self.monitor = monitor
        self.patience = check_number(patience, "EarlyStopping patience", low=0, integer=True)
        self.min_delta = check_number(min_delta, "EarlyStopping min_delta", low=0)
        self.mode = _auto_mode(monitor) if mode == "auto" else mode
        self.restore_best_weights = restore_best_weights
        self.verbose = check_verbose(verbose, (0, 1), "EarlyStopping verbose")
        self.baseline = None if baseline is None else check_number(
            baseline, "EarlyStopping baseline")
        self.start_from_epoch = check_number(start_from_epoch, "EarlyStopping "
                                             "start_from_epoch", low=0, integer=True)
        self._from_callback = False   # set_params: whether a callback, not fit, logs monitor

    def set_params(self, params):
        # Checked here, before fit changes anything (on_train_begin clears the history).
        available = params.get("metrics")
        self._from_callback = available is not None and self.monitor not in available
        if self._from_callback and _made_by_fit(self.monitor, available):
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, but fit will log only "
                             f"{list(available)}; compile the metric, and for 'val_...' pass "
                             "validation_data or validation_split")
        super().set_params(params)

    def _worst(self):
        """The best value before any epoch: the one every number improves on."""
        return np.inf if self.mode == "min" else -np.inf

    def on_train_begin(self, logs=None):
        self.best = self._worst()
        self.best_epoch = None
        self.best_weights = None
        self.stopped_epoch = 0
        self.wait = 0

    def _improves(self, value, than):
        if self.mode == "min":
            return value < than - self.min_delta
        return value > than + self.min_delta

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None and self._from_callback:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which no metric makes "
                             f"and no callback before it logged at epoch {epoch + 1} (logs: "
                             f"{sorted(logs or {})}); put the callback that adds it first")
        if value is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # As in Keras: until an epoch improves, the first watched epoch's weights count
            # as the best, and are restored if none ever improves.
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._improves(value, self.best):  # False for NaN: a diverged epoch is no best
            self.best, self.best_epoch = value, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # As in Keras: the count restarts only when the baseline is beaten too.
            if self.baseline is None or self._improves(value, self.baseline):
                self.wait = 0
            return
        # Never at the first epoch watched: there is nothing it failed to improve on.
        if self.wait >= self.patience and epoch > self.start_from_epoch:
            self.stopped_epoch = epoch
            self.model.stop_training = True
            best = (f"best {self.best:.6g} at epoch {self.best_epoch + 1}"
                    if self.best != self._worst() else f"none was a number; the last: {value}")
            # With a baseline, epochs that improved without beating it are counted too.
            what = ("did not improve for" if self.baseline is None else
                    f"made no improvement that beat the baseline {self.baseline:.6g} in")
            self.model.stop_reason = (f"early stopping: {self.monitor} {what} {self.wait} "
                                      f"epoch(s) ({best})")

    def on_train_end(self, logs=None):
        if self.verbose and self.stopped_epoch:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ProgressBar(Callback):
    """Shows training progress: a tqdm bar over the epochs, or one printed line per epoch.

    ``fit(verbose=1)`` adds ``ProgressBar()``, ``fit(verbose=2)`` adds
    ``ProgressBar(lines=True)``; ``verbose=0`` adds nothing and prints nothing.

    Examples
    --------
    >>> bar = nl.callbacks.ProgressBar(lines=True)
    >>> bar.set_params({"epochs": 3})
    >>> bar.on_epoch_end(0, {"loss": 0.25})
    Epoch 1/3 - loss: 0.25
    """

    def __init__(self, lines=False):
        super().__init__()
        self.lines = check_bool(lines, "ProgressBar lines")
        self.bar = None

    def on_train_begin(self, logs=None):
        if not self.lines:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=self.params.get("epochs"), unit="epoch")

    def on_epoch_end(self, epoch, logs=None):
        text = {key: f"{value:.4g}" for key, value in (logs or {}).items()}
        if self.bar is not None:
            self.bar.set_postfix(text, refresh=False)
            self.bar.update(1)
        else:
            fields = "".join(f" - {key}: {value}" for key, value in text.items())
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')}{fields}")

    def on_train_end(self, logs=None):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
