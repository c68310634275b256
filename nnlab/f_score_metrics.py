r"""The F-beta score: precision and recall in one number, recall weighted beta times.

The F1 score of ``nnlab.metrics`` is the harmonic mean of precision and recall, each
counting the same. Where a miss costs more than a false alarm (a screening test, which
sends the flagged on to a closer look) or less (a spam filter), the F-beta score weights
recall :math:`\beta` times as much as precision: van Rijsbergen's effectiveness measure
(1979), for a user who attaches :math:`\beta` times as much importance to recall.

``nnlab.metrics.get("f_beta_score")`` gives this module's ``f_beta_score``, for Keras's
``"f_beta_score"`` (its ``FBetaScore``).
"""

from nnlab._checks import check_number

__all__ = ["f_beta_score"]


def f_beta_score(y_true, y_pred, beta=1.0, positive=1, average="binary", zero_division=0):
    r"""The weighted harmonic mean of precision P and recall R, recall weighted ``beta`` times.

    .. math::

        F_\beta = \frac{(1 + \beta^2)\, P R}{\beta^2 P + R}
                = \frac{(1 + \beta^2)\, TP}{(1 + \beta^2)\, TP + \beta^2 FN + FP}

    :math:`\beta = 1` is the F1 score (``nnlab.metrics.f1_score``, the same number),
    :math:`\beta = 2` counts a miss (FN) four times as much as a false alarm (FP),
    :math:`\beta = 1/2` a quarter as much; as :math:`\beta \to 0` it tends to the
    precision, as :math:`\beta \to \infty` to the recall. Undefined only when
    TP + FP + FN = 0 (the class neither occurs nor is predicted), where it scores
    ``zero_division``.

    Parameters
    ----------
    y_true, y_pred : array_like
        As in :func:`nnlab.metrics.accuracy`: one probability per sample is class 1 above
        0.5; scores ``(N, K)``, one class per sample, their argmax.
    beta : float, default 1.0
        The weight of recall (Keras's default, 1: the F1 score), from :math:`10^{-150}` to
        :math:`10^{150}`, so that :math:`\beta^2` is a float64 number, neither 0 nor inf
        (``beta=1e200`` is refused with a ValueError). Far inside these bounds the score
        is already the precision (small ``beta``) or the recall (large ``beta``) but for
        the last digits: ``nnlab.metrics.precision`` and ``recall`` give them.
    positive, average, zero_division
        As in :func:`nnlab.metrics.precision`: ``average="binary"`` scores the class
        ``positive`` of two; ``"macro"``, ``"weighted"`` and ``"micro"`` average over
        the classes.

    Returns
    -------
    float
        In [0, 1]; ``sklearn.metrics.fbeta_score`` with the same settings
        (``pos_label=positive``) gives the same number.

    Notes
    -----
    This is nnlab's ``f1_score`` with a ``beta``, and it differs from Keras's
    ``FBetaScore()`` as ``f1_score`` does from ``F1Score()``:

    - Keras's default, ``average=None``, returns one score per class, an array, where a
      ``History`` logs numbers. ``compile(metrics=["f_beta_score"])`` logs this function's
      default instead, the binary :math:`F_1` of class 1.
    - On one probability per sample that is Keras's ``FBetaScore(threshold=0.5)``. Keras's
      own default, ``threshold=None``, takes the largest score of each row as its class,
      and with one column it flags every sample.
    - On scores ``(N, K)``, Keras's ``average="micro"`` and ``"weighted"`` are these. Its
      ``"macro"`` also averages a 0 in for a class in neither input, which this leaves out.
    - Keras adds :math:`10^{-7}` to each denominator, and so differs from the exact ratio
      by about that much.

    Another ``beta`` or average in ``compile`` takes a function of one's own, e.g.
    ``def f2(y_true, y_pred): return f_beta_score(y_true, y_pred, beta=2.0)``.

    Examples
    --------
    >>> from nnlab.f_score_metrics import f_beta_score
    >>> y, p = [1, 1, 1, 0], [1, 0, 0, 0]          # P = 1, R = 1/3
    >>> f_beta_score(y, p), f_beta_score(y, p, beta=2.0), round(f_beta_score(y, p, beta=0.5), 4)
    (0.5, 0.38461538461538464, 0.7143)
    """
    # nnlab.metrics imports this module (through nnlab.keras_metrics, for its names): its
    # counting helpers are imported when the function runs, once both modules exist.
    from nnlab.metrics import _ratio, _tallies

    beta = float(check_number(beta, "f_beta_score: beta", low=0, low_open=True))
    if not 1e-150 <= beta <= 1e150:
        # beta**2 would overflow to inf (an OverflowError in Python) or underflow to 0, where
        # a class with TP = FP = 0 < FN would score zero_division in place of 0.
        raise ValueError(f"f_beta_score: beta must be in [1e-150, 1e150], where beta**2 is "
                         f"a float64 number; got {beta!r}. Beyond, the score is the "
                         "precision (small beta) or the recall (large beta): use "
                         "nnlab.metrics.precision or recall")
    b2 = beta**2
    tp, n_pred, n_true, weights = _tallies(y_true, y_pred, positive, average, zero_division,
                                           "f_beta_score")
    # (1 + b^2) TP + b^2 FN + FP = b^2 (TP + FN) + (TP + FP): the true and predicted counts.
    # _ratio divides by max(denominator, 1): np.where computes both of its branches, and
    # so makes no 0/0 warning where it scores zero_division. The counts' max is harmless
    # here too: a denominator in (0, 1) has n_pred = 0, so TP = 0 and the ratio is 0.
    return _ratio((1 + b2) * tp, b2 * n_true + n_pred, weights, zero_division)
