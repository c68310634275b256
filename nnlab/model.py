"""Sequential: a stack of layers, and the training loop that fits it.

Training repeats one *iteration* over mini-batches of the data::

    y_pred = model.forward(x_batch, training=True)       # forward pass
    loss   = model.loss.forward(y_pred, y_batch)          # how wrong
    model.backward(model.loss.backward(y_pred, y_batch))  # gradients, layer by layer
    model.optimizer.step(model.params, model.grads)       # update

``nnlab.training._step`` holds these four lines, with the loss's two calls made as one
(``loss.forward_backward``: cross-entropy then computes its softmax once) and the update as
``optimizer.apply_gradients`` (``step`` without the checks that ``fit`` made once). ``train_step``
runs them on one batch; ``fit`` checks the data once, then runs them over shuffled mini-batches
for a number of epochs (``fit_epoch``), keeping a ``History``. The model computes in the dtype of
its parameters (``model.dtype``, float64 unless changed with ``astype``): data are cast to it
(layers of two dtypes make it None: each computes in its input's).
"""

import math

import numpy as np

from nnlab import losses, optimizers, saving, scoring
from nnlab._checks import (
    as_float_array,
    as_rng,
    check_bool,
    check_number,
    check_verbose,
    check_weights,
    float_dtype,
)
from nnlab._memory import keep_freed_memory
from nnlab.callbacks import History, ProgressBar, check_callbacks
from nnlab.layer_base import (
    Layer,
    cast_layers,
    check_before_training,
    check_distinct,
    check_dy,
    forget_last_pass,
    in_network,
    inside_network,
    restoring_buffers,
)
from nnlab.layer_lists import Layers
from nnlab.saving import ModelFileError, load_model
from nnlab.saving import layer_arrays as _arrays
from nnlab.summary import summary_table
from nnlab.training import (
    ClippedOutputsWarning,
    LossGrowthWarning,
    TrainingDivergedWarning,
    check_batch_sizes,
    check_data,
    fit_batch,
    fit_epoch,
    forgetting_on_refusal,
    predict_batches,
    split_validation,
    stop_diverged,
    update_overflowed,
    warn_if_diverging,
    warn_if_output_mismatch,
)

__all__ = ["ClippedOutputsWarning", "LossGrowthWarning", "ModelFileError", "NotCompiledError",
           "Sequential", "TrainingDivergedWarning", "load_model"]


class NotCompiledError(RuntimeError, ValueError):
    """``fit``, ``evaluate`` or ``train_step`` before ``compile``: a RuntimeError as in
    tf.keras 2, and a ValueError as Keras 3's ``fit`` raises (its ``evaluate``: an
    AttributeError)."""


