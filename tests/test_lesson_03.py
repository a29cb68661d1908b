"""Mutation tests for notebook 03 (backprop and MNIST).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError) when the
implementation is replaced by a plausible wrong one: a proof that cannot fail proves nothing.
"""

from __future__ import annotations

import pytest

from tests.nbcells import edited_cell, exec_cells, proof_fails

NB03 = "notebooks/03_backprop_and_mnist.ipynb"


# ---------------------------------------------------------------------------------------------
# 03 · the chain rule as Jacobian products

JACOBIANS = ["setup", "impl-jacobians", "proof-jacobians"]


def test_jacobian_proofexec_cells():
    ns = exec_cells(NB03, JACOBIANS)
    assert ns["grad_W1"].shape == (4, 3)


def test_jacobian_proof_catches_a_missing_relu_jacobian():
    proof_fails(NB03, JACOBIANS, "impl-jacobians", "J_h_a = jacobian(relu, a)", "J_h_a = torch.eye(4, dtype=torch.float64)")


def test_jacobian_proof_catches_a_model_path_built_from_the_data_path():
    # dL/dW1 is the outer product of dL/da with the layer's input x, not with the gradient dL/dx.
    proof_fails(NB03, JACOBIANS, "impl-jacobians", "grad_W1 = (grad_a @ J_a_W1).reshape(4, 3)",
                    "grad_W1 = torch.outer(grad_a.flatten(), grad_x.flatten())")


# ---------------------------------------------------------------------------------------------
# 03 · cross-entropy with the softmax inside the loss

CROSS_ENTROPY = ["setup", "impl-cross-entropy", "proof-cross-entropy"]

CE_SOFTMAX_THEN_LOG = """
def softmax_then_log_loss(logits, targets):
    probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -torch.log(probs[torch.arange(len(targets)), targets]).mean()


def cross_entropy_from_logits(logits, targets):
    return softmax_then_log_loss(logits, targets)  # the textbook's first version, renamed
"""

CE_WITHOUT_MAX_SHIFT = """
def softmax_then_log_loss(logits, targets):
    probs = torch.exp(logits) / torch.exp(logits).sum(dim=1, keepdim=True)
    return -torch.log(probs[torch.arange(len(targets)), targets]).mean()


def cross_entropy_from_logits(logits, targets):
    log_sum_exp = torch.log(torch.exp(logits).sum(dim=1))  # exp(1e4) = inf
    return (log_sum_exp - logits[torch.arange(len(targets)), targets]).mean()
"""


def test_cross_entropy_proofexec_cells():
    exec_cells(NB03, CROSS_ENTROPY)


@pytest.mark.parametrize("wrong", [CE_SOFTMAX_THEN_LOG, CE_WITHOUT_MAX_SHIFT], ids=["softmax-then-log", "no-max-shift"])
def test_cross_entropy_proof_catches(wrong):
    with pytest.raises(AssertionError):  # a whole wrong cell in place of the lesson's
        exec_cells(NB03, CROSS_ENTROPY, replace={"impl-cross-entropy": wrong})


def test_cross_entropy_proof_catches_forgetting_to_add_the_max_back():
    proof_fails(NB03, CROSS_ENTROPY, "impl-cross-entropy", "m.squeeze(1) + torch.log(", "torch.log(")


# ---------------------------------------------------------------------------------------------
# 03 · backpropagation by hand (autograd and gradcheck)

BACKPROP = ["setup", "impl-backprop", "impl-backprop-fn", "proof-backprop"]
RELU_MASK = "G_A = G_H * (A > 0).to(A.dtype)"


def test_backprop_proofexec_cells():
    ns = exec_cells(NB03, BACKPROP)
    assert set(ns["grads"]) == {"X", "W1", "b1", "W2", "b2"}


@pytest.mark.parametrize("old,new", [
    (RELU_MASK, "G_A = G_H"),  # ReLU' forgotten: gradient flows through inactive units
    (RELU_MASK, "G_A = G_H * H"),  # ReLU' taken as the activation itself
    (RELU_MASK, "G_A = G_H * (A < 0).to(A.dtype)"),  # the mask inverted
    ("/ N  # softmax - onehot", "# softmax - onehot"),  # mean over the batch forgotten
    ("G_W1 = G_A.T @ X", "G_W1 = (X.T @ G_A).T * 2"),  # a wrong model-path factor
    ("G_b1 = G_A.sum(dim=0)", "G_b1 = G_A.mean(dim=0)"),  # bias gradient averaged instead of summed
    ("G_X = G_A @ W1  # data path", "G_X = G_H @ W1  # data path"),  # the data path skips the ReLU
], ids=["no-relu-derivative", "relu-derivative-is-relu", "inverted-mask", "no-mean", "dW1-doubled",
        "bias-mean", "data-path-skips-relu"])
