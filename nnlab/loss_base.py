"""The protocol every loss follows, and the checks of its inputs.

``Loss`` turns what a user passes (lists, labels, one sample, a column of
targets) into checked arrays of one shape, and rejects what no loss can take,
with the loss named in the message; the subclasses in ``nnlab.losses`` then
only compute. ``check_targets`` validates a whole data set's targets once,
before training (``Sequential.fit``).
"""

import numpy as np

from nnlab._checks import _cast, as_float_array, check_bool, check_number
from nnlab.activation_base import _exp

#: The clip of every probability before its logarithm, [EPSILON, 1 - EPSILON], as in Keras;
#: also the small number that keeps other losses' logarithms and divisions finite.
EPSILON = 1e-7


class PredictionDomainError(ValueError):
    """``y_pred`` holds values the loss is not defined for (a negative Poisson rate).

    A direct call of the loss raises it. ``fit`` of a model trained on the loss refuses
    outputs of the first samples outside the domain, and ``evaluate`` any output outside
    it (a ValueError that names the loss); a run whose outputs leave it later usually
    stops as diverged (its loss NaN; but a Poisson rate in (-1e-7, 0) still has a
    logarithm, and a focal loss's row of zeros trains on, its shares clipped to 1e-7),
    and its validation loss is NaN there. The loss used as a
    metric is NaN there too, as Keras's metrics are: a metric reports on a model, it does
    not stop its training.
    """


class PredictionRangeError(PredictionDomainError):
    """``y_pred`` holds probabilities outside [0, 1], for a loss that takes their logarithm.

    A direct call of the loss raises it. ``fit`` and ``evaluate`` warn instead
    (``nnlab.training.ClippedOutputsWarning``) and go on, as Keras does, with the
    outputs clipped where the loss takes their logarithm; the loss as a metric clips them
    too, without a warning.
    """


