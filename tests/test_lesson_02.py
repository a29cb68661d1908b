"""Mutation tests for notebook 02 (gradient descent).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError) when the
implementation is replaced by a plausible wrong one: a proof that cannot fail proves nothing.
"""

from __future__ import annotations

import pytest

from tests.nbcells import edited_cell, exec_cells

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
