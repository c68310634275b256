"""The playground, headless: training by epochs and by steps, the curves, numbers and
warnings it shows, its frames and decision regions, and its API page's examples."""

import itertools

import numpy as np
import pytest

from nnlab import playground, widgets
from tests.widget_cases import TRAINING_ONLY, another_value


@pytest.mark.parametrize("control_name", TRAINING_ONLY)
def test_playground_training_settings_change_training(control_name):
    pg = widgets.playground(dataset="xor")
    before = pg.train(5).state["train_loss"]
    pg.controls[control_name].value = another_value(pg.controls[control_name])
    assert pg.state["epoch"] == 0
    assert pg.train(5).state["train_loss"] != before


def test_playground_learns_circles():
    pg = widgets.playground(dataset="circles")
    start = pg.state["train_loss"]
    pg.train(20)
    assert pg.state["epoch"] == 20 and pg.state["train_loss"] < 0.5 * start
    pg.step()
    assert len(pg.history["loss"]) == 22
    pg.reset()
    assert pg.state["epoch"] == 0 and len(pg.history["loss"]) == 1
    pg.buttons["Train"].click()
    assert pg.state["epoch"] == widgets.Playground.TRAIN_EPOCHS


def test_playground_steps_are_fractions_of_an_epoch_on_the_axis_and_in_the_numbers():
    pg = widgets.playground(batch_size=16)
    n_train = len(pg.data[0])
    for _ in range(3):
        pg.step()
    pg.train(20)
    epoch = 20 + 3 * 16 / n_train
    assert pg.state["epoch"] == pytest.approx(epoch)
    assert pg.history["epoch"][-1] == pytest.approx(epoch) and len(pg.history["epoch"]) == 24
    train_line = pg.figure.axes[1].lines[0]
    assert max(train_line.get_xdata()) == pytest.approx(epoch)
    assert f"epoch {epoch:.3f}:" in pg.numbers.value


def test_every_playground_step_changes_the_epoch_it_shows():
    pg = widgets.playground(batch_size=1, train_ratio=0.9).train(20)
    assert pg.numbers.value.startswith("epoch 20:")
    pg.step()   # 1/270 of an epoch: .4g showed 20.0037 as "20"
    assert pg.numbers.value.startswith("epoch 20.004:")
    # Every batch size on every training set the controls offer (a Step takes a whole
    # training set of fewer points than the batch size).
    sizes = {len(playground.playground_data(train_ratio=r / 10)[0]) for r in range(1, 10)}
    for n, batch in itertools.product(sizes, pg.controls["batch_size"].options):
        epochs = np.cumsum([20.0] + [min(batch, n) / n] * 2 * n)   # as Session.step adds
        shown = [playground.epoch_text(epoch) for epoch in epochs]
        assert len(set(shown)) == len(shown), (n, batch)
        whole = [k for k in range(len(epochs)) if k * min(batch, n) % n == 0]
        assert all(("." in text) == (k not in whole) for k, text in enumerate(shown))


def test_an_earlier_playground_state_stays_as_it_was():
    pg = widgets.playground()
    before = pg.state
    curves = {name: list(values) for name, values in before["history"].items()}
    weights = [w.copy() for w in before["weights"]]
    pg.train(20)
    pg.step()
    assert before["history"] == curves and len(pg.state["history"]["loss"]) == 22
    for old, now, layer in zip(before["weights"], pg.state["weights"], pg.model.layers[::2],
                               strict=True):
        assert np.array_equal(old, weights.pop(0)) and np.array_equal(now, layer.params["W"])
        assert not np.array_equal(old, now)


def test_the_playground_state_names_its_training_loss_as_a_history_does():
    pg = widgets.playground().train(5)
    assert pg.state["loss"] == pg.state["train_loss"] == pytest.approx(pg.history["loss"][-1])


def test_playground_curve_ends_at_the_train_loss_it_reports():
    pg = widgets.playground().train(20)
    assert pg.history["loss"][-1] == pytest.approx(pg.state["train_loss"])
    assert pg.history["test_loss"][-1] == pytest.approx(pg.state["test_loss"])
    assert pg.figure.axes[1].lines[0].get_ydata()[-1] == pytest.approx(pg.state["train_loss"])


def test_untrained_playground_asks_for_training():
    ax = widgets.playground().figure.axes[1]
    assert [t.get_text() for t in ax.texts] == ["press Train or Step"]
    assert not ax.lines and ax.get_legend() is None


def test_diverged_playground_counts_epochs_from_one_and_shows_no_accuracy(recwarn):
    pg = widgets.playground(optimizer="sgd", lr=1.0, activation="linear", batch_size=1)
    pg.train(20)
    assert not recwarn.list   # the warning line says it all, and counts as the numbers do
    assert pg.state["epoch"] == 1 and pg.numbers.value.startswith("epoch 1:")
    assert "Training diverged: the training loss became nan in epoch 1." in pg.warning.value
    assert "test accuracy &mdash;" in pg.numbers.value
    assert "nan" not in pg.numbers.value and "train loss &mdash;" in pg.numbers.value
    # The losses' last finite points, one each, are dots: a line of one point is nothing.
    assert [line.get_marker() for line in pg.figure.axes[1].lines] == ["o", "o"]