def test_backprop_proof_catches(old, new):
    proof_fails(NB03, BACKPROP, "impl-backprop", old, new)


def test_backprop_proof_catches_a_transposed_weight_gradient():
    # (X.T @ G_A) has shape (d, hidden) instead of (hidden, d): the shape assertion names it.
    proof_fails(NB03, BACKPROP, "impl-backprop", "G_W1 = G_A.T @ X", "G_W1 = X.T @ G_A")


def test_gradcheck_alone_catches_a_wrong_backward():
    # Even if the autograd comparison were absent, gradcheck (finite differences) rejects a wrong backward.
    ns = exec_cells(NB03, ["setup", "impl-backprop", "impl-backprop-fn"])
    torch = ns["torch"]
    exec(edited_cell(NB03, "impl-backprop", RELU_MASK, "G_A = G_H"), ns)
    g = torch.Generator().manual_seed(0)
    shapes = [(6, 4), (5, 4), (5,), (3, 5), (3,)]
    inputs = tuple(torch.randn(*s, generator=g, dtype=torch.float64, requires_grad=True) for s in shapes)
    labels = torch.randint(0, 3, (6,), generator=g)
    assert not torch.autograd.gradcheck(ns["TwoLayerNetLoss"].apply, (*inputs, labels), eps=1e-6, atol=1e-7,
                                        raise_exception=False)


# ---------------------------------------------------------------------------------------------
# 03 · He initialisation (needs the MNIST images: a few seconds)

INIT = ["setup", "data", "impl-init", "proof-init"]


def test_init_proofexec_cells():
    ns = exec_cells(NB03, INIT)
    assert ns["measured"].shape == (5, 2)


def test_init_proof_catches_a_wrong_he_variance():
    # Xavier-style std = sqrt(1/n) in place of He's sqrt(2/n): the signal halves at every ReLU layer.
    proof_fails(NB03, INIT, "impl-init", 'nn.init.kaiming_normal_(w, nonlinearity="relu", generator=g)',
                        'nn.init.normal_(w, std=(1 / w.shape[1]) ** 0.5, generator=g)')


def test_init_proof_catches_tf1_uniform_default_taken_as_symmetric():
    # The guess the first edition made: U(-1, 1) instead of TF1's default U[0, 1). With zero mean it grows only as
    # the variance argument predicts, so "the positive mean explodes it far faster" must fail.
    proof_fails(NB03, INIT, "impl-init", "nn.init.uniform_(w, 0, 1, generator=g)",
                "nn.init.uniform_(w, -1, 1, generator=g)")


# ---------------------------------------------------------------------------------------------
# 03 · checkpoints written by the training loop, read back in section 8 (a tiny training run)

CHECKPOINT = ["setup", "data", "impl-phases", "impl-train", "train-logreg", "proof-symmetry", "train-mlp",
              "impl-checkpoint", "proof-checkpoint"]
SMALL_RUN = ("epochs = ck.by_mode(quick=3, full=8)", "epochs, n_train = 2, 256")


def _checkpoint_run(replace: dict[str, str]) -> dict:
    small = {"train-logreg": edited_cell(NB03, "train-logreg", *SMALL_RUN), **replace}
    return exec_cells(NB03, CHECKPOINT, replace=small)


def test_checkpoint_proofexec_cells():
    ns = _checkpoint_run({})
    assert ns["saved"]["epoch"] == 2


@pytest.mark.parametrize("tag,old,new", [
    ("impl-train", "if checkpoint is not None:  # everything", "if checkpoint is not None and epoch == 1:  # everything"),
    ("impl-train", '"optimizer": optimizer.state_dict()', '"optimizer": type(optimizer)(model.parameters(), lr=0.1).state_dict()'),
    ("impl-checkpoint", 'restored.load_state_dict(saved["model"])', "pass"),
], ids=["only-first-epoch-saved", "optimizer-state-not-saved", "never-loaded"])
def test_checkpoint_proof_catches(tag, old, new):
    wrong = edited_cell(NB03, tag, old, new)
    with pytest.raises(AssertionError):
        _checkpoint_run({tag: wrong})


# ---------------------------------------------------------------------------------------------
# 03 · symmetry breaking (20 SGD steps on real images)

SYMMETRY = ["setup", "data", "impl-phases", "proof-symmetry"]


def test_symmetry_proof_catches_a_constant_init_that_is_not_constant():
    # If the "constant" network's first layer kept its random He weights, its rows would differ: the proof must notice.
    proof_fails(NB03, SYMMETRY, "proof-symmetry", "nn.init.constant_(layer.weight, 0.01)",
                "nn.init.constant_(layer.weight, 0.01) if layer is not symmetric[1] else None")
