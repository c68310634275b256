"""What ``fit`` repeats: one training step on a mini-batch, and one epoch of them.

``Sequential.fit`` checks its arguments and data once (``check_data``,
``split_validation``, ``check_batch_sizes``), then calls ``fit_epoch`` once per epoch;
``Sequential.train_step`` is ``fit_batch`` on one checked batch::

    y_pred = model.forward(x_batch, training=True)       # forward pass
    loss   = model.loss.forward(y_pred, y_batch)          # how wrong
    model.backward(model.loss.backward(y_pred, y_batch))  # gradients, layer by layer
    model.optimizer.step(model.params, model.grads)       # update

with the loss's value and gradient asked for at once (``loss.forward_backward``), so that
cross-entropy from logits computes its softmax once a step, not twice.

Examples
--------
>>> model = nl.Sequential([nl.Dense(1, 1, init="zeros")])
>>> model.compile(loss="mse", optimizer=nl.optimizers.SGD(0.1))
>>> loss, y_pred = nl.training.fit_batch(model, np.array([[1.0]]), np.array([[2.0]]))
>>> loss, model.layers[0].params["W"].item()
(4.0, 0.4)
"""

import contextlib
import inspect
import itertools
import math
import warnings

import numpy as np

from nnlab import losses
from nnlab._checks import _cast, all_finite, as_float_array, check_number
from nnlab.layer_base import (
    check_distinct,
    inside_network,
    restoring_buffers,
    training_fault,
    training_step,
)
from nnlab.layers import Activation
from nnlab.loss_base import PredictionRangeError
from nnlab.scoring import metric_values


class TrainingDivergedWarning(RuntimeWarning):
    """The loss became NaN or infinite, so ``fit`` stopped (see ``model.stop_reason``)."""


class LossGrowthWarning(RuntimeWarning):
    """The loss, still finite, has grown a hundredfold since the first epoch and rose in
    each of the last three: the run diverges. ``fit`` goes on, as Keras's would."""


class ClippedOutputsWarning(UserWarning):
    """The model's outputs are not what its loss takes (a probability loss after a linear
    layer): ``fit`` and ``evaluate`` go on, with the outputs clipped as Keras clips them."""


#: Before training, the model's outputs on this many first samples meet every check of
#: the loss: their shape, and values the loss can take.
TRIAL_SAMPLES = 64


def check_data(model, X, y, names=("X", "y")):
    """Validate a data set once: return (X, targets) in the model's dtype and output shape.

    ``X`` must fit the model (tried on its first ``TRIAL_SAMPLES`` samples), the targets
    the loss, and the metrics both: every error is raised here, before training.
    """
    check_distinct(model.layers, "Sequential")   # before the trial pass blames X for it
    X = as_float_array(X, names[0], dtype=model.dtype)
    y = as_float_array(y, names[1])
    if y.ndim == 0:
        raise ValueError(f"{names[1]} must hold one target per sample; got the single "
                         f"number {y}")
    if X.ndim == 0 or len(X) == 0 or len(X) != len(y):
        raise ValueError(f"{names[0]} and {names[1]} must hold the same number (> 0) of "
                         f"samples; got shapes {X.shape} and {y.shape}")
    try:
        with np.errstate(all="ignore"):
            out = model.forward(X[:TRIAL_SAMPLES])
    except ValueError as exc:
        raise ValueError(f"{names[0]} of shape {X.shape} does not fit the model (tried "
                         f"on its first samples): {exc}{one_axis_hint(model, X, names[0])}"
                         ) from exc
    try:
        if y.ndim > 2:   # targets shaped as the outputs of a conv model: a row per sample
            if y.shape[1:] != out.shape[1:]:
                raise ValueError(f"{names[1]} holds targets of shape {y.shape[1:]} per "
                                 f"sample, and the model's outputs have shape {out.shape[1:]}")
            y = y.reshape(len(y), -1)
        return X, _check_targets(model, y, out, X.dtype, names)
    except ValueError:
        model.forget_last_pass()   # the trial's caches: no backward may follow them
        raise


