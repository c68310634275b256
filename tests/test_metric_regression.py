"""Tests of the regression metrics (MSE, MAE, RMSE, MAPE, MSLE, log-cosh, Poisson and the
R^2 score) against closed forms, scikit-learn and the matching losses."""

import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st

import nnlab as nl
from nnlab import losses, metrics
from nnlab.metrics import mean_absolute_error, mean_squared_error


@given(n=st.integers(1, 20), m=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_regression_metrics_match_sklearn_and_the_mse_loss(n, m, seed):
    rng = np.random.default_rng(seed)
    y, p = rng.normal(size=(n, m)), rng.normal(size=(n, m))
    assert mean_squared_error(y, p) == pytest.approx(skm.mean_squared_error(y, p))
    assert mean_absolute_error(y, p) == pytest.approx(skm.mean_absolute_error(y, p))
    assert mean_squared_error(y, p) == pytest.approx(losses.MSE()(p, y))


@given(n=st.integers(2, 20), m=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_keras_other_regression_metrics_match_sklearn_and_the_losses(n, m, seed):
    rng = np.random.default_rng(seed)
    y, p = rng.uniform(0.5, 9, size=(n, m)), rng.uniform(0.5, 9, size=(n, m))
    # Keras's root of the mean over every element; scikit-learn's averages each column's
    assert metrics.root_mean_squared_error(y, p) == pytest.approx(
        np.sqrt(skm.mean_squared_error(y, p)))
    assert metrics.root_mean_squared_error(y[:, 0], p[:, 0]) == pytest.approx(
        skm.root_mean_squared_error(y[:, 0], p[:, 0]))
    # scikit-learn's is a fraction; Keras's (and nnlab's) a percentage
    assert metrics.mean_absolute_percentage_error(y, p) == pytest.approx(
        100 * skm.mean_absolute_percentage_error(y, p))
    assert metrics.mean_squared_logarithmic_error(y, p) == pytest.approx(
        skm.mean_squared_log_error(y, p))
    assert metrics.r2_score(y, p) == pytest.approx(skm.r2_score(y, p))
    assert metrics.log_cosh_error(y, p) == pytest.approx(losses.LogCosh()(p, y))
    assert metrics.poisson(np.round(y), p) == pytest.approx(losses.Poisson()(p, np.round(y)))


def test_r2_score_of_constant_targets_and_a_model_that_logs_it():
    assert metrics.r2_score([2.0, 2.0], [2.0, 2.0]) == 1.0
    assert metrics.r2_score([[2.0, 1.0], [2.0, 3.0]], [[2.0, 1.0], [2.5, 3.0]]) == 0.5
    X = np.random.default_rng(0).normal(size=(40, 2))
    y = X @ np.array([1.0, -2.0]) + 5
    model = nl.Sequential([nl.Dense(2, 1, rng=0)])
    model.compile("mse", nl.optimizers.Adam(0.1), metrics=["mape", "r2_score"])
    history = model.fit(X, y, epochs=30, batch_size=10, seed=0)
    assert history.history["r2_score"][-1] > history.history["r2_score"][0]
    assert history.history["mape"][-1] < history.history["mape"][0]
    assert np.isnan(metrics.poisson([1.0], [-0.5]))   # reported, as Keras does
    with pytest.raises(ValueError, match="y_pred must be rates, at least 0"):
        losses.Poisson()([-0.5], [1.0])                   # refused by the loss


def test_regression_metrics_closed_form_and_column_shapes():
    assert mean_squared_error([1.0, 2.0], [1.5, 4.0]) == pytest.approx((0.25 + 4) / 2)
    assert mean_absolute_error([1.0, 2.0], [[1.5], [4.0]]) == pytest.approx(1.25)
    assert isinstance(mean_squared_error([1], [1]), float)


def test_r2_score_of_constant_targets_is_scikit_learns_forced_finite_score():
    # As its docstring says: scikit-learn's default force_finite=True, 1 for an exact
    # prediction, 0 else; without it, NaN and -inf.
    for y_pred in ([2.0, 2.0, 2.0], [2.0, 2.0, 3.0]):
        assert metrics.r2_score([2.0] * 3, y_pred) == skm.r2_score([2.0] * 3, y_pred)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert np.isnan(skm.r2_score([2.0] * 3, [2.0] * 3, force_finite=False))


def test_r2_score_of_equal_targets_whose_mean_rounds():
    # The mean of seven 0.7s is not exactly 0.7 in float64: a tiny total variance, which
    # scikit-learn turns into a score of -2e29. Equal targets are tested as such here.
    assert metrics.r2_score([0.7] * 7, [0.75] * 7) == 0.0
    assert metrics.r2_score([0.1] * 3, [0.1] * 3) == 1.0
    assert metrics.r2_score(1.0, 1.0) == 1.0   # one value, as the other metrics take it
