"""Mutation tests for notebook 04 (overfitting and regularisation).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError) when the
implementation is replaced by a plausible wrong one: a proof that cannot fail proves nothing.

The proofs about training runs need the MNIST images and a few 40-epoch runs on 500 images (about 1.5 s
of CPU each); the notebook itself (nbval) shows that they pass, so only their mutants run here, each on
the cells it needs and no more.
"""

from __future__ import annotations

import pytest

from tests.nbcells import edited_cell, exec_cells, proof_fails

NB04 = "notebooks/04_overfitting_and_regularisation.ipynb"
TRAINING = ["setup", "data", "impl-best-weights", "impl-train"]


# ---------------------------------------------------------------------------------------------
# 04 · overfitting: the confidence grows after memorising, in the output layer (one training run)

OVERFIT = [*TRAINING, "train-none", "proof-overfit"]


CAPPED = 'plain = train(make_mlp(), weight_decay=1e-2)'  # memorises, but its margins and output layer stop growing


def test_overfit_proof_catches_a_network_whose_confidence_is_capped():
    # "Overfitting" must fail for a regularised network, not pass on a 3 % change in the total weight norm.
    proof_fails(NB04, OVERFIT, "train-none", 'plain = run("none")', CAPPED)


def test_overfit_margin_asserts_alone_catch_a_network_whose_confidence_is_capped():
    # The same mutant against the two new asserts only (the first four removed): the weight-decayed network's
    # margin does not keep growing after it has memorised the sample, and its output layer does not grow.
    proof = edited_cell(NB04, "proof-overfit", "assert curves.train_loss.iloc[-1] < 0.01", "pass  # ")
    for old in ["assert curves.val_loss.idxmin()", "assert curves.val_loss.iloc[-1]", "assert curves.val_acc"]:
        proof = proof.replace(old, "pass  # ")
    margin_only = proof.replace("assert growth[", "pass  # ")
    growth_only = proof.replace("assert curves.train_margin", "pass  # ")
    for wrong_proof in (margin_only, growth_only):
        with pytest.raises(AssertionError):
            exec_cells(NB04, OVERFIT, replace={"proof-overfit": wrong_proof, "train-none": CAPPED})


# ---------------------------------------------------------------------------------------------
# 04 · early stopping bookkeeping and patience

BEST = ["setup", "impl-best-weights", "proof-best-weights"]


def test_best_weights_proofexec_cells():
    ns = exec_cells(NB04, BEST)
    assert ns["tracker"].epoch == 3


def test_best_weights_proof_catches_a_state_dict_kept_by_reference():
    proof_fails(NB04, BEST, "impl-best-weights", "copy.deepcopy(model.state_dict())", "model.state_dict()")


def test_best_weights_proof_catches_keeping_the_last_epoch():
    proof_fails(NB04, BEST, "impl-best-weights", "if val_loss < self.loss:", "if True:")


PATIENCE = [*TRAINING, "train-none", "proof-early-stopping"]


def test_patience_proof_catches_counting_from_the_start_instead_of_the_best_epoch():
    # Stops after `patience` epochs whatever the curve does: before the best epoch was even reached.
    proof_fails(NB04, PATIENCE, "impl-train", "epoch - best.epoch >= patience", "epoch >= patience")


# ---------------------------------------------------------------------------------------------
# 04 · L2 penalty == weight decay, and the decay factor (1 - lr λ)

L2 = ["setup", "impl-best-weights", "impl-train", "impl-l2", "proof-l2"]


def test_l2_proofexec_cells():
    exec_cells(NB04, L2)


@pytest.mark.parametrize("old,new", [
    ("lam / 2 * sum(", "lam * sum("),  # the gradient of λ‖W‖² is 2λW, not λW
    ("if name.endswith(\"weight\"))", ")"),  # biases penalised too
    ("(p**2).sum()", "p.abs().sum()"),  # L1, not L2
], ids=["no-half", "biases-too", "l1"])
def test_l2_proof_catches(old, new):
    proof_fails(NB04, L2, "impl-l2", old, new)