class Loss:
    """Base class: input validation and the ``loss(y_pred, y_true)`` protocol.

    A subclass implements ``forward`` and ``backward`` on checked arrays and
    declares what it accepts: ``rowwise`` (classes on the last axis of an
    ``(N, K)`` ``y_pred``, or ``(K,)`` for one sample), ``labels`` (it also
    takes integer labels ``(N,)``) and ``min_classes``; the hooks
    ``_check_predictions`` / ``_check_target_values`` reject bad values.
    """

    name = "loss"
    #: What else can make this loss NaN or inf in training, for ``fit``'s warning when it
    #: stops a diverged run (besides too large a learning rate, which it always names).
    diverged_hint = ""
    rowwise = False
    labels = False
    min_classes = 1

    def __call__(self, y_pred, y_true):
        y_pred, y_true = self.check(y_pred, y_true)
        with np.errstate(under="ignore"):   # see gradient
            return float(self.forward(y_pred, y_true))

    def gradient(self, y_pred, y_true):
        """d loss / d y_pred, in the shape and floating dtype of ``y_pred``."""
        shape = np.shape(y_pred)
        y_pred, y_true = self.check(y_pred, y_true)
        # A result too small for the dtype (a softmax's share at a logit 100 below the
        # largest, in float32) rounds to 0 or a subnormal number: the right answer. A
        # caller that raises on floating-point errors hears of the others only, as from
        # the activations (nnlab.activation_base._exp); forward, backward and
        # forward_backward, on checked arrays, follow the caller's settings.
        with np.errstate(under="ignore"):
            return self.backward(y_pred, y_true).reshape(shape)

    def forward(self, y_pred, y_true):
        raise NotImplementedError

    def backward(self, y_pred, y_true):
        raise NotImplementedError

    def forward_backward(self, y_pred, y_true):
        """``(forward(...), backward(...))`` of one checked batch, which a training step needs
        both of. A loss whose two share work (cross-entropy's softmax) does it once here."""
        return self.forward(y_pred, y_true), self.backward(y_pred, y_true)

    def get_config(self):
        """The constructor arguments, as JSON-compatible values."""
        return {}

    def as_metric(self, probabilities=False):
        """This loss as a metric: a function ``(y_true, y_pred) -> float``, the metrics' order
        of arguments, named as the loss. ``nnlab.metrics.get`` makes one of a loss, so that
        ``compile(metrics=[BinaryCrossEntropy()])`` logs it, as Keras does.

        Outputs outside [0, 1] for a loss of probabilities are clipped, as ``fit`` clips
        them, and outputs outside another loss's domain give NaN (``value_as_metric``), so
        that the metric reports on them rather than stops training.
        ``probabilities=True`` says that the metric will be given probabilities in place of
        logits (``fit`` gives them to the metrics of a model whose loss takes logits): a
        loss with ``from_logits=True`` is then computed from them, with ``from_logits=False``.

        Examples
        --------
        >>> bce = nl.losses.BinaryCrossEntropy().as_metric()
        >>> bce.__name__, round(bce([1, 0], [0.9, 0.2]), 4)
        ('binary_crossentropy', 0.1643)
        """
        loss = self
        if probabilities and getattr(self, "from_logits", False):
            loss = type(self)(**{**self.get_config(), "from_logits": False})

        def metric(y_true, y_pred):
            return value_as_metric(loss, y_true, y_pred)

        # The loss's name, unless another log holds it: "loss" (a loss of one's own with no
        # name) the training loss, "cosine_similarity" the metric this loss is the negative
        # of, which EarlyStopping would maximize.
        metric.__name__ = metric.__qualname__ = {
            "loss": type(self).__name__, "cosine_similarity": "cosine_similarity_loss",
        }.get(self.name, self.name)
        return metric

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    def check(self, y_pred, y_true):
        """Validate a batch; return ``(y_pred, y_true)`` ready for ``forward``.

        ``y_true`` comes back in the shape and dtype of ``y_pred``: ``(N,)``
        targets against ``(N, 1)`` predictions are reshaped, integer labels
        become one-hot rows, one sample ``(K,)`` of a rowwise loss is ``(1, K)``.
        """
        y_pred, y_true = self._shaped(y_pred, y_true)
        self._check_predictions(y_pred)
        return y_pred, y_true

    def _shaped(self, y_pred, y_true):
        """``check`` but for the values of ``y_pred``, which only its shape is checked of."""
        y_pred = as_float_array(y_pred, name=f"{self!r}: y_pred")
        y_true = as_float_array(y_true, name=f"{self!r}: y_true")
        given = (y_pred.shape, y_true.shape)   # what the messages name
        if self.rowwise:
            if y_pred.ndim not in (1, 2):
                raise ValueError(f"{self!r}: y_pred must be (N, K), classes on the last "
                                 f"axis; got shape {y_pred.shape}")
            if y_pred.ndim == 1:
                # One sample: y_true one label (if the loss takes labels), else one row.
                label = self.labels and y_true.size == 1
                if (not label and y_true.size == y_pred.size   # else the shapes' error below
                        and y_true.shape not in (y_pred.shape, (1, *y_pred.shape))):
                    raise ValueError(f"{self!r}: y_pred of shape {y_pred.shape} is one sample, "
                                     f"so y_true must be its row, of shape {y_pred.shape}"
                                     f"{', or its label' if self.labels else ''}; got shape "
                                     f"{y_true.shape}")
                y_pred = y_pred[None, :]
                y_true = y_true.reshape((1,) if label else (1, -1))
        self._check_outputs(given[0])
        # Targets first: a bad target is an error even where a metric (value_as_metric)
        # would forgive the predictions.
        return y_pred, self._targets(y_true, y_pred.shape, y_pred.dtype, given)

    def check_targets(self, y_true, n_outputs):
        """Validate all targets of a model with ``n_outputs`` output units, before training.

        A bad label then fails at once, not in the middle of an epoch. Returns
        the targets as ``check`` would: ``(N, n_outputs)``, labels one-hot.

        Examples
        --------
        >>> nl.losses.CategoricalCrossEntropy().check_targets([0, 2], n_outputs=3)
        array([[1., 0., 0.],
               [0., 0., 1.]])
        """
        check_number(n_outputs, "n_outputs", low=1, integer=True)
        y_true = as_float_array(y_true, name=f"{self!r}: y_true", ndim=(1, 2))
        shape = (len(y_true), n_outputs)
        self._check_outputs(shape)
        return self._targets(y_true, shape, y_true.dtype)

    def _check_outputs(self, shape):
        if 0 in shape:
            raise ValueError(f"{self!r}: y_pred must not be empty; got shape {shape}")
        if self.rowwise and shape[-1] < self.min_classes:
            raise ValueError(f"{self!r} needs at least {self.min_classes} output units "
                             f"(classes); got shape {shape}; for a yes/no problem use "
                             "BinaryCrossEntropy or Hinge")

    def _check_predictions(self, y_pred):
        """Hook: reject values of y_pred outside the loss's domain (default: any finite)
        with a ``PredictionDomainError``."""

    def _check_target_values(self, y_true):
        """Hook: reject values of y_true (already in the shape of y_pred)."""

    def _check_unit_interval(self, arr, what, hint, error=ValueError):
        lo, hi = arr.min(), arr.max()
        if lo < 0 or hi > 1:
            raise error(f"{self!r}: {what} must be in [0, 1] ({hint}); "
                        f"got values in [{lo:.6g}, {hi:.6g}]")

    def _targets(self, y_true, shape, dtype, given=None):
        """``y_true`` checked, in ``shape`` and ``dtype``; a message names the shapes
        ``given`` (y_pred's, y_true's) that the caller passed, if they were reshaped."""
        if y_true.shape != shape:
            if self.labels and y_true.shape in ((shape[0],), (shape[0], 1)):
                return self._one_hot(y_true.ravel(), shape[1], dtype)
            column = (*y_true.shape, 1) == shape or y_true.shape == (*shape, 1)
            if self.rowwise or not column:
                pred_shape, true_shape = given or (shape, y_true.shape)
                expected = (f"one-hot rows {pred_shape} or integer labels ({shape[0]},)"
                            if self.labels else f"the same shape {pred_shape}")
                raise ValueError(f"{self!r}: y_pred has shape {pred_shape} but y_true has "
                                 f"shape {true_shape}; expected {expected}")
            y_true = y_true.reshape(shape)
        self._check_target_values(y_true)
        if y_true.dtype == dtype:
            return y_true
        return _cast(y_true, np.dtype(dtype), f"{self!r}: y_true")   # 1e39 in float32: no inf

    def _one_hot(self, labels, n_classes, dtype):
        bad = (labels != np.round(labels)) | (labels < 0) | (labels >= n_classes)
        if np.any(bad):
            raise ValueError(f"{self!r}: class labels must be integers in [0, {n_classes - 1}] "
                             f"for {n_classes} outputs; got "   # every digit: 1.0000001 is no 1
                             f"{np.format_float_positional(labels[bad][0], trim='-')}")
        return (labels[:, None] == np.arange(n_classes)).astype(dtype)


