"""Sequential refuses what it cannot use before anything changes, with a message that
names what was expected and what it got: data, names, hyper-parameters, layers."""

import copy
import pickle
import warnings
from fractions import Fraction

import numpy as np
import pytest

import nnlab as nl
from nnlab.callbacks import EarlyStopping
from nnlab.layers import Activation, Dense
from nnlab.model import NotCompiledError
from tests.helpers import assert_same_weights, mlp, regression_data, snapshot


def compiled_model():
    model = mlp(n_in=3, n_out=3, out="softmax")
    model.compile("categorical_crossentropy", nl.optimizers.SGD(0.1), metrics=["accuracy"])
    return model
X3 = np.random.default_rng(0).normal(size=(12, 3))
Y3 = np.arange(12) % 3


@pytest.mark.parametrize("args, kwargs, fragment", [
    ((X3[:, :2], Y3), {}, "does not fit the model"),
    ((X3, Y3[:10]), {}, "same number"),
    ((np.where(X3 > 1, np.nan, X3), Y3), {}, "NaN"),
    ((X3, Y3 + 1), {}, "class labels"),
    ((X3, Y3 * 0.5), {}, "class labels"),
    ((X3.astype(str), Y3), {}, "numeric"),
    ((X3[:0], Y3[:0]), {}, "> 0"),
    ((X3, Y3), {"epochs": 0}, "epochs"),
    ((X3, Y3), {"batch_size": 0}, "batch_size"),
    ((X3, Y3), {"batch_size": 2.5}, "batch_size"),
    ((X3, Y3), {"validation_split": 1.0}, "validation_split"),
    ((X3, Y3), {"validation_split": 0.95}, "no training samples"),
    ((X3, Y3), {"validation_data": (X3, Y3[:5])}, "same number"),
    ((X3, Y3), {"validation_data": X3}, "pair"),
    ((X3, Y3), {"verbose": 3}, "verbose"),
    ((X3, Y3), {"callbacks": [print]}, "Callback"),
    ((X3, Y3), {"callbacks": EarlyStopping("loss")}, r"write callbacks=\[\.\.\.\]"),
    ((X3, Y3), {"shuffle": "no"}, "shuffle must be True or False; got 'no'"),
    ((X3, Y3), {"callbacks": [EarlyStopping("val_loss")]}, "validation_split"),
])
def test_bad_fit_input_raises_before_any_change(args, kwargs, fragment):
    model = compiled_model()
    before = snapshot(model)
    with pytest.raises(ValueError, match=fragment):
        model.fit(*args, **kwargs)
    assert_same_weights(model, before)
    assert model.optimizer.iterations == 0


def test_metric_that_cannot_use_the_targets_fails_up_front():
    X, y = regression_data(10)
    model = nl.Sequential([Dense(3, 1)])
    model.compile("mse", metrics=["accuracy"])
    before = snapshot(model)
    with pytest.raises(ValueError, match="metric 'accuracy'"):
        model.fit(X, y)
    assert_same_weights(model, before)


def test_one_layer_for_a_list_flags_and_odd_metrics_are_clear_errors():
    with pytest.raises(ValueError, match=r"a list of layers; got one layer.*Sequential\(\["):
        nl.Sequential(Dense(2, 1))
    model = compiled_model()
    with pytest.raises(ValueError, match="training must be True or False"):
        model.forward(X3, training="no")
    with pytest.raises(ValueError, match="return_dict must be True or False"):
        model.evaluate(X3, Y3, return_dict="no")
    model.compile("sparse_categorical_crossentropy", metrics=[nl.metrics.confusion_matrix])
    with pytest.raises(ValueError, match=r"'confusion_matrix'.*one number"):
        model.fit(X3, Y3)


def test_bad_train_step_evaluate_predict_input():
    model = compiled_model()
    before = snapshot(model)
    for call, match in ((lambda: model.train_step(X3, Y3 + 5), r"labels must be integers in "
                                                               r"\[0, 2\] for 3 outputs; got 5$"),
                        (lambda: model.evaluate(X3, Y3[:3]), r"got shapes \(12, 3\) and \(3,\)$"),
                        (lambda: model.predict(X3[:, :2]), r"\(batch, 3\); got shape \(12, 2\)$"),
                        (lambda: model.predict(X3, batch_size=0),
                         r"^batch_size must be in \[1, inf\); got 0$")):
        with pytest.raises(ValueError, match=match):
            call()
    assert_same_weights(model, before)