def test_l2_decay_factor_alone_catches_a_missing_half():
    # The decay-factor assert on its own (the equality with weight_decay removed): a penalty λ‖W‖² shrinks the
    # weights by (1 - 2 lr λ) per step, not (1 - lr λ).
    only_decay = edited_cell(NB04, "proof-l2", "    assert torch.allclose(p, q, rtol=1e-5, atol=1e-7), name",
                             "    pass")
    wrong = edited_cell(NB04, "impl-l2", "lam / 2 * sum(", "lam * sum(")
    with pytest.raises(AssertionError):
        exec_cells(NB04, L2, replace={"impl-l2": wrong, "proof-l2": only_decay})


# ---------------------------------------------------------------------------------------------
# 04 · max-norm projection, and what He initialisation does to it

MAX_NORM = ["setup", "impl-train", "impl-max-norm", "proof-max-norm"]


def test_max_norm_proofexec_cells():
    exec_cells(NB04, MAX_NORM)


@pytest.mark.parametrize("old,new", [
    ("layer.weight.norm(dim=1, keepdim=True)", "layer.weight.norm(dim=0, keepdim=True)"),  # columns, not rows
    ("torch.clamp(c / row_norms, max=1.0)", "c / row_norms"),  # every row pushed onto the sphere
    ("layer.weight.mul_(torch.clamp(c / row_norms, max=1.0))", "layer.weight.clamp_(-c, c)"),  # per entry
], ids=["columns", "no-min-1", "elementwise-clip"])
def test_max_norm_proof_catches(old, new):
    proof_fails(NB04, MAX_NORM, "impl-max-norm", old, new)


PINNING = [*TRAINING, "train-none", "impl-max-norm", "train-max-norm", "proof-max-norm-cures"]


def test_max_norm_pinning_proof_catches_a_projection_that_also_lengthens_short_rows():
    # Rows inside the ball pushed out onto the sphere: c = 2 is then no longer idle at the start.
    proof_fails(NB04, PINNING, "impl-max-norm", "torch.clamp(c / row_norms, max=1.0)", "c / row_norms")


# ---------------------------------------------------------------------------------------------
# 04 · inverted dropout

DROPOUT = ["setup", "impl-dropout", "proof-dropout"]


def test_dropout_proofexec_cells():
    exec_cells(NB04, DROPOUT)


@pytest.mark.parametrize("old,new", [
    ("return x * keep / (1 - p)", "return x * keep"),  # no rescaling: E[out] = (1 - p) x
    ("return x * keep / (1 - p)", "return x * keep / p"),  # divides by the wrong probability
    ("keep = torch.rand(x.shape, generator=generator, device=x.device) >= p",
     "keep = torch.rand(x.shape, generator=generator, device=x.device) < p"),  # p read as keep_prob (TF)
    ("if not training or p == 0:", "if p == 0:"),  # still dropping in eval mode
], ids=["no-rescale", "rescale-by-1/p", "keep-prob-confusion", "drops-in-eval"])
def test_dropout_proof_catches(old, new):
    proof_fails(NB04, DROPOUT, "impl-dropout", old, new)


# ---------------------------------------------------------------------------------------------
# 04 · the test set: the validation set's choice beats early stopping alone (two methods, to keep it cheap)

SHORTLIST = """methods["dropout + max-norm, c = 1"] = ({"p_drop": 0.5}, {"max_norm": 1.0})
final_methods = ["none", "dropout + max-norm, c = 1"]
seeds = [0]
"""
TEST_SET = [*TRAINING, "impl-max-norm", "impl-dropout", "compare", "test-set", "proof-test"]


def test_test_set_proof_passes_on_the_shortlist():
    ns = exec_cells(NB04, TEST_SET, replace={"compare": SHORTLIST})
    assert ns["chosen"] == "dropout + max-norm, c = 1"


def test_test_set_proof_catches_dropout_left_on_in_evaluation():
    # The classic bug: dropout still active in eval mode, so every evaluation of a dropout network is noisy and
    # too pessimistic; the regularised network then loses, and "regularisation adds to early stopping" must fail.
    wrong = edited_cell(NB04, "impl-dropout", "inverted_dropout(x, self.p, self.training)",
                        "inverted_dropout(x, self.p, True)")
    with pytest.raises(AssertionError):
        exec_cells(NB04, TEST_SET, replace={"compare": SHORTLIST, "impl-dropout": wrong})