def test_a_frame_of_the_playground_leaves_its_session_alone():
    pg = widgets.playground().train(20)
    png = bytes(pg.image.value)
    state, figure, _, _ = pg.frame(pg.values())
    assert state["epoch"] == 0 and figure.axes[1].texts   # a fresh network, untrained
    assert pg.epoch == 20 and pg.state["epoch"] == 20 and bytes(pg.image.value) == png
    assert pg.figure.axes[1].lines                       # still the trained network
    pg.step()
    assert pg.state["epoch"] > 20


def test_a_step_that_diverges_is_reported_too():
    pg = widgets.playground(optimizer="sgd", lr=1.0, activation="linear", batch_size=1)
    for _ in range(40):
        pg.step()
    assert "Training diverged: the training loss became nan in epoch 0.100." in pg.warning.value
    # Train on the diverged network: fit stops after an epoch, the divergence stays where
    # it happened (the message said "epoch 1.100").
    pg.train(20)
    assert "the training loss became nan in epoch 0.100." in pg.warning.value
    assert pg.session.stop_reason.endswith("in epoch 0.100")


def test_the_playground_examples_run_with_np_and_nl_only():
    # As the API page shows them to a reader. ``playground(...)`` ran under pytest, whose
    # doctests see the module's globals, and was a NameError in a reader's session.
    import doctest

    import nnlab as nl
    from nnlab import playground_explorer

    for test in doctest.DocTestFinder().find(playground_explorer):
        test.globs = {"np": np, "nl": nl}
        runner = doctest.DocTestRunner()
        runner.run(test, out=lambda text: None)
        assert not runner.failures, test.name


def test_the_playground_shades_the_class_its_logits_give(monkeypatch):
    # A strong penalty shrinks every logit into (0, 1): all say class 1 (logit > 0).
    session = playground.Session(dataset="circles", hidden_layers=1, activation="relu",
                                 l2=0.1)
    session.train(20)
    grid = np.random.default_rng(0).uniform(-2, 2, size=(400, 2))
    logits = session.model.predict(grid).ravel()
    assert logits.min() > 0 and logits.max() < 1
    seen = {}

    def capture(predict, X, y, **kwargs):
        seen["classes"] = np.asarray(predict(grid)).ravel() > kwargs["threshold"]
        return plot_decision_boundary(predict, X, y, **kwargs)

    from nnlab import explorer_figures, plot
    plot_decision_boundary = plot.decision_boundary
    monkeypatch.setattr(plot, "decision_boundary", capture)
    explorer_figures.playground(session.model, session.data, session.history)
    np.testing.assert_array_equal(seen["classes"], logits > 0)


def test_the_train_button_is_busy_while_it_trains():
    # At batch size 1 a press takes a second or two, with no sign that it was taken.
    pg = widgets.playground()
    seen = []

    def train(epochs):
        button = pg.buttons["Train"]
        seen.append((button.disabled, button.description, epochs))
        return pg.session

    pg.session.train = train
    pg.buttons["Train"].click()
    assert seen == [(True, "Training...", pg.TRAIN_EPOCHS)]
    assert (pg.buttons["Train"].disabled, pg.buttons["Train"].description) == (False, "Train")

    def fail(epochs):
        raise FloatingPointError("as a diverged step might")

    pg.session.train = fail
    with pytest.raises(FloatingPointError):
        pg.train()
    assert (pg.buttons["Train"].disabled, pg.buttons["Train"].description) == (False, "Train")


def test_a_step_with_a_batch_larger_than_the_training_set_takes_the_whole_set_once():
    # 300 points, a tenth of them train: 30, fewer than a batch of 64.
    session = playground.Session(dataset="xor", train_ratio=0.1, batch_size=64)
    assert len(session.data[0]) == 30
    before = session.summary()["train_loss"]
    session.step()
    assert session.epoch == 1.0   # the whole training set, one epoch
    assert session.history["epoch"] == [0, 1.0]
    assert session.summary()["train_loss"] != before


def test_the_playground_line_gives_the_train_and_the_test_loss_each_its_own():
    pg = widgets.playground(dataset="moons").train(5)
    s = pg.state
    assert f"{s['train_loss']:.4f}" != f"{s['test_loss']:.4f}"   # else the test tells nothing
    assert pg.numbers.value == (f"epoch 5: train loss {s['train_loss']:.4f}, "
                                f"test loss {s['test_loss']:.4f}, "
                                f"test accuracy {s['test_accuracy']:.3f}")


def test_the_playground_warns_of_a_training_loss_a_tenth_above_its_start():
    # Set by hand: a run that grows by a quarter, not a chaotic one that happens to.
    session = playground.Session()
    session.epoch, session.history["loss"] = 2, [0.7, 0.5, 0.875]
    assert session.warning() == ("The training loss grew, from 0.7 to 0.875, in 2 epochs: "
                                 "steps this large overshoot; try a smaller learning rate.")
    session.history["loss"][-1] = 0.78   # above a tenth more
    assert session.warning().startswith("The training loss grew, from 0.7 to 0.78,")
    session.history["loss"][-1] = 0.76
    assert session.warning() == ""
