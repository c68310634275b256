"""Sequential: a stack of layers, and the training loop that fits it.

Training repeats one *iteration* over mini-batches of the data::

    y_pred = model.forward(x_batch, training=True)       # forward pass
    loss   = model.loss.forward(y_pred, y_batch)          # how wrong
    model.backward(model.loss.backward(y_pred, y_batch))  # gradients, layer by layer
    model.optimizer.step(model.params, model.grads)       # update

``train_step`` is exactly these four lines; ``fit`` runs them over shuffled
mini-batches for a number of epochs, keeping a ``History``.
"""

import json
import warnings

import numpy as np

from nnlab import activations, losses, optimizers
from nnlab import metrics as metric_functions
from nnlab._checks import as_float_array, check_number
from nnlab.callbacks import Callback, History
from nnlab.layers import Layer

FORMAT = "nnlab.Sequential"
FORMAT_VERSION = 1


class TrainingDivergedWarning(RuntimeWarning):
    """The loss became NaN or infinite, so ``fit`` stopped."""


class Sequential:
    """Layers applied one after the other: ``y = layer_n(... layer_1(x))``.

    Examples
    --------
    >>> import nnlab as nl
    >>> X, y = nl.datasets.logic_gate("xor")
    >>> model = nl.Sequential([nl.Dense(2, 8, rng=0), nl.Activation("tanh"),
    ...                        nl.Dense(8, 1, rng=1), nl.Activation("sigmoid")])
    >>> model.compile(loss="binary_crossentropy", optimizer=nl.optimizers.Adam(0.05),
    ...               metrics=["accuracy"])
    >>> history = model.fit(X, y, epochs=300, batch_size=4, seed=0)
    >>> history.history["accuracy"][-1]
    1.0
    """

    def __init__(self, layers=None):
        self.layers = []
        for layer in layers or []:
            self.add(layer)
        self.loss = None
        self.optimizer = None
        self.metrics = {}
        self.stop_training = False
        self.stop_reason = None
        self.history = None
        self._input_shape = None

    def add(self, layer):
        """Append a layer."""
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential takes nnlab layers; got {type(layer).__name__}")
        self.layers.append(layer)

    # --- the two passes -------------------------------------------------------------

    def forward(self, x, training=False):
        """Run ``x`` through every layer; ``training`` switches dropout and batch norm."""
        if not self.layers:
            raise ValueError("the model has no layers; add some first")
        self._input_shape = np.shape(x)[1:]
        for layer in self.layers:
            x = layer.forward(x, training=training)
        return x

    def backward(self, dout):
        """Propagate dL/d(output) back through the layers; fills every layer's grads."""
        for layer in reversed(self.layers):
            dout = layer.backward(dout)
        return dout

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

    # --- training -------------------------------------------------------------------

    def compile(self, loss, optimizer="sgd", metrics=None):
        """Choose the loss, the optimizer and the metrics to report, by name or object.

        Examples
        --------
        >>> Sequential([]).compile(loss="mse", optimizer="adam", metrics=["mae"])
        """
        self.loss = losses.get(loss)
        self.optimizer = optimizers.get(optimizer)
        self.metrics = {}
        for m in metrics or []:
            fn = metric_functions.get(m)
            self.metrics[m if isinstance(m, str) else fn.__name__] = fn

    def _require_compiled(self):
        if self.loss is None:
            raise ValueError("compile the model first: model.compile(loss=..., optimizer=...)")

    def _check_data(self, X, y, name="X"):
        X = as_float_array(X, name)
        y = as_float_array(y, f"y for {name}")
        if len(X) != len(y):
            raise ValueError(f"{name} has {len(X)} samples but its targets have {len(y)}")
        n_outputs = self.forward(X[:1]).shape[-1]
        return X, self.loss.check_targets(y, n_outputs).astype(X.dtype, copy=False)

    def train_step(self, xb, yb):
        """One iteration on one mini-batch: forward, loss, backward, update. Returns the loss."""
        self._require_compiled()
        y_pred = self.forward(xb, training=True)
        y_pred, yb = self.loss.check(y_pred, yb)
        return self._step(xb, yb, y_pred)

    def _step(self, xb, yb, y_pred):
        loss = float(self.loss.forward(y_pred, yb))
        if np.isfinite(loss):
            self.backward(self.loss.backward(y_pred, yb))
            grads = self.grads
            if all(np.all(np.isfinite(g)) for g in grads):
                self.optimizer.step(self.params, grads)
            else:
                loss = float("inf")
        return loss

    def fit(self, X, y, epochs=1, batch_size=32, validation_data=None, validation_split=0.0,
            shuffle=True, seed=None, callbacks=None, verbose=0):
        """Train for ``epochs`` passes over (X, y) in shuffled mini-batches.

        Parameters
        ----------
        X, y : array_like
            Inputs (one sample per row) and targets in the form the loss takes.
        epochs, batch_size : int
        validation_data : tuple (X_val, y_val), optional
        validation_split : float
            Hold out this last fraction of (X, y) for validation instead.
        shuffle : bool
        seed : int or numpy.random.Generator, optional
            Randomness of the shuffling (and nothing else).
        callbacks : list of Callback, optional
        verbose : {0, 1}
            1 shows a progress bar.

        Returns
        -------
        History
            ``history.history["loss"]``, ``["val_loss"]``, one entry per metric...
        """
        self._require_compiled()
        check_number(epochs, "epochs", low=1, integer=True)
        check_number(batch_size, "batch_size", low=1, integer=True)
        check_number(validation_split, "validation_split", low=0, high=1, high_open=True)
        X, y = self._check_data(X, y)
        if validation_data is not None:
            if len(validation_data) != 2:
                raise ValueError("validation_data must be a pair (X_val, y_val)")
            val = self._check_data(*validation_data, name="validation X")
        elif validation_split:
            n_val = round(len(X) * validation_split)
            if not 0 < n_val < len(X):
                raise ValueError(f"validation_split={validation_split} leaves no validation or "
                                 f"no training samples out of {len(X)}")
            X, val = X[:-n_val], (X[-n_val:], y[-n_val:])
            y = y[:-n_val]
        else:
            val = None

        history = History()
        callbacks = [history, *(callbacks or [])]
        if not all(isinstance(c, Callback) for c in callbacks):
            raise TypeError("callbacks must be nnlab.callbacks.Callback instances")
        rng = np.random.default_rng(seed)
        self.stop_training, self.stop_reason = False, None
        for c in callbacks:
            c.on_train_begin(self)
        progress = _progress(epochs, verbose)
        for epoch in range(epochs):
            # A diverging run overflows somewhere; fit detects that itself and says so
            # once (TrainingDivergedWarning) instead of a stream of NumPy warnings.
            with np.errstate(over="ignore", invalid="ignore"):
                logs = self._run_epoch(X, y, batch_size, shuffle, rng)
            if val is not None and np.isfinite(logs["loss"]):
                logs.update({f"val_{k}": v for k, v in self._scores(*val).items()})
            if not np.isfinite(logs["loss"]):
                history.on_epoch_end(epoch, logs)
                self._diverged(epoch)
                break
            for c in callbacks:
                c.on_epoch_end(epoch, logs)
            if progress is not None:
                progress.update(1)
                progress.set_postfix({k: f"{v:.4f}" for k, v in logs.items()})
            if self.stop_training:
                self.stop_reason = self.stop_reason or f"stopped by a callback at epoch {epoch}"
                break
        if progress is not None:
            progress.close()
        for c in callbacks:
            c.on_train_end()
        self.history = history
        return history

    def _run_epoch(self, X, y, batch_size, shuffle, rng):
        order = rng.permutation(len(X)) if shuffle else np.arange(len(X))
        total, preds = 0.0, []
        for start in range(0, len(X), batch_size):
            idx = order[start:start + batch_size]
            xb, yb = X[idx], y[idx]
            y_pred = self.forward(xb, training=True)
            loss = self._step(xb, yb, y_pred)
            if not np.isfinite(loss):
                return {"loss": loss}
            total += loss * len(idx)
            if self.metrics:
                preds.append(y_pred)
        logs = {"loss": total / len(X)}
        if self.metrics:
            logs.update(self._metric_values(y[order], np.concatenate(preds)))
        return logs

    def _diverged(self, epoch):
        self.stop_training = True
        self.stop_reason = f"the loss became NaN or infinite in epoch {epoch}"
        warnings.warn(TrainingDivergedWarning(
            f"training diverged: {self.stop_reason}, so fit stopped and kept the history so "
            "far. This usually means the learning rate is too large, or the gradients explode "
            "(deep network, bad initialization): lower the learning rate, or clip gradients."),
            stacklevel=3)

    def _metric_values(self, y_true, y_pred):
        if isinstance(self.loss, losses.BinaryCrossEntropy) and self.loss.from_logits:
            y_pred = activations.sigmoid(y_pred)
        if isinstance(self.loss, losses.Hinge):
            y_true, y_pred = (y_true > 0).astype(int), (y_pred > 0).astype(int)
        return {name: float(fn(y_true, y_pred)) for name, fn in self.metrics.items()}

    def _scores(self, X, y):
        y_pred = self.predict(X)
        scores = {"loss": float(self.loss.forward(y_pred, y))}
        scores.update(self._metric_values(y, y_pred))
        return scores

    def evaluate(self, X, y, batch_size=None, return_dict=False):
        """The loss (and metrics) on (X, y), in evaluation mode.

        Returns the loss alone when no metrics were compiled, else
        ``[loss, metric_1, ...]`` (or a dict with ``return_dict=True``), as Keras does.
        """
        self._require_compiled()
        X, y = self._check_data(X, y)
        y_pred = self.predict(X, batch_size)
        scores = {"loss": float(self.loss.forward(y_pred, y))}
        scores.update(self._metric_values(y, y_pred))
        if return_dict:
            return scores
        return scores["loss"] if len(scores) == 1 else list(scores.values())

    def predict(self, X, batch_size=None):
        """The network's outputs for X, computed in evaluation mode (in batches if asked)."""
        X = as_float_array(X, "X")
        if batch_size is None or batch_size >= len(X):
            return self.forward(X, training=False)
        check_number(batch_size, "batch_size", low=1, integer=True)
        parts = [self.forward(X[i:i + batch_size]) for i in range(0, len(X), batch_size)]
        return np.concatenate(parts)

    # --- inspection -----------------------------------------------------------------

    def summary(self, input_shape=None):
        """Print a table of the layers, their output shapes and parameter counts."""
        shape = input_shape or self._input_shape
        if shape is None and self.layers and hasattr(self.layers[0], "n_in"):
            shape = (self.layers[0].n_in,)
        if shape is None:
            raise ValueError("summary needs the shape of one input sample: "
                             "summary(input_shape=(...)), or run the model once")
        rows = []
        for layer in self.layers:
            shape = tuple(layer.output_shape(tuple(shape)))
            count = sum(p.size for p in layer.params.values())
            rows.append((type(layer).__name__, str((None, *shape)), f"{count:,}"))
        widths = [max(len(r[i]) for r in [*rows, ("Layer (type)", "Output Shape", "Param #")])
                  for i in range(3)]
        def line(cells):
            return "  ".join(f"{c:<{w}}" for c, w in zip(cells, widths, strict=True))

        total = sum(p.size for p in self.params)
        print(line(("Layer (type)", "Output Shape", "Param #")))
        print("=" * (sum(widths) + 4))
        for r in rows:
            print(line(r))
        print("=" * (sum(widths) + 4))
        print(f"Total params: {total:,}")

    def astype(self, dtype):
        """Store every parameter and buffer in ``dtype`` (e.g. "float32"); returns self.

        Call it before training: the optimizer's state is reset.
        """
        dtype = np.dtype(dtype)
        if dtype not in (np.float32, np.float64):
            raise ValueError(f"dtype must be float32 or float64; got {dtype}")
        for layer in self.layers:
            _cast_arrays(layer, dtype)
        if self.optimizer is not None:
            self.optimizer.reset()
        return self

    def __repr__(self):
        inner = ", ".join(repr(layer) for layer in self.layers)
        return f"Sequential([{inner}])"

    # --- saving ---------------------------------------------------------------------

    def save(self, path):
        """Save architecture, parameters and buffers to a plain ``.npz`` (no pickle)."""
        config = {"format": FORMAT, "version": FORMAT_VERSION,
                  "layers": [layer_config(layer) for layer in self.layers]}
        if self.loss is not None:
            config["loss"] = {"class": type(self.loss).__name__,
                              "config": self.loss.get_config()}
            config["metrics"] = [m for m in self.metrics]
        arrays = {"__config__": np.array(json.dumps(config))}
        for i, layer in enumerate(self.layers):
            for kind, store in (("param", layer.params), ("buffer", layer.buffers)):
                for name, arr in store.items():
                    arrays[f"{i}/{kind}/{name}"] = arr
        np.savez(path, **arrays)