def predict_batches(model, X, batch_size):
    """``Sequential.predict``: the outputs for ``X``, ``batch_size`` samples at a time (all
    at once for None), in evaluation mode; a 1-D ``X`` that does not fit gets a hint."""
    X = as_float_array(X, "X", dtype=model.dtype)
    if batch_size is not None:
        check_number(batch_size, "batch_size", low=1, integer=True)
    try:
        if batch_size is None or X.ndim == 0:   # all at once; forward refuses a bare number
            return model.forward(X)
        return np.concatenate([model.forward(X[i:i + batch_size])
                               for i in range(0, max(len(X), 1), batch_size)])
    except ValueError as exc:
        if X.ndim != 1:
            raise
        raise ValueError(f"X of shape {X.shape} does not fit the model: {exc}"
                         f"{one_axis_hint(model, X, 'X')}") from exc
    finally:
        # backward after predict would pair predict's caches with another batch's gradient
        model.forget_last_pass()


def one_axis_hint(model, X, name):
    """What to write for a 1-D ``X`` that the model refused ("" if ``X`` is not 1-D). A
    batch holds one sample per row, so its numbers are either samples of one feature,
    ``X.reshape(-1, 1)``, or the features of one sample, ``X[None]``: each is tried on the
    model, as ``check_data`` tries ``X``, and those that fit are suggested."""
    if X.ndim != 1:
        return ""
    n = len(X)
    fixes = {f"{name}.reshape(-1, 1) for {n} sample{'s' * (n != 1)} of one feature":
             X[:TRIAL_SAMPLES, None],
             f"{name}[None] for one sample of {n} feature{'s' * (n != 1)}": X[None]}
    fits, seen = [], model._sample_shape
    for fix, batch in fixes.items():
        try:
            with np.errstate(all="ignore"):
                model.forward(batch)
            fits.append(fix)
        except ValueError:
            pass
    # Only trials: no backward may follow them, and summary shows the data seen before.
    model.forget_last_pass()
    model._sample_shape = seen
    where = f". {name} has one axis, and the model takes a batch, one sample per row"
    if not fits:
        return f"{where}; neither {name}.reshape(-1, 1) nor {name}[None] fits it"
    return f"{where}: write {', or '.join(fits)}"


def _check_targets(model, y, out, dtype, names):
    """The targets in the shape of the trial outputs ``out`` and in ``dtype``, checked
    against the loss and the metrics."""
    n = len(y)
    try:
        y = model.loss.check_targets(y, int(np.prod(out.shape[1:])))
    except ValueError as exc:   # the loss says y_true: name the array, y or y_val
        raise ValueError(f"{names[1]}: {exc}") from exc
    y = y.reshape((n, *out.shape[1:]))
    y = y if y.dtype == dtype else _cast(y, np.dtype(dtype), names[1])   # 1e39: no inf
    # Each step of fit trusts the outputs to suit the loss (checks cost time there), so
    # they are tried here. Outputs that overflowed, or a loss that overflows on them, are
    # left to fit, which reports a diverged model. Outputs outside [0, 1] for a
    # probability loss are what Keras trains on, clipped, and what many a first model
    # compiles: a warning, which says what clipping costs, not an error.
    try:
        with np.errstate(all="ignore"):
            if all_finite(out):
                model.loss(out, y[:TRIAL_SAMPLES])
    except PredictionRangeError:
        # The same text at every call, so that a loop of train_step shows it once.
        warnings.warn(ClippedOutputsWarning(
            f"the model's outputs (tried on the first samples of {names[0]}) do not suit "
            f"the loss {model.loss!r}, which takes probabilities in [0, 1]: some are "
            f"outside. Training and evaluation go on with each output clipped into "
            f"[{losses.EPSILON:g}, 1 - {losses.EPSILON:g}], as Keras does; a clipped output "
            "gets no gradient, so it stops learning. End the model with "
            "Activation('sigmoid') (or softmax)"
            + (", or compile the loss with from_logits=True."
               if hasattr(model.loss, "from_logits") else ".")), stacklevel=outside_nnlab())
    except ValueError as exc:
        raise ValueError(f"the model's outputs (tried on the first samples of {names[0]}) "
                         f"do not suit the loss {model.loss!r}: {exc}") from exc
    for name, fn in model.metrics.items():
        try:
            metric_values(model.loss, y, y, {name: fn})
        except (ValueError, TypeError) as exc:
            raise ValueError(f"metric {name!r} cannot be computed for these targets (a "
                             f"metric maps y_true, y_pred to one number): {exc}") from exc
    return y


