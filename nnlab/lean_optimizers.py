r"""Optimizers that keep less state than Adam: Lion, Adafactor and Muon.

Adam keeps two arrays per weight array, a momentum and an average of squared gradients:
twice the memory of the model itself. Lion keeps the momentum alone, and steps by its sign.
Adafactor keeps no momentum, and of a matrix's squared gradients only the averages of its
rows and of its columns, :math:`n + m` numbers for :math:`n m` weights. Muon keeps the
momentum alone too, and steps by (nearly) the orthogonal matrix nearest to it. All three are
re-exported by ``nnlab.optimizers``, whose ``get`` finds them as ``"lion"``,
``"adafactor"`` and ``"muon"``; what every optimizer shares is in ``nnlab.optimizer_base``.
"""

import math

import numpy as np

from nnlab._checks import check_bool, check_number
from nnlab.adam import AdamW
from nnlab.optimizer_base import Optimizer, _norm

__all__ = ["Adafactor", "Lion", "Muon"]


class Lion(Optimizer):
    r"""Lion (Chen et al., 2023): a step of the same size in every coordinate, by its sign.

    .. math::
        \theta &\leftarrow \theta - \eta \lambda \theta \\
        c &= \beta_1 m + (1 - \beta_1) g, \qquad
        \theta \leftarrow \theta - \eta\, \operatorname{sign}(c) \\
        m &\leftarrow \beta_2 m + (1 - \beta_2) g

    The step mixes the gradient into the momentum with :math:`\beta_1`, but the momentum
    itself remembers with the slower :math:`\beta_2`. The sign throws away every size:
    each coordinate moves by :math:`\eta` (or not at all, where :math:`c = 0`), so Lion wants
    a rate 3-10 times smaller than Adam's (and a weight decay as many times larger, for the
    same :math:`\eta \lambda`). The weight decay is decoupled, as in the paper and in AdamW:
    added to the gradient, :math:`\lambda \theta` would pass through the sign and lose its
    size. This follows Keras 3's ``Lion`` and
    its defaults (PyTorch has none): :math:`\eta = 10^{-3}`, :math:`\beta_1 = 0.9`,
    :math:`\beta_2 = 0.99`; ``beta1`` in (0, 1], as Keras checks.

    Examples
    --------
    >>> p = np.array([1.0, 1.0, 1.0])   # each moves by lr times the sign of its gradient
    >>> nl.optimizers.Lion(lr=0.1).step([p], [np.array([1234.0, -0.001, 0.0])]); p
    array([0.9, 1.1, 1. ])
    """

    decoupled_weight_decay = True

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.99, weight_decay=0.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta1 = self._hyper(beta1, "beta1", low=0, high=1, low_open=True)
        self.beta2 = self._hyper(beta2, "beta2", low=0, high=1, high_open=True)

    def _new_state(self, p):
        return {"momentum": np.zeros_like(p)}

    def _update(self, p, g, state, lr):
        m, step = state["momentum"], state["scratch"]
        if self.weight_decay:
            p *= 1 - lr * self.weight_decay      # theta -= lr lambda theta
        # c = beta1 m + (1 - beta1) g has the sign of c over the larger of its two weights:
        # one scaled copy and one sum (no temporary), neither factor above 1, and beta1 = 1
        # gives m exactly (g + beta1 (m - g) would lose an m far smaller than g).
        if self.beta1 >= 0.5:
            np.multiply(g, (1 - self.beta1) / self.beta1, out=step)
            step += m
        else:
            np.multiply(m, self.beta1 / (1 - self.beta1), out=step)
            step += g
        np.sign(step, out=step)                  # theta -= lr sign(c)
        step *= lr
        p -= step
        m *= self.beta2                          # m = beta2 m + (1 - beta2) g
        np.multiply(g, 1 - self.beta2, out=step)
        m += step


