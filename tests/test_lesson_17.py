"""Mutation tests for notebook 17 (word2vec).

Each proof cell must pass with the notebook's own code and fail (AssertionError) when the code it checks is
replaced by a plausible wrong version. Most chains take seconds; the training chain (quick mode, PTB) runs
once per module, and the mutants of the evaluation code reuse its trained vectors.
"""

from __future__ import annotations

import pytest
import torch

from tests.nbcells import edited_cell, exec_cells, quick_mode_and_threads, tagged_sources  # noqa: F401 (autouse fixture)

NB = "notebooks/17_word2vec.ipynb"

BASE = ["setup", "data"]
COOC = BASE + ["impl-cooc", "proof-cooc"]
PPMI = BASE + ["impl-cooc", "cooc", "block", "impl-ppmi", "ppmi", "wordsim", "proof-ppmi"]
LSA = PPMI[:-1] + ["impl-lsa", "lsa", "proof-lsa"]
STEP = ["setup", "impl-loss", "impl-step", "proof-step"]
SUBSAMPLE = BASE + ["impl-subsample", "subsample-plot", "proof-subsample"]
NOISE = BASE + ["impl-subsample", "subsample-plot", "impl-noise", "noise", "proof-noise"]
PAIRS = BASE + ["impl-cooc", "impl-subsample", "impl-pairs", "proof-pairs"]
TRAIN = LSA[:-1] + ["impl-loss", "impl-step", "impl-subsample", "subsample-plot", "impl-noise", "impl-pairs",
                    "impl-train", "train-sgns", "impl-analogy", "evaluate"]
EVALUATION_PROOFS = ["proof-sgns", "proof-exclusion", "pmi-check", "proof-pmi"]


def _edited(tag: str, old: str, new: str) -> str:
    return edited_cell(NB, tag, old, new)


def _run(namespace: dict, tag: str, source: str | None = None) -> None:
    """Execute one tagged cell (or ``source`` in its place) in an existing namespace."""
    (original,) = tagged_sources(NB, tag)
    exec(compile(source or original, f"{NB}[{tag}]", "exec"), namespace)


# ---------------------------------------------------------------------------------------------
# co-occurrence counts, PPMI, LSA


def test_cooccurrence_proof_passes():
    ns = exec_cells(NB, COOC)
    assert ns["C_few"].values().sum() == sum(ns["by_loop"].values())


@pytest.mark.parametrize("old,new", [
    ("for offset in range(1, window + 1):", "for offset in range(1, window):"),  # a window one word short
    ("same_sentence = sentence_of[offset:] == sentence_of[:-offset]",
     "same_sentence = torch.ones_like(sentence_of[offset:], dtype=torch.bool)"),  # windows cross sentence ends
    ("keys += [left * V + right, right * V + left]", "keys += [left * V + right]"),  # one direction only
], ids=["window-short", "crosses-sentences", "one-direction"])
def test_cooccurrence_proof_catches(old, new):
    with pytest.raises(AssertionError):
        exec_cells(NB, COOC, replace={"impl-cooc": _edited("impl-cooc", old, new)})


def test_ppmi_proof_passes():
    ns = exec_cells(NB, PPMI)
    assert ns["P"].values().min() > 0


@pytest.mark.parametrize("old,new", [
    ("pmi = torch.log(n * n.sum() / (row[i] * col[j]))", "pmi = torch.log(n)"),  # no division by chance
    # P(c | w) instead of P(c | w) / P(c): frequent contexts are no longer discounted. (Forgetting only the log is not
    # a mutant of the claim: the ratio itself also beats raw counts on WordSim-353, so that proof cannot catch it.)
    ("pmi = torch.log(n * n.sum() / (row[i] * col[j]))", "pmi = torch.log(n * n.sum() / row[i])"),
], ids=["no-marginals", "no-context-marginal"])
def test_ppmi_proof_catches(old, new):
    with pytest.raises(AssertionError):
        exec_cells(NB, PPMI, replace={"impl-ppmi": _edited("impl-ppmi", old, new)})


def test_lsa_proof_passes():
    ns = exec_cells(NB, LSA)
    assert ns["E_lsa"].shape == (ns["V"], 100)


def test_lsa_proof_catches_a_random_projection_instead_of_the_svd():
    wrong = _edited("impl-lsa", "    return (Q @ U_small)[:, :k], S[:k], Vh[:k].T",
                    "    return (A @ G)[:, :k], torch.ones(k), G[:, :k]  # a random projection, no SVD")
    with pytest.raises(AssertionError):
        exec_cells(NB, LSA, replace={"impl-lsa": wrong})


# ---------------------------------------------------------------------------------------------
# the SGNS step, subsampling, noise, pairs


def test_step_proof_passes():
    exec_cells(NB, STEP)