def split_validation(model, X, y, validation_data, validation_split):
    """``(X, y, val)`` for ``fit``: the training data, and the validation pair, checked
    (``validation_data``), or the last ``validation_split`` of (X, y), or None."""
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise ValueError("validation_data must be a pair (X_val, y_val)")
        return X, y, check_data(model, *validation_data, names=("X_val", "y_val"))
    if not validation_split:
        return X, y, None
    split = int(len(X) * (1 - validation_split))
    if not 0 < split < len(X):
        raise ValueError(f"validation_split={validation_split} leaves no validation or "
                         f"no training samples out of {len(X)}")
    return X[:split], y[:split], (X[split:], y[split:])


def outside_nnlab():
    """The ``stacklevel`` at which a warning issued by the caller points at the first line
    outside nnlab: fit, evaluate and train_step reach their checks at different depths
    (pandas finds the level of its warnings in the same way)."""
    frame, level = inspect.currentframe().f_back, 1
    while frame.f_back is not None and frame.f_globals.get("__name__", "").split(".")[0] == "nnlab":
        frame, level = frame.f_back, level + 1
    return level


@contextlib.contextmanager
def forgetting_on_refusal(model):
    """Around the checks that follow ``check_data``'s trial pass: if one refuses (the
    validation data, the batch size, the optimizer) or fails, the model forgets that pass,
    or a backward called by hand would pair its caches with another batch's gradient."""
    try:
        yield
    except Exception:
        model.forget_last_pass()
        raise


def check_batch_sizes(model, n, batch_size):
    """Refuse a smallest batch that a layer cannot train on (``Layer._training_fault``: a
    batch norm given one value per feature), which would fail in the middle of training:
    the shapes are those of the trial pass."""
    smallest = n % batch_size or batch_size
    fault = training_fault(model.layers, smallest)
    if fault:
        raise ValueError(f"{fault}: batch_size={batch_size} over {n} samples makes a batch "
                         f"of {smallest}; choose a batch_size that leaves no such batch")


def fit_batch(model, xb, yb):
    """One update on a checked mini-batch; returns ``(loss, y_pred)``.

    If the loss, a gradient or a buffer (batch norm's running statistics, which the
    forward pass has already updated) is NaN or infinite, the parameters and buffers
    are left as they were, and the loss returned is that value (NaN when only a
    gradient or a buffer overflowed: a running variance of inf would silence its
    feature for good, and could not be saved).
    """
    with restoring_buffers(model.layers) as restore:
        try:
            loss, y_pred = _step(model, xb, yb)
        except BaseException:   # (a schedule's bad rate at a later step, an interrupt)
            model.forget_last_pass()   # a pass cut short: the layers hold two batches' caches
            raise
        if not math.isfinite(loss):
            restore()
    return loss, y_pred


