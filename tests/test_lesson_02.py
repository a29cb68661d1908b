"""Mutation tests for notebook 02 (gradient descent).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError) when the
implementation is replaced by a plausible wrong one: a proof that cannot fail proves nothing.
"""

from __future__ import annotations

import pytest

from tests.nbcells import edited_cell, exec_cells, proof_fails

NB02 = "notebooks/02_gradient_descent.ipynb"


# ---------------------------------------------------------------------------------------------
# 02: hand gradient, learning-rate threshold

CELLS_02 = ["setup", "data", "impl-gradient"]


def test_gradient_proof_passes():
    exec_cells(NB02, [*CELLS_02, "proof-gradient"])


@pytest.mark.parametrize("old, new", [
    ("return -(residual @ X) / X.shape[0]", "return (residual @ X) / X.shape[0]"),  # wrong sign
    ("return -(residual @ X) / X.shape[0]", "return -(residual @ X)"),  # sum instead of mean
    ("return -(residual @ X) / X.shape[0]", "return -2 * (residual @ X) / X.shape[0]"),  # the 1/2 forgotten
], ids=["sign", "sum-not-mean", "factor-2"])
def test_gradient_proof_catches(old, new):
    wrong = edited_cell(NB02, "impl-gradient", old, new)
    with pytest.raises(AssertionError):
        exec_cells(NB02, [*CELLS_02, "proof-gradient"], replace={"impl-gradient": wrong})


def test_lr_threshold_proof_passes():
    ns = exec_cells(NB02, [*CELLS_02, "impl-lambda-max", "proof-lr-threshold"])
    assert 0.1 < float(ns["lr_critical"]) < 0.15


@pytest.mark.parametrize("wrong_lambda", [
    "eigenvalues.min()",  # the flat direction's curvature: 2 / lambda_min is far too large
    "eigenvalues.sum()",  # the trace: 2 / trace is below the threshold, so 1.01x still converges
    "2 * eigenvalues.max()",  # Hessian of the error without the 1/2
    "eigenvalues.max() / 2",
], ids=["lambda-min", "trace", "twice", "half"])
def test_lr_threshold_proof_catches_a_wrong_lambda_max(wrong_lambda):
    wrong = edited_cell(NB02, "impl-lambda-max", "lambda_max = eigenvalues.max()", f"lambda_max = {wrong_lambda}")
    with pytest.raises(AssertionError):
        exec_cells(NB02, [*CELLS_02, "impl-lambda-max", "proof-lr-threshold"], replace={"impl-lambda-max": wrong})


# ---------------------------------------------------------------------------------------------
# 02: the fastest fixed learning rate, the flat direction

CELLS_RATE = [*CELLS_02, "impl-lambda-max", "proof-lr-threshold", "proof-fastest-rate"]


def test_fastest_rate_proof_passes():
    exec_cells(NB02, CELLS_RATE)


@pytest.mark.parametrize("wrong", [
    "1 / eigenvalues.max()",  # where the steep direction starts to zig-zag: the flat one still crawls
    "0.99 * 2 / eigenvalues.max()",  # the edge of stability: the steep direction barely shrinks
    "2 / eigenvalues.sum() / 2",  # half the right rate
], ids=["one-over-lambda-max", "edge", "half"])
def test_fastest_rate_proof_catches_a_wrong_rate(wrong):
    proof_fails(NB02, CELLS_RATE, "impl-lambda-max",
                "lr_best = 2 / (eigenvalues.min() + eigenvalues.max())", f"lr_best = {wrong}")


def test_flat_direction_proof_catches_a_copy_that_is_not_flat():
    # With the fries column kept, lambda_min > 0 and every start reaches the same minimum.
    proof_fails(NB02, [*CELLS_02, "proof-flat-direction"], "proof-flat-direction",
                "X_flat = X[:, [0, 0]]", "X_flat = X")


# ---------------------------------------------------------------------------------------------
# 02: minibatch gradients at a fixed w: unbiased, variance sigma^2/B x (N-B)/(N-1) without replacement

CELLS_MB = [*CELLS_02, "impl-batch-draws", "proof-minibatch"]


def test_minibatch_proof_passes():
    exec_cells(NB02, CELLS_MB)


@pytest.mark.parametrize("wrong", [
    "torch.randint(0, N, (count, B), generator=generator)",  # with replacement: variance sigma^2/B
    "torch.rand(count, N - 1, generator=generator).argsort(dim=1)[:, :B]",  # never the last example: biased
], ids=["with-replacement", "biased"])
def test_minibatch_proof_catches_a_wrong_sampler(wrong):
    proof_fails(NB02, CELLS_MB, "impl-batch-draws",
                "torch.rand(count, N, generator=generator).argsort(dim=1)[:, :B]", wrong)


# ---------------------------------------------------------------------------------------------
# 02: random Hessians: minima rarer than independent signs predict, saddles dominate

CELLS_HESS = ["setup", "impl-random-hessians", "proof-random-hessians"]


def test_random_hessian_proof_passes():
    exec_cells(NB02, CELLS_HESS)


def test_random_hessian_proof_catches_independent_eigenvalues():
    # Eigenvalues with independent signs (no level repulsion): minima at 2^-n, the claim must fail.
    proof_fails(NB02, CELLS_HESS, "impl-random-hessians",
                "eig = torch.linalg.eigvalsh((A_rand + A_rand.transpose(1, 2)) / 2)",
                "eig = torch.randn(samples, n, dtype=torch.float64, generator=matrix_gen)")


# ---------------------------------------------------------------------------------------------
# 02: gradient perpendicular to the drawn contours; gradient descent stalls at a saddle

CELLS_PERP = [*CELLS_02, "surface", "proof-perpendicular"]


def test_perpendicular_proof_passes():
    exec_cells(NB02, CELLS_PERP)


def test_perpendicular_proof_catches_contours_of_a_transposed_grid():
    # Values transposed against their coordinates (a meshgrid indexing mix-up): the lines drawn are not E's contours.
    proof_fails(NB02, CELLS_PERP, "surface", "ax.contour(W1, W2, E_grid,", "ax.contour(W1, W2, E_grid.T,")


CELLS_SADDLE = ["setup", "impl-saddle", "proof-saddle"]


def test_saddle_proof_passes():
    exec_cells(NB02, CELLS_SADDLE)


@pytest.mark.parametrize("old, new", [
    ("-2 * b + 2 * b**3", "2 * b - 2 * b**3"),  # gradient of the wrong sign along b: b = 0 attracts, no escape
    ("-2 * b + 2 * b**3", "-4 * b + 2 * b**3"),  # a steeper ridge: escapes faster than the prediction says
], ids=["sign", "factor"])
def test_saddle_proof_catches_a_wrong_gradient(old, new):
    proof_fails(NB02, CELLS_SADDLE, "impl-saddle", old, new)
