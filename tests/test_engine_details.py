"""Details of the initializers, the diagnostics, the summary, the DNA data and
the worked example that a mutation audit found untested: boundaries, thresholds, defaults,
names and counts."""

import itertools
import warnings

import numpy as np
import pytest

import nnlab as nl
from nnlab import diagnostics as D
from nnlab import examples
from nnlab import initializers as I
from nnlab.datasets import decode_dna, dna_motifs

# --- initializers ---------------------------------------------------------------------


def test_a_layer_of_exactly_max_weights_is_built_and_one_more_is_refused(monkeypatch):
    # "At most MAX_WEIGHTS are built": the limit itself is allowed. A small limit stands in
    # for 10^9, which would take 8 GB.
    monkeypatch.setattr(I, "MAX_WEIGHTS", 6)
    assert I.initial_weights("zeros", (2, 3), None, "float64", "Dense(2, 3)").shape == (2, 3)
    with pytest.raises(ValueError, match=r"Dense\(7, 1\) would hold 7 weights of shape \(7, 1\)"):
        I.initial_weights("zeros", (7, 1), None, "float64", "Dense(7, 1)")


# --- diagnostics ----------------------------------------------------------------------


def test_activation_stds_spread_over_all_of_a_layers_outputs():
    # Two units that each output a constant of their own (0 and 2): their outputs spread by
    # 1 overall, though neither unit varies across the inputs.
    dense = nl.Dense(1, 2, init="zeros")
    dense.params["b"][...] = [0.0, 2.0]
    X = np.random.default_rng(0).normal(size=(8, 1))
    assert D.activation_stds(nl.Sequential([dense]), X).tolist() == [1.0]


def test_gradients_of_exactly_one_thousandth_are_not_yet_vanishing():
    # "Below 1/1000" vanishes; 1/1000 itself does not.
    assert D.gradient_warning([0.001, 0.001, 0.001]) == ""
    assert D.gradient_warning([0.0009, 0.0009]).startswith("Vanishing gradients")


def test_activations_with_a_spread_below_1e_minus_4_vanish():
    assert D.spread_warning([5e-5, 5e-5, 5e-5]) == ("The activations vanish: the weights are "
                                                    "far too small.")
    assert D.spread_warning([2e-4, 2e-4]) == ""


def test_the_initialization_warning_names_vanishing_activations_before_a_forgotten_input():
    # Both warnings apply here; the spread is the cause and is named first.
    warning = D.initialization_warning([0.5, 1e-5], [0.5, 1e-9], None, "tanh")
    assert warning.startswith("The activations vanish")
    assert D.input_warning([0.5, 1e-9], [0.5, 1e-5], "tanh").startswith("The layers forget")


def test_the_initialization_warning_takes_the_saturated_shares_as_an_array_too():
    # As saturation_warning does: an array of shares is no truth value to test.
    shares = np.array([0.9, 0.9])
    warning = D.initialization_warning([0.5, 0.5], [0.4, 0.4], shares, "tanh")
    assert warning == D.saturation_warning(shares, "tanh") != ""


# --- summary --------------------------------------------------------------------------


LAYERS = [nl.Conv2D(1, 4, 3, padding=1, rng=0), nl.BatchNorm(4), nl.MaxPool2D(2),
          nl.Flatten(), nl.Dense(64, 100, rng=0), nl.Dense(100, 100, rng=0)]


def test_summary_names_each_layer_in_snake_case_as_keras_does():
    names = [line.split()[0] for line in nl.summary.summary_table(LAYERS, (1, 8, 8))
             .splitlines()[2:8]]
    assert names == ["conv2d", "batch_norm", "max_pool2d", "flatten", "dense", "dense_1"]


def test_summary_counts_a_batch_norms_statistics_in_its_row():
    # gamma, beta, and the running mean and variance of 4 channels: 16, as Keras counts.
    table = nl.summary.summary_table(LAYERS, (1, 8, 8))
    counts = [line.split()[-1] for line in table.splitlines()[2:8]]
    assert counts == ["40", "16", "0", "0", "6,500", "10,100"]
    assert table.splitlines()[-3:] == ["Total params: 16,656", "Trainable params: 16,648",
                                       "Non-trainable params: 8"]


def test_summary_writes_large_counts_with_thousands_separators():
    table = nl.summary.summary_table([nl.Dense(1000, 1000, rng=0)])
    assert "1,001,000" in table.splitlines()[2]
    assert "Total params: 1,001,000" in table


# --- DNA motifs -----------------------------------------------------------------------


def test_the_motif_starts_at_every_position_that_fits_equally_often():
    # In sequences of 8 bases a motif of 6 starts at 0, 1 or 2: the last one included.
    _, y, positions = dna_motifs(3000, length=8, seed=0, return_positions=True)
    starts = np.bincount(positions[y == 1])
    assert len(starts) == 3
    assert np.all(np.abs(starts / starts.sum() - 1 / 3) < 0.03)


def test_a_sequence_as_long_as_the_motif_holds_just_the_motif():
    X, y = dna_motifs(20, length=6, motif="TATAAT", mutation_rate=0.0, seed=0)
    sequences = decode_dna(X)
    assert {s for s, label in zip(sequences, y, strict=True) if label} == {"TATAAT"}
    assert not any(s == "TATAAT" for s, label in zip(sequences, y, strict=True) if not label)


def test_a_motif_in_lower_case_is_the_same_motif():
    upper = dna_motifs(50, length=12, motif="TATAAT", seed=0, return_positions=True)
    lower = dna_motifs(50, length=12, motif="tataat", seed=0, return_positions=True)
    for a, b in zip(upper, lower, strict=True):
        np.testing.assert_array_equal(a, b)


def test_negatives_are_uniform_for_a_motif_whose_prefix_repeats_a_base():
    # "ACCA": after "ACC" another C starts no motif; a wrong border made the sampler think
    # it did and never drew sequences such as "ACCCAG". Each allowed one is drawn ~20 times.
    allowed = {"".join(bases) for bases in itertools.product("ACGT", repeat=6)
               if "ACCA" not in "".join(bases)}
    X, _ = dna_motifs(20 * len(allowed), length=6, motif="ACCA", positive_fraction=0.0,
                      seed=0)
    assert set(decode_dna(X)) == allowed


def test_long_negatives_are_drawn_without_overflow():
    # The number of ways to finish a sequence of 1000 bases, near 4^1000, overflows float64;
    # the sampler keeps only ratios. Overflowed, it drew nothing but A's.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        X, _ = dna_motifs(5, length=1000, motif="TA", positive_fraction=0.0, seed=0)
    sequences = decode_dna(X)
    assert all(set(s) == set("ACGT") and "TA" not in s for s in sequences)


def test_decode_dna_refuses_a_position_split_between_two_bases():
    # Its channels sum to 1, yet it is no one-hot column.
    X = np.eye(4)[[[0, 1, 2]]].transpose(0, 2, 1)
    X[0, :, 1] = [0.5, 0.5, 0.0, 0.0]
    with pytest.raises(ValueError, match=r"one-hot.*sequence 0, position 1 holds "
                                         r"\[0\.5, 0\.5, 0\.0, 0\.0\]"):
        decode_dna(X)


# --- the worked example ---------------------------------------------------------------


def test_the_worked_example_is_compiled_with_the_squared_error():
    model = examples.two_two_one()
    y_hat = model.predict(examples.X)[0, 0]
    assert model.evaluate(examples.X, examples.Y) == pytest.approx((1.0 - y_hat) ** 2,
                                                                   rel=1e-12)
