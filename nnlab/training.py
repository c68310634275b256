"""What ``fit`` repeats: one training step on a mini-batch, and one epoch of them.

``Sequential.fit`` checks its arguments and data once, then calls ``fit_epoch``
once per epoch; ``Sequential.train_step`` is ``fit_batch`` on one checked batch::

    y_pred = model.forward(x_batch, training=True)       # forward pass
    loss   = model.loss.forward(y_pred, y_batch)          # how wrong
    model.backward(model.loss.backward(y_pred, y_batch))  # gradients, layer by layer
    model.optimizer.step(model.params, model.grads)       # update

Examples
--------
>>> import numpy as np, nnlab as nl
>>> model = nl.Sequential([nl.Dense(1, 1, init="zeros")])
>>> model.compile(loss="mse", optimizer=nl.optimizers.SGD(0.1))
>>> loss, y_pred = fit_batch(model, np.array([[1.0]]), np.array([[2.0]]))
>>> loss, model.layers[0].params["W"].item()
(4.0, 0.4)
"""

import warnings

import numpy as np

from nnlab import activations, losses
from nnlab._checks import all_finite
from nnlab.metrics import accuracy, binary_accuracy


class TrainingDivergedWarning(RuntimeWarning):
    """The loss became NaN or infinite, so ``fit`` stopped (see ``model.stop_reason``)."""


def fit_batch(model, xb, yb):
    """One update on a checked mini-batch; returns ``(loss, y_pred)``.

    If the loss or a gradient is NaN or infinite the parameters are left unchanged
    and the loss returned is that value (NaN when only a gradient overflowed).
    """
    # A diverging run overflows somewhere; the caller sees a non-finite loss and
    # reports that once, instead of a stream of NumPy floating-point warnings.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        y_pred = model._forward(xb, training=True)
        loss = float(model.loss.forward(y_pred, yb))
        if np.isfinite(loss):
            model.backward(model.loss.backward(y_pred, yb), input_grad=False)
            grads = model.grads
            if all(all_finite(g) for g in grads):
                model.optimizer.apply_gradients(model.params, grads)
            else:
                loss = float("nan")
    return loss, y_pred


def fit_epoch(model, X, y, batch_size, shuffle, rng):
    """One pass over (X, y) in mini-batches; returns the epoch's logs (loss, metrics).

    A non-finite loss ends the epoch at once: ``{"loss": that value}``.
    """
    order = rng.permutation(len(X)) if shuffle else None
    total, preds = 0.0, []
    for start in range(0, len(X), batch_size):
        batch = slice(start, start + batch_size)
        if shuffle:
            batch = order[batch]   # a copy of these rows; unshuffled, a view (no copy)
        xb, yb = X[batch], y[batch]
        loss, y_pred = fit_batch(model, xb, yb)
        if not np.isfinite(loss):
            return {"loss": loss}
        total += loss * len(xb)
        if model.metrics:
            preds.append(y_pred)
    logs = {"loss": total / len(X)}
    if model.metrics:
        # Like Keras: training metrics are those of the predictions made during the epoch.
        y_seen = y[order] if shuffle else y
        logs.update(metric_values(model.loss, y_seen, np.concatenate(preds), model.metrics))
    return logs


def metric_values(loss, y_true, y_pred, metrics):
    """``{name: value}`` of ``metrics`` on outputs ``y_pred`` of a model trained with ``loss``.

    Metrics threshold probabilities: logits (binary cross-entropy ``from_logits``) go
    through the sigmoid first, and for the accuracies hinge scores and +-1 labels become
    0/1 labels. ``accuracy`` of a single output is ``binary_accuracy`` at 0.5, as Keras
    resolves it: the output of a model trained with MSE can step outside [0, 1], which
    ``accuracy`` alone rejects as no probability (and that epochs into ``fit``).
    """
    if not np.all(np.isfinite(y_pred)):
        return {name: float("nan") for name in metrics}
    if isinstance(loss, losses.BinaryCrossEntropy) and loss.from_logits:
        y_pred = activations.sigmoid(y_pred)
    values = {}
    for name, fn in metrics.items():
        t, p = y_true, y_pred
        if isinstance(loss, losses.Hinge) and fn in (accuracy, binary_accuracy):
            # Only for the class: an error like mae is that of the scores themselves.
            t, p = (t > 0).astype(t.dtype), (p > 0).astype(p.dtype)
        if fn is accuracy and (p.ndim == 1 or p.shape[1] == 1):
            fn = binary_accuracy
        values[name] = float(fn(t, p))
    return values


def stop_diverged(model, epoch, loss):
    """Stop ``fit`` after a non-finite loss, and say why (``stop_reason`` and a warning)."""
    model.stop_training = True
    model.stop_reason = f"diverged: the training loss became {loss} in epoch {epoch}"
    warnings.warn(TrainingDivergedWarning(
        f"training diverged: the loss became {loss} in epoch {epoch}, so fit stopped "
        "there; the history keeps every epoch so far, that one included. "
        "Usually the learning rate is too large (try 10 times smaller) or "
        "the gradients explode (deep network, large initial weights): lower the learning "
        "rate, clip gradients (optimizer clipnorm=1.0) or normalise the inputs."),
        stacklevel=3)
