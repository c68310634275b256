r"""Batch normalization (Ioffe & Szegedy, 2015).

In training, each feature (each channel, for images and sequences) is
standardized with the mean and variance of the current batch, then rescaled
and shifted by learned parameters:

.. math::
    \hat x = \frac{x - \mu_B}{\sqrt{\sigma_B^2 + \epsilon}}, \qquad
    y = \gamma \hat x + \beta .

The layer also keeps running averages of :math:`\mu_B` and :math:`\sigma_B^2`,
and uses those at evaluation, when a batch may be a single sample.
"""

import numpy as np

from nnlab._checks import all_finite, check_number, float_dtype
from nnlab.layer_base import Layer, in_training_step


class BatchNorm(Layer):
    """Batch normalization: per feature (N, F) or channel (N, C, ...).

    Params ``gamma`` (ones) and ``beta`` (zeros), shape (F,); buffers
    ``running_mean`` (zeros) and ``running_var`` (ones), shape (F,).
    Shapes: x (N, F), (N, F, L) or (N, F, H, W) -> y of the same shape; the
    statistics of feature f are taken over every axis but axis 1. Training needs two
    or more values per feature, as in PyTorch: a batch of one sample (N, F) would
    normalize every value to 0 (y = beta, and no gradient reaches x).

    Parameters
    ----------
    n_features : int
        F, or the number of channels C.
    momentum : float in [0, 1)
        Running statistics are updated as Keras does:
        ``running = momentum * running + (1 - momentum) * batch``
        (PyTorch's ``momentum`` is ``1 - momentum`` here). The running variance
        averages the biased batch variance, the one used for normalizing, as
        Keras does (PyTorch averages the unbiased one, m/(m-1) times larger for
        m values per feature; the difference fades for large batches).
    eps : float > 0
        Added to the variance before the square root.
    dtype : str or numpy dtype
        Dtype in which the parameters and buffers are stored.

    Examples
    --------
    >>> bn = nl.BatchNorm(2)
    >>> y = bn.forward(np.array([[1.0, 10.0], [3.0, 30.0]]), training=True)
    >>> np.round(y, 3)
    array([[-1., -1.],
           [ 1.,  1.]])
    """

    def __init__(self, n_features, momentum=0.9, eps=1e-5, dtype="float64"):
        super().__init__()
        self.n_features = int(check_number(n_features, "BatchNorm n_features", low=1,
                                           integer=True))
        self.momentum = float(check_number(momentum, "BatchNorm momentum", low=0, high=1,
                                           high_open=True))
        self.eps = float(check_number(eps, "BatchNorm eps", low=0, low_open=True))
        self.dtype = float_dtype(dtype, "BatchNorm dtype")
        f = self.n_features
        self.params = {"gamma": np.ones(f, self.dtype), "beta": np.zeros(f, self.dtype)}
        self.buffers = {"running_mean": np.zeros(f, self.dtype),
                        "running_var": np.ones(f, self.dtype)}

    def _feature_axes(self, x):
        """Axes to average over, and the shape that broadcasts a per-feature vector."""
        axes = (0, *range(2, x.ndim))
        return axes, (1, -1, *(1,) * (x.ndim - 2))

    def _training_fault(self, shape):
        if np.prod(shape) <= self.n_features:   # one value per feature: no variance
            return (f"{self!r} in training needs 2 or more values per feature to take their "
                    f"mean and variance; got input of shape {shape}")
        return None

    def forward(self, x, training=False):
        """y of x's shape: by the batch's statistics in training (updating the running
        ones), by the running statistics otherwise."""
        # Checked before _check_batch records the shape: a forward that fails leaves
        # what the last one cached.
        x = self._as_input(x, training)
        if x.ndim < 2 or x.shape[1] != self.n_features:
            raise ValueError(f"{self!r} expected input of shape (batch, {self.n_features}, ...)"
                             f"; got shape {x.shape}")
        fault = training and self._training_fault(x.shape)
        if fault:
            raise ValueError(fault)
        axes, per_feature = self._feature_axes(x)
        if training:   # refused, if it must be, before the layer changes
            mean, var, deviation = self._batch_statistics(x, axes, per_feature)
        x = self._check_batch(x)
        if training:
            momentum = self.momentum   # (m is the count of values per feature, below)
            for name, batch in (("running_mean", mean), ("running_var", var)):
                running = self.buffers[name]   # running = momentum running + (1 - momentum) batch
                running *= momentum
                running += (1 - momentum) * batch.astype(running.dtype)
        else:
            var = self.buffers["running_var"]
            deviation = x - self.buffers["running_mean"].astype(x.dtype).reshape(per_feature)
        self.training = training
        self.inv_std = (1.0 / np.sqrt(var + self.eps)).reshape(per_feature).astype(x.dtype)
        deviation *= self.inv_std   # in place: x_hat takes no memory of its own
        self.x_hat = deviation
        return self._param("gamma", x).reshape(per_feature) * self.x_hat + \
            self._param("beta", x).reshape(per_feature)

    def _batch_statistics(self, x, axes, per_feature):
        """The batch's mean and variance per feature (in float64), and x minus the mean."""
        # Textbook form, equal to what follows up to rounding:
        #   mean, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
        #   x_hat = (x - mean) / np.sqrt(var + eps)
        # Summed in float64: float32 sums over a large batch, taken row after row,
        # drift by enough to move the normalized output by a standard deviation. And
        # centered twice: subtracted in x's dtype, the mean is rounded first (to 1e-3
        # near 1e4 in float32); the mean of what is left takes that rounding out.
        mean = x.mean(axis=axes, dtype=np.float64).astype(x.dtype)
        deviation = x - mean.reshape(per_feature)
        rest = deviation.mean(axis=axes, dtype=np.float64)   # what the rounding left
        deviation -= rest.astype(x.dtype).reshape(per_feature)
        mean = mean + rest   # in float64: the batch's mean
        # Float32 squares beyond 3.4e38 are redone in float64; beyond float64's range,
        # inf: refused below, or stopped as a diverged run in fit.
        with np.errstate(over="ignore"):
            var = np.square(deviation).mean(axis=axes, dtype=np.float64)
            if not all_finite(var):
                var = np.square(deviation, dtype=np.float64).mean(axis=axes)
        # A running variance of inf would make every later output beta, in silence. In a
        # model's training step, the model finds it and stops the run as diverged (one
        # that diverges overflows somewhere), leaving the statistics as they were.
        dtype = self.buffers["running_var"].dtype
        largest = np.finfo(dtype).max
        if not in_training_step() and not np.all(var <= largest):
            hint = " (or a BatchNorm of dtype float64)" if dtype != np.float64 else ""
            raise ValueError(f"{self!r}: a batch's variance, {np.max(var):.3g}, is beyond its "
                             f"{dtype} running variance's range (at most {largest:.3g}); "
                             f"scale the inputs down, e.g. standardize them{hint}")
        return mean, var, deviation

    def backward(self, dy):
        """dL/dy (N, F, ...) -> dL/dx, same shape; grads gamma, beta (F,)."""
        dy = self._check_grad(dy)
        axes, per_feature = self._feature_axes(dy)
        self._store_grad("gamma", np.sum(dy * self.x_hat, axis=axes))
        self._store_grad("beta", np.sum(dy, axis=axes))
        dx_hat = dy * self._param("gamma", dy).reshape(per_feature)
        if not self.training:
            return dx_hat * self.inv_std
        # The batch mean and variance depend on every x too; differentiating
        # through them gives the compact form of chapter 12, with
        # std = sqrt(var + eps) and sums over the m values of one feature:
        #   dx = (1 / (m std)) (m dx_hat - sum(dx_hat) - x_hat sum(dx_hat * x_hat))
        m = dy.size / self.n_features
        sum_dx_hat = np.sum(dx_hat, axis=axes, keepdims=True)
        sum_dx_hat_x_hat = np.sum(dx_hat * self.x_hat, axis=axes, keepdims=True)
        return self.inv_std / m * (
            m * dx_hat - sum_dx_hat - self.x_hat * sum_dx_hat_x_hat)

    def output_shape(self, input_shape):
        if len(input_shape) < 1 or input_shape[0] != self.n_features:
            raise ValueError(f"{self!r} expected samples of shape ({self.n_features}, ...); "
                             f"got {tuple(input_shape)}")
        return tuple(input_shape)

    @classmethod
    def array_shapes(cls, config):
        keys = ("params.gamma", "params.beta", "buffers.running_mean", "buffers.running_var")
        return dict.fromkeys(keys, (config.get("n_features"),))

    def get_config(self):
        return {"n_features": self.n_features, "momentum": self.momentum, "eps": self.eps,
                "dtype": self.dtype.name}
