"""Mutation tests for notebook 15 (recurrent networks and LSTM).

Each proof cell must pass with the notebook's own code and fail (AssertionError) when the code it checks is
replaced by a plausible wrong version. The exact sections take a second; the training tests run the quick-mode
training of the long-range task (two small models) or of the character model, a few seconds each on a CPU.
"""

from __future__ import annotations

import pytest
import torch

from tests.nbcells import edited_cell, exec_cells, proof_fails

NB = "notebooks/15_recurrent_networks_and_lstm.ipynb"

RNN = ["setup", "impl-rnn", "proof-rnn"]
BPTT = ["setup", "impl-rnn", "impl-bptt", "impl-bptt-fn", "proof-bptt"]
VANISHING = ["setup", "impl-vanishing", "proof-vanishing"]
LSTM = ["setup", "impl-lstm", "proof-lstm"]
GRADIENTS_AT_INIT = ["setup", "impl-task", "gradients-at-init", "proof-gradients-at-init"]
TASK = ["setup", "impl-task", "train-task", "task-results", "rnn-chances", "proof-task"]
CHARLM = ["setup", "charlm-data", "impl-charlm", "charlm-before", "train-charlm", "charlm-table", "proof-charlm"]


@pytest.fixture(autouse=True)
def quick_mode(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSEKIT_MODE", "quick")
    monkeypatch.setenv("COURSEKIT_LIVE", "0")
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results.jsonl"))  # keep the real record clean
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


# ---------------------------------------------------------------------------------------------
# 1 · the recurrent layer == nn.RNN

def test_rnn_proof_passes():
    ns = exec_cells(NB, RNN)
    assert ns["states"].shape == (6, 3, 5)


@pytest.mark.parametrize("old, new", [
    ("h @ W_hh.T", "h @ W_hh"),  # recurrent weight transposed
    ("h @ W_hh.T + b)", "h0 @ W_hh.T + b)"),  # the state is not carried: every step starts from h0
    ("h = torch.tanh(x_t @ W_xh.T + h @ W_hh.T + b)", "h = x_t @ W_xh.T + h @ W_hh.T + b"),  # no tanh
], ids=["transposed-W_hh", "state-not-carried", "no-tanh"])
def test_rnn_proof_catches(old, new):
    proof_fails(NB, RNN, "impl-rnn", old, new)


# ---------------------------------------------------------------------------------------------
# 2 · BPTT by hand == autograd, and gradcheck

def test_bptt_proof_passes():
    ns = exec_cells(NB, BPTT)
    assert set(ns["grads"]) == {"W_hy", "b_y", "W_xh", "W_hh", "b", "h0"}


@pytest.mark.parametrize("old, new", [
    # the shared weight keeps one step's share instead of the sum over steps
    ('grads["W_hh"] += G_a.T @ hs[t]', 'grads["W_hh"] = G_a.T @ hs[t]'),
    # the study notes' "average" instead of the sum
    ('grads["W_xh"] += G_a.T @ X[t]', 'grads["W_xh"] += G_a.T @ X[t] / len(X)'),
    # the recurrent path into h_t forgotten: only the step's own output sends gradient
    ("G_h = G_Y[t] @ W_hy + G_from_next", "G_h = G_Y[t] @ W_hy"),
    # tanh' forgotten
    ("G_a = G_h * (1 - hs[t + 1] ** 2)", "G_a = G_h"),
    # tanh' evaluated at the previous state
    ("G_a = G_h * (1 - hs[t + 1] ** 2)", "G_a = G_h * (1 - hs[t] ** 2)"),
    # W_hh's gradient paired with the step's new state instead of the state it started from
    ('grads["W_hh"] += G_a.T @ hs[t]', 'grads["W_hh"] += G_a.T @ hs[t + 1]'),
], ids=["not-summed", "averaged", "no-recurrent-path", "no-tanh-derivative", "tanh-derivative-off-by-one",
        "wrong-state-for-W_hh"])
def test_bptt_proof_catches(old, new):
    proof_fails(NB, BPTT, "impl-bptt", old, new)


def test_gradcheck_alone_catches_a_missing_recurrent_path():
    # Even without the autograd comparison, finite differences reject a backward pass without the recurrent term.
    ns = exec_cells(NB, ["setup", "impl-rnn", "impl-bptt", "impl-bptt-fn"])
    exec(edited_cell(NB, "impl-bptt", "G_h = G_Y[t] @ W_hy + G_from_next", "G_h = G_Y[t] @ W_hy"), ns)
    inputs = tuple(ns[k].clone().requires_grad_(i > 0) for i, k in enumerate(["X", "h0", "W_xh", "W_hh", "b", "W_hy",
                                                                             "b_y"]))
    assert not torch.autograd.gradcheck(ns["RNNLoss"].apply, (*inputs, ns["targets"]), eps=1e-6, atol=1e-7,
                                        raise_exception=False)


# ---------------------------------------------------------------------------------------------
# 3 · vanishing gradients as a product of Jacobians

def test_vanishing_proof_passes():
    ns = exec_cells(NB, VANISHING)
    assert ns["relative"][0.9][0] < 1e-6


@pytest.mark.parametrize("old, new", [
    ("(grads[-1] * (1 - states[k] ** 2)) @ W_hh", "grads[-1] @ W_hh"),  # tanh' left out of the Jacobian
    ("(grads[-1] * (1 - states[k] ** 2)) @ W_hh", "(grads[-1] * (1 - states[k] ** 2)) @ W_hh.T"),  # transposed
    ("(grads[-1] * (1 - states[k] ** 2)) @ W_hh", "(grads[-1] * (1 - states[k - 1] ** 2)) @ W_hh"),  # off by one
], ids=["no-tanh-derivative", "transposed", "off-by-one-step"])
def test_vanishing_proof_catches_a_wrong_jacobian(old, new):
    proof_fails(NB, VANISHING, "impl-vanishing", old, new)


def test_vanishing_proof_catches_the_mean_slope_as_the_rate():
    # The rate per step is sigma_max times the root-mean-square of tanh', not its mean (which predicts too fast a decay).
    proof_fails(NB, VANISHING, "impl-vanishing", ".pow(2).mean().sqrt()", ".mean()")


# ---------------------------------------------------------------------------------------------
# 4 · the LSTM cell by hand == nn.LSTMCell and nn.LSTM

def test_lstm_proof_passes():
    exec_cells(NB, LSTM)


@pytest.mark.parametrize("old, new", [
    ('GATE_ORDER = ("i", "f", "g", "o")', 'GATE_ORDER = ("i", "f", "o", "g")'),  # candidate and output swapped
    ('GATE_ORDER = ("i", "f", "g", "o")', 'GATE_ORDER = ("f", "i", "g", "o")'),  # the textbook's order, not torch's
    ("h = o * torch.tanh(c)", "h = o * c"),  # no tanh on the cell state
    ("(cell.bias_ih[rows] + cell.bias_hh[rows])", "cell.bias_ih[rows]"),  # one of the two biases forgotten
    ("c = f * c + i * g", "c = f * c + g"),  # the write gate forgotten
    ("c = f * c + i * g\n    h = o * torch.tanh(c)", "h = o * torch.tanh(c)\n    c = f * c + i * g"),  # stale cell
], ids=["gate-order-ifog", "gate-order-figo", "no-tanh-on-cell", "one-bias", "no-input-gate", "h-from-old-cell"])
def test_lstm_proof_catches(old, new):
    proof_fails(NB, LSTM, "impl-lstm", old, new)


# ---------------------------------------------------------------------------------------------
# 5 · the open forget gate carries the gradient back 59 steps

def test_gradients_at_init_proof_passes():
    ns = exec_cells(NB, GRADIENTS_AT_INIT)
    assert ns["open_1"] > 1e-3


@pytest.mark.parametrize("rows", ["[:hidden]", "[2 * hidden:3 * hidden]", "[3 * hidden:]"],
                         ids=["input-gate", "candidate", "output-gate"])
def test_gradients_at_init_proof_catches_the_forget_bias_in_another_gate(rows):
    # PyTorch's gate order is i, f, g, o: any other block leaves the forget gate at sigmoid(0) = 0.5.
    proof_fails(NB, GRADIENTS_AT_INIT, "impl-task", "self.rnn.bias_ih_l0[hidden:2 * hidden] = forget_bias",
           f"self.rnn.bias_ih_l0{rows} = forget_bias")


# ---------------------------------------------------------------------------------------------
# 6 · the long-range task (trains two small models: a few seconds each)

def test_task_proof_passes():
    ns = exec_cells(NB, TASK)
    assert ns["lstm_accs"].min() >= 0.8 and ns["rnn_accs"].max() <= 0.35


def test_task_proof_catches_the_forget_bias_in_the_input_gate():
    # The classic gate-order slip: the LSTM then forgets at the default rate and does not learn the task.
    proof_fails(NB, TASK, "impl-task", "self.rnn.bias_ih_l0[hidden:2 * hidden] = forget_bias",
           "self.rnn.bias_ih_l0[:hidden] = forget_bias")


def test_task_proof_catches_a_readout_of_the_first_step():
    # Reading the first output instead of the last removes the long-range dependency: the RNN solves it too.
    proof_fails(NB, TASK, "impl-task", "return self.out(outputs[:, -1])", "return self.out(outputs[:, 0])")


# ---------------------------------------------------------------------------------------------
# 7 · the character model beats the unigram baseline (trains the quick-mode model)

def test_charlm_proof_passes():
    ns = exec_cells(NB, CHARLM)
    assert ns["lm_ppl"]["test"] < ns["baselines"]["unigram"]["test"]


def test_charlm_proof_catches_unshifted_targets():
    # Targets equal to the inputs: the model learns to copy its input, which predicts no next character.
    proof_fails(NB, CHARLM, "impl-charlm", "loss = F.cross_entropy(logits.reshape(-1, V_chars), chunk[:, 1:].reshape(-1))",
           "loss = F.cross_entropy(logits.reshape(-1, V_chars), chunk[:, :-1].reshape(-1))")
