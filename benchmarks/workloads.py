"""The workloads of ``bench_train.py``: their data, and one run of each by each framework.

Each ``run_<framework>(workload, size)`` builds what it needs (data, model, optimizer) and
returns ``(train, steps)``: ``train()`` is what the benchmark times, ``steps`` the number of
optimizer steps (or full-batch epochs) it takes. ``RUNNERS`` maps each framework to its run.
``bench_train.py`` sets the BLAS thread counts before NumPy is imported, then imports this.
"""

import itertools

import numpy as np

MLP = (784, 256, 128, 10)


def sizes(quick):
    return {"mlp": 12800 if quick else 60000, "cnn": 1280 if quick else 6400,
            "tiny_epochs": 200 if quick else 1000, "loop": 2000 if quick else 10000}


# ---------------------------------------------------------------- data, the same for all

def mlp_data(n):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, MLP[0])).astype(np.float32), rng.integers(0, 10, n)


def cnn_data(n):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 1, 28, 28)).astype(np.float32), rng.integers(0, 10, n)


def tiny_data():
    from nnlab import datasets

    X, y = datasets.load_breast_cancer()
    X = (X - X.mean(axis=0)) / X.std(axis=0)
    return X.astype(np.float32), y.astype(np.float32)


def n_steps(n, batch):
    """The steps of one epoch over n samples: the last batch may be smaller."""
    return -(-n // batch)


def mlp_flops(n, layers=MLP):
    # forward x W, backward dy W^T (not for the first layer) and x^T dy
    macs = sum(a * b for a, b in itertools.pairwise(layers))
    first = layers[0] * layers[1]
    return 2 * n * (3 * macs - first)


# ---------------------------------------------------------------- the runs

def run_nnlab(workload, size):
    import nnlab as nl

    if workload == "mlp":
        X, y = mlp_data(size["mlp"])
        layers = []
        for a, b in itertools.pairwise(MLP):
            layers += [nl.Dense(a, b, init="he_normal", rng=0, dtype="float32"),
                       nl.Activation("relu")]
        model = nl.Sequential(layers[:-1])
        model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True), nl.optimizers.Adam())
        return lambda: model.fit(X, y, epochs=1, batch_size=128, seed=0), n_steps(len(X), 128)
    if workload == "tiny":
        X, y = tiny_data()
        model = nl.Sequential([nl.Dense(30, 16, rng=0, dtype="float32"), nl.Activation("tanh"),
                               nl.Dense(16, 1, rng=1, dtype="float32")])
        model.compile(nl.losses.BinaryCrossEntropy(from_logits=True),
                      nl.optimizers.Adam(0.01))
        epochs = size["tiny_epochs"]
        return lambda: model.fit(X, y, epochs=epochs, batch_size=len(X), shuffle=False), epochs
    if workload == "cnn":
        X, y = cnn_data(size["cnn"])
        model = nl.Sequential([nl.Conv2D(1, 16, 3, padding=1, rng=0, dtype="float32"),
                               nl.Activation("relu"), nl.MaxPool2D(2), nl.Flatten(),
                               nl.Dense(16 * 14 * 14, 10, rng=1, dtype="float32")])
        model.compile(nl.losses.CategoricalCrossEntropy(from_logits=True), nl.optimizers.Adam())
        return lambda: model.fit(X, y, epochs=1, batch_size=64, seed=0), n_steps(len(X), 64)
    batch = 10 if workload == "loop10" else 100
    X, y = mlp_data(size["loop"])
    Y = np.eye(10, dtype=np.float32)[y]
    model = nl.Sequential([nl.Dense(784, 30, rng=0, dtype="float32"), nl.Activation("sigmoid"),
                           nl.Dense(30, 10, rng=1, dtype="float32"), nl.Activation("sigmoid")])
    # network.py's rate 3 on the cost (a - t)^2 / 2 summed over the 10 outputs: MSE averages
    # them and keeps the square's 2, so the same steps take a rate 10 / 2 times as large.
    model.compile(nl.losses.MSE(), nl.optimizers.SGD(15.0))
    return lambda: model.fit(X, Y, epochs=1, batch_size=batch, seed=0), n_steps(len(X), batch)


def run_torch(workload, size):
    import torch

    torch.set_num_threads(2)
    torch.manual_seed(0)
    nn = torch.nn
    if workload == "tiny":
        X, y = (torch.from_numpy(a) for a in tiny_data())
        y = y[:, None]
        model = nn.Sequential(nn.Linear(30, 16), nn.Tanh(), nn.Linear(16, 1))
        batches, epochs = [slice(None)], size["tiny_epochs"]   # the full batch, a view
        loss_fn = nn.BCEWithLogitsLoss()
        opt = torch.optim.Adam(model.parameters(), lr=0.01)
    else:
        if workload == "mlp":
            X, y = mlp_data(size["mlp"])
            model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 128), nn.ReLU(),
                                  nn.Linear(128, 10))
            batch = 128
        else:
            X, y = cnn_data(size["cnn"])
            model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                                  nn.Flatten(), nn.Linear(16 * 14 * 14, 10))
            batch = 64
        X, y = torch.from_numpy(X), torch.from_numpy(y)
        order = torch.from_numpy(np.random.default_rng(0).permutation(len(X)))
        batches = order.split(batch)
        epochs = 1
        loss_fn = nn.CrossEntropyLoss()
        opt = torch.optim.Adam(model.parameters())

    def train():
        for _ in range(epochs):
            for i in batches:
                xb, yb = X[i], y[i]   # gathered during the epoch, as nnlab's fit does
                opt.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                opt.step()

    return train, epochs * len(batches)