def layer_config(layer):
    """A layer as JSON-compatible data: its class name and constructor arguments."""
    return {"class": type(layer).__name__, "config": layer.get_config()}


def layer_from_config(data):
    """Rebuild a layer from ``layer_config`` output."""
    name = data.get("class")
    if name not in Layer.registry:
        raise ValueError(f"unknown layer class {name!r} in the model file; known: "
                         f"{', '.join(sorted(Layer.registry))}")
    return Layer.registry[name].from_config(data.get("config", {}))


def _cast_arrays(layer, dtype):
    for store in (layer.params, layer.buffers):
        for name, arr in list(store.items()):
            store[name] = arr.astype(dtype)
    if hasattr(layer, "dtype"):
        layer.dtype = dtype
    for inner in getattr(layer, "layers", []):
        _cast_arrays(inner, dtype)


def load_model(path):
    """Load a model saved with ``Sequential.save``; never unpickles anything.

    Raises ``ValueError`` for a missing, corrupt or foreign file.
    """
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {k: data[k] for k in data.files}
    except (OSError, ValueError, EOFError) as exc:
        raise ValueError(f"{path} is not a readable nnlab model file: {exc}") from exc
    try:
        config = json.loads(str(arrays.pop("__config__")))
    except (KeyError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path} is not an nnlab model file (no valid __config__)") from exc
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ValueError(f"{path} is not an nnlab model file: format is "
                         f"{config.get('format') if isinstance(config, dict) else None!r}, "
                         f"expected {FORMAT!r}")
    if config.get("version") != FORMAT_VERSION:
        raise ValueError(f"{path} has model format version {config.get('version')!r}; this "
                         f"nnlab reads version {FORMAT_VERSION}")
    try:
        model = Sequential([layer_from_config(c) for c in config["layers"]])
    except (TypeError, KeyError) as exc:
        raise ValueError(f"{path}: a layer configuration is invalid: {exc}") from exc
    expected = set()
    for i, layer in enumerate(model.layers):
        for kind, store in (("param", layer.params), ("buffer", layer.buffers)):
            for name, arr in store.items():
                key = f"{i}/{kind}/{name}"
                expected.add(key)
                if key not in arrays:
                    raise ValueError(f"{path}: missing array {key!r}")
                if arrays[key].shape != arr.shape:
                    raise ValueError(f"{path}: array {key!r} has shape {arrays[key].shape}, "
                                     f"the layer {layer!r} expects {arr.shape}")
                arr[...] = arrays[key]
    extra = set(arrays) - expected
    if extra:
        raise ValueError(f"{path}: unexpected arrays {sorted(extra)}")
    if "loss" in config:
        loss_cls = getattr(losses, config["loss"]["class"], None)
        if not (isinstance(loss_cls, type) and issubclass(loss_cls, losses.Loss)):
            raise ValueError(f"{path}: unknown loss {config['loss']['class']!r}")
        model.compile(loss=loss_cls(**config["loss"]["config"]),
                      metrics=config.get("metrics", []))
    return model


def _progress(epochs, verbose):
    if verbose not in (0, 1):
        raise ValueError(f"verbose must be 0 or 1; got {verbose!r}")
    if not verbose:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=epochs, unit="epoch")
