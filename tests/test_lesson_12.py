"""Mutation tests for notebook 12 (collaborative filtering on MovieLens).

Each proof cell must pass with the notebook's own code and fail (AssertionError) when the code it
checks is replaced by a plausible wrong version. The training cells run in quick mode (a few
seconds each on a CPU); the notebook sets torch to one thread, which the fixture undoes afterwards.
"""

from __future__ import annotations

import pytest
import torch

from tests.nbcells import edited_cell, exec_cells

NB = "notebooks/12_collaborative_filtering.ipynb"

BASE = ["setup", "data", "split", "train-mean", "impl-sigmoid-range", "impl-train"]
RANKING = BASE + ["impl-bias-only", "train-bias", "impl-dot", "train-dot", "impl-dotbias", "train-dotbias",
                  "proof-ranking"]
WEIGHT_DECAY = BASE + ["impl-dotbias", "train-dotbias", "train-nowd", "proof-wd"]
BIAS_MEANING = BASE + ["impl-dotbias", "train-dotbias", "biases", "proof-bias-meaning"]
SHEET = ["setup", "data", "sheet", "impl-sheet", "proof-sheet"]
SIGMOID = ["setup", "impl-sigmoid-range", "proof-sigmoid-range"]


@pytest.fixture(autouse=True)
def quick_mode_and_threads(monkeypatch):
    monkeypatch.setenv("COURSEKIT_MODE", "quick")
    monkeypatch.setenv("COURSEKIT_LIVE", "0")
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)


def _edited(tag: str, old: str, new: str) -> str:
    return edited_cell(NB, tag, old, new)


# ---------------------------------------------------------------------------------------------
# the sigmoid range

SIGMOID_UNSCALED = """
Y_RANGE = (0.0, 5.5)


def sigmoid_range(x, low, high):
    return torch.sigmoid(x)  # forgot to stretch it to the range: (0, 1)
"""

SIGMOID_NOT_SHIFTED = """
Y_RANGE = (0.0, 5.5)


def sigmoid_range(x, low, high):
    return torch.sigmoid(x) * (high - low)  # the right width, but starting at 0 instead of low
"""

SIGMOID_SCALED_BY_HIGH = """
Y_RANGE = (0.0, 5.5)


def sigmoid_range(x, low, high):
    return torch.sigmoid(x) * high + low  # right only when low == 0
"""


def test_sigmoid_range_proof_passes():
    ns = exec_cells(NB, SIGMOID)
    assert float(ns["sigmoid_range"](torch.tensor(0.0), 1.0, 5.0)) == pytest.approx(3.0)


@pytest.mark.parametrize("wrong", [SIGMOID_UNSCALED, SIGMOID_NOT_SHIFTED, SIGMOID_SCALED_BY_HIGH],
                         ids=["unscaled", "not-shifted", "scaled-by-high"])
def test_sigmoid_range_proof_catches(wrong):
    with pytest.raises(AssertionError):
        exec_cells(NB, SIGMOID, replace={"impl-sigmoid-range": wrong})


# ---------------------------------------------------------------------------------------------
# the 15 x 15 sheet trained by gradient descent


def test_sheet_proof_passes():
    ns = exec_cells(NB, SHEET)
    assert ns["sheet"].shape == (15, 15)
    assert ns["sheet_losses"][-1] < ns["sheet_losses"][0]


@pytest.mark.parametrize("old,new", [
    ("w -= lr_sheet * w.grad", "w += lr_sheet * w.grad"),  # gradient ascent
    ("lr_sheet = 0.5", "lr_sheet = 3.0"),  # a learning rate that diverges
    ("(predictions - targets)[filled]", "(predictions - sheet_ratings)"),  # blanks (NaN) not masked out
], ids=["ascent", "lr-too-large", "blanks-not-masked"])
def test_sheet_proof_catches(old, new):
    with pytest.raises(AssertionError):
        exec_cells(NB, SHEET, replace={"impl-sheet": _edited("impl-sheet", old, new)})


def test_embedding_is_a_lookup():
    exec_cells(NB, ["setup", "proof-embedding"])


# ---------------------------------------------------------------------------------------------
# global mean > biases only > dot product > dot product + biases (held-out RMSE)

DOT_BIAS_WITHOUT_BIASES = ("raw = dot + self.user_bias(users)[:, 0] + self.movie_bias(movies)[:, 0]", "raw = dot")


def test_ranking_proof_passes():
    ns = exec_cells(NB, RANKING)
    heldout = ns["heldout"]
    assert heldout["dot product + biases"] < 0.93


def test_ranking_proof_catches_a_dot_bias_model_without_biases():
    wrong = _edited("impl-dotbias", *DOT_BIAS_WITHOUT_BIASES)
    with pytest.raises(AssertionError):
        exec_cells(NB, RANKING, replace={"impl-dotbias": wrong})


def test_bias_meaning_proof_passes_and_catches_unused_biases():
    exec_cells(NB, BIAS_MEANING)
    wrong = _edited("impl-dotbias", *DOT_BIAS_WITHOUT_BIASES)
    with pytest.raises(AssertionError):
        exec_cells(NB, BIAS_MEANING, replace={"impl-dotbias": wrong})


# ---------------------------------------------------------------------------------------------
# weight decay: the L2 penalty on the embedding rows a batch uses


def test_weight_decay_proof_passes():
    exec_cells(NB, WEIGHT_DECAY)


def test_weight_decay_proof_catches_a_penalty_that_does_nothing():
    wrong = _edited("impl-train", "    return total\n", "    return 0.0 * total\n")
    with pytest.raises(AssertionError):
        exec_cells(NB, WEIGHT_DECAY, replace={"impl-train": wrong})