def test_fit_takes_everything_after_the_data_by_name():
    # Keras's fit(X, y, 32, 10) is batch_size 32, 10 epochs; here it trained 32 epochs of 10.
    model = compiled_model()
    with pytest.raises(TypeError):
        model.fit(X3, Y3, 32, 10)
    with pytest.raises(TypeError):   # Keras's evaluate(X, y, 32, 0): the 0 is verbose
        model.evaluate(X3, Y3, 32, False)


def test_predict_of_a_bare_number_in_batches_is_a_clear_error():
    with pytest.raises(ValueError, match="single number"):   # was a TypeError from len()
        compiled_model().predict(5.0, batch_size=2)


def test_fit_before_compile_is_a_clear_error():
    model = mlp()
    with pytest.raises(NotCompiledError, match="compile"):
        model.fit(np.zeros((4, 2)), np.zeros(4))
    assert issubclass(NotCompiledError, RuntimeError) and issubclass(NotCompiledError, ValueError)
    with pytest.raises(NotCompiledError):
        model.evaluate(np.zeros((4, 2)), np.zeros(4))


def test_a_metric_called_as_a_log_of_the_loss_is_refused():
    def loss(y_true, y_pred):
        return 123.0

    with pytest.raises(ValueError, match="two metrics are called 'loss'"):
        mlp().compile("mse", "sgd", metrics=[loss])
    loss.__name__ = "val_score"
    with pytest.raises(ValueError, match="two metrics are called 'val_score'"):
        mlp().compile("mse", "sgd", metrics=[loss])


def test_two_metrics_of_one_name_are_refused():
    def score(y_true, y_pred):
        return 1.0

    def other(y_true, y_pred):
        return 2.0

    other.__name__ = "score"
    with pytest.raises(ValueError, match="two metrics are called 'score'"):
        mlp().compile("mse", "sgd", metrics=[score, other])


def test_compile_resolves_names_and_rejects_unknown_ones():
    model = mlp()
    model.compile("sparse_categorical_crossentropy", "adam", metrics=["acc", "mse"])
    assert isinstance(model.loss, nl.losses.CategoricalCrossEntropy)
    assert isinstance(model.optimizer, nl.optimizers.Adam)
    assert list(model.metrics) == ["acc", "mse"]
    for kwargs in ({"loss": "mse_loss"}, {"loss": "mse", "optimizer": "sgd_momentum"},
                   {"loss": "mse", "metrics": ["f1"]}):
        with pytest.raises(ValueError, match="valid names"):
            model.compile(**kwargs)
    assert isinstance(model.loss, nl.losses.CategoricalCrossEntropy)  # unchanged


def test_activation_parameters_are_checked():
    with pytest.raises(ValueError, match=r"'relu' takes no parameters; got alpha$"):
        Activation("relu", alpha=0.1)
    with pytest.raises(ValueError, match=r"takes the parameters \['alpha'\]; got \['slope'\]"):
        Activation("leaky_relu", slope=0.1)
    with pytest.raises(ValueError, match="already holds its parameters"):
        Activation(nl.activations.ELU(2.0), alpha=1.0)

    class Scaled(nl.activations.ActivationFunction):   # a parameter without a default:
        name = "scaled"                                 # building one to list them failed

        def __init__(self, k):
            self.k = k

    with pytest.raises(ValueError, match="already holds its parameters"):
        Activation(Scaled(2.0), k=1.0)
    with pytest.raises(ValueError, match="alpha"):
        Activation("elu", alpha=float("nan"))


def test_the_model_still_rejects_nan_input():
    model = nl.Sequential([nl.Dense(2, 2), nl.Activation("relu")])
    with pytest.raises(ValueError, match="NaN"):
        model.predict(np.array([[np.nan, 1.0]]))


