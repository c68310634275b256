"""The pure functions behind the explorers, without any widget."""

import inspect
import itertools
import warnings

import numpy as np
import pytest

from nnlab import diagnostics, examples, explore, explorer_figures, playground, surfaces
from tests.helpers import numeric_grad, rel_error


@pytest.mark.parametrize("name", surfaces.NAMES)
def test_surface_gradients_are_exact(name):
    s = surfaces.get(name)
    p = np.array([0.3, -0.7])
    numeric = numeric_grad(lambda: float(s.f(p)), p)
    assert rel_error(s.grad(p), numeric) < 1e-6


def test_descend_stops_a_diverging_run():
    path = surfaces.descend(lambda p: 2 * p, [1.0], surfaces.make_optimizer("SGD", 5.0), 100)
    assert len(path) < 101 and np.all(np.isfinite(path))


def test_descend_rejects_a_gradient_of_the_wrong_shape():
    with pytest.raises(ValueError, match=r"gradient has shape \(2,\), the point has shape \(1,\)"):
        surfaces.descend(lambda p: np.ones(2), [1.0], surfaces.make_optimizer("SGD", 0.1), 3)


@pytest.mark.parametrize("kwargs,match", [
    ({"limit": np.nan}, "limit must be finite"),
    ({"limit": 0}, r"limit must be in \(0, inf\); got 0"),
    ({"limit": -1}, r"limit must be in \(0, inf\); got -1"),
    ({"optimizer": None}, "optimizer must be an nnlab optimizer, such as .*; got None"),
    ({"start": [np.nan, 1.0]}, r"start must be finite; got \[nan, 1.0\]"),
    ({"start": [np.inf, 1.0]}, r"start must be finite; got \[inf, 1.0\]"),
    ({"start": 1.0}, r"start must be 1-D; got a 0-D array"),
    ({"start": "here"}, "start must be a numeric array"),
    ({"grad": None}, "grad must be a function of the point; got None"),
])
def test_descend_refuses_bad_arguments(kwargs, match):
    # A bad limit or start gave a one-point path that diverged() called diverged; no
    # optimizer an AttributeError; a scalar start a 1-D path.
    args = {"grad": lambda p: 2 * p, "start": [1.0, 2.0],
            "optimizer": surfaces.make_optimizer("SGD", 0.1), "steps": 3, **kwargs}
    with pytest.raises(ValueError, match=match):
        surfaces.descend(**args)


def test_descend_leaves_the_start_as_it_was():
    start = np.array([1.0, -2.0])
    path = surfaces.descend(lambda p: 2 * p, start, surfaces.make_optimizer("SGD", 0.1), 3)
    assert np.array_equal(start, [1.0, -2.0]) and path.shape == (4, 2)


def test_diverged_refuses_bad_arguments():
    path = np.zeros((4, 2))
    assert not surfaces.diverged(path, 3)
    for limit in (0, -1.0, np.nan):
        with pytest.raises(ValueError, match="limit must be"):
            surfaces.diverged(path, 3, limit)
    with pytest.raises(ValueError, match="steps must be"):
        surfaces.diverged(path, -1)
    with pytest.raises(ValueError, match=r"path must be the points of descend, one row each; "
                                         r"got shape \(4,\)"):
        surfaces.diverged(np.zeros(4), 3)


@pytest.mark.parametrize("p,moments,match", [
    (np.ones(3), np.eye(3), r"p must hold \(w, b\) on its last axis, of length 2; got shape "
                            r"\(3,\)"),
    (1.0, np.eye(3), r"got shape \(\)"),
    (np.ones(2), np.eye(2), r"moments must be the 3x3 moments of \(x, 1, y\); got shape "
                            r"\(2, 2\)"),
    (np.ones(2), [["a"] * 3] * 3, "moments must be a numeric array"),
])
def test_line_fit_loss_refuses_bad_shapes(p, moments, match):
    # They failed inside einsum, with a broadcasting error that named neither argument.
    with pytest.raises(ValueError, match=match):
        surfaces.line_fit_loss(p, moments)


def test_line_fit_loss_is_inf_or_nan_along_a_diverged_path():
    with np.errstate(over="ignore", invalid="ignore"):
        losses = surfaces.line_fit_loss([[1e200, 0.0], [np.nan, 0.0]], np.eye(3))
    assert np.isinf(losses[0]) and np.isnan(losses[1])