@pytest.mark.parametrize("old,new", [
    ("g_pos = torch.sigmoid((u * v).sum(dim=1)) - 1", "g_pos = 1 - torch.sigmoid((u * v).sum(dim=1))"),  # sign
    ("W_in.index_add_(0, centre, grad_v, alpha=-lr)", "W_in.index_add_(0, centre, grad_v, alpha=lr)"),  # ascent
    ("grad_v = g_pos[:, None] * u + torch.bmm(g_neg, n).view(B, d)", "grad_v = g_pos[:, None] * u"),  # no noise
    ("grad_n = torch.bmm(g_neg.transpose(1, 2), v_groups)",
     "grad_n = torch.bmm(g_neg.transpose(1, 2), v_groups) / GROUP"),  # averaged over the group, not summed
], ids=["positive-sign", "ascent", "noise-term-missing", "group-mean"])
def test_step_proof_catches(old, new):
    with pytest.raises(AssertionError):
        exec_cells(NB, STEP, replace={"impl-step": _edited("impl-step", old, new)})


def test_subsample_proof_passes():
    exec_cells(NB, SUBSAMPLE)


@pytest.mark.parametrize("tag,old,new", [
    ("impl-subsample", "return (ratio.sqrt() + ratio).clamp(max=1.0)", "return ratio.sqrt().clamp(max=1.0)"),  # paper
    ("impl-subsample", "< keep[tokens].float()", "> keep[tokens].float()"),  # keeps with 1 - p
], ids=["paper-formula", "complement"])
def test_subsample_proof_catches(tag, old, new):
    with pytest.raises(AssertionError):
        exec_cells(NB, SUBSAMPLE, replace={tag: _edited(tag, old, new)})


def test_noise_proof_passes():
    exec_cells(NB, NOISE)


@pytest.mark.parametrize("old,new", [
    ("def noise_table(freq, power=0.75, size=10_000_000):", "def noise_table(freq, power=1.0, size=10_000_000):"),
    ("def noise_table(freq, power=0.75, size=10_000_000):", "def noise_table(freq, power=0.75, size=10_000):"),
], ids=["unigram", "table-too-coarse"])
def test_noise_proof_catches(old, new):
    with pytest.raises(AssertionError):
        exec_cells(NB, NOISE, replace={"impl-noise": _edited("impl-noise", old, new)})


def test_pairs_proof_passes():
    exec_cells(NB, PAIRS)


@pytest.mark.parametrize("old,new", [
    ("right = same & (reach[:-offset] >= offset)", "right = same & (reach[:-offset] > offset)"),  # window short
    ("contexts += [words[offset:][right], words[:-offset][left]]",
     "contexts += [words[:-offset][right], words[:-offset][left]]"),  # the centre paired with itself
    ("same = sent[offset:] == sent[:-offset]", "same = torch.ones_like(sent[offset:], dtype=torch.bool)"),
], ids=["window-short", "centre-as-context", "crosses-sentences"])
def test_pairs_proof_catches(old, new):
    with pytest.raises(AssertionError):
        exec_cells(NB, PAIRS, replace={"impl-pairs": _edited("impl-pairs", old, new)})


# ---------------------------------------------------------------------------------------------
# training and evaluation (one quick-mode training run shared by the tests below)


@pytest.fixture(scope="module")
def trained():
    mp = pytest.MonkeyPatch()
    mp.setenv("COURSEKIT_MODE", "quick")
    mp.setenv("COURSEKIT_LIVE", "0")
    mp.setenv("MPLBACKEND", "Agg")
    try:
        yield exec_cells(NB, TRAIN)
    finally:
        mp.undo()


def test_evaluation_proofs_pass(trained):
    ns = dict(trained)
    for tag in EVALUATION_PROOFS:
        _run(ns, tag)
    assert ns["results"].loc["SGNS", "analogies"] > ns["results"].loc["random", "analogies"]


def test_sgns_proof_catches_untrained_vectors(trained):
    ns = dict(trained)
    ns["E_sgns"] = ns["W_in"].clone().normal_(generator=torch.Generator().manual_seed(5))  # as if never trained
    _run(ns, "evaluate", tagged_sources(NB, "evaluate")[0])
    with pytest.raises(AssertionError):
        _run(ns, "proof-sgns")


def test_exclusion_proof_catches_an_analogy_rule_that_ignores_exclude(trained):
    ns = dict(trained)
    _run(ns, "impl-analogy", _edited("impl-analogy", "        if exclude:\n", "        if False:\n"))
    with pytest.raises(AssertionError):
        _run(ns, "proof-exclusion")


def test_pmi_and_sgns_proofs_catch_a_learning_rate_that_never_starts(trained):
    # min instead of max: the rate is stuck at 1e-4 x lr, so the vectors barely leave their initial values
    ns = dict(trained)
    _run(ns, "impl-train", _edited("impl-train", "rate = lr * max(1e-4, 1 - step / total_steps)",
                                   "rate = lr * min(1e-4, 1 - step / total_steps)"))
    _run(ns, "train-sgns")
    _run(ns, "evaluate")
    with pytest.raises(AssertionError):
        _run(ns, "proof-sgns")
    _run(ns, "pmi-check")
    with pytest.raises(AssertionError):
        _run(ns, "proof-pmi")
