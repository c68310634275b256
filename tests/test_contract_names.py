"""The public contract's own spellings: argument names a caller may pass by keyword, and the
types it promises, for every module and layer alike."""
import numpy as np
import pytest

import nnlab as nl


@pytest.mark.parametrize("module,name,expected", [
    (nl.activations, "relu", "relu"),
    (nl.initializers, "he_normal", "he_normal"),
    (nl.losses, "mse", "MSE"),
    (nl.metrics, "accuracy", "accuracy"),
    (nl.optimizers, "adam", "Adam"),
])
def test_every_get_takes_its_argument_as_name(module, name, expected):
    # The argument was called `identifier` (Keras's word): get(name="relu") was a TypeError.
    found = module.get(name=name)
    label = getattr(found, "name", None) or getattr(found, "__name__", type(found).__name__)
    assert expected in (label, type(found).__name__)


def test_get_passes_constructor_arguments_beside_name():
    assert nl.optimizers.get(name="sgd", lr=0.5, momentum=0.9).momentum == 0.9
    assert nl.losses.get(name="categorical_crossentropy", from_logits=True).from_logits


def test_gradcheck_takes_layer_or_model_and_x_by_keyword():
    x = np.random.default_rng(0).normal(size=(4, 3))
    assert nl.gradcheck.check(layer_or_model=nl.Dense(3, 2, rng=0), x=x) < 1e-6
    model = nl.Sequential([nl.Dense(3, 2, rng=0), nl.Activation("tanh")])
    assert set(nl.gradcheck.errors(layer_or_model=model, x=x)) == {"x", "params[0]",
                                                                   "params[1]"}


@pytest.mark.parametrize("layer,x", [
    (nl.Dense(3, 3, rng=0), np.ones((2, 3))),
    (nl.BatchNorm(3), np.ones((2, 3))),
    (nl.Conv2D(1, 2, 3, rng=0), np.ones((2, 1, 4, 4))),
    (nl.Residual(nl.Dense(3, 3, rng=0), nl.Residual(nl.BatchNorm(3))), np.ones((2, 3))),
])
def test_params_grads_and_buffers_are_dicts_with_the_same_keys(layer, x):
    # A Residual's were a MutableMapping view: isinstance(block.params, dict) was False.
    layer.backward(np.ones(layer.forward(x, training=True).shape))
    for store in (layer.params, layer.grads, layer.buffers):
        assert isinstance(store, dict)
    assert list(layer.grads) == list(layer.params)


def test_a_residual_blocks_dict_writes_through_to_its_layers():
    dense, bn = nl.Dense(2, 2, rng=0), nl.BatchNorm(2)
    block = nl.Residual(dense, nl.Residual(bn))
    params = block.params
    params.update({"0.b": np.ones(2), "1.0.gamma": np.full(2, 3.0)})
    params |= {"0.W": np.eye(2)}
    assert dense.params["b"].tolist() == [1, 1] and bn.params["gamma"].tolist() == [3, 3]
    assert dense.params["W"] is params["0.W"] is block.params["0.W"]
    params.setdefault("0.b", None)
    assert dense.params["b"] is params["0.b"]
    with pytest.raises(KeyError):
        params["2.W"] = np.eye(2)
    assert "2.W" not in block.params and len(params) == 4


def test_a_copy_or_pickle_of_a_residual_blocks_dict_is_a_plain_dict():
    # pickle failed (it restored the items before the view's layers), and copy.copy kept
    # writing through to the block.
    import copy
    import pickle

    block = nl.Residual(nl.Dense(2, 2, rng=0))
    for made in (pickle.loads(pickle.dumps(block.params)), copy.copy(block.params),
                 block.params.copy()):
        assert type(made) is dict and list(made) == ["0.W", "0.b"]
        made["0.b"] = np.ones(2)
    assert block.layers[0].params["b"].tolist() == [0, 0]