def run_sklearn(workload, size):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y = mlp_data(size["mlp"])
    model = MLPClassifier(hidden_layer_sizes=MLP[1:-1], batch_size=128, max_iter=1,
                          learning_rate_init=1e-3, random_state=0, tol=0.0)

    def train():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)

    return train, n_steps(len(X), 128)


def run_numpy_matmul(workload, size):
    """The matrix products of one MLP epoch and nothing else: the limit for ``mlp``."""
    n, batch = size["mlp"], 128
    rows = [min(batch, n - start) for start in range(0, n, batch)]   # the last one smaller
    rng = np.random.default_rng(0)
    Ws = [rng.normal(size=(a, b)).astype(np.float32) for a, b in itertools.pairwise(MLP)]
    x = rng.normal(size=(batch, MLP[0])).astype(np.float32)
    acts = [x] + [np.empty((batch, b), np.float32) for b in MLP[1:]]
    grads = [np.empty_like(W) for W in Ws]

    def train():
        for m in rows:
            for i, W in enumerate(Ws):
                np.matmul(acts[i][:m], W, out=acts[i + 1][:m])
            dy = acts[-1][:m]
            for i in reversed(range(len(Ws))):
                np.matmul(acts[i][:m].T, dy, out=grads[i])
                if i:
                    dy = dy @ Ws[i].T

    return train, len(rows)


def run_adam_alone(workload, size):
    """nnlab's Adam updates of one MLP epoch and nothing else: with the matrix products, the
    floor for ``mlp``. Each step is ten element-wise passes over the weights (see
    ``nnlab/adam.py``), as in ``fit`` (``apply_gradients``: no checks), each on one core."""
    import nnlab as nl

    rng = np.random.default_rng(0)
    shapes = [shape for a, b in itertools.pairwise(MLP) for shape in ((a, b), (b,))]
    params = [rng.normal(size=shape).astype(np.float32) for shape in shapes]
    grads = [rng.normal(scale=1e-3, size=shape).astype(np.float32) for shape in shapes]
    adam, steps = nl.optimizers.Adam(lr=1e-3), n_steps(size["mlp"], 128)

    def train():
        for _ in range(steps):
            adam.apply_gradients(params, grads)

    return train, steps


def run_numpy_minimal(workload, size):
    """nnlab's run in as few NumPy calls as it takes: the floor of any NumPy engine.

    The same network, initial weights, batches, loss value and Adam update as nnlab's run
    (the MLP's epoch, or the tiny network's full-batch epochs), with nothing else: no input
    checks, no finite check, no layer objects. What this loop needs beyond the matrix
    products (Adam alone is 10 passes over the MLP's 235146 parameters a step) is what no
    NumPy code can avoid.
    """
    import nnlab as nl

    if workload == "tiny":
        X, y = tiny_data()
        dense = [nl.Dense(30, 16, rng=0, dtype="float32"), nl.Dense(16, 1, rng=1, dtype="float32")]
    else:
        X, y = mlp_data(size["mlp"])
        dense = [nl.Dense(a, b, init="he_normal", rng=0, dtype="float32")
                 for a, b in itertools.pairwise(MLP)]
    params = [layer.params[k] for layer in dense for k in ("W", "b")]
    adam = {"t": 0, "s": [np.zeros_like(p) for p in params],
            "r": [np.zeros_like(p) for p in params]}
    if workload == "tiny":
        epochs, targets = size["tiny_epochs"], y[:, None]

        def train():
            for _ in range(epochs):
                minimal_tiny_step(X, targets, params, adam)

        return train, epochs
    order = np.random.default_rng(0).permutation(len(X))   # fit(seed=0)'s order
    return lambda: minimal_epoch(X, y, params, adam, order), n_steps(len(X), 128)


