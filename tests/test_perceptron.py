import warnings

import numpy as np
import pytest

import nnlab as nl


def test_the_lecture_threshold_example():
    unit = nl.Perceptron.from_weights([1, 1, 1], bias=0.0)
    assert unit.net_input([[0, 1, 1]])[0] == 2
    assert unit.predict([[0, 1, 1]])[0] == 1


def test_the_lecture_weighted_example():
    unit = nl.Perceptron.from_weights([2, 3, 4])
    assert unit.net_input([[0, 1, 1]])[0] == 7
    assert unit.predict([[0, 1, 1]])[0] == 1
    assert unit.predict([[0, 0, 0]])[0] == 0


def test_from_weights_names_the_weights_when_there_are_none():
    with pytest.raises(ValueError, match="from_weights: weights must hold one weight per input"):
        nl.Perceptron.from_weights([])


def test_bias_shifts_the_threshold():
    unit = nl.Perceptron.from_weights([2, 3, 4], bias=-5)
    inputs = [[a, b, c] for a in (0, 1) for b in (0, 1) for c in (0, 1)]
    assert unit.predict(inputs).tolist() == [0, 0, 0, 1, 0, 1, 0, 1]


@pytest.mark.parametrize("gate", ["and", "or", "nand", "nor"])
def test_learns_linearly_separable_gates(gate):
    X, y = nl.datasets.logic_gate(gate)
    p = nl.Perceptron(2).fit(X, y, epochs=50)
    assert p.converged_ and p.errors_[-1] == 0
    assert np.array_equal(p.predict(X), y)


def test_rosenblatt_rule_by_hand():
    # First AND sample (0,0)->0: w.x+b = 0, not > 0, output 0: no change. (0,1)->0: no
    # change. (1,0)->0: no change. (1,1)->1: output 0, error +1: w = (1,1), b = 1.
    X, y = nl.datasets.logic_gate("and")
    p = nl.Perceptron(2).fit(X, y, epochs=1)
    assert p.weights.tolist() == [1.0, 1.0] and p.bias == 1.0 and p.errors_ == [1]


def test_labels_minus_one_and_plus_one_make_the_same_updates_and_predictions_in_kind():
    # The rule as many texts write it for labels -1/+1, w <- w + lr y x on each mistake,
    # is Rosenblatt's rule on 0/1: the same weights, and predict answers in the labels given.
    X, y = nl.datasets.logic_gate("and")
    p01 = nl.Perceptron(2).fit(X, y, epochs=20, shuffle=True, seed=3)
    pm1 = nl.Perceptron(2).fit(X, 2 * y - 1, epochs=20, shuffle=True, seed=3)
    assert np.array_equal(p01.weights, pm1.weights) and p01.bias == pm1.bias
    assert p01.errors_ == pm1.errors_ and pm1.converged_
    assert pm1.predict(X).tolist() == [-1, -1, -1, 1] and pm1.labels_ == (-1, 1)
    assert p01.predict(X).tolist() == [0, 0, 0, 1] and p01.labels_ == (0, 1)
    assert pm1.fit(X, y).predict(X).tolist() == [0, 0, 0, 1]   # refit on 0/1: back to 0/1


def test_cannot_learn_xor():
    X, y = nl.datasets.logic_gate("xor")
    p = nl.Perceptron(2).fit(X, y, epochs=100)
    assert not p.converged_
    assert len(p.errors_) == 100 and min(p.errors_) >= 1
    assert not np.array_equal(p.predict(X), y)


def test_shuffle_is_seeded():
    X, y = nl.datasets.logic_gate("or")
    a = nl.Perceptron(2).fit(X, y, shuffle=True, seed=1)
    b = nl.Perceptron(2).fit(X, y, shuffle=True, seed=1)
    assert a.errors_ == b.errors_ and np.array_equal(a.weights, b.weights)


def rule_by_hand(X, y, epochs, lr=1.0, threshold=0.0):
    """Rosenblatt's rule written out: w += lr (y - y_hat) x, b += lr (y - y_hat), where the
    unit fires (y_hat = 1) when w.x + b > threshold."""
    w, b = np.zeros(X.shape[1]), 0.0
    for _ in range(epochs):
        for xi, yi in zip(X, y, strict=True):
            error = yi - float(xi @ w + b > threshold)
            w, b = w + lr * error * xi, b + lr * error
    return w, b


def test_the_bias_moves_by_lr_times_the_error_as_the_weights_do():
    X, y = nl.datasets.logic_gate("and")
    w, b = rule_by_hand(X, y, epochs=3, lr=0.25)
    p = nl.Perceptron(2, lr=0.25).fit(X, y, epochs=3)
    np.testing.assert_allclose(p.weights, w)
    assert p.bias == pytest.approx(b)


def test_fit_compares_the_weighted_sum_with_the_units_threshold():
    X, y = nl.datasets.logic_gate("or")
    w, b = rule_by_hand(X, y, epochs=2, threshold=1.0)
    unit = nl.Perceptron(2, threshold=1.0).fit(X, y, epochs=2)
    np.testing.assert_array_equal(unit.weights, w)
    assert unit.bias == b
    trained = nl.Perceptron(2, threshold=1.0).fit(X, y, epochs=50)
    assert trained.converged_ and trained.predict(X).tolist() == y.tolist()


def test_from_weights_keeps_the_threshold_it_is_given():
    unit = nl.Perceptron.from_weights([1.0, 1.0], threshold=1.5)
    assert unit.threshold == 1.5
    assert unit.predict([[1, 0], [0, 1], [1, 1]]).tolist() == [0, 0, 1]