def test_a_float32_model_refuses_input_beyond_float32s_range_without_a_warning():
    # Cast first, checked after, 1e39 became inf: numpy warned of an overflow in the cast,
    # then the error called the finite input NaN or infinite.
    model = nl.Sequential([nl.Dense(2, 1, rng=0, dtype="float32")])
    model.compile("mse", "sgd")
    X = np.array([[1e39, 0.0], [-1e40, 1.0]])
    beyond = r"X holds 2 value\(s\) beyond float32's range \(its largest number is " \
             r"3\.4028235e\+38\), up to 1e\+40"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in (lambda: model.predict(X), lambda: model.fit(X, np.zeros(2))):
            with pytest.raises(ValueError, match=beyond):
                call()
        with pytest.raises(ValueError, match="model input holds 2 value"):
            model.forward(X)
        with pytest.raises(ValueError, match="X contains 1 NaN or infinite value"):
            model.predict(np.array([[1e39, np.nan]]))
        assert model.predict(X.clip(-3e38, 3e38)).dtype == np.float32
    assert nl.Sequential([nl.Dense(2, 1, rng=0)]).predict(X).dtype == np.float64


@pytest.mark.parametrize("make", [lambda v: nl.optimizers.SGD(v), lambda v: nl.Dropout(v)],
                         ids=["SGD lr", "Dropout rate"])
@pytest.mark.parametrize("value", [10**400, -(10**400), Fraction(10**400, 3)],
                         ids=["10**400", "-10**400", "Fraction"])
def test_a_number_too_large_for_a_float_is_refused_by_name(make, value):
    # np.isfinite has no loop for such an int or a Fraction: a TypeError named neither.
    with pytest.raises(ValueError, match=r"(SGD lr|Dropout rate) must fit in a float, at most "
                                         r"1\.79769e\+308 in size; got a larger number"):
        make(value)


def test_summary_checks_that_the_layers_fit_together():
    from nnlab.summary import summary_table

    with pytest.raises(ValueError, match=r"expected samples of shape \(10,\); got \(64,\)"):
        summary_table([nl.Flatten(), nl.Dense(10, 2)], (1, 8, 8))
    with pytest.raises(ValueError, match=r"BatchNorm.*expected samples of shape \(5, ...\)"):
        summary_table([nl.Flatten(), nl.Dense(64, 2), nl.BatchNorm(5)], (1, 8, 8))
    with pytest.raises(ValueError, match=r"input_shape must be a tuple of positive integers"
                                         r".*; got \(3, 0\)"):
        summary_table([nl.Dense(3, 2)], (3, 0))
    with pytest.raises(ValueError, match=r"input_shape must be a tuple.*; got '3'"):
        summary_table([nl.Dense(3, 2)], "3")


def test_a_failed_forward_pass_leaves_summary_working():
    model = nl.Sequential([nl.Dense(3, 2)])
    model.summary()
    with pytest.raises(ValueError, match=r"expected input of shape \(batch, 3\)"):
        model.predict(np.zeros((2, 4)))
    model.summary()   # the shape of the last pass that went through, or none
    model.predict(np.zeros((2, 3)))
    assert model._sample_shape == (3,)


def test_a_single_number_in_training_is_the_same_clear_error_as_in_evaluation():
    model = nl.Sequential([nl.Dense(3, 2)])
    for training in (False, True):
        with pytest.raises(ValueError, match=r"takes a batch.*got a single number"):
            model.forward(3.0, training=training)


def test_sequential_refuses_one_layer_object_in_two_places():
    dense = Dense(3, 3, rng=0)
    with pytest.raises(ValueError, match=r"Sequential: the same layer object Dense\(.*\) "
                                         r"appears twice.*use a new Dense"):
        nl.Sequential([dense, Activation("relu"), dense])
    model = nl.Sequential([dense, Activation("relu")])
    with pytest.raises(ValueError, match="appears twice"):
        model.add(dense)
    with pytest.raises(ValueError, match="appears twice"):
        model.add(nl.Residual(Dense(3, 3), dense))
    assert len(model.layers) == 2
    model.add(Dense(3, 3))   # a new layer of the same settings is fine