class Adafactor(Optimizer):
    r"""Adafactor (Shazeer and Stern, 2018): RMSprop whose averages of a matrix are factored.

    .. math::
        \hat\beta_{2,t} &= 1 - t^{\tau}, \qquad
        \rho_t = \min(\eta, 1 / \sqrt t), \qquad
        \alpha_t = \max(\epsilon_2, \operatorname{RMS}(\theta))\, \rho_t \\
        \theta &\leftarrow \theta - \eta \lambda \theta \\
        R &\leftarrow \hat\beta_{2,t} R + (1 - \hat\beta_{2,t})\,
            \operatorname{mean}_{\text{columns}}(g^2), \qquad
        C \leftarrow \hat\beta_{2,t} C + (1 - \hat\beta_{2,t})\,
            \operatorname{mean}_{\text{rows}}(g^2) \\
        \hat V &= R\, C / \max(\operatorname{mean}(R), \epsilon_1), \qquad
        U = g / \max(\sqrt{\hat V}, \epsilon_1) \\
        \theta &\leftarrow \theta - \alpha_t\, U / \max(1, \operatorname{RMS}(U) / d)

    For a weight array of two or more dimensions, :math:`R` (a column: a mean per row) and
    :math:`C` (a row: a mean per column) of its last two axes stand for the average of
    :math:`g^2`: :math:`R\,C / \operatorname{mean}(R)` is the matrix of rank one nearest
    to it (in the paper's I-divergence). A vector, or a scalar, keeps the whole average
    :math:`\hat V` of :math:`g^2`, as RMSprop does. There is no momentum, and hardly a
    learning rate: the step is a fraction :math:`\rho_t` of the weights' own size (their
    root mean square, at least :math:`\epsilon_2`), a fraction :math:`1/\sqrt t` that
    :math:`\eta` only caps (and :math:`\eta` scales the weight decay).
    :math:`\hat\beta_{2,t}` rises towards 1 (0, 0.43, 0.58 ... for :math:`\tau = -0.8`), so
    that early averages forget fast. Dividing by the RMS of :math:`U` over :math:`d` keeps
    a step no larger than :math:`d\,\alpha_t` in root mean square, when a gradient
    suddenly outgrows its average.

    The update and the defaults are PyTorch's ``Adafactor``: :math:`\eta = 10^{-2}`,
    :math:`\tau = -0.8` (``beta2_decay``), :math:`\epsilon_1` (``eps1``) the machine
    epsilon of the weights' dtype when None, :math:`\epsilon_2 = 10^{-3}` (PyTorch's pair
    ``eps``), :math:`d = 1`, and weight decay decoupled, scaled by :math:`\eta`. Keras's
    ``Adafactor`` has other defaults (a rate of 0.001, and :math:`\epsilon_1 = 10^{-30}`
    added to the squares).

    :math:`R`, :math:`C` and :math:`\hat V` average squared gradients: in float32, a
    gradient above about :math:`1.8 \cdot 10^{19}` squares to infinity, and a matrix's
    weights become NaN (:math:`R` over its mean is inf over inf), as in PyTorch; a vector's
    weight stops moving instead (its step is :math:`g / \infty = 0`). Train on gradients
    that size in float64, or clip them.

    Examples
    --------
    >>> p = np.array([[1.0, -2.0], [3.0, 0.5]])   # RMS(p) = 1.8875, rho_1 = 0.01: each
    >>> nl.optimizers.Adafactor().step([p], [np.ones((2, 2))]); p  # weight moves by 0.018875
    array([[ 0.98112541, -2.01887459],
           [ 2.98112541,  0.48112541]])
    """

    squares = ("row_var", "col_var", "variance")
    decoupled_weight_decay = True

    def __init__(self, lr=1e-2, beta2_decay=-0.8, eps1=None, eps2=1e-3, d=1.0,
                 weight_decay=0.0, clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.beta2_decay = self._hyper(beta2_decay, "beta2_decay", high=0)
        # eps1 = 0, which PyTorch takes, makes a row of zero gradients 0 / 0 = NaN.
        self.eps1 = None if eps1 is None else self._hyper(eps1, "eps1", low=0,
                                                                 low_open=True)
        self.eps2 = self._hyper(eps2, "eps2", low=0)
        self.d = self._hyper(d, "d", low=1)

    def _new_state(self, p):
        if p.ndim < 2:
            return {"variance": np.zeros_like(p)}
        row, col = (*p.shape[:-1], 1), (*p.shape[:-2], 1, p.shape[-1])
        return {"row_var": np.zeros(row, p.dtype), "col_var": np.zeros(col, p.dtype),
                "scratch_row": np.empty(row, p.dtype), "scratch_col": np.empty(col, p.dtype),
                "scratch_mean": np.empty((*p.shape[:-2], 1, 1), p.dtype)}

    def _update(self, p, g, state, lr):
        if not p.size:   # an empty array: no step (its RMS would divide by its size, 0)
            return
        t = self.iterations
        one_minus_beta2 = t**self.beta2_decay            # 1 - beta2_t
        alpha = max(self.eps2, _rms(p)) * min(lr, t**-0.5)
        eps1 = float(np.finfo(p.dtype).eps) if self.eps1 is None else self.eps1
        if self.weight_decay:                            # (alpha is that of theta before)
            p *= 1 - lr * self.weight_decay              # theta -= lr lambda theta
        v = state["scratch"]
        np.square(g, out=v)
        if p.ndim < 2:
            _average(state["variance"], v, one_minus_beta2)         # V = beta2 V + (1 - beta2) g^2
            v[...] = state["variance"]
        else:
            row, col, mean = state["scratch_row"], state["scratch_col"], state["scratch_mean"]
            np.sum(v, axis=-1, keepdims=True, out=row)   # R = beta2 R + (1 - beta2) mean g^2
            row /= p.shape[-1]                           # (over each row)
            _average(state["row_var"], row, one_minus_beta2)
            np.sum(v, axis=-2, keepdims=True, out=col)   # C likewise, over each column
            col /= p.shape[-2]
            _average(state["col_var"], col, one_minus_beta2)
            np.sum(state["row_var"], axis=-2, keepdims=True, out=mean)
            mean /= p.shape[-2]                          # V = R C / max(mean R, eps1)
            np.maximum(mean, eps1, out=mean)
            np.divide(state["row_var"], mean, out=row)
            np.multiply(row, state["col_var"], out=v)    # an outer product, by broadcasting
        np.sqrt(v, out=v)                                # U = g / max(sqrt(V), eps1)
        np.maximum(v, eps1, out=v)   # (PyTorch floors V at eps1^2: 0 for eps1 < 1e-23 in float32)
        np.divide(g, v, out=v)
        v *= alpha / max(1.0, _rms(v) / self.d)          # theta -= alpha U / max(1, RMS(U) / d)
        p -= v


class Muon(Optimizer):
    r"""Muon (Jordan et al., 2024): momentum whose step is made orthogonal, for weight matrices.

    For a weight matrix, with momentum :math:`\mu` and the matrix :math:`M` of shape
    :math:`A \times B` that PyTorch would hold (see below):

    .. math::
        m &\leftarrow \mu m + (1 - \mu)\, g, \qquad
        U = \begin{cases} \mu m + (1 - \mu)\, g & \text{Nesterov} \\
                          m & \text{otherwise} \end{cases} \\
        X_0 &= U / \max(\lVert U \rVert_F, \epsilon), \qquad
        X_{k+1} = a X_k + \big(b\, X_k X_k^\top + c\, (X_k X_k^\top)^2\big) X_k
        \quad (k < K) \\
        \theta &\leftarrow \theta - \eta \lambda \theta, \qquad
        \theta \leftarrow \theta - \eta\, s(A, B)\, X_K

    Divided by its norm, :math:`U` has singular values at most 1; each step of the quintic
    (:math:`a = 3.4445`, :math:`b = -4.7750`, :math:`c = 2.0315`) maps every singular
    value :math:`\sigma` to :math:`a\sigma + b\sigma^3 + c\sigma^5` and leaves the singular
    vectors as they are.
    Five steps lift the small ones to between about 0.5 and 1.2 (and 1 to 0.7):
    :math:`X_K \approx P Q^\top` for the singular value decomposition
    :math:`U = P \Sigma Q^\top`, the orthogonal matrix nearest to :math:`U`. Every
    direction of the momentum moves the weights by about as much, down to directions about
    a thousandth of its norm (the Frobenius norm it is divided by, which only a single
    dominant direction makes the strongest's; weaker ones still grow about 480-fold):
    the rare directions that a few large ones would drown in SGD's step move as fast. The iteration
    runs on the wide orientation (:math:`X` transposed when it has more rows than columns),
    where :math:`X X^\top` is the smaller Gram matrix; the result is the same. The rate is
    scaled by :math:`s = \sqrt{\max(1, A / B)}` (``adjust_lr_fn=None`` or ``"original"``,
    Keller Jordan's) or :math:`s = 0.2 \sqrt{\max(A, B)}` (``"match_rms_adamw"``, Moonshot's:
    a step of AdamW's root mean square, so that AdamW's rate and decay carry over, as Keras's
    default ``rms_rate=0.2`` does).

    Matrices follow ``torch.optim.Muon`` of PyTorch 2.13 exactly, its defaults too:
    :math:`\eta = 10^{-3}`, :math:`\lambda = 0.1` (decoupled, not scaled by :math:`s`),
    :math:`\mu = 0.95`, Nesterov, :math:`K = 5`, :math:`\epsilon = 10^{-7}`. Its momentum is
    an average, as its code computes it (``lerp``); its documentation writes
    :math:`m \leftarrow \mu m + g`, :math:`1 / (1 - \mu)` times as large, the same step once
    divided by the norm. PyTorch casts :math:`U` to bfloat16 for the iteration, on a CPU as
    on a GPU (8 significant bits, 2 to 3 digits: its result strays from the exact
    iteration's by 1 to 2 %, single entries by several); here it runs in the weights' own
    dtype, as Keras's does: float32 stays float32.

    Which arrays are matrices. PyTorch's Muon refuses any other array, and its documentation
    leaves biases to AdamW; but a model compiled with ``"muon"`` hands this one optimizer all
    its parameters. So:

    - a Dense weight (``n_in``, ``n_out``) is the transpose of PyTorch's ``Linear`` weight
      (``out``, ``in``): it is updated as that transposed matrix would be,
      :math:`A` = ``n_out``, :math:`B` = ``n_in``;
    - a convolution kernel (``out``, ``in``, ``kh``, ``kw``) (or ``Conv1D``'s (``out``,
      ``in``, ``k``)) is the matrix (``out``, ``in * kh * kw``) that the layer multiplies its
      im2col columns by, and is updated as that matrix, flattened as the Muon authors do for
      their convolutions (Keras gives it to AdamW instead);
    - every other array (biases, batch norm's scales and shifts) takes ``nnlab.adam.AdamW``'s
      step, as in Keras's Muon, with Keras's settings for it: ``adam_beta1=0.9``,
      ``adam_beta2=0.999``, ``adam_eps=1e-7`` (added as PyTorch's AdamW adds it, to
      :math:`\sqrt{\hat v}`), ``adam_weight_decay=0.004``, and a rate of ``adam_lr_ratio``
      (1) times :math:`\eta`, which scales the decay too (Keras's decays by :math:`\eta`
      alone).

    Keras also leaves to AdamW, by the weights' paths, embeddings and the layers named in its
    ``exclude_layers`` (typically the last one, whose rows are one per class); an optimizer
    in nnlab sees arrays, not layers, and the last Dense layer is a matrix like the others.

    Examples
    --------
    >>> p = np.zeros((2, 2))   # gradients 100 times apart, steps of the same size
    >>> nl.optimizers.Muon(lr=0.1).step([p], [np.diag([1.0, 0.01])]); p.round(3)
    array([[-0.07,  0.  ],
           [ 0.  , -0.07]])
    """

    squares = ("decayed_sum_sq",)   # AdamW's, for the arrays that are not matrices
    decoupled_weight_decay = True

    def __init__(self, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True,
                 ns_coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, ns_steps=5,
                 adjust_lr_fn=None, adam_beta1=0.9, adam_beta2=0.999, adam_eps=1e-7,
                 adam_weight_decay=0.004, adam_lr_ratio=1.0,
                 clipnorm=None, clipvalue=None, global_clipnorm=None):
        super().__init__(lr, weight_decay, clipnorm, clipvalue, global_clipnorm)
        self.momentum = self._hyper(momentum, "momentum", low=0, high=1,
                                           high_open=True)
        self.nesterov = check_bool(nesterov, "nesterov")
        if not isinstance(ns_coefficients, list | tuple) or len(ns_coefficients) != 3:
            raise ValueError("Muon ns_coefficients must be three numbers (a, b, c); "
                             f"got {ns_coefficients!r}")
        self.ns_coefficients = tuple(self._hyper(v, f"ns_coefficients[{i}]")
                                     for i, v in enumerate(ns_coefficients))
        self.eps = self._hyper(eps, "eps", low=0, low_open=True)
        # PyTorch refuses 100 steps or more, "for computational efficiency".
        self.ns_steps = check_number(ns_steps, "Muon ns_steps", low=0, high=100,
                                     high_open=True, integer=True)
        if adjust_lr_fn not in (None, "original", "match_rms_adamw"):
            raise ValueError("Muon adjust_lr_fn must be None, 'original' or 'match_rms_adamw'; "
                             f"got {adjust_lr_fn!r}")
        self.adjust_lr_fn = adjust_lr_fn
        self.adam_beta1 = self._hyper(adam_beta1, "adam_beta1", low=0, high=1,
                                             high_open=True)
        self.adam_beta2 = self._hyper(adam_beta2, "adam_beta2", low=0, high=1,
                                             high_open=True)
        self.adam_eps = self._hyper(adam_eps, "adam_eps", low=0, low_open=True)
        self.adam_weight_decay = self._hyper(adam_weight_decay, "adam_weight_decay",
                                                    low=0)
        self.adam_lr_ratio = self._hyper(adam_lr_ratio, "adam_lr_ratio", low=0,
                                                low_open=True)
        # The other arrays' steps are AdamW's own code; its settings and rate are passed at
        # each step (so that a changed adam_* attribute acts, as get_config will save it).
        self._adamw = AdamW(1.0, self.adam_beta1, self.adam_beta2, self.adam_eps,
                            self.adam_weight_decay)

    def _new_state(self, p):
        if p.ndim < 2:
            return self._adamw._new_state(p)
        if p.ndim > 2 and not p.flags.c_contiguous:   # (nnlab's kernels always are)
            raise ValueError(f"Muon: a kernel of shape {p.shape} must be C-contiguous, to be "
                             "updated in place as the matrix (out, in * ...) it reshapes to")
        k, n = sorted(_matrix(p).shape)   # the wide orientation, k <= n
        return {"momentum_buffer": np.zeros_like(p),
                "scratch_x": np.empty((k, n), p.dtype), "scratch_y": np.empty((k, n), p.dtype),
                "scratch_gram": np.empty((k, k), p.dtype),
                "scratch_gram2": np.empty((k, k), p.dtype)}

    def _synced_adamw(self):
        """The AdamW of the arrays that are not matrices, with the settings Muon has now."""
        adamw = self._adamw
        adamw.beta1, adamw.beta2, adamw.eps = self.adam_beta1, self.adam_beta2, self.adam_eps
        adamw.weight_decay, adamw.iterations = self.adam_weight_decay, self.iterations
        return adamw

    def settle(self):
        self._synced_adamw()._rescale_sums([s for s in self.state or [] if "decayed_sum" in s])

    def _update(self, p, g, state, lr):
        if p.ndim < 2:   # AdamW's own step
            self._synced_adamw()._update(p, g, state, lr * self.adam_lr_ratio)
            return
        if not p.size:   # an empty matrix: no step, and no ratio A / B to take
            return
        buf, u, x = state["momentum_buffer"], state["scratch"], state["scratch_x"]
        mix = 1 - self.momentum
        np.subtract(g, buf, out=u)                 # m = mu m + (1 - mu) g
        u *= mix                                   #   = m + (1 - mu) (g - m)
        buf += u
        if self.nesterov:                          # U = mu m + (1 - mu) g: the same mix
            np.subtract(g, buf, out=u)             # once more, from the new m
            u *= mix
            u += buf
        else:
            u[...] = buf
        x[...] = _wide(u)                          # contiguous, for the products
        x /= max(_norm(x), self.eps)               # X_0 = U / max(|U|_F, eps)
        x = self._newton_schulz(x, state["scratch_y"], state["scratch_gram"],
                                state["scratch_gram2"])
        rows, cols = _matrix(p).shape
        if self.adjust_lr_fn == "match_rms_adamw":
            scale = 0.2 * math.sqrt(max(rows, cols))
        else:
            scale = math.sqrt(max(1.0, rows / cols))
        if self.weight_decay:
            p *= 1 - lr * self.weight_decay        # theta -= lr lambda theta
        x *= lr * scale                            # theta -= lr s X_K
        view = _wide(p)                            # (a view: p is updated in place)
        view -= x

    def _newton_schulz(self, x, y, gram, gram2):
        """``ns_steps`` steps of ``X = a X + (b X X^T + c (X X^T)^2) X``, ``x`` and ``y``
        taking turns as the new X; returns the one that holds the last."""
        a, b, c = self.ns_coefficients
        for _ in range(self.ns_steps):
            np.matmul(x, x.T, out=gram)            # G = X X^T
            np.matmul(gram, gram, out=gram2)       # b G + c G^2
            gram2 *= c
            gram *= b
            gram2 += gram
            np.matmul(gram2, x, out=y)             # a X + (b G + c G^2) X
            x *= a
            y += x
            x, y = y, x
        return x


def _matrix(a):
    """The matrix PyTorch would hold for ``a`` (a view): a Dense weight (n_in, n_out)
    transposed to Linear's (out, in); a kernel (out, in, ...) as (out, in * ...)."""
    return a.T if a.ndim == 2 else a.reshape(a.shape[0], math.prod(a.shape[1:]))


def _wide(a):
    """``_matrix(a)``, transposed if it has more rows than columns (a view)."""
    m = _matrix(a)
    return m.T if m.shape[0] > m.shape[1] else m


def _rms(a):
    """The root mean square of ``a``'s elements, a Python float."""
    return _norm(a) / math.sqrt(a.size)


def _average(avg, new, one_minus_beta2):
    """``avg = beta2 avg + (1 - beta2) new`` in place (``new`` is scratch, overwritten)."""
    avg *= 1 - one_minus_beta2
    new *= one_minus_beta2
    avg += new
