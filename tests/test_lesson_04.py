"""Mutation tests for notebook 04 (overfitting and regularisation).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError) when the
implementation is replaced by a plausible wrong one: a proof that cannot fail proves nothing.
"""

from __future__ import annotations

import pytest

from tests.nbcells import edited_cell, exec_cells

NB04 = "notebooks/04_overfitting_and_regularisation.ipynb"


def _passes(notebook: str, tags: list[str]) -> dict:
    return exec_cells(notebook, tags)


def _fails(notebook: str, tags: list[str], tag: str, wrong: str) -> None:
    with pytest.raises(AssertionError):
        exec_cells(notebook, tags, replace={tag: wrong})


# ---------------------------------------------------------------------------------------------
# 04 · early stopping bookkeeping

BEST = ["setup", "impl-best-weights", "proof-best-weights"]


def test_best_weights_proof_passes():
    ns = _passes(NB04, BEST)
    assert ns["tracker"].epoch == 3


def test_best_weights_proof_catches_a_state_dict_kept_by_reference():
    wrong = edited_cell(NB04, "impl-best-weights", "copy.deepcopy(model.state_dict())", "model.state_dict()")
    _fails(NB04, BEST, "impl-best-weights", wrong)


def test_best_weights_proof_catches_keeping_the_last_epoch():
    wrong = edited_cell(NB04, "impl-best-weights", "if val_loss < self.loss:", "if True:")
    _fails(NB04, BEST, "impl-best-weights", wrong)


# ---------------------------------------------------------------------------------------------
# 04 · L2 penalty == weight decay

L2 = ["setup", "impl-best-weights", "impl-train", "impl-l2", "proof-l2"]


def test_l2_proof_passes():
    _passes(NB04, L2)


@pytest.mark.parametrize("old,new", [
    ("lam / 2 * sum(", "lam * sum("),  # the gradient of λ‖W‖² is 2λW, not λW
    ("if name.endswith(\"weight\"))", ")"),  # biases penalised too
    ("(p**2).sum()", "p.abs().sum()"),  # L1, not L2
], ids=["no-half", "biases-too", "l1"])
def test_l2_proof_catches(old, new):
    wrong = edited_cell(NB04, "impl-l2", old, new)
    _fails(NB04, L2, "impl-l2", wrong)


# ---------------------------------------------------------------------------------------------
# 04 · max-norm projection

MAX_NORM = ["setup", "impl-max-norm", "proof-max-norm"]


def test_max_norm_proof_passes():
    _passes(NB04, MAX_NORM)


@pytest.mark.parametrize("old,new", [
    ("layer.weight.norm(dim=1, keepdim=True)", "layer.weight.norm(dim=0, keepdim=True)"),  # columns, not rows
    ("torch.clamp(c / row_norms, max=1.0)", "c / row_norms"),  # every row pushed onto the sphere
    ("layer.weight.mul_(torch.clamp(c / row_norms, max=1.0))", "layer.weight.clamp_(-c, c)"),  # per entry
], ids=["columns", "no-min-1", "elementwise-clip"])
def test_max_norm_proof_catches(old, new):
    wrong = edited_cell(NB04, "impl-max-norm", old, new)
    _fails(NB04, MAX_NORM, "impl-max-norm", wrong)


# ---------------------------------------------------------------------------------------------
# 04 · inverted dropout

DROPOUT = ["setup", "impl-dropout", "proof-dropout"]


def test_dropout_proof_passes():
    _passes(NB04, DROPOUT)


@pytest.mark.parametrize("old,new", [
    ("return x * keep / (1 - p)", "return x * keep"),  # no rescaling: E[out] = (1 - p) x
    ("return x * keep / (1 - p)", "return x * keep / p"),  # divides by the wrong probability
    ("keep = torch.rand(x.shape, generator=generator, device=x.device) >= p",
     "keep = torch.rand(x.shape, generator=generator, device=x.device) < p"),  # p read as keep_prob (TF)
    ("if not training or p == 0:", "if p == 0:"),  # still dropping in eval mode
], ids=["no-rescale", "rescale-by-1/p", "keep-prob-confusion", "drops-in-eval"])
def test_dropout_proof_catches(old, new):
    wrong = edited_cell(NB04, "impl-dropout", old, new)
    _fails(NB04, DROPOUT, "impl-dropout", wrong)
