"""Bad arguments to the explorers, the playground and its sessions: each refused with a
ValueError (an ArgumentError for an unknown one) naming it as the caller wrote it."""

import inspect
import re

import numpy as np
import pytest

from nnlab import playground, widgets
from nnlab.explorer import ArgumentError, _choice


@pytest.mark.parametrize("make, match", [
    # ipywidgets raised a TraitError naming no parameter, or clamped the value in silence.
    (lambda: widgets.activation_explorer("swishy"), r"name .* one of 'linear'.*'mish'"),
    (lambda: widgets.perceptron_explorer(gate="nor"), "gate .* one of 'and', 'or'"),
    (lambda: widgets.learning_rate_explorer(batch_size=7), "one of 1, 10, 50, 200; got 7"),
    (lambda: widgets.playground(optimizer="adamw"), "optimizer .*'adamw'"),
    (lambda: widgets.learning_rate_explorer(lr=100), r"^lr must be in \[0.001, 10\]; got 100$"),
    (lambda: widgets.kernel_explorer(digit=99999), r"\[0, 99\]; got 99999"),
    (lambda: widgets.initialization_explorer(depth=1000), r"depth .* \[1, 12\]"),
    (lambda: widgets.loss_explorer(prediction=5), r"\[0.001, 0.999\]; got 5"),
    # A KeyError of the range's table, a TypeError of list(None), before.
    (lambda: widgets.loss_explorer(loss="kl_divergence"),
     r"loss .* one of 'binary cross-entropy'.*'kl_divergence'"),
    (lambda: widgets.optimizer_race(names=None), "names must be an optimizer's name or a list"),
    (lambda: widgets.optimizer_race(names=5), "list of names; got 5"),
    (lambda: widgets.gradient_flow_explorer(batchnorm="no"), "batchnorm must be True or False"),
    (lambda: widgets.forward_explorer(w99=1.0), r"'w99'; it takes: w00, w01, w10, w11$"),
    (lambda: widgets.optimizer_race(names=["adamw"]), "unknown optimizer 'adamw'; valid names "),
    (lambda: widgets.playground(l2=0.0), r"L2 .* \[1e-05, 0.1\]; got 0.0"),
    (lambda: widgets.optimizer_race(names=("SGD", "SGD")), r"races once; got \['SGD', 'SGD'\]"),
    (lambda: playground.Session(depth=3), r"unknown playground settings \['depth'\]; valid: "),
    (lambda: playground.Session(optimizer="adamw"), "l2 is an L2 penalty.*'adamw' decays"),
])
def test_a_bad_initial_value_is_a_value_error_naming_the_control(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    # Each was named by its control's label ("init scale must be in [0.0625, 16]"), not as written.
    (lambda: widgets.initialization_explorer(scale=20),
     r"^scale must be in \[0.0625, 16\]; got 20$"),
    (lambda: widgets.gradient_flow_explorer(init_scale=0),
     r"^init_scale must be in \[0.0625, 16\]"),
    (lambda: widgets.activation_explorer(name="swishy"), "^name must be one of 'linear', "),
    (lambda: widgets.activation_explorer(weight=9), r"^weight must be in \[-5, 5\]; got 9$"),
    (lambda: widgets.activation_explorer(bias=-9), r"^bias must be in \[-5, 5\]; got -9$"),
    (lambda: widgets.perceptron_explorer(bias=4), r"^bias must be in \[-3, 3\]; got 4$"),
    (lambda: widgets.forward_explorer(w10=4), r"^w10 must be in \[-3, 3\]; got 4$"),
    (lambda: widgets.learning_rate_explorer(start=7), r"^start must be in \[-6, 6\]; got 7$"),
    (lambda: widgets.learning_rate_explorer(batch_size=7), "^batch_size must be one of 1, 10,"),
    (lambda: widgets.optimizer_race(lr=1), r"^lr must be in \[0.0001, 0.1\]; got 1$"),
    (lambda: widgets.backprop_explorer(value=9), r"^value must be in \[-3.0, 3.0\]; got 9$"),
    (lambda: widgets.loss_explorer(positive=2), "^positive must be one of True, False; got 2$"),
    (lambda: widgets.kernel_explorer(digit=-1), r"^digit must be in \[0, 99\]; got -1$"),
])
def test_a_bad_initial_value_is_named_as_the_caller_wrote_it(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("name", ["perceptron_explorer", "forward_explorer", "activation_explorer",
                                  "initialization_explorer", "loss_explorer",
                                  "learning_rate_explorer", "optimizer_race", "backprop_explorer",
                                  "gradient_flow_explorer", "kernel_explorer", "playground"])
def test_an_argument_an_explorer_does_not_take_is_refused_with_those_it_does(name):
    # Python's own TypeError said only "got an unexpected keyword argument 'sclae'". Now
    # both a TypeError (as Python's) and a ValueError (as any other bad input to nnlab).
    assert issubclass(ArgumentError, TypeError) and issubclass(ArgumentError, ValueError)
    explorer = getattr(widgets, name)
    takes = ", ".join(inspect.signature(widgets.Playground if name == "playground"
                                        else explorer).parameters)
    # The playground's said "Playground got ...", forward_explorer's listed no arguments.
    with pytest.raises(ArgumentError, match=f"^{name} got an unexpected keyword argument "
                                            f"'sclae'; it takes: {re.escape(takes)}$"):
        explorer(sclae=2.0)
    # forward_explorer's and the playground's were Python's plain TypeError.
    with pytest.raises(ArgumentError, match=f"^{name} too many positional arguments; it takes: "):
        explorer(*range(12))


@pytest.mark.parametrize("arguments, match", [
    # Each was named by its control's label: "learning rate (an initial value) must be ...".
    ({"lr": 2.0}, r"^lr \(the learning rate\) must be in \[0.0001, 1\]; got 2.0$"),
    ({"l2": 0.0}, r"^l2 \(the L2 penalty\) must be in \[1e-05, 0.1\]; got 0.0$"),
    ({"batch_size": 7}, "^batch_size must be one of 1, 4, 16, 64; got 7$"),
    ({"batch_size": True}, "^batch_size must be one of 1, 4, 16, 64; got True$"),
    ({"dataset": "rings"}, "^dataset must be one of 'circles', 'xor', .*; got 'rings'$"),
    ({"noise": 0.7}, r"^noise must be in \[0, 0.5\]; got 0.7$"),
    ({"train_ratio": 0.95}, r"^train_ratio must be in \[0.1, 0.9\]; got 0.95$"),
    ({"hidden_layers": 1.5}, "^hidden_layers must be an integer; got 1.5$"),
    ({"units": 17}, r"^units must be in \[1, 16\]; got 17$"),
    ({"activation": "swish"}, "^activation must be one of 'tanh', .*; got 'swish'$"),
    ({"optimizer": "adamw"}, "^optimizer must be one of 'sgd', .*; got 'adamw'$"),
])
def test_a_bad_playground_argument_is_named_as_the_caller_wrote_it(arguments, match):
    with pytest.raises(ValueError, match=match):
        widgets.playground(**arguments)


@pytest.mark.parametrize("seed, match", [(-1, r"seed must be in \[0, inf\); got -1"),
                                         (1.5, "seed must be an integer; got 1.5"),
                                         ("x", "seed must be an integer; got 'x'")])
def test_a_bad_playground_seed_is_refused_before_any_session(seed, match):
    # It was shown as a warning, leaving a playground with no session: train(1) then
    # raised an AttributeError.
    with pytest.raises(ValueError, match=match):
        widgets.playground(seed=seed)


def test_a_later_bad_playground_seed_is_a_warning_and_the_session_stays():
    pg = widgets.playground().train(1)
    pg.seed = -1
    pg.reset()
    assert "seed must be in [0, inf); got -1" in pg.warning.value
    assert pg.train(1).state["epoch"] == 2


@pytest.mark.parametrize("setting, match", [
    ({"batch_size": 0}, r"batch_size must be in \[1, inf\); got 0"),
    ({"batch_size": 1.5}, "batch_size must be an integer; got 1.5"),
    ({"batch_size": True}, "batch_size must be an integer; got True"),
    ({"units": 0}, r"units must be in \[1, inf\); got 0"),
    ({"units": 2.5}, "units must be an integer; got 2.5"),
    ({"l2": -1.0}, r"l2 must be in \[0, inf\); got -1.0"),
    ({"l2": float("nan")}, "l2 must be finite; got nan"),
    ({"dataset": "blobs", "noise": -1.0}, r"noise must be in \[0, inf\); got -1.0"),
    ({"dataset": "rings"}, "unknown dataset 'rings'; valid names are: blobs, circles"),
    ({"train_ratio": 0.001}, "train_ratio=0.001 leaves a part of the 300 points too small "),
    ({"train_ratio": 0.999}, "train_ratio=0.999 leaves a part of the 300 points too small "),
    ({"hidden_layers": True}, "hidden_layers must be an integer; got True"),
    ({"lr": 0}, r"lr must be in \(0, inf\); got 0"),
    ({"activation": "swishy"}, "unknown activation 'swishy'"),
    # Taken, as by Playground it is not: a session that no page could show again.
    ({"seed": None}, "^seed must be an integer; got None$"),
    ({"seed": np.random.default_rng(0)}, "^seed must be an integer; got Generator"),
])
def test_a_bad_session_setting_is_refused_by_its_name_when_the_session_is_made(setting,
                                                                               match):
    # batch_size=1.5 and True were taken, and the first step failed with numpy's TypeError;
    # batch_size=0 with "xb and yb must hold the same number (> 0) of samples"; units=0 was
    # Dense's n_out, l2 the optimizer's weight_decay, blobs' noise its std.
    with pytest.raises(ValueError, match=match):
        playground.Session(**setting)


def test_a_slider_set_to_nan_in_code_is_a_warning_and_the_last_frame_stays():
    # The slider kept the NaN: the explorer computed NaN everywhere and drew nothing.
    e = widgets.activation_explorer()
    state, png = e.state, bytes(e.image.value)
    e.controls["weight"].value = float("nan")
    assert "weight must be a finite number; got nan" in e.warning.value
    assert e.state is state and bytes(e.image.value) == png
    e.controls["weight"].value = 2.0
    assert e.warning.value == "" and e.state["weight"] == 2.0


def test_a_menu_takes_a_name_in_any_case_as_the_engine_s_get_does():
    # optimizer_race(names="ADAM") was taken, playground(optimizer="Adam") refused.
    assert widgets.playground(optimizer="Adam").controls["optimizer"].value == "adam"
    assert widgets.optimizer_race(surface="Rosenbrock").state["surface"] == "rosenbrock"
    assert widgets.activation_explorer("ReLU").state["name"] == "relu"
    # (the explorers that read the argument again: a KeyError)
    assert widgets.loss_explorer(loss="Hinge", prediction=2.0).state["name"] == "hinge"
    assert widgets.kernel_explorer(preset="Blur").state["kernel"][1][1] == 1 / 9
    with pytest.raises(ValueError, match=r"name must be one of 'linear'.*; got 'ReLUs'"):
        widgets.activation_explorer("ReLUs")
    # an exact match first: two options that differ in case stay two
    assert _choice("A", ["a", "A"], "x") == "A" and _choice("a", ["a", "A"], "x") == "a"


@pytest.mark.parametrize("loss, entry", [
    ("mse", "squared error"), ("binary_crossentropy", "binary cross-entropy"),
    ("BinaryCrossentropy", "binary cross-entropy"), ("hinge", "hinge"),
    ("categorical_crossentropy", "categorical cross-entropy"),
    ("multiclass_hinge", "multiclass hinge")])
def test_the_loss_explorer_opens_on_the_loss_a_keras_name_gives(loss, entry):
    # DESIGN: strings are accepted wherever Keras accepts them; "mse" was refused here.
    e = widgets.loss_explorer(loss=loss)
    assert e.controls["loss"].value == entry == e.state["name"]


@pytest.mark.parametrize("make, control, name, entry", [
    (widgets.initialization_explorer, "scheme", "HeNormal", "he_normal"),
    (widgets.initialization_explorer, "scheme", "GlorotUniform", "glorot_uniform"),
    (widgets.initialization_explorer, "scheme", "lecun_normal", "scaled_normal"),
    (widgets.activation_explorer, "name", "silu", "swish"),   # Keras 3's own name for it
    (widgets.activation_explorer, "name", "hard_swish", "hard_silu"),
    (widgets.initialization_explorer, "activation", "Sigmoid", "sigmoid"),
    (widgets.gradient_flow_explorer, "activation", "ELU", "elu"),
    (widgets.playground, "activation", "ReLU", "relu")])
def test_a_menu_opens_on_the_entry_another_name_of_it_gives(make, control, name, entry):
    assert make(**{control: name}).controls[control].value == entry


@pytest.mark.parametrize("make, name", [(widgets.loss_explorer, "categorical_hinge"),
                                        (widgets.loss_explorer, "nope"),
                                        (widgets.initialization_explorer, "zeros"),
                                        (widgets.initialization_explorer, "Orthogonal"),
                                        (widgets.activation_explorer, "log_softmax")])
def test_a_name_the_engine_knows_but_the_menu_lacks_is_refused_with_the_menu(make, name):
    with pytest.raises(ValueError, match=rf"must be one of '.*' \(or another name nnlab gives "
                                         rf"one of them, such as Keras's\); got '{name}'$"):
        make(name)


def test_the_activation_readout_of_a_nan_frame_is_no_stop_iteration():
    # The digits of the range's ends were sought until they differed: never, for NaN.
    e = widgets.activation_explorer()
    numbers = e.frame({"name": "tanh", "weight": float("nan"), "bias": 0.0})[2]
    assert "output range [nan, nan]" in numbers


def test_a_menu_takes_numpy_s_booleans_and_integers_as_the_options_they_equal():
    # loss_explorer(positive=np.False_) was refused, though check_bool takes it.
    e = widgets.loss_explorer(positive=np.False_)
    assert e.state["label"] == 0 and type(e.controls["positive"].value) is bool
    size = widgets.learning_rate_explorer(batch_size=np.int64(10)).controls["batch_size"]
    assert size.value == 10 and type(size.value) is int


@pytest.mark.parametrize("make, match", [
    # batch_size=10.0 was taken, depth=6.0 refused: a whole float is no count in either;
    # and 1 is no switch, though True == 1.
    (lambda: widgets.learning_rate_explorer(batch_size=10.0), "one of 1, 10, 50, 200; got 10.0"),
    (lambda: widgets.playground(batch_size=16.0), r"one of 1, 4, 16, 64; got 16\.0"),
    (lambda: widgets.initialization_explorer(depth=6.0), "depth must be an integer"),
    (lambda: widgets.loss_explorer(positive=1), "one of True, False; got 1"),
])
def test_a_count_takes_an_integer_and_a_switch_a_bool_in_every_explorer(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    # A browser's slider that updates as it moves showed them at a step and sent that back:
    # 0.6, 0.35 and 0.701.
    (lambda: widgets.perceptron_explorer(w1=0.55),
     r"^w1 must be on one of the slider's steps of 0.1 from -3 \(0.5 or 0.6 here\); got 0.55$"),
    (lambda: widgets.backprop_explorer(value=0.33), r"steps of 0.05 from -3 \(0.3 or 0.35"),
    (lambda: widgets.loss_explorer("mse", prediction=0.7005), r"^prediction must be on one"),
])
def test_a_value_between_a_slider_s_steps_is_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_values_a_slider_shows_as_they_are_are_taken():
    # One that updates when let go sends nothing back until moved; float32 is not off a step.
    assert widgets.optimizer_race(steps=55).controls["steps"].value == 55
    assert widgets.playground(train_ratio=0.75).controls["train_ratio"].value == 0.75
    assert widgets.optimizer_race(lr=0.003).state["lr"] == 0.003   # a logarithmic slider
    assert widgets.perceptron_explorer(w1=np.float32(-2.7)).controls["w1"].value == np.float32(-2.7)


def test_a_slider_showing_blur_s_weights_on_its_steps_keeps_the_preset():
    # A browser's slider shows 1/9 as 0.1, its nearest step, and sends 0.1 back: the menu
    # turned to "custom" and the kernel to 0.1s, as soon as blur was chosen.
    e = widgets.kernel_explorer(preset="blur")
    for name in e.controls:
        if name.startswith("k"):
            e.controls[name].value = 0.1
    assert e.controls["preset"].value == "blur"
    assert np.all(np.array(e.state["kernel"]) == 1 / 9)
    e.controls["k11"].value = 0.2   # a step away: an edit by hand
    assert e.controls["preset"].value == "custom" and e.state["kernel"][1][1] == 0.2
    assert e.state["kernel"][0][0] == 0.1
    e = widgets.kernel_explorer(preset="identity")
    e.controls["k11"].value = 1.04   # set from Python, off the steps: an edit all the same
    assert e.controls["preset"].value == "custom"
