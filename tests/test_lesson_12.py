"""Mutation tests for notebook 12 (collaborative filtering on MovieLens).

Each proof cell must pass with the notebook's own code and fail (AssertionError) when the code it
checks is replaced by a plausible wrong version. Everything runs in quick mode. Where a proof needs
trained models but not the search that chose their settings, the search cell is replaced by the
notebook's DEFAULTS (and the untuned net by the cheap biases-only model), so that a test trains a
handful of small models, not the whole notebook. The notebook sets torch to one thread; the fixture
undoes that afterwards.
"""

from __future__ import annotations

import pytest
import torch

from tests.nbcells import edited_cell, exec_cells, quick_mode_and_threads  # noqa: F401 (autouse fixture)

NB = "notebooks/12_collaborative_filtering.ipynb"

# Stand-ins for the cells a proof does not need: the settings search and the neural net.
NO_SEARCH = "best_dot_bias, best_bias = dict(DEFAULTS), dict(DEFAULTS)\n"
NO_NET = "make_net, BLEND_WEIGHT = make_bias_only, 1.0\n"

SIGMOID = ["setup", "impl-sigmoid-range", "proof-sigmoid-range"]
SHEET = ["setup", "data", "sheet", "impl-sheet", "proof-sheet"]
PARTITION = ["setup", "data", "split", "proof-folds-partition"]
BASE = ["setup", "data", "split", "train-mean", "impl-sigmoid-range", "impl-train", "impl-paired-sd"]
BIASES_HELP = BASE + ["impl-dot", "train-dot", "impl-dotbias", "train-dotbias", "proof-biases-help"]
WEIGHT_DECAY = BASE + ["impl-bias-only", "impl-dotbias", "tune", "train-nowd", "proof-wd"]
RANGE = BASE + ["impl-bias-only", "impl-dotbias", "tune", "train-norange", "proof-range"]
FINAL = BASE + ["impl-bias-only", "impl-dotbias", "tune", "train-nn", "final"]
RANKING = FINAL + ["proof-ranking"]
FOLDS = FINAL + ["folds", "proof-folds"]
BIAS_MEANING = FINAL + ["biases", "proof-bias-meaning"]
NEIGHBOURS = FINAL + ["biases", "impl-neighbours", "proof-neighbours"]
ROTATION = FINAL + ["biases", "impl-neighbours", "proof-rotation"]
STUBS = {"tune": NO_SEARCH, "train-nn": NO_NET}


def _edited(tag: str, old: str, new: str) -> str:
    return edited_cell(NB, tag, old, new)


def _run(tags, replace=None):
    """Execute the cells with the stand-ins above, and `replace` (tag -> source) on top of them."""
    cells = {tag: source for tag, source in STUBS.items() if tag in tags}
    cells.update(replace or {})
    return exec_cells(NB, tags, replace=cells)


# Plausible mistakes, as (cell, old text, new text).
NO_BIASES = ("impl-dotbias", "raw = dot + self.user_bias(users)[:, 0] + self.movie_bias(movies)[:, 0]", "raw = dot")
NO_PENALTY = ("impl-train", "    return total\n", "    return 0.0 * total\n")
NO_STEP = ("impl-train", "            optimizer.step()\n", "")
TOO_MUCH_PENALTY = ("impl-train", "loss = error + wd * l2_penalty(model, xb)",
                    "loss = error + 100 * wd * l2_penalty(model, xb)")


def _mutant(mistake):
    tag, old, new = mistake
    return {tag: _edited(tag, old, new)}


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
# the 15 x 15 sheet trained by gradient descent, and embeddings


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


@pytest.mark.parametrize("old,new", [
    ("one_hot = F.one_hot(ids, num_classes=6)", "one_hot = F.one_hot(ids.flip(0), num_classes=6)"),  # rows mixed up
    ("table(ids).sum().backward()", "table.weight.sum().backward()"),  # every row used, not just the looked-up ones
], ids=["wrong-rows", "dense-gradient"])
def test_embedding_proof_catches(old, new):
    with pytest.raises(AssertionError):
        exec_cells(NB, ["setup", "proof-embedding"],
                   replace={"proof-embedding": _edited("proof-embedding", old, new)})


# ---------------------------------------------------------------------------------------------
# the standard folds and the validation split


def test_folds_are_the_standard_ones():
    ns = _run(PARTITION)
    train, test = ns["standard_fold"](2)
    assert test.tolist() == list(range(20_000, 40_000))  # lines 20001-40000 of u.data, as mku.sh cuts them
    assert len(ns["valid_rows"]) == 16_000 and len(ns["fit_rows"]) == 64_000


