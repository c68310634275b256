"""An explorer's warning line says what its picture shows: a run that diverges is named so
however few steps it took, and a remedy that cannot act, or acts against the grain, says
why."""

import numpy as np
import pytest

from nnlab import diagnostics, explore, explorer_figures, optimizers, playground, surfaces, widgets


@pytest.mark.parametrize("steps", [10, 30, 200])
def test_the_race_names_a_run_that_climbs_before_it_is_stopped(steps):
    # The parameters pass surfaces.LIMIT only after 30 or more steps: at 10, SGD's value
    # was 4e4 and Nesterov's 3e11 with no warning.
    s = explore.optimizer_race(lr=0.1, surface="bowl", steps=steps)
    assert s["diverged"] == ["SGD", "Nesterov"]
    assert s["warning"] == "Diverged: SGD, Nesterov."


def test_a_climb_that_turns_back_is_no_divergence():
    # Adam's first steps on the Rosenbrock valley at a large rate climb, then fall.
    s = explore.optimizer_race(lr=0.1, surface="rosenbrock", steps=30)
    assert s["final"]["Adam"] > 10 * 12.5 and "Adam" not in s["diverged"]
    bowl = surfaces.get("bowl")
    assert bowl.climbing([20.5, 300.0, 4e4]) and not bowl.climbing([20.5, 4e4, 300.0])
    assert not bowl.climbing([20.5, 100.0, 200.0])   # higher, but not ten times


@pytest.mark.parametrize("batch_size", [10, 50])
def test_the_learning_rate_explorer_warns_of_mini_batches_that_end_above_their_start(
        batch_size):
    s = explore.learning_rate(lr=1.0, batch_size=batch_size)
    assert s["final_loss"] > s["losses"][0] and s["diverged"]
    assert f"batches of {batch_size}" in s["warning"]
    calm = explore.learning_rate(lr=0.1, batch_size=batch_size)
    assert not calm["diverged"] and calm["warning"] == ""


@pytest.mark.parametrize("lr, start", [(0.001, 0.0), (0.28, 0.5), (0.28, 1.0)])
def test_one_noisy_mini_batch_step_that_raises_the_loss_is_no_divergence(lr, start):
    # Any rise of the loss was called divergence: 4.8168 to 4.8177 at lr 0.001.
    s = explore.learning_rate(lr=lr, steps=1, start=start, batch_size=1)
    assert s["final_loss"] > s["losses"][0]
    assert not s["diverged"] and s["warning"] == ""


def test_a_mini_batch_loss_that_rises_tenfold_or_above_the_bound_diverges_at_once():
    s = explore.learning_rate(lr=0.9, steps=5, start=0.5, batch_size=1)   # 2.84 to 89.7
    least = min(explore.learning_rate(lr=0.3, steps=300)["losses"])
    assert s["final_loss"] - least > 10 * (s["losses"][0] - least) and s["diverged"]
    above = explore.learning_rate(lr=2.0, steps=1, start=0.5, batch_size=1)
    assert above["final_loss"] - least < 10 * (above["losses"][0] - least)
    assert above["diverged"]
    # Below the bound and less than tenfold, but still above the start after 20 steps
    later = explore.learning_rate(lr=0.7, steps=20, start=1.0, batch_size=1)
    assert later["final_loss"] - least < 10 * (later["losses"][0] - least) < 10 * 2
    assert later["final_loss"] > later["losses"][0] and later["diverged"]


def test_the_playground_warns_of_a_training_loss_that_grows():
    session = playground.Session(lr=1.0).train(20)
    first, last = session.history["loss"][0], session.history["loss"][-1]
    assert last > 1.1 * first and session.stop_reason is None   # nothing overflowed
    assert session.warning() == (f"The training loss grew, from {first:.3g} to {last:.3g}, "
                                 "in 20 epochs: steps this large overshoot; try a smaller "
                                 "learning rate.")
    assert playground.Session().train(5).warning() == ""


def test_the_playground_warns_of_divergence_first():
    session = playground.Session(lr=1.0)
    session.stop_reason = "the training loss became nan in epoch 3"
    assert session.warning() == "Training diverged: the training loss became nan in epoch 3."