def test_descend_updates_as_the_optimizer_steps():
    path = surfaces.descend(lambda p: 2 * p, [1.0, -2.0], surfaces.make_optimizer("Adam", 0.1), 5)
    p, adam = np.array([1.0, -2.0]), surfaces.make_optimizer("Adam", 0.1)
    for expected in path[1:]:
        adam.step([p], [2 * p])
        np.testing.assert_array_equal(p, expected)


def test_race_runs_each_optimizer_once():
    with pytest.raises(ValueError, match=r"races once; got \['SGD', 'Adam', 'SGD'\]"):
        surfaces.race("bowl", ["SGD", "Adam", "SGD"])


def test_race_takes_names_in_any_case_as_display_names():
    with pytest.raises(ValueError, match=r"races once; got \['Adam', 'adam'\]"):
        surfaces.race("bowl", ["Adam", "adam"])
    assert list(surfaces.race("bowl", ["adam", "sgd"], steps=3)) == ["Adam", "SGD"]
    s = explore.optimizer_race(["adam", "nesterov"], lr=0.01, steps=20)
    assert s["names"] == list(s["paths"]) == list(s["final"]) == ["Adam", "Nesterov"]
    explorer_figures.optimizer_race(s)   # the figure's colors are keyed by display name


def test_race_reaches_the_minimum_with_momentum():
    paths = surfaces.race("bowl", ["momentum"], lr=0.02, steps=300)
    assert surfaces.get("bowl").f(paths["momentum"][-1]) < 1e-6


def test_perceptron_state_and_vertical_line():
    s = explore.perceptron(1.0, 0.0, -0.5, "or")
    assert s["slope"] is None and s["predictions"] == [0, 0, 1, 1]


@pytest.mark.parametrize("weights", [(0.1, 0.2, -0.3), (0.4, 0.2, -0.6), (-3.0, 2.1, 0.9)])
def test_a_point_on_the_line_does_not_fire_though_tenths_do_not_add_up(weights):
    # w1 + w2 + b is 0 in tenths, 5.6e-17 in floating point for the first: the line runs
    # through (1, 1), and the unit fires only where the sum is above 0.
    s = explore.perceptron(*weights, "and")
    assert s["predictions"][3] == 0 and s["errors"] == 1 + sum(s["predictions"][:3])


