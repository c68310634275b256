"""Details of the initializers, model files, the summary and the scores that a mutation audit
found no test for: the truncated normal's redrawn tail, an init of one's own that returns NaN
(named by its name), identity's dtype for a NumPy gain, members that hold or claim more than
they store, a header that is no 0-d array, a lone .npy file, a bool for a dimension of the
summary, its non-trainable count's separators, and NaN metrics of outputs that overflowed."""

import json
import math
import re

import numpy as np
import pytest

import nnlab as nl
from nnlab import initializers as I
from tests.saving_cases import good as good  # a fixture: the alias keeps it imported
from tests.saving_cases import (
    header_of,
    loading_fails,
    members,
    npy,
    set_directory_field,
    with_header,
    write_zip,
)

# --- initializers ---------------------------------------------------------------------


def test_truncated_normal_redraws_its_tails_from_the_same_normal():
    # N(0, 1) cut at +-2 (1e6 draws, so a standard error of 5e-4 or less): a share
    # erf(1 / sqrt 2) / erf(sqrt 2) = 0.7153 within one std, and 1 - erf(1.5 / sqrt 2) /
    # erf(sqrt 2) = 0.0923 beyond 1.5 std. Redrawing the 4.5 % outside from N(0, 1.5^2)
    # instead gives 0.710 and 0.096.
    W = I.truncated_normal((1_000_000,), rng=0, std=0.05) / 0.05
    inside = math.erf(math.sqrt(2))
    assert np.mean(abs(W) < 1) == pytest.approx(math.erf(1 / math.sqrt(2)) / inside, abs=1.5e-3)
    assert np.mean(abs(W) > 1.5) == pytest.approx(1 - math.erf(1.5 / math.sqrt(2)) / inside,
                                                  abs=1e-3)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_an_init_of_ones_own_that_returns_nan_or_inf_is_refused_by_its_name(bad):
    def broken(shape, rng=None, dtype="float64"):
        return np.full(shape, bad, dtype)

    with pytest.raises(ValueError, match=re.escape("Dense(2, 3): init 'broken' returned NaN "
                                                   "or infinite weights")):
        nl.Dense(2, 3, init=broken)


def test_identity_keeps_its_dtype_for_a_numpy_float64_gain():
    # 2.0 * a float32 eye stays float32; np.float64(2.0) * it would be float64 (NEP 50).
    W = I.identity((3, 2), dtype="float32", gain=np.float64(2.0))
    assert W.dtype == np.float32 and np.array_equal(W, [[2, 0], [0, 2], [0, 0]])


# --- model files ----------------------------------------------------------------------


def test_a_member_holding_more_bytes_than_it_declares_is_refused(good, tmp_path):
    # A .npy of float64 (2, 3) holds 48 bytes after its header; 8 more are no array.
    longer = npy(np.zeros((2, 3))) + b"\0" * 8
    loading_fails(with_header(good, tmp_path / "longer.npz", header_of(good),
                              **{"0.params.W": longer}),
                  "declares float64 of shape (2, 3), 48 bytes; it holds 56 bytes")


def test_a_stored_member_may_claim_no_more_bytes_than_it_stores(good, tmp_path):
    # Stored, not deflated, a member expands to exactly its bytes in the file: one more
    # claimed in the zip directory is a lie (checked before its .npy header is read).
    raw = members(good)
    size = len(raw["0.params.W.npy"])
    lying = set_directory_field(write_zip(tmp_path / "lying.npz", raw), "0.params.W.npy",
                                24, "<I", (size + 1,))  # the full size
    loading_fails(lying, f"claims {size + 1} bytes ({size} compressed)")


def test_a_header_of_one_string_in_a_1_d_array_is_refused_as_no_0_d_array(good, tmp_path):
    text = json.dumps(header_of(good))
    path = write_zip(tmp_path / "list.npz",
                     {**members(good), "__nnlab__.npy": npy(np.array([text]))})
    loading_fails(path, f"to be a 0-d unicode array (JSON text); got <U{len(text)} of shape (1,)")


def test_a_single_npy_array_is_named_as_such(tmp_path):
    path = tmp_path / "weights.npy"
    np.save(path, np.zeros((2, 3)))
    loading_fails(path, "holds a single array (.npy), not an nnlab model file (.npz)")


# --- summary --------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [True, (True, 3)])
def test_summary_refuses_a_bool_for_a_dimension(shape):
    # True is the int 1 to Python: a (None, 1) row would hide the mistake.
    with pytest.raises(ValueError, match="input_shape must be a tuple of positive integers"):
        nl.summary.summary_table([nl.Activation("relu")], shape)


def test_summary_writes_the_non_trainable_count_with_thousands_separators():
    # BatchNorm(600): gamma and beta trainable, 1,200; the running mean and variance not.
    table = nl.summary.summary_table([nl.BatchNorm(600)], (600,))
    assert table.splitlines()[-3:] == ["Total params: 2,400", "Trainable params: 1,200",
                                       "Non-trainable params: 1,200"]


# --- scoring --------------------------------------------------------------------------


def test_outputs_that_overflowed_score_an_infinite_loss_and_nan_metrics():
    # The metrics would refuse the inf as no probability (a ValueError that stops fit).
    metrics = {"accuracy": nl.metrics.accuracy, "mae": nl.metrics.mean_absolute_error}
    result = nl.scoring.scores(nl.losses.MSE(), metrics, np.array([[1.0], [0.0]]),
                               np.array([[np.inf], [0.2]]))
    assert result["loss"] == np.inf
    assert np.isnan(result["accuracy"]) and np.isnan(result["mae"])
