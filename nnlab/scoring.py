"""What ``evaluate`` reports, and the metrics of ``fit``'s logs: a model's scores on data.

``compiled_metrics`` names the metrics that ``compile`` was given; ``scores`` gives the
loss and the metrics of outputs ``y_pred`` at once; ``metric_values`` the metrics alone,
as ``fit`` logs them after each epoch.

Examples
--------
>>> y_true, y_pred = np.array([[1.0], [0.0], [0.0]]), np.array([[0.5], [0.0], [1.0]])
>>> nl.scoring.scores(nl.losses.MSE(), {"accuracy": nl.metrics.accuracy}, y_true, y_pred)
{'loss': 0.4166666666666667, 'accuracy': 0.3333333333333333}
"""

import numpy as np

from nnlab import activations, losses
from nnlab._checks import all_finite
from nnlab.f_score_metrics import f_beta_score
from nnlab.keras_metrics import (
    binary_iou,
    false_negatives,
    false_positives,
    true_negatives,
    true_positives,
)
from nnlab.loss_base import PredictionDomainError, PredictionRangeError
from nnlab.metrics import accuracy, binary_accuracy, f1_score, get, precision, recall

#: The metrics that score predicted classes, rather than the outputs themselves.
CLASS_METRICS = (accuracy, binary_accuracy, precision, recall, f1_score, f_beta_score,
                 true_positives, false_positives, true_negatives, false_negatives, binary_iou)


def compiled_metrics(metrics, loss):
    """``compile``'s ``metrics`` (names, functions, or one name) as ``{name: function}``,
    the names that ``fit`` logs them under; ``loss`` is the compiled loss.

    Names are Keras's (``metrics.get``), each logged once. Where the loss takes logits,
    ``fit`` gives the metrics probabilities (``metric_values``): a loss given as a metric
    is made the metric of probabilities too.

    Examples
    --------
    >>> list(nl.scoring.compiled_metrics(["acc", "mae"], nl.losses.MSE()))
    ['acc', 'mae']
    """
    if not isinstance(metrics, str | list | tuple | None):
        raise ValueError(f"metrics must be a list of names or functions; got {metrics!r}")
    names = {}
    for m in [metrics] if isinstance(metrics, str) else metrics or []:
        fn = get(m, probabilities=getattr(loss, "from_logits", False))
        name = m if isinstance(m, str) else getattr(fn, "__name__", None)
        if name is None:   # e.g. a functools.partial
            raise ValueError(f"metric {m!r} has no __name__ to log it by; pass a function "
                             "of your own that calls it (see nnlab.metrics.f1_score)")
        if name in names or name == "loss" or name.startswith("val_"):   # one log key each
            raise ValueError(f"two metrics are called {name!r} (the loss is 'loss', the "
                             "validation's 'val_...'); give each its own name (a "
                             "function's name is its __name__)")
        names[name] = fn
    return names


def metric_values(loss, y_true, y_pred, metrics):
    """``{name: value}`` of ``metrics`` on outputs ``y_pred`` of a model trained with ``loss``.

    Metrics threshold probabilities: logits (cross-entropy ``from_logits``) go through
    the sigmoid or the softmax first (Keras's "accuracy" thresholds a binary logit itself
    at 0.5, so that a logit of 0.3, a probability of 0.57, counts as class 0 there and
    as class 1 here), and for the metrics of classes (the accuracies, precision, recall,
    the F-scores, the confusion counts, binary IoU) hinge scores and +-1 labels become 0/1 labels.
    ``accuracy`` of a single output is ``binary_accuracy`` at 0.5, as Keras resolves it,
    and precision, recall and the F-scores count a single output above 0.5 as class 1, as
    Keras's ``Precision`` does: the
    output of a model trained with MSE can step outside [0, 1], which these functions,
    called on their own, reject as no probability (and that epochs into ``fit``).
    """
    if not np.all(np.isfinite(y_pred)):
        return {name: float("nan") for name in metrics}
    if getattr(loss, "from_logits", False):   # the cross-entropies, focal ones too
        y_pred = activations.softmax(y_pred) if loss.rowwise else activations.sigmoid(y_pred)
    values = {}
    for name, fn in metrics.items():
        t, p = y_true, y_pred
        if isinstance(loss, losses.Hinge | losses.SquaredHinge) and fn in CLASS_METRICS:
            # Only for the class: an error like mae is that of the scores themselves.
            t, p = (t > 0).astype(t.dtype), (p > 0).astype(p.dtype)
        one_output = p.ndim == 1 or p.shape[1] == 1
        if fn is accuracy and one_output:
            fn = binary_accuracy
        elif fn in (precision, recall, f1_score, f_beta_score) and one_output:
            p = (p > 0.5).astype(p.dtype)
        values[name] = float(fn(t, p))
    return values


def scores(loss, metrics, y_true, y_pred, data=None):
    """``{"loss": value, name: value, ...}``: ``loss`` and ``metrics`` of outputs ``y_pred``.

    ``y_true`` has the shape of ``y_pred``, as ``check_data`` returns the targets. Every
    output is checked, not only those of the first samples that ``check_data`` tried, so
    the answer does not depend on the order of the samples. Outputs outside [0, 1] for a
    loss of probabilities are scored as ``fit`` trains on them (``ClippedOutputsWarning``:
    the loss clips them). Outputs outside
    another loss's domain (a negative Poisson rate) are a ValueError that names ``data``
    (``evaluate``'s "X"); with ``data=None`` (the validation data, epochs into ``fit``)
    the loss is NaN there, as Keras's is. Outputs that overflowed give an infinite or NaN
    loss and NaN metrics, without a RuntimeWarning: the numbers say it.
    """
    with np.errstate(all="ignore"):
        if not all_finite(y_pred):
            value = float(loss.forward(y_pred, y_true))
        else:
            try:
                value = float(loss(y_pred, y_true))
            except PredictionRangeError:   # fit warned of them, and its loss clips them
                value = float(loss.forward(y_pred, y_true))
            except PredictionDomainError as exc:
                if data is not None:
                    raise ValueError(f"the model's outputs on {data} do not suit the loss "
                                     f"{loss!r}: {exc}") from exc
                value = float("nan")
        return {"loss": value, **metric_values(loss, y_true, y_pred, metrics)}