def test_activation_refuses_nan_and_draws_an_overflowing_slope_without_a_warning():
    with pytest.raises(ValueError, match="x contains 1 NaN"):
        explore.activation("relu", x=[np.nan, 1.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        slope = explore.activation("exponential", weight=2.0, x=[5000.0])["derivative"]
    assert slope == [np.inf]


def test_activation_slope_includes_the_weight():
    s = explore.activation("tanh", weight=3.0, bias=0.0, x=np.array([0.0]))
    assert s["derivative"] == [3.0]


def test_the_static_page_offers_the_lecture_activations_in_the_order_of_names():
    from nnlab import activations

    lecture = explore.LECTURE_ACTIVATIONS
    assert lecture == tuple(n for n in activations.NAMES if n in lecture)
    # The functions of recent architectures are live only: their frames would swell the page.
    later = {n for n in activations.NAMES
             if type(activations.get(n)).__module__ == "nnlab.modern_activations"}
    assert later == {"swish", "gelu", "relu6", "hard_sigmoid", "hard_silu", "mish"}
    assert set(lecture) == set(activations.NAMES) - later


def test_softmax_neuron_is_the_first_output_over_the_score_and_zero_and_says_so():
    from nnlab import activations

    x = np.array([-2.0, 0.5, 3.0])
    s = explore.activation("softmax", weight=1.5, bias=-0.5, x=x)
    z = 1.5 * x - 0.5
    first = activations.softmax(np.stack([z, np.zeros(3)], axis=1))[:, 0]
    np.testing.assert_allclose(s["output"], first, rtol=1e-12)
    fig = explorer_figures.activation(s)
    assert fig.axes[0].get_title().startswith("softmax(wx+b, 0),")


@pytest.mark.parametrize("name", explore.LOSSES)
def test_loss_gradient_is_the_slope_of_the_curve(name):
    _, (lo, hi), labels = explore.LOSSES[name]
    h = 1e-6
    # Points inside the range, none at a kink of a hinge (scores -1, 0, 1 and 2).
    for prediction, label in itertools.product(lo + (hi - lo) * np.array([0.13, 0.41, 0.77]),
                                               labels):
        s = explore.loss(name, prediction, label)
        up = explore.loss(name, prediction + h, label)["loss"]
        down = explore.loss(name, prediction - h, label)["loss"]
        assert s["gradient"] == pytest.approx((up - down) / (2 * h), rel=1e-5), (prediction,
                                                                                label)
        # The curves drawn hold the same values as the point, at every point of the grid.
        for i in (0, 150, 299):
            there = explore.loss(name, s["grid"][i], label)
            assert (s["curve"][i], s["slope"][i]) == pytest.approx(
                (there["loss"], there["gradient"]), rel=1e-12, abs=1e-15)


def test_loss_labels_are_checked():
    with pytest.raises(ValueError, match="labels"):
        explore.loss("hinge", 0.2, 0)
    with pytest.raises(ValueError, match="labels"):
        explore.loss("multiclass hinge", 0.2, 2)


THREE_CLASS_CASES = list(itertools.product((-2.5, 0.4, 1.5, 2.7), (0, 1)))


@pytest.mark.parametrize(("score", "label"), THREE_CLASS_CASES)
def test_three_class_losses_follow_pytorch_conventions(score, label):
    # PyTorch's cross_entropy takes logits: -z_y + log sum_j e^(z_j), gradient softmax - y.
    # Its multi_margin_loss divides the hinge sum by the number of classes; nnlab's
    # multiclass hinge (the chapter's formula) does not: it is three times PyTorch's.
    z = np.array([1.0, score, 0.0])
    ce = explore.loss("categorical cross-entropy", score, label)
    softmax = np.exp(z) / np.exp(z).sum()
    assert ce["y_pred"] == z.tolist()
    assert ce["loss"] == pytest.approx(-z[label] + np.log(np.exp(z).sum()), rel=1e-12)
    assert ce["gradient"] == pytest.approx(softmax[1] - (label == 1), rel=1e-12)
    svm = explore.loss("multiclass hinge", score, label)
    margins = np.array([max(0.0, 1 - z[label] + z[j]) for j in range(3) if j != label])
    mean_over_classes = margins.sum() / 3   # PyTorch's multi_margin_loss
    assert svm["loss"] == pytest.approx(3 * mean_over_classes, rel=1e-12)
    # The moved score is the true class's (label 1): -1 for each margin it misses; a wrong
    # class's (label 0): +1 if its own margin (j = 1, the first term) is missed.
    expected = -float(np.sum(margins > 0)) if label == 1 else float(margins[0] > 0)
    assert svm["gradient"] == expected


@pytest.mark.parametrize(("score", "label"), THREE_CLASS_CASES)
def test_three_class_losses_against_pytorch(score, label):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    for name, fn, classes in [("categorical cross-entropy", F.cross_entropy, 1),
                              ("multiclass hinge", F.multi_margin_loss, 3)]:
        z = torch.tensor([[1.0, score, 0.0]], dtype=torch.float64, requires_grad=True)
        value = fn(z, torch.tensor([label]))
        value.backward()
        s = explore.loss(name, score, label)
        assert s["loss"] == pytest.approx(classes * value.item(), rel=1e-12), name
        assert s["gradient"] == pytest.approx(classes * z.grad[0, 1].item(), rel=1e-12), name


def test_learning_rate_converges_to_the_least_squares_fit():
    s = explore.learning_rate(lr=0.3, steps=200)
    x, y = explore.regression_problem()
    w, b = np.polyfit(x, y, 1)
    np.testing.assert_allclose(s["path"][-1], [w, b], atol=1e-3)
    assert not s["diverged"] and s["warning"] == ""


def test_a_race_that_leaves_the_region_on_its_last_step_has_diverged():
    # The last step went past the limit: the path is complete but its end is not a result.
    s = explore.optimizer_race(["momentum"], lr=10 ** (-4 + 0.05 * 27), surface="rosenbrock",
                               steps=10)
    assert len(s["paths"]["momentum"]) == 11 and s["diverged"] == ["momentum"]
    assert s["warning"] == "Diverged: momentum."


@pytest.mark.parametrize("lr, steps, batch_size", [(10 ** 0.1, 10, 200), (1.05, 30, 200),
                                                   (0.9, 10, 1), (1.0, 30, 200)])
def test_a_loss_that_grows_is_divergence_before_it_overflows(lr, steps, batch_size):
    s = explore.learning_rate(lr=lr, steps=steps, batch_size=batch_size)
    assert s["diverged"] and s["warning"].startswith(f"Diverged: with learning rate {lr:.3g}")
    assert max(np.abs(s["path"][-1])) < surfaces.LIMIT


def test_full_batch_steps_are_stable_exactly_below_two_over_the_largest_curvature():
    bound = explore.learning_rate()["stable_below"]
    x, _ = explore.regression_problem()
    hessian = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    assert bound == pytest.approx(2 / np.linalg.eigvalsh(hessian).max())
    below = explore.learning_rate(lr=0.97 * bound, steps=100)
    assert not below["diverged"] and below["final_loss"] < below["losses"][0]
    above = explore.learning_rate(lr=1.01 * bound, steps=100)
    assert above["diverged"] and "stable below" in above["warning"]


def test_mini_batches_are_noisy_but_seeded():
    a = explore.learning_rate(lr=0.1, batch_size=10)
    b = explore.learning_rate(lr=0.1, batch_size=10)
    assert a["path"] == b["path"]
    assert a["path"] != explore.learning_rate(lr=0.1, batch_size=200)["path"]


def test_backprop_factors_multiply_to_the_gradient():
    for weight in explore.BACKPROP_WEIGHTS:
        s = explore.backprop(weight)
        assert s["product"] == pytest.approx(s["gradient"], abs=1e-12)
        assert s["gradient"] == pytest.approx(s["numerical"], abs=1e-8)


def test_backprop_curve_stays_put_while_the_value_moves():
    low, high = explore.BACKPROP_RANGE
    for weight in explore.BACKPROP_WEIGHTS:
        at_lecture = explore.backprop(weight)
        assert at_lecture["value"] == at_lecture["lecture"] == explore.lecture_weight(weight)
        for value in (low, high):
            moved = explore.backprop(weight, value)
            assert moved["grid"] == at_lecture["grid"] and moved["curve"] == at_lecture["curve"]
            assert moved["lecture"] == at_lecture["lecture"]
        assert at_lecture["grid"][0] == low < at_lecture["lecture"] < high == at_lecture["grid"][-1]


@pytest.mark.parametrize("activation, flat", [
    ("tanh", lambda a: np.abs(a) > 0.99),
    ("sigmoid", lambda a: (a < 0.01) | (a > 0.99)),   # counted only the top end
    ("relu", lambda a: a == 0),                       # counted large outputs
])
def test_initialization_counts_the_activations_where_their_function_is_flat(activation, flat):
    s = explore.initialization("normal", scale=3.0, depth=3, activation=activation, width=32)
    assert s["saturated"] == pytest.approx([np.mean(flat(v)) for v in s["values"]])
    assert explore.initialization(activation="linear", depth=2)["saturated"] == [0.0, 0.0]
    assert explore.initialization(activation="elu", depth=2)["saturated"] is None


def test_the_explorers_input_is_not_the_weights_numbers_again():
    # A generator of its own with the weights' seed drew the input: with N(0, 1) weights,
    # the first 32 samples were the first layer's weight matrix.
    s = explore.initialization("normal", depth=1, activation="linear", width=32)
    W = diagnostics.deep_mlp(1, 32, n_in=32, activation="linear", init="normal",
                             rng=0).layers[0].params["W"]
    first = np.random.default_rng(0).normal(size=(32, 32))
    assert np.array_equal(W, first)   # what the input was
    assert not np.allclose(s["values"][0][:32], first @ W)
    # The input is drawn first: the depth slider does not change what layer 1 sees.
    shallow, deep = (explore.initialization(depth=d)["values"][0] for d in (2, 6))
    np.testing.assert_array_equal(shallow, deep)


def test_gradient_flow_reports_the_output_layer_and_the_extremes():
    s = explore.gradient_flow(depth=30, activation="relu", init_scale=10.0)
    assert len(s["norms"]) == 31   # 30 hidden layers, then the output layer
    assert s["ratio"] == s["norms"][0] / s["norms"][-1]
    assert (s["smallest"], s["largest"]) == (min(s["norms"]), max(s["norms"]))
    assert s["warning"].startswith("Exploding") and s["smallest"] > 1e8


def test_gradient_flow_remedies():
    plain = explore.gradient_flow(depth=15, activation="sigmoid")
    assert plain["warning"].startswith("Vanishing")
    assert explore.gradient_flow(depth=15, activation="sigmoid", batchnorm=True)["warning"] == ""


def test_kernel_blur_preserves_the_mean_inside():
    s = explore.kernel("blur", digit=5)
    assert s["feature_map"].shape == (8, 8) and s["pooled"].shape == (4, 4)
    assert s["feature_map"][3, 3] == pytest.approx(s["image"][2:5, 2:5].mean())
    with pytest.raises(ValueError, match="3x3"):
        explore.kernel(np.ones((2, 2)))


def test_playground_data_and_model():
    X_train, X_test, y_train, _ = playground.playground_data("spirals", train_ratio=0.5, n=100)
    assert X_train.shape == (50, 2) and set(y_train) == {0, 1}
    model = playground.playground_model(hidden_layers=3, units=5)
    assert model.predict(X_test).shape == (50, 1)


def test_playground_data_is_scaled_by_its_training_part_alone():
    # Standardized before the split, the test points' statistics shaped the training inputs.
    X_train, X_test, _, _ = playground.playground_data("moons", noise=0.3, train_ratio=0.2)
    np.testing.assert_allclose(X_train.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(X_train.std(axis=0), 1)
    assert np.abs(X_test.mean(axis=0)).max() > 0.01


@pytest.mark.parametrize("call, match", [
    (lambda: explore.backprop(window=(1,)), r"pair \(low, high\)"),
    (lambda: explore.backprop(window=(2, 1)), "low < high"),
    (lambda: explore.learning_rate(steps=10**6), r"steps must be in \[1, 1000\]"),
    (lambda: explore.learning_rate(lr=-0.1), "lr"),
    (lambda: explore.loss(prediction="0.5"),
     "prediction of binary cross-entropy must be a real number"),
    (lambda: explore.loss("squared error", 10.0), r"error must be in \[-2.0, 3.0\]; got 10"),
    (lambda: explore.loss(prediction=1.0), r"cross-entropy must be in \[0.001, 0.999\]; got 1.0"),
    (lambda: playground.playground_data(train_ratio=1.0), r"train_ratio must be in \(0, 1\)"),
    # "n_samples must be in [1, inf)": the data set's name for it, not the caller's.
    (lambda: playground.playground_data(n=0), r"^n must be in \[4, inf\); got 0$"),
])
def test_explore_functions_check_their_arguments(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_forward_defaults_to_the_lecture_weights_as_plain_floats():
    # Python floats: the API page shows forward(w00=0.2, ...), not w00=np.float64(0.2).
    defaults = [p.default for p in inspect.signature(explore.forward).parameters.values()]
    assert all(type(d) is float for d in defaults)
    assert defaults == examples.W1_LECTURE.ravel().tolist()


def test_gradient_flow_draws_the_data_then_the_weights_from_one_generator():
    # With a generator of its own, the weights repeated the data's numbers.
    s = explore.gradient_flow(depth=3, activation="tanh", seed=4)
    rng = np.random.default_rng(4)
    X = rng.normal(size=(64, 2))
    y = (X[:, :1] * X[:, 1:] > 0).astype(float)
    model = diagnostics.deep_mlp(3, 32, activation="tanh", init="glorot_uniform", rng=rng)
    np.testing.assert_array_equal(s["norms"], diagnostics.gradient_norms(model, X, y))


def test_a_full_batch_rate_at_the_bound_neither_diverges_nor_converges():
    # At 2 / (largest curvature) the steepest direction's steps keep their size.
    bound = explore.learning_rate()["stable_below"]
    s = explore.learning_rate(lr=bound, steps=100)
    assert not s["diverged"] and s["warning"].startswith("No convergence")
    assert 0.5 * s["losses"][0] < s["final_loss"] < s["losses"][0]   # no growth, no settling
    assert explore.learning_rate(lr=bound * 1.01, steps=100)["diverged"]


def test_a_mini_batch_divergence_says_the_bound_is_for_full_batches():
    s = explore.learning_rate(lr=0.9, batch_size=1)
    assert s["diverged"] and "batches of 1" in s["warning"]
    assert "full-batch steps are stable below" in s["warning"]


def test_backprop_computes_the_loss_curve_once_per_weight():
    explore._loss.cache_clear()
    first = explore.backprop("w1_10", value=0.25)
    misses = explore._loss.cache_info().misses
    second = explore.backprop("w1_10", value=-0.75)
    # Only the point and the two points of the numerical slope are new.
    assert explore._loss.cache_info().misses - misses <= 3
    assert first["curve"] == second["curve"]
    assert second["loss"] == pytest.approx(second["curve"][45], rel=1e-12)  # -0.75 on the grid


def test_a_perceptron_prints_no_minus_zero_or_float32_digits():
    unit = explore.Perceptron.from_weights(np.array([-1e-17, 0.3], dtype=np.float32), bias=-0.0)
    assert repr(unit).endswith("weights=[0.0, 0.3], bias=0.0)")