@pytest.mark.parametrize("mistake", [
    ("split", "in_test = (rows >= (i - 1) * FOLD_SIZE)", "in_test = (rows > (i - 1) * FOLD_SIZE)"),  # off by one
    ("split", "return rows[~in_test], rows[in_test]", "return rows, rows[in_test]"),  # trains on the test rows
    ("split", "fit_rows, valid_rows = carve_validation(train_rows)",
     "fit_rows, valid_rows = carve_validation(torch.arange(len(y)))"),  # validation drawn from the test fold too
], ids=["off-by-one", "test-in-training", "validation-outside-training"])
def test_partition_proof_catches(mistake):
    with pytest.raises(AssertionError):
        _run(PARTITION, _mutant(mistake))


# ---------------------------------------------------------------------------------------------
# validation: biases help the dot product; weight decay; the sigmoid range


def test_biases_help_proof_passes_and_catches_a_model_without_biases():
    _run(BIASES_HELP)
    with pytest.raises(AssertionError):
        _run(BIASES_HELP, _mutant(NO_BIASES))


def test_search_chooses_among_the_grid():
    ns = exec_cells(NB, BASE + ["impl-bias-only", "impl-dotbias", "tune"])
    assert ns["best_dot_bias"]["wd"] in ns["DOT_BIAS_GRID"]["wd"]
    tried = ns["tried"]
    assert tried["validation RMSE"].iloc[0] == tried["validation RMSE"].min()
    best = tried.iloc[0]
    assert best.wd == ns["best_dot_bias"]["wd"]  # the chosen setting is the one with the lowest validation RMSE


def test_weight_decay_proof_passes_and_catches_a_penalty_that_does_nothing():
    _run(WEIGHT_DECAY)
    with pytest.raises(AssertionError):
        _run(WEIGHT_DECAY, _mutant(NO_PENALTY))


def test_range_proof_passes_and_catches_a_model_that_hides_in_the_middle():
    _run(RANGE)
    with pytest.raises(AssertionError):
        _run(RANGE, _mutant(TOO_MUCH_PENALTY))


# ---------------------------------------------------------------------------------------------
# the test fold, once; the five folds


def test_ranking_proof_passes():
    ns = _run(RANKING)
    assert ns["table"].loc["dot product + biases", "RMSE (stars)"] < 0.95


@pytest.mark.parametrize("mistake", [
    ("impl-sigmoid-range", "return torch.sigmoid(x) * (high - low) + low", "return torch.sigmoid(x)"),
    NO_STEP,
], ids=["range-not-stretched", "optimizer-never-steps"])
def test_ranking_proof_catches(mistake):
    with pytest.raises(AssertionError):
        _run(RANKING, _mutant(mistake))


def test_five_fold_proof_passes_and_catches_no_weight_decay():
    ns = _run(FOLDS)
    assert list(ns["fold_rmse"].index) == ["u1", "u2", "u3", "u4", "u5"]
    with pytest.raises(AssertionError):
        _run(FOLDS, _mutant(NO_PENALTY))


# ---------------------------------------------------------------------------------------------
# what the model learned


def test_bias_meaning_proof_passes_and_catches_unused_biases():
    _run(BIAS_MEANING)
    with pytest.raises(AssertionError):
        _run(BIAS_MEANING, _mutant(NO_BIASES))


def test_neighbour_proof_passes_and_catches_rows_off_by_one():
    ns = _run(NEIGHBOURS)
    assert ns["similar_movies"]("Star Wars (1977)")  # five titles with their cosines
    # Movie ids start at 1, embedding rows at 0: indexing the factors by id pairs each title with another's row.
    wrong = ("impl-neighbours", "dot_bias.movie_factors.weight.detach().cpu()[popular_rows]",
             "dot_bias.movie_factors.weight.detach().cpu()[popular_rows + 1]")
    with pytest.raises(AssertionError):
        _run(NEIGHBOURS, _mutant(wrong))


def test_rotation_proof_passes_and_catches_a_twin_with_the_same_seed():
    _run(ROTATION)
    same_seed = ("proof-rotation", "train_data, seed=1)", "train_data, seed=0)")
    with pytest.raises(AssertionError):
        _run(ROTATION, _mutant(same_seed))


# ---------------------------------------------------------------------------------------------
# the original lesson's dataset (ml-latest-small, 2016 edition)

ORIGINAL = BASE + ["impl-bias-only", "impl-dotbias", "tune", "original-setting", "proof-original-setting"]


def test_original_setting_proof_passes_and_catches_an_optimizer_that_never_steps():
    ns = _run(ORIGINAL)
    assert ns["table16"].loc["dot product + biases", "MSE (stars²)"] < 0.85
    with pytest.raises(AssertionError):
        _run(ORIGINAL, _mutant(NO_STEP))