@pytest.mark.parametrize("edit", [
    lambda layers, new: layers.append(new),
    lambda layers, new: layers.insert(0, new),
    lambda layers, new: layers.extend(x for x in [new]),
    lambda layers, new: layers.__iadd__([new]),
    lambda layers, new: layers.__setitem__(0, new),
    lambda layers, new: layers.__setitem__(slice(0, 1), iter([new])),
])
@pytest.mark.parametrize("where", ["model", "block"])
def test_an_edit_of_the_layers_list_is_checked_as_add_is(edit, where):
    # model.layers is a list, open to edits: a tanh appended a second time overwrote its own
    # cache, and the gradients were wrong by 0.2 without a word.
    tanh = Activation("tanh")
    block = nl.Residual(Dense(2, 2, rng=2), Activation("relu"))
    model = nl.Sequential([Dense(2, 2, rng=0), tanh, block, Dense(2, 1, rng=1)])
    layers, owner = (model.layers, "Sequential") if where == "model" else (block.layers,
                                                                           "Residual")
    before = list(layers)
    new = tanh if where == "model" else block.layers[1]
    with pytest.raises(ValueError, match=rf"{owner}: the same layer object Activation\(name="
                                         r"'(tanh|relu)'\) appears twice"):
        edit(layers, new)
    with pytest.raises(ValueError, match=f"{owner} takes nnlab layers; got str"):
        edit(layers, "relu")
    assert list(layers) == before and isinstance(layers, list)
    edit(layers, Activation("tanh"))   # a new layer is welcome
    model.compile(loss="mse", optimizer="sgd")
    assert nl.gradcheck.check(model, np.random.default_rng(0).normal(size=(4, 2))) < 1e-6


def test_the_in_place_operators_of_the_layers_list_check_and_keep_the_list():
    model = nl.Sequential([Dense(2, 2, rng=0)])
    layers = model.layers
    with pytest.raises(ValueError, match="appears twice"):
        model.layers *= 2
    model.layers += [Activation("relu")]
    assert model.layers is layers and len(layers) == 2


def test_a_models_layers_set_anew_are_checked_and_copies_keep_the_check():
    dense = Dense(2, 2, rng=0)
    model = nl.Sequential([dense])
    with pytest.raises(ValueError, match="appears twice"):
        model.layers = [dense, Activation("relu"), dense]
    model.layers = (dense, Activation("relu"))   # any sequence of distinct layers
    assert len(model.layers) == 2 and isinstance(model.layers, list)
    twin = copy.deepcopy(model)
    with pytest.raises(ValueError, match="appears twice"):
        twin.layers.append(twin.layers[0])
    assert twin.layers[0] is not dense and len(twin.layers) == 2


def test_a_fault_of_the_validation_targets_names_y_val():
    X, y = regression_data()
    model = mlp(n_in=3)
    model.compile("binary_crossentropy", "sgd")
    labels = (y > 0).astype(float)
    with pytest.raises(ValueError, match=r"^y_val: .*y_true must be in \[0, 1\]"):
        model.fit(X, labels, epochs=1, validation_data=(X[:10], np.full(10, 2.0)))
    with pytest.raises(ValueError, match=r"^y_val: "):
        model.fit(X, labels, epochs=1, validation_data=(X[:10], np.zeros((10, 3))))
    with pytest.raises(ValueError, match=r"^y: "):
        model.fit(X, np.full(len(X), 2.0), epochs=1)


@pytest.mark.parametrize("call", ["predict", "predict in batches", "evaluate", "fit",
                                  "train_step", "validation"])