def test_shuffle_visits_the_samples_in_another_order():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 2))
    y = (X @ np.array([1.0, -2.0]) + 0.3 > 0).astype(int)
    fixed = nl.Perceptron(2).fit(X, y, epochs=1)
    runs = [nl.Perceptron(2).fit(X, y, epochs=1, shuffle=True, seed=s) for s in range(5)]
    assert any(not np.array_equal(p.weights, fixed.weights) for p in runs)


@pytest.mark.parametrize("call,match", [
    (lambda p: p.fit([[0, 1, 1]], [1]), r"expected X of shape \(n_samples, 2\); got \(1, 3\)"),
    (lambda p: p.fit([[0, 1]], [2]), r"must be 0 and 1, or -1 and \+1; got values \[2\.\]"),
    (lambda p: p.fit([[0, 1], [1, 0]], [-1, 0]), r"0 and 1, or -1 and \+1; got .*\[-1\.  0\.\]"),
    (lambda p: p.fit([[0, 1]], [-1], epochs=0), "epochs"),
    (lambda p: p.fit([[0, 1]], [1, 0]), "1 rows but y has 2 labels$"),
    (lambda p: p.fit([0, 1], [1, 0]), r"1 rows but y has 2 labels \(a 1-D X is one sample"),
    # The shape passed in, not the (1, 3) it was read as.
    (lambda p: p.fit([0, 1, 1], [1]), r"got \(3,\) \(a 1-D X is one sample\)"),
    (lambda p: p.fit([[0, np.nan]], [1]), "NaN"),
    (lambda p: p.fit([[0, 1]], [1], epochs=0), "epochs"),
])
def test_bad_input(call, match):
    p = nl.Perceptron(2)
    with pytest.raises(ValueError, match=match):
        call(p)
    assert not p.weights.any() and p.bias == 0.0 and p.labels_ == (0, 1)


def test_float32_input_gives_float32_weights_and_net_input():
    X, y = nl.datasets.logic_gate("and")
    p = nl.Perceptron(2).fit(X.astype(np.float32), y)
    assert p.weights.dtype == p.net_input(X.astype(np.float32)).dtype == np.float32
    assert isinstance(p.bias, float)
    np.testing.assert_array_equal(p.weights, nl.Perceptron(2).fit(X, y).weights)


def test_float32_weights_are_guarded_against_float32_overflow():
    # The guard took float64's range: float32 weights overflowed with a warning, or a
    # weight given in float64 became inf when cast.
    X = np.array([[1e20, 1e20], [-1e20, -1e20], [3e20, -1e20]], dtype=np.float32)
    p = nl.Perceptron(2)
    with pytest.raises(ValueError, match="could overflow the weights or the net input"):
        p.fit(X, [1, 0, 1])
    assert p.weights.dtype == np.float64 and not p.weights.any()
    big = nl.Perceptron.from_weights([0.1, 1e39])
    with pytest.raises(ValueError, match=r"weights holds 1 value.* beyond float32's range"):
        big.fit(np.zeros((1, 2), dtype=np.float32), [0])
    assert big.weights[1] == 1e39


def test_a_second_fit_goes_on_from_the_weights_the_first_left():
    X, _ = nl.datasets.logic_gate("and")
    p = nl.Perceptron(2).fit(X, [0, 0, 0, 1])
    first = p.weights.copy(), p.bias
    p.fit(X, [0, 1, 1, 1])   # OR from AND's weights: one mistake, as the docstring says
    assert p.errors_ == [1, 0] and (p.weights - first[0]).tolist() == [0.0, 1.0]
    assert nl.Perceptron(2).fit(X, [0, 1, 1, 1]).errors_ == [1, 2, 1, 0]


def test_bad_learning_rate():
    with pytest.raises(ValueError, match="lr"):
        nl.Perceptron(2, lr=0)


def test_fit_rejects_no_samples_and_a_shuffle_that_is_no_bool():
    # Empty data "converged" (no mistakes in an epoch of nothing).
    with pytest.raises(ValueError, match="no samples"):
        nl.Perceptron(2).fit(np.zeros((0, 2)), np.zeros(0))
    with pytest.raises(ValueError, match="shuffle must be True or False"):
        nl.Perceptron(2).fit(np.eye(2), [0, 1], shuffle="no")


@pytest.mark.parametrize("weights, X", [([1.0, 1.0], [[1e308, 1e308]]),      # inf
                                        ([1e308, -1e308], [[10.0, 10.0]])])   # inf - inf
def test_a_weighted_sum_that_overflows_is_refused_not_decided_by_rounding(weights, X):
    # Predict gave 1 for inf and 0 for NaN (inf - inf), with a RuntimeWarning at most.
    unit = nl.Perceptron.from_weights(weights)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in (unit.predict, unit.net_input):
            with pytest.raises(ValueError, match=r"weighted sums X @ w \+ b overflow "
                                                 r"float64 .*; scale X or the weights down"):
                call(X)
        assert repr(unit).startswith(f"Perceptron(n_inputs=2, lr=1.0, weights={weights}")


@pytest.mark.parametrize("w1, w2, bias", [(1, 1, -1.5), (-2, 0.5, 0.3), (0.7, -1.2, 0.4)])
def test_the_explorers_line_is_where_the_weighted_sum_is_zero(w1, w2, bias):
    s = nl.explore.perceptron(w1=w1, w2=w2, bias=bias)
    x1 = np.linspace(-1.0, 2.0, 7)
    x2 = s["slope"] * x1 + s["intercept"]
    np.testing.assert_allclose(w1 * x1 + w2 * x2 + bias, 0.0, atol=1e-12)