def minimal_epoch(X, y, params, adam, order, batch=128, lr=1e-3):
    """One epoch of a ReLU MLP with softmax cross-entropy and Adam; returns the mean loss.

    ``params`` is [W1, b1, W2, b2, ...], updated in place; ``adam`` the optimizer's state.
    """
    Ws, bs = params[0::2], params[1::2]
    total = 0.0
    for start in range(0, len(X), batch):
        rows = order[start:start + batch]
        h, labels, n = X[rows], y[rows], len(rows)
        inputs = []
        for i, (W, b) in enumerate(zip(Ws, bs, strict=True)):
            inputs.append(h)
            h = h @ W
            h += b
            if i < len(Ws) - 1:
                np.maximum(h, np.zeros(h.shape[1:], h.dtype), out=h)   # as nnlab's ReLU
        z = h - h.max(axis=1, keepdims=True)   # log-sum-exp, as nnlab's loss computes it
        e = np.exp(z)
        sums = e.sum(axis=1, keepdims=True)
        total += float(np.log(sums).sum() - z[np.arange(n), labels].sum())
        dy = e / sums                            # softmax - one-hot, over n
        dy[np.arange(n), labels] -= 1
        dy /= n
        grads = [None] * len(params)
        for i in reversed(range(len(Ws))):
            grads[2 * i], grads[2 * i + 1] = inputs[i].T @ dy, dy.sum(axis=0)
            if i:
                dy = dy @ Ws[i].T
                dy *= inputs[i] > 0              # the ReLU's derivative: its input was > 0
        adam_update(params, grads, adam, lr)
    return total / len(X)


def minimal_tiny_step(X, y, params, adam, lr=0.01):
    """One full-batch step of the 30-16-1 tanh network, the logistic loss from its logit
    and Adam, as nnlab computes them; returns the loss. ``y`` is a column (N, 1)."""
    W1, b1, W2, b2 = params
    h = X @ W1
    h += b1
    a = np.tanh(h)
    z = a @ W2
    z += b2
    e = np.exp(-np.abs(z))                       # as nnlab's loss: max(z, 0) - y z + log(1 + e)
    loss = float((np.maximum(z, 0) - y * z + np.log1p(e)).sum() / z.size)
    dz = (np.where(z < 0, e, 1) / (1 + e) - y) / z.size   # (sigmoid(z) - y) / N
    da = dz @ W2.T
    da *= 1 - a * a                              # tanh' = 1 - tanh^2
    ones = np.ones(len(X), X.dtype)              # the bias gradients as nnlab's: 1^T dy
    adam_update(params, [X.T @ da, ones @ da, a.T @ dz, ones @ dz], adam, lr)
    return loss


def adam_update(params, grads, adam, lr, beta1=0.9, beta2=0.999, eps=1e-8):
    """nnlab's Adam step, its same 10 passes per array; ``grads`` serve as scratch."""
    adam["t"] += 1
    w1 = (1 - beta1 ** adam["t"]) / (1 - beta1)
    w2 = (1 - beta2 ** adam["t"]) / (1 - beta2)
    for p, g, s, r in zip(params, grads, adam["s"], adam["r"], strict=True):
        s *= beta1
        s += g
        r *= beta2
        step = np.square(g, out=g)               # g is no longer needed: its buffer is
        r += step                                # the scratch, so nothing is allocated
        np.sqrt(r, out=step)
        step += eps * w2**0.5
        np.divide(s, step, out=step)
        step *= lr * w2**0.5 / w1
        p -= step


def run_network_py(workload, size):
    """Nielsen's network.py: backpropagation one example at a time, column vectors."""
    batch = 10 if workload == "loop10" else 100
    X, y = mlp_data(size["loop"])
    rng = np.random.default_rng(0)
    shape = (784, 30, 10)
    weights = [rng.normal(size=(b, a)).astype(np.float32) for a, b in itertools.pairwise(shape)]
    biases = [rng.normal(size=(b, 1)).astype(np.float32) for b in shape[1:]]
    targets = np.eye(10, dtype=np.float32)[y][:, :, None]
    inputs = X[:, :, None]

    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    def backprop(x, t):
        activation, activations, zs = x, [x], []
        for w, b in zip(weights, biases, strict=True):
            z = w @ activation + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = (activations[-1] - t) * sigmoid(zs[-1]) * (1 - sigmoid(zs[-1]))
        nabla_w = [None, delta @ activations[-2].T]
        nabla_b = [None, delta]
        s = sigmoid(zs[0])
        delta = (weights[1].T @ delta) * s * (1 - s)
        nabla_w[0], nabla_b[0] = delta @ activations[0].T, delta
        return nabla_w, nabla_b

    def train():
        for start in range(0, len(X), batch):
            sum_w = [np.zeros_like(w) for w in weights]
            sum_b = [np.zeros_like(b) for b in biases]
            for x, t in zip(inputs[start:start + batch], targets[start:start + batch],
                            strict=True):
                dw, db = backprop(x, t)
                sum_w = [s + d for s, d in zip(sum_w, dw, strict=True)]
                sum_b = [s + d for s, d in zip(sum_b, db, strict=True)]
            for i in range(2):
                weights[i] -= 3.0 / batch * sum_w[i]
                biases[i] -= 3.0 / batch * sum_b[i]

    return train, n_steps(len(X), batch)


RUNNERS = {"nnlab": run_nnlab, "nnlab-nokeep": run_nnlab, "torch": run_torch,
           "sklearn": run_sklearn, "numpy": run_numpy_matmul,
           "numpy-minimal": run_numpy_minimal, "network.py": run_network_py,
           "nnlab-adam": run_adam_alone}
