"""Tests of the activation functions' names, lookup by nnlab.activations.get, parameter
and input checks, the Activation layer, and saving a model that uses each function."""

import numpy as np
import pytest

import nnlab as nl
from nnlab import activations as A


def test_names_are_the_contract():
    assert set(A.NAMES) == {"linear", "step", "sigmoid", "tanh", "relu", "leaky_relu", "elu",
                            "selu", "softplus", "softsign", "exponential", "swish", "gelu",
                            "relu6", "hard_sigmoid", "hard_silu", "mish", "softmax"}
    # Each addition comes after the functions before it (dropdowns keep their order), and
    # softmax, the one that is not element-wise, stays last.
    assert A.NAMES[-7:] == ("swish", "gelu", "relu6", "hard_sigmoid", "hard_silu", "mish",
                            "softmax")
    assert A.get("silu") is A.get("swish") and A.get("SiLU") is A.swish
    assert A.get("hard_swish") is A.get("hard_silu") is A.hard_silu
    # Keras's class names and PyTorch's spellings of the new ones
    for name, fn in {"ReLU6": A.relu6, "HardSigmoid": A.hard_sigmoid, "HardSiLU": A.hard_silu,
                     "HardSwish": A.hard_silu, "Mish": A.mish}.items():
        assert A.get(name) is fn, name


def test_the_classes_are_found_where_they_always_were():
    # The base class and the functions of recent architectures moved to modules of their
    # own; nnlab.activations still offers every name it offered.
    from nnlab import activation_base, modern_activations

    assert A.ActivationFunction is activation_base.ActivationFunction
    assert A.Swish is modern_activations.Swish and A.swish is modern_activations.swish
    assert isinstance(A.mish, A.ActivationFunction) and A.GELU().name == "gelu"


def test_each_function_is_an_instance_where_the_module_docstring_says():
    # The chapters' functions in nnlab.activations, Keras's others in nnlab.keras_activations
    for name in A.NAMES:
        assert getattr(A, name) is A.get(name)
    for name in A.KERAS_NAMES:
        assert getattr(nl.keras_activations, name) is A.get(name) and not hasattr(A, name)


def test_integer_input_becomes_float64():
    assert A.relu(np.array([1, -2])).dtype == np.float64


def test_get_unknown_name_lists_valid_ones():
    with pytest.raises(ValueError, match=r"valid names are: .*relu.*sigmoid"):
        A.get("swishy")
    assert A.get("ReLU") is A.relu
    assert A.get(A.tanh) is A.tanh
    with pytest.raises(ValueError, match=r"^activation ReLU is a class: pass an instance, "
                                         r"ReLU\(\), or a name"):
        A.get(A.ReLU)


def test_a_parameter_of_a_function_that_takes_none_is_refused_in_plain_words():
    # It read "Activation 'relu' takes the parameters none; got ['alpha']".
    with pytest.raises(ValueError, match=r"^Activation 'relu' takes no parameters; got alpha$"):
        nl.Activation("relu", alpha=1)
    with pytest.raises(ValueError, match=r"^Activation 'softmax' takes no parameters; got "
                                         r"alpha, beta$"):
        nl.Activation("softmax", beta=1, alpha=2)
    with pytest.raises(ValueError, match=r"^Activation 'leaky_relu' takes the parameters "
                                         r"\['alpha'\]; got \['slope'\]$"):
        nl.Activation("leaky_relu", slope=0.1)


def test_activation_layer_uses_the_function():
    layer = nl.Activation("tanh")
    x = np.array([[0.5, -1.0]])
    np.testing.assert_allclose(layer.forward(x), np.tanh(x))
    np.testing.assert_allclose(layer.backward(np.ones_like(x)), 1 - np.tanh(x) ** 2)


@pytest.mark.parametrize("name", [*A.NAMES, "hard_swish"])
def test_a_model_with_any_activation_is_saved_and_loaded(name, tmp_path):
    model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Activation(name), nl.Dense(4, 2, rng=1)])
    loaded = nl.load_model(model.save(tmp_path / "m"))
    assert type(loaded.layers[1].fn) is type(A.get(name))
    x = np.random.default_rng(0).normal(size=(5, 3)) * 4
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


@pytest.mark.parametrize("make", [A.LeakyReLU, A.ELU])
def test_the_slope_parameter_is_a_finite_number(make):
    for bad in (float("nan"), float("inf"), "0.1", None):
        with pytest.raises(ValueError, match="alpha"):
            make(bad)


@pytest.mark.parametrize("name", nl.activations.NAMES)
def test_an_activation_rejects_what_is_not_real_numbers(name):
    # sigmoid(None) was nan and sigmoid(["1"]) 0.73; complex input lost its imaginary part.
    fn = nl.activations.get(name)
    for bad in (None, ["1"], np.array([1 + 1j])):
        with pytest.raises(ValueError, match="real numbers; got an array of dtype"):
            fn(bad)
    assert fn([0, 1]).dtype == np.float64   # integers become float64, as documented


@pytest.mark.parametrize("name", [*A.NAMES, *A.KERAS_NAMES])
def test_an_activation_refuses_other_float_dtypes(name):
    # float16 and longdouble became float64 in silence; layers refuse them too.
    f = A.get(name)
    for dtype in {np.dtype(np.float16), np.dtype(np.longdouble)} - {np.dtype(np.float64)}:
        for call in (f, f.derivative):
            with pytest.raises(ValueError, match=f"must be float32 or float64 .*got an array "
                                                 f"of dtype {dtype}"):
                call(np.ones(3, dtype))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax"])
def test_a_model_refuses_a_batch_of_single_numbers_for_a_layer_mapping_rows(name):
    # Along the batch's only axis, softmax mixed the samples: predict gave [0.032 0.087
    # 0.237 0.644] for [1, 2, 3, 4], and [0.269 0.731 0.269 0.731] in batches of 2.
    model = nl.Sequential([nl.Activation(name)])
    for call in (model.predict, model.forward):
        with pytest.raises(ValueError, match=r"maps each sample's last axis .* a batch of "
                                             r"shape \(4,\) holds 4 samples"):
            call(np.arange(4.0))
    assert model.predict(np.zeros((3, 4))).shape[0] == 3
    # glu's own error: it would halve a last axis of its samples, which have none
    with pytest.raises(ValueError, match="glu splits the last axis"):
        nl.Sequential([nl.Activation("glu")]).predict(np.arange(4.0))


@pytest.mark.parametrize("name", ["softmax", "log_softmax", "sparsemax"])
def test_alone_a_layer_mapping_rows_maps_a_vector_as_torch_does(name):
    x = np.array([1.0, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(nl.Activation(name).forward(x), A.get(name)(x))


def test_an_element_wise_layer_takes_a_batch_of_single_numbers():
    np.testing.assert_array_equal(nl.Activation("relu").forward(np.array([-1.0, 2.0])),
                                  [0.0, 2.0])
    assert [name for name in A.NAMES if A.get(name).along_last_axis] == ["softmax"]
    assert [name for name in A.KERAS_NAMES if A.get(name).along_last_axis] == [
        "log_softmax", "sparsemax"]
