"""Mutation tests for notebook 11 (State Farm: sample, validation by driver, pseudo-labelling).

Each proof cell must pass with the notebook's own code and fail (AssertionError) when the code it checks is
replaced by a plausible wrong version. Everything runs in quick mode on the course's 80x60 State Farm copy
(the tests are skipped when no copy is available). Only the cells a proof needs are run.
"""

from __future__ import annotations

import pytest

from coursekit import DatasetUnavailable
from tests.nbcells import (  # noqa: F401 (autouse)
    edited_cell,
    exec_cells,
    proof_fails,
    quick_mode_and_threads,
    run_benchmark,
)

NB = "notebooks/11_statefarm_sample_and_pseudo_labels.ipynb"

BASE = ["setup", "data", "impl-partition", "partition", "sample", "inputs"]
LINEAR = BASE + ["impl-linear", "proof-linear"]
SPLITS = BASE + ["impl-train", "impl-splits", "proof-splits"]
HELD_OUT = ["setup", "data", "impl-partition", "partition", "sample", "pl-rows", "proof-held-out"]
MIXER = ["setup", "impl-mixer", "proof-mixer"]

# A split by photos, not drivers: the plausible mistake that makes validation leak.
PHOTO_SPLIT = '''
def driver_partition(drivers, sizes, generator):
    # wrong on purpose: photos dealt out at random (in proportion to the driver counts), drivers ignored
    n_ids, n = len(drivers.unique()), len(drivers)
    order = torch.randperm(n, generator=generator)
    bounds = [round(b * n / n_ids) for b in np.cumsum([0, *sizes, n_ids - sum(sizes)])]
    masks = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        mask = torch.zeros(n, dtype=torch.bool)
        mask[order[a:b]] = True
        masks.append(mask)
    return masks
'''


@pytest.fixture(scope="module", autouse=True)
def statefarm_copy():
    from coursekit.statefarm import statefarm_index

    try:
        statefarm_index(progress=False)
    except DatasetUnavailable as err:
        pytest.skip(f"no State Farm copy: {str(err).splitlines()[0]}")


# --------------------------------------------------------------------------------------------- the one-class trap

def test_linear_proof_passes():
    ns = exec_cells(NB, LINEAR)
    assert ns["stuck"]["val_top_share"] >= 0.5


@pytest.mark.parametrize("old, new", [
    # the same loss computed from the logits, without the clip: the high learning rate no longer gets stuck.
    # (Dropping only the clamp is no such mutant: log(0) of an underflowed softmax makes the weights NaN, and a
    # NaN model predicts one class too.)
    ("p = logits.softmax(dim=1).clamp(eps, 1 - eps)\n    return -p.gather(1, targets[:, None]).log().mean()",
     "return F.cross_entropy(logits, targets)"),
    # the "warm start" that starts high: it gets stuck too
    ('"clipped loss, 1e-5 then 1e-3": ([1e-5] + [1e-3] * (linear_epochs - 1), clipped_cross_entropy)',
     '"clipped loss, 1e-5 then 1e-3": ([1e-2] * linear_epochs, clipped_cross_entropy)'),
], ids=["no-clip", "warm-start-starts-high"])
def test_linear_proof_catches(old, new):
    proof_fails(NB, LINEAR, "impl-linear", old, new)


# --------------------------------------------------------------------------------------------- driver vs random split

def test_split_proof_passes():
    ns = exec_cells(NB, SPLITS)
    assert ns["driver_accuracy"][0] < ns["random_accuracy"]


def test_split_proof_catches_a_split_by_photos():
    with pytest.raises(AssertionError):
        exec_cells(NB, SPLITS, replace={"impl-partition": PHOTO_SPLIT})


# --------------------------------------------------------------------------------------------- held-out drivers

def test_held_out_proof_passes():
    ns = exec_cells(NB, HELD_OUT)
    assert len(ns["held_out_ids"]) == 5


@pytest.mark.parametrize("mistake", ["photo-split", "overlapping-groups", "pseudo-label-everything"])
def test_held_out_proof_catches(mistake):
    replace = {}
    if mistake == "photo-split":
        replace["impl-partition"] = PHOTO_SPLIT
    elif mistake == "overlapping-groups":  # each group takes one driver of the next group as well
        replace["impl-partition"] = edited_cell(NB, "impl-partition", "order[a:b]", "order[a:b + 1]")
    else:  # every photo but the labelled ones treated as unlabelled, validation drivers included
        replace["pl-rows"] = edited_cell(NB, "pl-rows", "unlabelled_rows = torch.nonzero(is_unlabelled).flatten()",
                                         "unlabelled_rows = torch.nonzero(~is_train).flatten()")
    with pytest.raises(AssertionError):
        exec_cells(NB, HELD_OUT, replace=replace)


# --------------------------------------------------------------------------------------------- the mixer

def test_mixer_proof_passes():
    exec_cells(NB, MIXER)


@pytest.mark.parametrize("old, new", [
    # the nearest count instead of the smallest one that reaches `low`: 2 of 10 is below 1/4
    ("int(np.ceil(low * batch_size - 1e-9))", "round(low * batch_size)"),
    # no tolerance: 0.28 * 25 = 7.000000000000001 rounds up to 8, and the mixer refuses a feasible range
    ("int(np.ceil(low * batch_size - 1e-9))", "int(np.ceil(low * batch_size))"),
    # pseudo-labelled photos appended to full labelled batches: the batch grows, the share is off
    ("self.n_labelled = batch_size - self.n_pseudo", "self.n_labelled = batch_size"),
], ids=["nearest-count", "no-float-tolerance", "labelled-not-reduced"])
def test_mixer_proof_catches(old, new):
    proof_fails(NB, MIXER, "impl-mixer", old, new)


# --------------------------------------------------------------------------------------------- pseudo-labelling

PSEUDO = BASE + ["impl-train", "impl-splits", "noise", "scan", "impl-mixer", "pl-rows", "impl-pseudo", "proof-pseudo"]


def test_pseudo_proof_catches_hidden_labels_used_as_pseudo_labels():
    # The leak the proof cell guards against: the unlabelled drivers' real labels used for training. The
    # "pseudo-labels" are then all right, which no teacher of this notebook achieves (the passing case runs in the
    # notebook itself under nbval; running it here too would double the cost).
    wrong = edited_cell(NB, "impl-pseudo", "pseudo = (x_unlabelled, predict(teacher, x_unlabelled))",
                        "pseudo = (x_unlabelled, y_unlabelled_hidden)")
    with pytest.raises(AssertionError):
        exec_cells(NB, PSEUDO, replace={"impl-pseudo": wrong})


def test_pseudo_label_variants_script_runs_on_the_notebooks_current_cells():
    """benchmarks/pseudo_label_variants.py measures section 8's variants from this notebook's tagged cells:
    renaming a tag or a function here must break a test, not the script."""
    out = run_benchmark("pseudo_label_variants.py", "--seeds", "0", "--teacher-epochs", "1", "--student-epochs", "1",
                        "--clean", "10", "--fraction", "1/3", "--labels", "hard,soft")
    assert "gain: hard" in out and "gain: soft" in out and "cleaned right" in out
