"""Mutation tests for notebook 01 (neurons and activations).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError) when the
implementation is replaced by a plausible wrong one: a proof that cannot fail proves nothing.
"""

from __future__ import annotations

import pytest

from tests.nbcells import edited_cell, exec_cells

NB01 = "notebooks/01_neurons_and_activations.ipynb"


# ---------------------------------------------------------------------------------------------
# 01: softmax, log-softmax, collapse of linear layers, activation derivatives

SOFTMAX_WITHOUT_SHIFT = """
def softmax(z, dim=-1):
    e = torch.exp(z)  # no max-shift: exp(1e4) = inf, inf / inf = nan
    return e / e.sum(dim=dim, keepdim=True)
"""

SOFTMAX_SHIFT_BY_MEAN = """
def softmax(z, dim=-1):
    shifted = z - z.mean(dim=dim, keepdim=True)  # the mean does not bound the largest exponent
    e = torch.exp(shifted)
    return e / e.sum(dim=dim, keepdim=True)
"""

SOFTMAX_NORMALISED_OVER_WRONG_DIM = """
def softmax(z, dim=-1):
    shifted = z - z.amax(dim=dim, keepdim=True)
    e = torch.exp(shifted)
    return e / e.sum()  # sums over the whole batch, not each row
"""


def test_softmax_proof_passes():
    ns = exec_cells(NB01, ["setup", "impl-softmax", "proof-softmax"])
    assert ns["p"].shape == (3, 4)


@pytest.mark.parametrize("wrong", [SOFTMAX_WITHOUT_SHIFT, SOFTMAX_SHIFT_BY_MEAN, SOFTMAX_NORMALISED_OVER_WRONG_DIM],
                         ids=["no-max-shift", "shift-by-mean", "wrong-normalisation"])
def test_softmax_proof_catches(wrong):
    with pytest.raises(AssertionError):
        exec_cells(NB01, ["setup", "impl-softmax", "proof-softmax"], replace={"impl-softmax": wrong})


def test_naive_softmax_really_is_nan_on_large_logits():
    ns = exec_cells(NB01, ["setup"])
    exec(SOFTMAX_WITHOUT_SHIFT, ns)
    torch = ns["torch"]
    assert torch.isnan(ns["softmax"](torch.tensor([1e4, 1e4 - 1, 1e4 - 2]))).all()


LOG_SOFTMAX_WITHOUT_SHIFT = """
def log_softmax(z, dim=-1):
    return z - torch.log(torch.exp(z).sum(dim=dim, keepdim=True))  # exp(200) overflows float32


def cross_entropy(logits, targets):
    return -log_softmax(logits)[torch.arange(len(targets)), targets].mean()
"""

LOG_OF_SOFTMAX = """
def log_softmax(z, dim=-1):
    return torch.log(softmax(z, dim=dim))  # softmax first, then log: log(0) = -inf


def cross_entropy(logits, targets):
    return -log_softmax(logits)[torch.arange(len(targets)), targets].mean()
"""


def test_log_softmax_proof_passes():
    exec_cells(NB01, ["setup", "impl-softmax", "impl-logsoftmax", "proof-logsoftmax"])


@pytest.mark.parametrize("wrong", [LOG_SOFTMAX_WITHOUT_SHIFT, LOG_OF_SOFTMAX], ids=["no-shift", "log-of-softmax"])
def test_log_softmax_proof_catches(wrong):
    with pytest.raises(AssertionError):
        exec_cells(NB01, ["setup", "impl-softmax", "impl-logsoftmax", "proof-logsoftmax"],
                   replace={"impl-logsoftmax": wrong})


def test_collapse_proof_passes():
    exec_cells(NB01, ["setup", "impl-stack", "impl-collapse", "proof-collapse"])


@pytest.mark.parametrize("nonlinearity", ["nn.ReLU()", "nn.Tanh()", "nn.Sigmoid()"])
def test_collapse_proof_fails_with_a_nonlinearity_between_the_layers(nonlinearity):
    wrong = edited_cell(NB01, "impl-stack", "nn.Sequential(first, second)", f"nn.Sequential(first, {nonlinearity}, second)")
    with pytest.raises(AssertionError):
        exec_cells(NB01, ["setup", "impl-stack", "impl-collapse", "proof-collapse"], replace={"impl-stack": wrong})


def test_collapse_proof_catches_a_wrong_composition():
    wrong = edited_cell(NB01, "impl-collapse", "second.weight @ first.bias + second.bias", "first.bias.sum() + second.bias")
    with pytest.raises(AssertionError):
        exec_cells(NB01, ["setup", "impl-stack", "impl-collapse", "proof-collapse"], replace={"impl-collapse": wrong})


def test_activation_proof_passes():
    exec_cells(NB01, ["setup", "impl-activations", "proof-activations"])


@pytest.mark.parametrize("old, new", [
    ("sigmoid(z) * (1 - sigmoid(z))", "sigmoid(z) * (1 + sigmoid(z))"),  # wrong closed-form derivative
    ("1 - tanh(z) ** 2", "1 - tanh(z)"),
    ("torch.exp(torch.clamp(z, max=0))", "torch.expm1(torch.clamp(z, max=0))"),  # ELU' = f(z) + alpha, not f(z)
    ("alpha * torch.expm1(torch.clamp(z, max=0))", "alpha * torch.exp(torch.clamp(z, max=0))"),  # ELU off by alpha
], ids=["sigmoid-derivative", "tanh-derivative", "elu-derivative", "elu-function"])
def test_activation_proof_catches(old, new):
    wrong = edited_cell(NB01, "impl-activations", old, new)
    with pytest.raises(AssertionError):
        exec_cells(NB01, ["setup", "impl-activations", "proof-activations"], replace={"impl-activations": wrong})


def test_perceptron_proof_passes_and_catches_a_rule_that_never_learns():
    exec_cells(NB01, ["setup", "data-perceptron", "impl-perceptron", "proof-perceptron"])
    wrong = edited_cell(NB01, "impl-perceptron", "w, b = w + y_i * x_i, b + y_i", "w, b = w - y_i * x_i, b - y_i")
    with pytest.raises(AssertionError):
        exec_cells(NB01, ["setup", "data-perceptron", "impl-perceptron", "proof-perceptron"],
                   replace={"impl-perceptron": wrong})