def _step(model, xb, yb):
    """Forward, loss, backward, update, unless the loss, a gradient or a buffer is not finite."""
    # A diverging run overflows somewhere; the caller sees a non-finite loss and reports it
    # once, not a stream of NumPy warnings (and an underflow's 0 is right: Loss.gradient).
    with np.errstate(all="ignore"), training_step():
        y_pred = model._forward(xb, training=True)
        buffers = [a for layer in model.layers for a in layer.buffers.values()]
        if buffers and not all_finite(*buffers):
            return float("nan"), y_pred
        loss, dloss = model.loss.forward_backward(y_pred, yb)
        loss = float(loss)
        if not math.isfinite(loss):
            return loss, y_pred
        with inside_network():   # no check of dloss, but its dtype (one's own loss's float64)
            model.backward(dloss.astype(y_pred.dtype, copy=False), input_grad=False)
        grads = model.grads
        if not all_finite(*grads):
            return float("nan"), y_pred
        model.optimizer.apply_gradients(model.params, grads)
    return loss, y_pred


def fit_epoch(model, X, y, batch_size, shuffle, rng):
    """One pass over (X, y) in mini-batches; returns the epoch's logs (loss, metrics).

    A non-finite loss ends the epoch at once: ``{"loss": that value}``.
    """
    order = rng.permutation(len(X)) if shuffle else None
    total, preds = 0.0, []
    try:
        for start in range(0, len(X), batch_size):
            batch = slice(start, start + batch_size)
            if shuffle:
                batch = order[batch]   # a copy of these rows; unshuffled, a view (no copy)
            xb, yb = X[batch], y[batch]
            loss, y_pred = fit_batch(model, xb, yb)
            if not math.isfinite(loss):
                return {"loss": loss}
            total += loss * len(xb)
            if model.metrics:
                preds.append(y_pred)
    finally:
        # The last step's caches met the weights before its update: as after predict, a
        # backward by hand needs a forward of its own (with or without validation data).
        model.forget_last_pass()
    logs = {"loss": total / len(X)}
    if model.metrics:
        # Like Keras: training metrics are those of the predictions made during the epoch.
        y_seen = y[order] if shuffle else y
        logs.update(metric_values(model.loss, y_seen, np.concatenate(preds), model.metrics))
    return logs


def warn_if_diverging(losses, factor=100, rises=3):
    """Issue a ``LossGrowthWarning`` in the epoch where ``losses`` (one per epoch of this
    ``fit``) first say that training diverges while every loss is still finite.

    A finite loss can grow for hundreds of epochs before it overflows (a factor of 2.5 an
    epoch takes about 770 to pass float64's range), and only then does ``fit`` stop. Growth
    alone would flag noisy runs; growth past ``factor`` times the first epoch's loss, after
    ``rises`` rises in a row, is a run that has lost all it learned and is still going.
    The message gives the mean growth of those rises, a measure of how much too large the
    rate is: on a quadratic loss, a rate :math:`c` times the largest stable one multiplies
    the loss by :math:`(2c - 1)^2` a step once the steepest direction dominates, 1.44 at
    :math:`c = 1.1`, where a rate 10 % lower is enough.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     nl.training.warn_if_diverging([2.0, 30.0, 90.0, 260.0])
    >>> print(caught[0].message)  # doctest: +ELLIPSIS
    training diverges: the loss grew from 2 in epoch 1 to 260 in epoch 4, ...
    """
    def diverging(losses):
        last = losses[-rises - 1:]
        return (len(losses) > rises and losses[0] > 0 and losses[-1] > factor * losses[0]
                and all(a < b for a, b in itertools.pairwise(last)))

    if diverging(losses) and not diverging(losses[:-1]):
        # The mean factor of those last rises: how far above a stable rate training is
        # (none from a loss of 0, or from a negative one, which some losses reach).
        base = losses[-rises - 1]
        pace = f" ({(losses[-1] / base) ** (1 / rises):.3g}x an epoch)" if base > 0 else ""
        warnings.warn(LossGrowthWarning(
            f"training diverges: the loss grew from {losses[0]:.4g} in epoch 1 to "
            f"{losses[-1]:.4g} in epoch {len(losses)}, rising in each of the last {rises} "
            f"epochs{pace}. fit goes on while the loss is finite. Usually "
            "the learning rate is too large: lower it a little if the loss grows slowly (the "
            "rate is then just above the largest stable one), 10 times if it grows fast."),
            stacklevel=3)