class _LogitsOption(Loss):
    """A loss on probabilities that takes raw scores instead when ``from_logits=True``."""

    def __init__(self, from_logits=False):
        self.from_logits = check_bool(from_logits, "from_logits")

    def get_config(self):
        return {"from_logits": self.from_logits}

    def _check_predictions(self, y_pred):
        if not self.from_logits:
            self._check_unit_interval(y_pred, "y_pred", "probabilities; pass from_logits=True "
                                      "if y_pred are raw scores", PredictionRangeError)


def value_as_metric(loss, y_true, y_pred):
    """``loss`` of ``(y_true, y_pred)``, the metrics' order, as a float. Outputs outside
    [0, 1] for a loss of probabilities are clipped by the loss's ``forward``, as ``fit``
    trains on them and ``evaluate`` scores them (so the metric and the loss agree) and as
    Keras's metrics clip them: a metric reports on the outputs of a model trained on
    another loss (mse) rather than stops ``fit``. Outputs outside another loss's domain (a
    negative Poisson rate, a focal loss's row of zeros) give NaN, as Keras's metrics do.
    The loss, called on its own, refuses them."""
    try:
        return float(loss(y_pred, y_true))
    except PredictionRangeError:
        return float(loss.forward(*loss._shaped(y_pred, y_true)))
    except PredictionDomainError:   # no number, as Keras's metric
        return float("nan")


# What the losses share: their mean; and those of probabilities, the clip and binary
# cross-entropy from a logit without cancellation.

def _mean(a):
    """The mean of every element of ``a``, the number ``np.mean`` gives (the same sum, over
    the count as a float64, as it divides), without its Python-level checks, which cost three
    times the sum itself on a small batch: a loss's value is computed at every training step.
    """
    total = a.sum()
    return total.dtype.type(float(total) / a.size)   # (2^24 + 1 in float32 is 2^24)


def _clip(p):
    return np.clip(p, EPSILON, 1 - EPSILON)


def _unclipped(p):
    """The derivative of ``_clip``: 1 where it lets ``p`` through, 0 where it clips."""
    return ((p >= EPSILON) & (p <= 1 - EPSILON)).astype(p.dtype)


def _binary_cross_entropy_of_logits(z, y, e=None):
    """-[y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))], element-wise, from the logit z
    (and ``e`` = e^-|z|, if the caller has computed it).

    That is softplus(z) - y z, but written as max(z, 0) - y z + log(1 + e^-|z|): for
    a confident right answer (y = 1, z = 40) softplus(z) rounds to z and the difference
    to 0, where the loss is e^-40; here max(z, 0) - y z is exactly 0 and the last term
    exact. (TensorFlow's ``sigmoid_cross_entropy_with_logits`` is this formula.)
    """
    return np.maximum(z, 0) - y * z + np.log1p(_exp(-np.abs(z)) if e is None else e)
