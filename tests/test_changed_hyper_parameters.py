"""Hyper-parameters changed between steps act as PyTorch's do when its param_groups change
(a one-cycle schedule changes Adam's beta1 at every step), and a model file saved in
between holds the state that the next step reads."""

import os

import numpy as np
import pytest

import nnlab as nl

RNG = np.random.default_rng(0)


def pytorch_adam(theta, grads, lr, betas, eps=1e-8, weight_decay=0.0, decoupled=False):
    """PyTorch's documented Adam (AdamW if ``decoupled``), written out plainly, with
    ``betas[t]`` the betas of step t + 1: the reference the engine's form must equal."""
    theta, m, v = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    for t, (g, (beta1, beta2)) in enumerate(zip(grads, betas, strict=True), start=1):
        if decoupled:
            theta = theta * (1 - lr * weight_decay)
        elif weight_decay:
            g = g + weight_decay * theta
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
        theta = theta - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


def changing_betas(steps):
    """Betas that change at every step, as OneCycleLR's cycle_momentum changes beta1, and
    twice for beta2."""
    beta1 = 0.95 - 0.1 * np.sin(np.linspace(0, np.pi, steps))
    beta2 = np.where(np.arange(steps) < steps // 2, 0.999, 0.9)
    beta2[-2:] = 0.5
    return list(zip(beta1.tolist(), beta2.tolist(), strict=True))


@pytest.mark.parametrize("name,decoupled", [("Adam", False), ("AdamW", True)])
def test_adam_follows_pytorch_when_its_betas_change_between_steps(name, decoupled):
    # The engine keeps decayed sums, m and v over 1 - beta: summed with the old betas,
    # they made the step after a change about a whole lr away from PyTorch's.
    theta, steps = RNG.normal(size=(3, 4)), 20
    grads, betas = list(RNG.normal(size=(steps, 3, 4))), changing_betas(steps)
    opt = getattr(nl.optimizers, name)(lr=0.01, weight_decay=0.1)
    p = theta.copy()
    for g, (beta1, beta2) in zip(grads, betas, strict=True):
        opt.beta1, opt.beta2 = beta1, beta2
        opt.step([p], [g])
    expected = pytorch_adam(theta, grads, 0.01, betas, weight_decay=0.1, decoupled=decoupled)
    np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-14)


def test_muon_follows_pytorch_adamw_for_its_biases_when_adam_betas_change():
    bias, steps = RNG.normal(size=4), 12
    grads, betas = list(RNG.normal(size=(steps, 4))), changing_betas(steps)
    opt = nl.optimizers.Muon(lr=0.02, adam_eps=1e-8, adam_weight_decay=0.1)
    p = bias.copy()
    for g, (beta1, beta2) in zip(grads, betas, strict=True):
        opt.adam_beta1, opt.adam_beta2 = beta1, beta2
        opt.step([p], [g])
    expected = pytorch_adam(bias, grads, 0.02, betas, weight_decay=0.1, decoupled=True)
    np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("optimizer", ["adam", "muon"])
def test_a_model_saved_between_a_change_of_betas_and_the_next_step_resumes_it(
        tmp_path, optimizer):
    # The sums were rescaled at the next step: a file written before it held sums of the
    # old betas beside the new betas in its settings, and the loaded model stepped wrong.
    X, y = RNG.normal(size=(16, 3)), RNG.normal(size=(16, 1))
    model = nl.Sequential([nl.Dense(3, 4, rng=0), nl.Activation("tanh"), nl.Dense(4, 1, rng=1)])
    model.compile("mse", optimizer)
    model.fit(X, y, epochs=2, batch_size=8, shuffle=False)
    beta = "adam_beta1" if optimizer == "muon" else "beta1"
    setattr(model.optimizer, beta, 0.5)
    loaded = nl.load_model(model.save(os.path.join(tmp_path, "m")))
    for m in (model, loaded):
        m.fit(X, y, epochs=1, batch_size=8, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
