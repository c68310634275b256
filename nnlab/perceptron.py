r"""Rosenblatt's perceptron (1958): a threshold unit that learns from its mistakes.

The unit computes a weighted sum of its inputs plus a bias and fires when the
sum exceeds a threshold:

.. math:: \hat y = 1 \text{ if } w_0 + \sum_i w_i x_i > \text{threshold, else } 0.

Rosenblatt's learning rule nudges the weights after every mistake:

.. math:: w_i \leftarrow w_i + \eta\,(y - \hat y)\,x_i, \qquad
          w_0 \leftarrow w_0 + \eta\,(y - \hat y).

If the two classes can be separated by a straight line (hyperplane), the rule
stops making mistakes after finitely many updates; if not (XOR), it never does.
"""

import numpy as np

from nnlab._checks import all_finite, as_float_array, as_rng, check_bool, check_number
from nnlab._spellings import check_spellings
from nnlab.initializers import MAX_WEIGHTS


class Perceptron:
    """A single threshold unit trained with Rosenblatt's rule.

    Parameters
    ----------
    n_inputs : int
        Number of inputs.
    lr : float
        Learning rate :math:`\\eta` (> 0).
    threshold : float
        The unit fires when ``w . x + b > threshold``.

    Attributes
    ----------
    weights : ndarray of shape (n_inputs,)
    bias : float
    labels_ : tuple
        What ``predict`` answers when the unit is silent and when it fires: ``(0, 1)``,
        or ``(-1, 1)`` after ``fit`` on labels -1 and +1.
    errors_ : list of int
        Mistakes made in each epoch of the last ``fit``.
    converged_ : bool
        Whether the last ``fit`` reached an epoch without mistakes. When it is
        False after many epochs, the classes are probably not linearly separable.

    Examples
    --------
    >>> X, y = nl.datasets.logic_gate("and")
    >>> p = nl.Perceptron(2).fit(X, y, epochs=10)
    >>> p.predict(X), p.converged_
    (array([0, 0, 0, 1]), True)
    """

    def __new__(cls, *args, **kwargs):
        check_spellings(cls, args, kwargs)   # Keras's learning_rate=: a hint
        return super().__new__(cls)

    def __init__(self, n_inputs, lr=1.0, threshold=0.0):
        self.n_inputs = check_number(n_inputs, "n_inputs", low=1, high=MAX_WEIGHTS,
                                     integer=True)
        self.lr = check_number(lr, "lr", low=0, low_open=True)
        self.threshold = check_number(threshold, "threshold")
        self.weights = np.zeros(n_inputs)
        self.bias = 0.0
        self.labels_ = (0, 1)
        self.errors_ = []
        self.converged_ = False

    @classmethod
    def from_weights(cls, weights, bias=0.0, threshold=0.0):
        """A perceptron with the given weights and bias, e.g. for a worked example.

        Parameters
        ----------
        weights : array_like, shape (n_inputs,)
            One weight per input (copied).
        bias : float
            The bias :math:`w_0`.
        threshold : float
            The unit fires when ``w . x + b > threshold``, as in the constructor. The
            learning rate is the constructor's default, 1.

        Examples
        --------
        >>> nl.Perceptron.from_weights([2, 3, 4]).predict([[0, 1, 1]])
        array([1])
        """
        weights = as_float_array(weights, "weights", ndim=1)
        if len(weights) == 0:
            raise ValueError("Perceptron.from_weights: weights must hold one weight per "
                             "input, at least one; got none")
        unit = cls(len(weights), threshold=threshold)
        unit.weights = weights.copy()
        unit.bias = float(check_number(bias, "bias"))
        return unit

    def _check_X(self, X):
        X = as_float_array(X, "X", ndim=(1, 2))
        given = X.shape
        X = X.reshape(1, -1) if X.ndim == 1 else X
        if X.shape[1] != self.n_inputs:
            hint = " (a 1-D X is one sample)" if len(given) == 1 else ""
            raise ValueError(f"Perceptron(n_inputs={self.n_inputs}) expected X of shape "
                             f"(n_samples, {self.n_inputs}); got {given}{hint}")
        return X

    def net_input(self, X):
        """The weighted sums ``X @ w + b``, one per row of X; refused if one overflows (inf,
        or NaN from inf - inf, would give a firing decided by rounding, not by the sum)."""
        X = self._check_X(X)
        with np.errstate(over="ignore", invalid="ignore"):
            z = X @ self.weights + self.bias
        if not all_finite(z):
            raise ValueError(f"Perceptron: the weighted sums X @ w + b overflow {z.dtype} "
                             f"(inputs up to {np.abs(X).max():.3g}, weights up to "
                             f"{np.abs(self.weights).max():.3g}); scale X or the weights down")
        return z

    def predict(self, X):
        """The unit's outputs, one per row of X: 1 where it fires, else 0 (or -1, see
        ``labels_``)."""
        return np.where(self.net_input(X) > self.threshold, *self.labels_[::-1])

    def fit(self, X, y, epochs=10, shuffle=False, seed=None):
        """Train with Rosenblatt's rule; stop early after an epoch without mistakes.

        Training starts from the unit's current weights and bias: zeros for a new
        ``Perceptron``, those given to ``from_weights``, or those a previous ``fit`` left
        (training goes on, as ``Sequential.fit``'s does). For a fresh start, make a new
        unit. The weights take the dtype of X (float32 stays float32).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_inputs)
        y : array_like of shape (n_samples,) with values 0 and 1, or -1 and +1
            Many texts write the rule for labels -1 and +1 as :math:`w \\leftarrow w +
            \\eta\\, y\\, x` on a mistake, the same update as here; ``predict`` then
            answers -1 or +1. Those texts also count a net input of exactly 0 as a mistake
            (:math:`y\\, (w \\cdot x + b) \\le 0`), where this unit, firing only above
            its threshold, answers -1, so the two can differ when a net input is exactly
            0 (as for the first sample, from zero weights).
        epochs : int
            Maximum number of passes over the data.
        shuffle : bool
            Visit the samples in a new random order each epoch.
        seed : int or numpy.random.Generator, optional
            Randomness of the shuffling.

        Returns
        -------
        self
        """
        one_sample = np.ndim(X) == 1
        X = self._check_X(X)
        y = as_float_array(y, "y", ndim=1)
        if len(X) == 0:
            raise ValueError(f"X has no samples (shape {X.shape}): there is nothing to learn")
        if len(y) != len(X):
            hint = " (a 1-D X is one sample; give X the shape (n_samples, n_inputs))" \
                if one_sample else ""
            raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels{hint}")
        if np.all((y == 0) | (y == 1)):
            labels = (0, 1)
        elif np.all((y == -1) | (y == 1)):
            labels, y = (-1, 1), (y == 1).astype(y.dtype)   # the same rule, on 0 and 1
        else:
            raise ValueError("perceptron labels must be 0 and 1, or -1 and +1; got values "
                             f"{np.unique(y)}")
        check_number(epochs, "epochs", low=1, integer=True)
        check_bool(shuffle, "shuffle")
        rng = as_rng(seed, "seed")
        weights = as_float_array(self.weights, "the perceptron's weights", dtype=X.dtype)
        # Each mistake moves a weight by at most lr * max|x|. If even the sum of every
        # possible move, or the net input it could give, is beyond X's dtype, the weights
        # or the net input could overflow to inf.
        top = float(np.abs(X).max())
        with np.errstate(over="ignore"):
            reach = self.lr * top * len(X) * epochs
            net = top * self.n_inputs * (reach + float(np.abs(weights).max()))
        if not net <= float(np.finfo(X.dtype).max):
            raise ValueError(f"inputs up to {top:.3g} with lr={self.lr} could overflow the "
                             "weights or the net input; scale X down (divide it by a power "
                             "of ten)")
        self.labels_, self.errors_, self.converged_ = labels, [], False
        self.weights = weights
        for _ in range(epochs):
            order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
            mistakes = 0
            # The rule is online by definition: each update changes the weights the
            # next sample sees, so this one loop over samples is the algorithm itself.
            for i in order:
                error = float(y[i] - (X[i] @ self.weights + self.bias > self.threshold))
                if error:
                    self.weights += self.lr * error * X[i]
                    self.bias += self.lr * error
                    mistakes += 1
            self.errors_.append(mistakes)
            if mistakes == 0:
                self.converged_ = True
                break
        return self

    def __repr__(self):
        # In float64 (float32 weights print as 0.30000001192092896), rounded by Python (which
        # does not overflow at 1e308 as numpy's round does), and + 0 turns the -0.0 that
        # rounding leaves of, say, -1e-17 into 0.0.
        return (f"Perceptron(n_inputs={self.n_inputs}, lr={self.lr}, "
                f"weights={[round(w, 4) + 0 for w in self.weights.tolist()]}, "
                f"bias={round(self.bias, 4) + 0})")
