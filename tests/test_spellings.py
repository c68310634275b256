"""Keras's and PyTorch's spellings of nnlab's arguments get a hint naming nnlab's
(``nnlab._spellings``); every other call behaves as before."""

import copy
import inspect

import numpy as np
import pytest

import nnlab as nl
from nnlab._spellings import SPELLINGS, ArgumentSpellingError
from nnlab.layer_base import Layer
from nnlab.optimizer_base import Optimizer

CASES = [
    (lambda: nl.optimizers.SGD(learning_rate=0.1), "SGD(lr=0.1)"),
    (lambda: nl.optimizers.Adam(epsilon=1e-7), "Adam(eps=1e-07)"),
    (lambda: nl.optimizers.Adam(beta_1=0.8), "Adam(beta1=0.8)"),
    (lambda: nl.optimizers.Adamax(beta_2=0.99), "Adamax(beta2=0.99)"),
    (lambda: nl.optimizers.RMSprop(alpha=0.99), "RMSprop(rho=0.99)"),
    (lambda: nl.optimizers.Adam(betas=(0.8, 0.99)), "Adam(beta1=0.8, beta2=0.99)"),
    (lambda: nl.optimizers.NAdam(betas=0.9), "NAdam(beta1=..., beta2=...)"),
    (lambda: nl.Dropout(p=0.5), "Dropout(rate=0.5)"),
    (lambda: nl.Dropout(0.5, seed=3), "Dropout(rng=3)"),
    (lambda: nl.Dense(in_features=2, out_features=3), "Dense(n_in=2)"),
    (lambda: nl.Dense(2, units=3), "Dense(n_out=3)"),
    (lambda: nl.Dense(2, 3, kernel_initializer="zeros"), "Dense(init='zeros')"),
    (lambda: nl.Dense(2, 3, activation="relu"), "nl.Activation('relu') after the Dense"),
    (lambda: nl.Conv2D(1, 4, 3, strides=2), "Conv2D(stride=2)"),
    (lambda: nl.Conv2D(filters=4, kernel_size=3), "Conv2D(out_channels=4)"),
    (lambda: nl.BatchNorm(num_features=3), "BatchNorm(n_features=3)"),
    (lambda: nl.Perceptron(2, learning_rate=0.5), "Perceptron(lr=0.5)"),
]


@pytest.mark.parametrize(("make", "hint"), CASES)
def test_another_librarys_spelling_names_nnlabs(make, hint):
    # A TypeError, as Python's own would be, and a ValueError, as nnlab's refusals are.
    with pytest.raises(ArgumentSpellingError) as caught:
        make()
    assert isinstance(caught.value, TypeError) and isinstance(caught.value, ValueError)
    assert hint in str(caught.value)
    assert "has no argument" in str(caught.value)


@pytest.mark.parametrize("params", [
    lambda: nl.Sequential([nl.Dense(2, 1, rng=0)]).params, lambda: [np.zeros(3)], lambda: ()])
@pytest.mark.parametrize("with_lr", [True, False])
def test_pytorchs_parameters_given_to_an_optimizer_get_a_hint(params, with_lr):
    kwargs = {"lr": 1e-3} if with_lr else {}
    with pytest.raises(ArgumentSpellingError, match=r"opt\.step\(params, grads\)"):
        nl.optimizers.Adam(params(), **kwargs)


def test_every_spelling_points_to_an_argument_nnlab_takes():
    classes = [cls for cls in (*_subclasses(Layer), *_subclasses(Optimizer), nl.Perceptron)
               if cls.__module__.startswith("nnlab.")]   # not other tests' layers
    taken = {name for cls in classes for name in inspect.signature(cls.__init__).parameters}
    assert {ours for ours, _ in SPELLINGS.values()} <= taken
    # and none of the other libraries' names is one of nnlab's, or the hint would be wrong
    assert not SPELLINGS.keys() & taken - {"alpha"}   # ASGD's alpha is its own


def test_a_class_that_takes_the_keyword_itself_is_left_alone():
    assert nl.optimizers.ASGD(alpha=0.5).alpha == 0.5   # not RMSprop's alpha

    class Units(Layer):
        def __init__(self, units):
            super().__init__()
            self.units = units

    class AnyKeyword(Layer):
        def __init__(self, **config):
            super().__init__()
            self.config = config

    try:
        assert Units(units=3).units == 3
        assert AnyKeyword(learning_rate=1).config == {"learning_rate": 1}
    finally:
        Layer.registry.pop("Units")
        Layer.registry.pop("AnyKeyword")


def test_other_mistakes_keep_pythons_and_nnlabs_errors():
    with pytest.raises(TypeError, match="unexpected keyword argument 'colour'") as caught:
        nl.Dense(2, 3, colour="red")
    assert not isinstance(caught.value, ArgumentSpellingError)
    with pytest.raises(ValueError, match="n_inputs must be an integer"):
        nl.Perceptron([1, 2])   # a list first is not PyTorch's parameters here
    with pytest.raises(ValueError, match="lr must be"):
        nl.optimizers.SGD(lr=-1)


def test_layers_and_optimizers_are_made_and_copied_as_before():
    layer = nl.Dense(2, 3, rng=0)
    twin = copy.deepcopy(layer)
    np.testing.assert_array_equal(twin.params["W"], layer.params["W"])
    assert type(nl.Dense.from_config(layer.get_config())) is nl.Dense
    opt = copy.deepcopy(nl.optimizers.Adam(lr=0.01, beta1=0.8))
    assert (opt.lr, opt.beta1) == (0.01, 0.8)


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)
