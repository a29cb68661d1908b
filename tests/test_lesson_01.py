"""Mutation tests for notebook 01 (neurons and activations).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError) when the
implementation is replaced by a plausible wrong one: a proof that cannot fail proves nothing.
"""

from __future__ import annotations

import pytest

from tests.nbcells import edited_cell, exec_cells, proof_fails

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


# ---------------------------------------------------------------------------------------------
# 01, second edition: the layer, the ReLU that breaks the collapse, saturation and the weights'
# condition for vanishing gradients, dead ReLUs, the zig-zag of all-positive inputs

def test_layer_proof_passes_and_catches_a_neuron_without_its_bias():
    tags = ["setup", "impl-neuron", "proof-layer"]
    exec_cells(NB01, tags)
    proof_fails(NB01, tags, "impl-neuron", "z = x @ w + b", "z = x @ w")


def test_nonlinearity_proof_catches_an_identity_in_place_of_the_relu():
    tags = ["setup", "impl-stack", "impl-collapse", "proof-collapse", "proof-nonlinear"]
    exec_cells(NB01, tags)
    proof_fails(NB01, tags, "proof-nonlinear", "nn.Sequential(first, nn.ReLU(), second)",
                "nn.Sequential(first, nn.Identity(), second)")


def test_saturation_proof_passes_and_catches_a_stretched_sigmoid():
    tags = ["setup", "impl-activations", "proof-saturation"]
    exec_cells(NB01, tags)
    proof_fails(NB01, tags, "impl-activations", "return 1 / (1 + torch.exp(-z))", "return 1 / (1 + torch.exp(-z / 2))")


def test_chain_proof_passes_and_catches_a_chain_that_forgets_the_weights():
    tags = ["setup", "impl-activations", "impl-chain", "proof-chain"]
    ns = exec_cells(NB01, tags)
    assert ns["slopes"][6.0] > 1 > ns["slopes"][4.0] * 0.999
    # The old proof's chain (sigmoid after sigmoid, no weights): every slope is (1/4)^10, so "(1/4)^L" looks universal.
    proof_fails(NB01, tags, "impl-chain", "a = sigmoid(w * (a - centre))", "a = sigmoid(a - centre)")


@pytest.mark.parametrize("old, new", [
    ("return torch.clamp(z, min=0)", "return torch.where(z > 0, z, 0.01 * z)"),  # a "ReLU" that leaks cannot die
    ("return torch.where(z > 0, z, alpha * z)", "return torch.where(z > 0, z, 0 * z)"),  # a leaky ReLU that doesn't
], ids=["relu-that-leaks", "leaky-relu-without-slope"])
def test_dead_relu_proof_catches(old, new):
    tags = ["setup", "impl-activations", "impl-dead", "proof-dead"]
    proof_fails(NB01, tags, "impl-activations", old, new)


def test_dead_relu_proof_passes():
    ns = exec_cells(NB01, ["setup", "impl-activations", "impl-dead", "proof-dead"])
    assert ns["history_relu"].shape == (101, 2)


def test_zigzag_proof_passes_and_catches_inputs_that_were_not_centred():
    tags = ["setup", "impl-zigzag", "proof-zigzag"]
    exec_cells(NB01, tags)
    proof_fails(NB01, tags, "impl-zigzag", "positive_inputs - positive_inputs.mean(dim=0)", "positive_inputs.clone()")