def test_residual_blocks_explain_their_exploding_gradients():
    s = explore.gradient_flow(depth=10, activation="relu", residual=True)
    plain = explore.gradient_flow(depth=10, activation="relu")
    assert s["warning"] == (f"Exploding gradients: the largest is {s['largest']:.3g}, above "
                            f"1000. Without the blocks the largest is {plain['largest']:.3g}: "
                            "each block adds its branch's output to the signal, unscaled, and "
                            "the gradients grow block after block.")
    assert plain["warning"] == ""
    plain = diagnostics.gradient_warning([1e5, 1.0])
    assert plain.startswith("Exploding") and "block" not in plain


def test_residual_blocks_are_not_blamed_for_gradients_that_explode_without_them():
    # The blocks were said to make them grow "block after block" at any explosion; here
    # the scale of 16 makes them explode with the blocks or without (1.9e3 without).
    s = explore.gradient_flow(depth=5, activation="tanh", init_scale=16.0, residual=True)
    plain = explore.gradient_flow(depth=5, activation="tanh", init_scale=16.0)
    assert plain["warning"].startswith("Exploding")
    assert s["warning"].endswith(" above 1000. Without the blocks they explode too.")
    with pytest.raises(ValueError, match=r"^without_blocks: one norm per layer of norms \(3\)"):
        diagnostics.gradient_warning([1e5, 1, 1], residual=True, without_blocks=[1, 1])
    with pytest.raises(ValueError, match=r"got 3 with residual=False$"):
        diagnostics.gradient_warning([1e5, 1, 1], without_blocks=[1, 1, 1])


def test_one_hidden_layer_says_it_has_no_residual_block():
    s = explore.gradient_flow(depth=1, residual=True)
    assert s["warning"].startswith("No residual block: the one hidden layer changes the width")
    assert explore.gradient_flow(depth=1)["warning"] == ""
    np.testing.assert_array_equal(s["norms"], explore.gradient_flow(depth=1)["norms"])


def test_the_learning_rate_warning_writes_the_rate_as_the_slider_and_title_do():
    # The slider's steps are powers of ten: it showed "2" where the warning said "1.99526".
    explorer = widgets.learning_rate_explorer(lr=10 ** 0.3, batch_size=10)
    assert explorer.controls["lr"].readout_format == ".3"   # d3's: 2, not ".3g"'s 2.00
    assert "with learning rate 2 and batches of 10" in explorer.state["warning"]
    assert explorer.figure.axes[0].get_title() == "learning rate 2, batch 10"
    explorer.controls["batch_size"].value = 200   # the redraw's title too
    assert explorer.figure.axes[0].get_title() == "learning rate 2, batch 200"


def test_a_path_cut_short_on_its_last_step_has_diverged():
    # The gradient stops being finite at the third point: descend ends the path there, one
    # point short of the steps + 1 it would have had, every point finite and near 0.
    def grad(p):
        return 2 * p if p[0] > 0.3 else np.full_like(p, np.nan)

    path = surfaces.descend(grad, [1.0], optimizers.SGD(0.25), steps=3)
    assert path[:, 0].tolist() == [1.0, 0.5, 0.25]
    assert surfaces.diverged(path, 3)
    assert not surfaces.diverged(path, 2)   # the two steps it was asked for: complete


def test_the_gradient_flow_title_names_residual_blocks_only_where_there_are_some():
    def title(**settings):
        return explorer_figures.gradient_flow(explore.gradient_flow(**settings)).axes[0].get_title()

    assert title(depth=1, residual=True) == "sigmoid, scale 1"   # one layer: no block
    assert title(depth=3, residual=True) == "sigmoid, scale 1, residual"
    assert title(depth=3, residual=True, batchnorm=True) == "sigmoid, scale 1, batch norm, residual"


def test_ten_mini_batch_steps_that_end_above_their_start_have_diverged():
    # A rate just below the full batch's bound (0.990): single samples overshoot, and after
    # the 10 steps the docstring counts, the loss (12.9) is above its start (10.4).
    s = explore.learning_rate(lr=10 ** -0.1, steps=10, start=4.0, batch_size=1)
    assert s["lr"] < s["stable_below"]
    assert s["losses"][-1] > s["losses"][0]
    assert s["diverged"]
    assert s["warning"].startswith("Diverged: with learning rate 0.794 and batches of 1")
