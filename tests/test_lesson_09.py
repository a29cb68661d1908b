"""Mutation tests for notebook 09 (hyperparameter search).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError) when the
implementation is replaced by a plausible wrong one. Only the tagged cells run, with small inputs: the
searches on MNIST are not repeated per mutant.
"""

from __future__ import annotations

import pytest

from tests.nbcells import edited_cell, exec_cells, proof_fails

NB09 = "notebooks/09_hyperparameter_search.ipynb"

# ---------------------------------------------------------------------------------------------
# k-fold: every example validated exactly once, never trained on in the same run

KFOLD = ["setup", "impl-kfold", "proof-kfold"]


def test_kfold_proof_passes():
    ns = exec_cells(NB09, KFOLD)
    assert ns["sizes"] == [201, 201, 201, 200, 200]


@pytest.mark.parametrize("old,new", [
    ("torch.tensor_split(order, k)", "torch.split(order, n // k)"),  # fixed-size chunks: the remainder is never validated
    ("torch.cat(folds[:i] + folds[i + 1:])", "order"),  # trains on its own validation fold
    ("folds[i + 1:]", "folds[i:]"),  # off by one: the validation fold leaks into training
    ("order = torch.randperm(n, generator=generator)", "order = torch.randint(n, (n,), generator=generator)"),  # with replacement
], ids=["remainder-dropped", "train-on-all", "off-by-one-leak", "sampled-with-replacement"])
def test_kfold_proof_catches(old, new):
    proof_fails(NB09, KFOLD, "impl-kfold", old, new)


def test_kfold_rejects_impossible_k():
    ns = exec_cells(NB09, ["setup", "impl-kfold"])
    for n, k in [(10, 1), (3, 4)]:
        with pytest.raises(ValueError, match="2 <= k <= n"):
            ns["kfold"](n, k, ns["torch"].Generator().manual_seed(0))


# ---------------------------------------------------------------------------------------------
# random search beats an equal-budget grid on the seeded demo objective

SEARCH = ["setup", "impl-search", "demo-objective", "demo-figure", "proof-random-beats-grid"]


def test_random_beats_grid_proof_passes():
    ns = exec_cells(NB09, SEARCH)
    assert 0.55 < ns["wins"] < 0.75


@pytest.mark.parametrize("old,new", [
    # uniform instead of log-uniform: nine draws in ten land in the top decade of the range
    ("return torch.exp(math.log(low) + u * (math.log(high) - math.log(low)))", "return low + u * (high - low)"),
    # one draw reused for every trial: random search degenerates to a single configuration
    ("{name: log_uniform(low, high, n, generator)", "{name: log_uniform(low, high, 1, generator).repeat(n)"),
], ids=["uniform-not-log", "one-draw-reused"])
def test_random_beats_grid_proof_catches(old, new):
    proof_fails(NB09, SEARCH, "impl-search", old, new)


# ---------------------------------------------------------------------------------------------
# choosing the best of N on the test set biases its test score upwards

# Stand-ins for the search's networks: 12 networks with the same true accuracy (0.87) and independent errors
# on 2,000 images, so that any difference between them is luck; network 0 stands for the one validation chose.
FAKE_NETWORKS = """
g = torch.Generator().manual_seed(11)
correct = (torch.rand(12, 2_000, generator=g) < 0.87).float()
chosen_on_val = 0
"""
BIAS = ["setup", "bias-data", "impl-bias", "proof-bias"]


def test_bias_proof_passes_on_stand_in_networks():
    ns = exec_cells(NB09, BIAS, replace={"bias-data": FAKE_NETWORKS})
    assert ns["biases"]["selected on test"].mean() > 0.01


@pytest.mark.parametrize("old,new", [
    ("chosen_on_test = test_acc.argmax()", "chosen_on_test = new_acc.argmax()"),  # chosen on the new data instead
    ("chosen_on_test = test_acc.argmax()", "chosen_on_test = chosen_on_val"),  # chosen on validation after all
    ("new_acc = correct[:, order[n_test:]].mean(1)", "new_acc = correct[:, order[:n_test]].mean(1)"),  # 'new' data = test
], ids=["select-on-new-data", "select-on-validation", "new-data-is-test-data"])
def test_bias_proof_catches(old, new):
    wrong = edited_cell(NB09, "impl-bias", old, new)
    with pytest.raises(AssertionError):
        exec_cells(NB09, BIAS, replace={"bias-data": FAKE_NETWORKS, "impl-bias": wrong})


# ---------------------------------------------------------------------------------------------
# coarse -> fine: the fine box is a better region than the coarse range (a small search: 400 images, 5 epochs)

SMALL_SEARCH = """
n_pool, k_folds, epochs = 400, 2, 5
images, labels = ck.mnist_tensors(train=True)
X_pool, y_pool = images[:n_pool].flatten(1), labels[:n_pool]
space = {"lr": (1e-4, 1.0), "weight_decay": (1e-5, 1e-1), "width": (16, 256), "eps": (1e-10, 1e-6)}
folds = kfold(n_pool, k_folds, torch.Generator().manual_seed(0))
"""
COARSE_FINE = ["setup", "impl-kfold", "impl-search", "data", "impl-train", "search", "coarse-to-fine",
               "proof-coarse-to-fine"]


def test_coarse_to_fine_proof_passes_on_a_small_search():
    ns = exec_cells(NB09, COARSE_FINE, replace={"data": SMALL_SEARCH})
    assert ns["fine_results"].val_acc.median() > ns["coarse"].val_acc.median()


# Only a mutant that must fail: a fine round that merely re-searches the coarse range has the coarse round's median
# in expectation, so whether its seeded median lands below would be luck.
@pytest.mark.parametrize("old,new", [
    ("coarse.loc[coarse.val_acc.idxmax()]", "coarse.loc[coarse.val_acc.idxmin()]"),  # centred on the worst result
], ids=["centred-on-worst"])
def test_coarse_to_fine_proof_catches(old, new):
    wrong = edited_cell(NB09, "coarse-to-fine", old, new)
    with pytest.raises(AssertionError):
        exec_cells(NB09, COARSE_FINE, replace={"data": SMALL_SEARCH, "coarse-to-fine": wrong})


# ---------------------------------------------------------------------------------------------
# reading loss curves: each symptom is asserted, so a run that does not show it fails the proof

CURVES = ["setup", "impl-kfold", "data", "impl-train", "loss-curves", "proof-curves"]


def test_loss_curves_proof_passes():
    exec_cells(NB09, CURVES)


@pytest.mark.parametrize("old,new", [
    ('train({**plain, "lr": 0.5}', 'train({**plain, "lr": 0.03}'),  # a merely large learning rate: no blow-up
    ("sgd_run(deep_mlp(0.03)", "sgd_run(deep_mlp(0.1)"),  # a larger init: no flat start at ln 10
], ids=["lr-not-too-high", "no-slow-start"])
def test_loss_curves_proof_catches(old, new):
    proof_fails(NB09, CURVES, "loss-curves", old, new)