class Sequential:
    """Layers applied one after the other: ``y = layer_n(... layer_1(x))``.

    Parameters
    ----------
    layers : list of Layer, optional

    Attributes
    ----------
    loss : Loss or None
        The loss that ``compile`` set.
    optimizer : Optimizer or None
        The optimizer that ``compile`` set.
    metrics : dict
        The metrics that ``compile`` set: name -> function.
    history : History or None
        The record of the last ``fit``.
    stop_reason : str or None
        Why the last ``fit`` stopped (divergence, a callback); None if it ran every epoch
        and the last did not diverge.

    Examples
    --------
    >>> X, y = nl.datasets.logic_gate("xor")
    >>> model = nl.Sequential([nl.Dense(2, 8, rng=0), nl.Activation("tanh"),
    ...                        nl.Dense(8, 1, rng=1), nl.Activation("sigmoid")])
    >>> model.compile(loss="binary_crossentropy", optimizer=nl.optimizers.Adam(0.05),
    ...               metrics=["accuracy"])
    >>> history = model.fit(X, y, epochs=300, batch_size=4, seed=0)
    >>> history.history["accuracy"][-1]
    1.0
    """

    #: The layers, in order: a list whose edits are checked as ``add`` is (``LayerList``).
    layers = Layers("Sequential")

    def __init__(self, layers=None):
        if not isinstance(layers, list | tuple | None):
            one = "one layer, " if isinstance(layers, Layer) else ""
            raise ValueError(f"Sequential takes a list of layers; got {one}{layers!r}: "
                             "write Sequential([layer, ...])")
        self.layers = [] if layers is None else layers
        self.loss = self.optimizer = self.history = self.stop_reason = None
        self.metrics, self.stop_training = {}, False
        self._sample_shape = self._output_shape = self._input_dtype = None

    def add(self, layer):
        """Append a layer: a new one, as a layer object in two places would be trained twice."""
        self.layers.append(layer)

    # --- the two passes -------------------------------------------------------------

    def forward(self, x, training=False):
        """Run a batch ``x`` through every layer; ``training`` switches dropout and batch norm.

        ``x`` is cast to the model's dtype first, as ``predict`` and ``fit`` cast theirs."""
        if not self.layers:
            raise ValueError("the model has no layers; add some first")
        check_distinct(self.layers, "Sequential")   # a block's list cannot see the model's
        x = as_float_array(x, "model input", dtype=self.dtype)
        if check_bool(training, "training") and x.ndim and len(x):   # 0-d: the first layer refuses
            check_before_training(self._forward, x, self.layers, self.forget_last_pass)
            with restoring_buffers(self.layers):   # should a later layer refuse to train
                return self._forward(x, training)
        return self._forward(x, training)

    def forget_last_pass(self):
        """Drop the last forward pass's caches (it failed, only tried data, or was predict's)."""
        self._output_shape = None
        forget_last_pass(self.layers)

    def _forward(self, x, training):
        """``forward`` of a batch already checked (``fit`` checks its data once, not per step)."""
        out = x
        with inside_network():
            for i, layer in enumerate(self.layers):
                try:
                    out = layer.forward(out, training=training)
                except BaseException as error:   # (an interrupt too)
                    # The last pass stands only if the first layer refused (ValueError) before
                    # caching: not after training's trial pass, nor once it forgot (a Residual).
                    if (i or training or not isinstance(error, ValueError)
                            or getattr(layer, "_input_shape", None) is None):
                        self.forget_last_pass()   # backward would mix two batches
                    raise
        # Only a pass that ran through: summary() shows its shapes, backward checks dy's.
        self._sample_shape, self._output_shape = x.shape[1:], out.shape
        self._input_dtype = x.dtype
        return out

    def backward(self, dy, input_grad=True):
        """Propagate dy = dL/d(output) back through the layers; fill grads.

        Returns dL/d(input), unless ``input_grad`` is False: ``fit`` needs only
        the parameters' gradients, and skips the first layer's input gradient,
        often its largest product (one column per feature of the data).
        """
        dy = self._check_dy(dy)
        with inside_network():  # layers trust the dy their neighbor passes
            for layer in reversed(self.layers[1:]):
                dy = layer.backward(dy)
            if input_grad:
                return self.layers[0].backward(dy)
            self.layers[0].backward_params(dy)
        return None

    def _check_dy(self, dy):
        """``dy`` as a finite array of the last output's shape (trusted inside ``fit``)."""
        if in_network():
            return dy
        return check_dy(dy, "Sequential", self._output_shape, self._input_dtype)

    @property
    def params(self):
        """Every trainable array, layer by layer, in the order ``grads`` uses."""
        return [p for layer in self.layers for p in layer.params.values()]

    @property
    def grads(self):
        """The gradients of the last ``backward``, in the order of ``params``."""
        try:
            return [layer.grads[k] for layer in self.layers for k in layer.params]
        except KeyError:
            raise ValueError("no gradients yet: run forward and backward first") from None

    @property
    def dtype(self):
        """The dtype of the parameters and buffers (None if there are none or they differ)."""
        dtypes = {a.dtype for layer in self.layers for a in _arrays(layer).values()}
        return dtypes.pop() if len(dtypes) == 1 else None

    def get_weights(self):
        """Copies of every parameter and buffer (batch norm statistics), layer by layer."""
        return [a.copy() for layer in self.layers for a in _arrays(layer).values()]

    def set_weights(self, weights):
        """Copy ``weights`` (as ``get_weights`` returns them) into the model, in place.

        Every array is checked first (its shape, finite real values, variances >= 0):
        a list that fails changes no weight."""
        targets = {f"{i}.{key}": a for i, layer in enumerate(self.layers)
                   for key, a in _arrays(layer).items()}
        weights = check_weights(weights, targets, "set_weights")
        for target, w in zip(targets.values(), weights, strict=True):
            target[...] = w

    # --- training -------------------------------------------------------------------

    def compile(self, loss, optimizer="sgd", metrics=None):
        """Choose the loss, the optimizer and the metrics to report, by name or object.

        Examples
        --------
        >>> nl.Sequential([]).compile(loss="mse", optimizer="adam", metrics=["mae"])
        """
        loss = losses.get(loss)
        optimizer = optimizers.get(optimizer)
        metrics = scoring.compiled_metrics(metrics, loss)
        self.loss, self.optimizer, self.metrics = loss, optimizer, metrics
        warn_if_output_mismatch(self.layers, loss)

    def _require_compiled(self, what):
        if self.loss is None:
            raise NotCompiledError(f"{what} needs a compiled model: call "
                                   "model.compile(loss=..., optimizer=...) first")

    def train_step(self, xb, yb):
        """One iteration on one mini-batch: forward, loss, backward, update.

        Returns the batch loss. If the loss or a gradient is NaN or infinite the
        parameters are left unchanged and the loss returned is that NaN/inf value
        (NaN when only a gradient overflowed): training has diverged."""
        self._require_compiled("train_step")
        with forgetting_on_refusal(self):
            xb, yb = check_data(self, xb, yb, ("xb", "yb"))
            self.optimizer.check_ready(self.params)
        return fit_batch(self, xb, yb)[0]

    def fit(self, X, y, *, epochs=1, batch_size=32, validation_data=None, validation_split=0.0,
            shuffle=True, seed=None, callbacks=None, verbose=0):
        """Train for ``epochs`` passes over (X, y) in shuffled mini-batches.

        Every argument is checked before the first update. If the loss becomes NaN or
        infinite, training stops at that epoch (whose history entries are the non-finite
        loss and NaN for the rest), ``stop_reason`` says so and a ``TrainingDivergedWarning``
        is issued: no exception. So it does, with the epoch's finite loss in the history,
        if an update makes the weights or the optimizer's state inf or NaN. A finite loss
        that diverges (``warn_if_diverging``) gets a ``LossGrowthWarning``. On Linux, the
        first ``fit`` asks glibc's malloc to keep freed memory for the next steps' arrays
        (``nnlab/_memory.py``).

        Parameters
        ----------
        X, y : array_like
            Inputs (one sample per row) and targets in the form the loss takes.
        epochs, batch_size : int (epochs >= 1, where Keras takes 0; batch_size None: 32)
            By name only, as all that follow: Keras's ``fit(X, y, 32, 10)`` means
            batch_size 32 and 10 epochs; here it is a TypeError, not a run with them swapped.
        validation_data : tuple (X_val, y_val), optional
        validation_split : float in [0, 1)
            Hold out this last fraction of (X, y) (before shuffling) for validation.
        shuffle : bool
        seed : int or numpy.random.Generator, optional
            Order of the batches; dropout's masks come from its ``rng`` (seed both to repeat).
        callbacks : list of Callback, optional
            Called in this order, then a ``History`` (unless one is in the list: it is
            the one returned), which so records what the others add to the logs.
        verbose : {0, 1, 2, "auto"}
            0 silent, 1 a progress bar, 2 one line per epoch; "auto" (Keras's default) is 1.

        Returns
        -------
        History
            ``history.history["loss"]``, ``["accuracy"]``, ``["val_loss"]``...:
            the training loss is the mean over the epoch's samples, as in Keras (each
            batch's loss weighs by its size: a partial last batch weighs less).
        """
        self._require_compiled("fit")
        batch_size = 32 if batch_size is None else batch_size   # Keras's default
        check_number(epochs, "epochs", low=1, integer=True)
        check_number(batch_size, "batch_size", low=1, integer=True)
        check_number(validation_split, "validation_split", low=0, high=1, high_open=True)
        verbose = check_verbose(verbose)
        check_bool(shuffle, "shuffle")
        rng = as_rng(seed, "seed")
        callbacks = check_callbacks(callbacks)
        with forgetting_on_refusal(self):
            X, y = check_data(self, X, y)
            X, y, val = split_validation(self, X, y, validation_data, validation_split)
            check_batch_sizes(self, len(X), batch_size)
            steps = -(-len(X) // batch_size)
            self.optimizer.check_ready(self.params, steps=epochs * steps)
            keys = ["loss", *self.metrics]
            keys += [f"val_{k}" for k in keys] if val is not None else []
            if verbose:
                callbacks.append(ProgressBar(lines=verbose == 2))
            history = next((c for c in callbacks if isinstance(c, History)), None) or History()
            if history not in callbacks:
                callbacks.append(history)
            params = {"epochs": epochs, "batch_size": batch_size, "samples": len(X),
                      "steps": steps, "metrics": keys}
            for c in callbacks:     # a callback may refuse (a monitor fit will not log)
                c.set_params(params)
            for c in callbacks:
                c.set_model(self)
        keep_freed_memory()
        self.stop_training, self.stop_reason = False, None
        for c in callbacks:
            c.on_train_begin({})
        for epoch in range(epochs):
            for c in callbacks:
                c.on_epoch_begin(epoch, {})
            logs = fit_epoch(self, X, y, batch_size, shuffle, rng)
            diverged = not math.isfinite(logs["loss"]) or update_overflowed(self)
            if val is not None and not diverged:
                with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                    scores = self._scores(*val, batch_size=None)
                logs.update({f"val_{k}": v for k, v in scores.items()})
            logs = {k: logs.get(k, float("nan")) for k in keys}
            for c in callbacks:
                c.on_epoch_end(epoch, logs)
            if diverged:
                stop_diverged(self, epoch, logs["loss"])
                break
            warn_if_diverging(history.history["loss"])
            if self.stop_training and epoch < epochs - 1:
                self.stop_reason = (self.stop_reason
                                    or f"stopped by a callback after epoch {epoch + 1}")
                break
        else:   # every epoch ran, whatever a callback asked after the last one
            self.stop_reason = None
        for c in callbacks:
            c.on_train_end(logs)   # the last epoch's, as in Keras
        self.history = history
        return history

    def _scores(self, X, y, batch_size, data=None):
        return scoring.scores(self.loss, self.metrics, y, self.predict(X, batch_size), data)

    def evaluate(self, X, y, batch_size=None, *, return_dict=False, verbose=0):
        """The loss (and metrics) on (X, y), in evaluation mode (``training=False``).

        Returns the loss alone when no metrics were compiled, else ``[loss, metric_1,
        ...]`` (or a dict with ``return_dict=True``), as Keras does. ``batch_size`` is
        ``predict``'s (scored together after); ``verbose`` is taken for Keras code.

        Examples
        --------
        >>> model = nl.Sequential([nl.Dense(1, 1, init="zeros")])
        >>> model.compile(loss="mse", metrics=["mae"])
        >>> model.evaluate([[1.0], [2.0]], [1.0, 3.0], return_dict=True)
        {'loss': 5.0, 'mae': 2.0}
        """
        self._require_compiled("evaluate")
        check_verbose(verbose)
        X, y = check_data(self, X, y)
        scores = self._scores(X, y, batch_size, data="X")
        if check_bool(return_dict, "return_dict"):
            return scores
        return scores["loss"] if len(scores) == 1 else list(scores.values())

    def predict(self, X, batch_size=None, verbose=0):
        """The outputs for ``X`` in evaluation mode, ``batch_size`` samples at a time.

        ``batch_size=None`` runs all of ``X`` at once; ``verbose`` is as in ``evaluate``.
        Nothing stays cached (nor after ``evaluate``, ``fit``): ``backward`` needs a ``forward``."""
        check_verbose(verbose)
        return predict_batches(self, X, batch_size)

    # --- inspection -----------------------------------------------------------------

    def summary(self, input_shape=None):
        """Print a Keras-like table: each layer, its output shape and parameter count.

        ``input_shape`` (one sample, no batch axis: a tuple, or an int n for ``(n,)``) is
        needed unless the first layer is Dense or the model has run on data (a loaded model:
        its original). Buffers (batch norm statistics) count as non-trainable, as in Keras."""
        shape = input_shape if input_shape is not None else self._sample_shape
        print(summary_table(self.layers, shape))

    def astype(self, dtype):
        """Store every parameter and buffer in ``dtype`` ("float32" or "float64"); returns self.

        Meant before training: the optimizer's state is reset."""
        cast_layers(self.layers, float_dtype(dtype))
        if self.optimizer is not None:
            self.optimizer.reset()
        return self

    def __repr__(self):
        lines = "".join(f"\n    {layer!r}," for layer in self.layers)
        return f"Sequential([{lines}\n])" if lines else "Sequential([])"

    # --- saving ---------------------------------------------------------------------

    def save(self, path):
        """Save architecture, weights, compile settings and optimizer state to one ``.npz``.

        Plain arrays and a JSON header, no pickle (see ``nnlab.saving``); ``.npz`` is
        appended to ``path`` if missing. Returns the path written."""
        return saving.save_model(self, path)