def test_a_1d_x_is_refused_with_the_reshape_that_fits_the_model(call):
    # The message said "expected input of shape (batch, 1); got shape (4,)" and no more:
    # neither that X needs a second axis nor which one. (Keras takes a 1-D X as samples of
    # one feature, in silence, and refuses it for more, without a fix.)
    def run(model, X):
        y = np.zeros((len(X), 1))
        return {"predict": lambda: model.predict(X),
                "predict in batches": lambda: model.predict(X, batch_size=2),
                "evaluate": lambda: model.evaluate(X, y),
                "fit": lambda: model.fit(X, y),
                "train_step": lambda: model.train_step(X, y),
                "validation": lambda: model.fit(np.zeros((4, model.layers[0].n_in)),
                                                np.zeros((4, 1)), validation_data=(X, y)),
                }[call]()

    name = "X_val" if call == "validation" else "xb" if call == "train_step" else "X"
    for n_in, fix in ((1, rf"{name}\.reshape\(-1, 1\) for 4 samples of one feature$"),
                      (4, rf"{name}\[None\] for one sample of 4 features$")):
        model = nl.Sequential([Dense(n_in, 1, rng=0)])
        model.compile("mse", "sgd")
        with pytest.raises(ValueError, match=rf"^{name} of shape \(4,\) does not fit the model"
                                             rf".* expected input of shape \(batch, {n_in}\); "
                                             rf"got shape \(\d,\)\. {name} has one axis, and the "
                                             rf"model takes a batch, one sample per row: write "
                                             + fix):
            run(model, np.arange(4.0))
    model = nl.Sequential([Dense(3, 1, rng=0)])
    model.compile("mse", "sgd")
    with pytest.raises(ValueError, match=rf"one sample per row; neither {name}\.reshape\(-1, "
                                         rf"1\) nor {name}\[None\] fits it$"):
        run(model, np.arange(4.0))
    model = nl.Sequential([Dense(1, 1, rng=0)])   # one number fits either way
    with pytest.raises(ValueError, match=r"write X\.reshape\(-1, 1\) for 1 sample of one "
                                         r"feature, or X\[None\] for one sample of 1 feature$"):
        model.predict([2.0])


def test_the_hint_for_a_1d_x_leaves_the_other_errors_as_they_were():
    model = nl.Sequential([Dense(1, 1, rng=0)])
    model.compile("mse", "sgd")
    with pytest.raises(ValueError, match=r"^Dense.*expected input of shape \(batch, 1\); got "
                                         r"shape \(4, 2\)$"):
        model.predict(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"^batch_size must be in \[1, inf\); got 0$"):
        model.predict(np.zeros(4), batch_size=0)
    with pytest.raises(ValueError, match="takes a batch, an array whose first axis runs over"):
        model.predict(2.0)
    tanh = nl.Sequential([Activation("tanh")])   # a model that takes any shape takes 1-D too
    np.testing.assert_array_equal(tanh.predict(np.zeros(3)), np.zeros(3))


def test_a_layer_shared_between_a_block_and_its_model_is_refused_before_any_pass():
    # A block's list cannot see the model around it: the tanh appended to the block was
    # taken, and the gradients were wrong by 0.26.
    tanh, block = Activation("tanh"), nl.Residual(Dense(2, 2, rng=0))
    model = nl.Sequential([Dense(2, 2, rng=1), tanh, block, Dense(2, 1, rng=2)])
    model.compile(loss="mse", optimizer="sgd")
    block.layers.append(tanh)
    X, y = np.ones((4, 2)), np.zeros((4, 1))
    for run in (lambda: model.fit(X, y, verbose=0), lambda: model.predict(X),
                lambda: model.evaluate(X, y), lambda: nl.gradcheck.check(model, X)):
        with pytest.raises(ValueError, match=r"^Sequential: the same layer object Activation"):
            run()


def test_models_and_blocks_pickle_and_keep_their_checked_lists():
    block = nl.Residual(Dense(2, 2, rng=0), Activation("relu"))
    model = nl.Sequential([Dense(2, 2, rng=1), block])
    twin = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(twin.predict(np.ones((1, 2))), model.predict(np.ones((1, 2))))
    with pytest.raises(ValueError, match="Residual: the same layer object"):
        twin.layers[1].layers.append(twin.layers[1].layers[0])


def test_a_blocks_layers_set_anew_are_checked_and_an_emptied_block_says_so():
    dense = Dense(2, 2, rng=0)
    block = nl.Residual(dense)
    with pytest.raises(ValueError, match="Residual: the same layer object"):
        block.layers = [dense, dense]
    with pytest.raises(ValueError, match=r"Sequential.layers must be a list or tuple of "
                                         r"layers; got one layer, Dense"):
        nl.Sequential([dense]).layers = Dense(2, 2)
    block.layers.clear()
    with pytest.raises(ValueError, match=r"Residual\(\) has no layers left"):
        block.forward(np.ones((1, 2)))
