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


def stepped_with_changing_betas(opt, theta, grads, betas, names=("beta1", "beta2")):
    """A copy of ``theta`` after ``opt``'s steps, its attributes ``names`` set to each
    step's betas before it."""
    p = theta.copy()
    for g, step_betas in zip(grads, betas, strict=True):
        for name, beta in zip(names, step_betas, strict=True):
            setattr(opt, name, beta)
        opt.step([p], [g])
    return p


@pytest.mark.parametrize("name,decoupled", [("Adam", False), ("AdamW", True)])
def test_adam_follows_pytorch_when_its_betas_change_between_steps(name, decoupled):
    # The engine keeps decayed sums, m and v over 1 - beta: summed with the old betas,
    # they made the step after a change about a whole lr away from PyTorch's.
    theta, steps = RNG.normal(size=(3, 4)), 20
    grads, betas = list(RNG.normal(size=(steps, 3, 4))), changing_betas(steps)
    opt = getattr(nl.optimizers, name)(lr=0.01, weight_decay=0.1)
    np.testing.assert_allclose(
        stepped_with_changing_betas(opt, theta, grads, betas),
        pytorch_adam(theta, grads, 0.01, betas, weight_decay=0.1, decoupled=decoupled),
        rtol=1e-12, atol=1e-14)


def test_muon_follows_pytorch_adamw_for_its_biases_when_adam_betas_change():
    bias, steps = RNG.normal(size=4), 12
    grads, betas = list(RNG.normal(size=(steps, 4))), changing_betas(steps)
    opt = nl.optimizers.Muon(lr=0.02, adam_eps=1e-8, adam_weight_decay=0.1)
    np.testing.assert_allclose(
        stepped_with_changing_betas(opt, bias, grads, betas, ("adam_beta1", "adam_beta2")),
        pytorch_adam(bias, grads, 0.02, betas, weight_decay=0.1, decoupled=True),
        rtol=1e-12, atol=1e-14)


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


def pytorch_asgd(theta, grads, settings):
    """PyTorch's ASGD written out plainly, ``settings[t]`` the (lr, lambd, alpha, t0) of
    step t + 1: each step ends by fixing the next one's eta and mu, with its own settings;
    the first step's eta is its rate."""
    theta, ax, eta, mu = theta.copy(), np.zeros_like(theta), settings[0][0], 1.0
    for step, (g, (lr, lambd, alpha, t0)) in enumerate(zip(grads, settings, strict=True),
                                                       start=1):
        theta = theta * (1 - lambd * eta) - eta * g
        ax = theta.copy() if mu == 1 else ax + mu * (theta - ax)
        eta, mu = lr / (1 + lambd * lr * step) ** alpha, 1 / max(1, step - t0)
    return theta, ax


def changing_asgd_settings(steps):
    lr = np.where(np.arange(steps) < steps // 2, 0.05, 0.02)
    lambd = np.where(np.arange(steps) % 3 == 0, 0.5, 0.1)
    alpha = np.where(np.arange(steps) < steps - 3, 0.75, 0.5)
    t0 = np.where(np.arange(steps) < 6, 2.0, 4.0)
    return list(zip(lr.tolist(), lambd.tolist(), alpha.tolist(), t0.tolist(), strict=True))


def test_asgd_follows_pytorch_when_its_settings_change_between_steps():
    # eta and mu came from the settings of the step being taken; PyTorch's come from those
    # of the step before, fixed at its end (the decay term takes lambd's value now).
    theta, steps = RNG.normal(size=(2, 3)), 12
    grads, settings = list(RNG.normal(size=(steps, 2, 3))), changing_asgd_settings(steps)
    opt, p = nl.optimizers.ASGD(), theta.copy()
    for g, (lr, lambd, alpha, t0) in zip(grads, settings, strict=True):
        opt.lr, opt.lambd, opt.alpha, opt.t0 = lr, lambd, alpha, t0
        opt.step([p], [g])
    expected, average = pytorch_asgd(theta, grads, settings)
    np.testing.assert_allclose(p, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(opt.averaged_params()[0], average, rtol=1e-12, atol=1e-14)
    opt.reset()   # a fresh start: the first step's eta is its own rate again
    p = theta.copy()
    opt.step([p], [grads[0]])
    np.testing.assert_allclose(p, theta * (1 - settings[-1][1] * settings[-1][0])
                               - settings[-1][0] * grads[0], rtol=1e-12)


def test_the_asgd_reference_is_pytorch_s():
    torch = pytest.importorskip("torch")
    theta, steps = RNG.normal(size=(2, 3)), 12
    grads, settings = list(RNG.normal(size=(steps, 2, 3))), changing_asgd_settings(steps)
    w = torch.nn.Parameter(torch.tensor(theta))
    opt = torch.optim.ASGD([w], lr=settings[0][0])
    for g, (lr, lambd, alpha, t0) in zip(grads, settings, strict=True):
        opt.param_groups[0].update(lr=lr, lambd=lambd, alpha=alpha, t0=t0)
        w.grad = torch.tensor(g)
        opt.step()
    expected, average = pytorch_asgd(theta, grads, settings)
    # PyTorch keeps eta and mu as float32 tensors (torch.as_tensor of a Python float).
    np.testing.assert_allclose(w.detach().numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(opt.state[w]["ax"].numpy(), average, rtol=1e-6)