def warn_if_output_mismatch(layers, loss):
    """Warn where the model's last layer defeats its loss (``compile``); Keras warns of the
    first two cases below on TensorFlow, of the third when the layer is called.

    A softmax or a sigmoid before a loss that takes logits (``from_logits=True``) squashes
    the outputs twice: the loss then sees scores between 0 and 1, and its gradient shrinks.
    A softmax over a single unit is 1 whatever its input: nothing can be learned.

    Examples
    --------
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     nl.training.warn_if_output_mismatch([nl.Dense(3, 1), nl.Activation("softmax")], "mse")
    >>> str(caught[0].message)[:55]
    'the model ends with a softmax over a single unit, which'
    """
    if len(layers) < 2 or not isinstance(layers[-1], Activation):
        return
    name, before = layers[-1].name, layers[-2]
    if name == "softmax" and getattr(before, "n_out", None) == 1:
        warnings.warn("the model ends with a softmax over a single unit, which is 1 whatever "
                      "the unit's value: nothing can be learned; end with a sigmoid for one "
                      "unit, or with as many units as classes", UserWarning, stacklevel=3)
    elif name in ("softmax", "sigmoid") and getattr(loss, "from_logits", False):
        warnings.warn(f"the loss {loss!r} takes logits (from_logits=True), but the model "
                      f"ends with a {name}, whose outputs are no logits: remove the last "
                      "Activation, or use from_logits=False", UserWarning, stacklevel=3)


def update_overflowed(model):
    """Whether an update left a weight or the optimizer's state NaN or infinite.

    ``fit_batch`` checks the loss and the gradients before each update, not what the update
    writes: at a huge rate the step itself can overflow (AdamW at lr=1e30 in float32 made
    the weights inf), or the optimizer's state (AdaGrad's sum of squares at inf made every
    later step 0: training froze without a word). ``fit`` asks once an epoch, one dot
    product per array (``all_finite``), not once a step.
    """
    states = model.optimizer.state or []   # (no scratch array: each step writes it afresh)
    arrays = [a for s in states for k, a in s.items() if k != "param"
              and not k.startswith("scratch") and isinstance(a, np.ndarray) and a.dtype.kind == "f"]
    return not all_finite(*model.params, *arrays)


def stop_diverged(model, epoch, loss):
    """Stop ``fit`` after a non-finite loss or an update that overflowed
    (``update_overflowed``, with the epoch's finite loss), and say why (``stop_reason``
    and a warning). ``epoch`` counts from 0, as the callbacks' epochs do; the messages
    count from 1, as the history's plots and Keras' progress lines do."""
    what = (f"the training loss became {loss}" if not np.isfinite(loss) else
            f"an update made the weights or the optimizer's state inf or NaN (the loss was "
            f"{loss:.4g})")
    model.stop_training = True
    model.stop_reason = f"diverged: {what} in epoch {epoch + 1}"
    cause = ("No update had been made yet: the network as it starts overflows on the data "
             "(inputs or initial weights too large, a batch norm's variance beyond its "
             "dtype): scale the inputs, e.g. standardize them, or the initial weights down."
             if model.optimizer.iterations == 0 else
             "Usually the learning rate is too large (try 10 times smaller) or the gradients "
             "explode (deep network, large initial weights): lower the learning rate, clip "
             "gradients (optimizer global_clipnorm=1.0) or normalize the inputs.")
    warnings.warn(TrainingDivergedWarning(
        f"training diverged: {what.replace('training ', '')} in epoch {epoch + 1}, so fit "
        f"stopped there; the history keeps every epoch so far, that one included. {cause}"
        + (f" {model.loss.diverged_hint}" if model.loss.diverged_hint else "")),
        stacklevel=3)

