"""Mutation tests for notebook 14 (segmentation and detection).

Each proof cell must pass with the notebook's own code and fail (AssertionError) when that code is
replaced by a plausible wrong version. Only the tagged cells run, in quick mode; the U-Net proof is the one
expensive check (two small trainings) and gets a single mutant.
"""

from __future__ import annotations

import matplotlib
import pytest

from tests.nbcells import (  # noqa: F401 (autouse)
    edited_cell,
    exec_cells,
    proof_fails,
    quick_mode_and_threads,
    run_benchmark,
)

matplotlib.use("Agg")

NB = "notebooks/14_segmentation_and_detection.ipynb"


# ---------------------------------------------------------------------------------------------
# transpose convolution by hand == F.conv_transpose2d

TCONV = ["setup", "impl-tconv", "proof-tconv"]


def test_transpose_conv_proof_passes():
    ns = exec_cells(NB, TCONV)
    assert ns["worst"] < 1e-12 and ns["checked"] >= 50


@pytest.mark.parametrize("old, new", [
    # kernel copies pasted flipped (the convolution of mathematics, not torch's)
    ('x[:, :, i, j], weight)', 'x[:, :, i, j], weight.flip(-1, -2))'),
    # copies placed one pixel apart whatever the stride
    ("full[:, :, i * stride:i * stride + k, j * stride:j * stride + k]", "full[:, :, i:i + k, j:j + k]"),
    # the padding cropped from the bottom and right only
    ("full[:, :, padding:padding + out_h, padding:padding + out_w]", "full[:, :, :out_h, :out_w]"),
    # output_padding taken as extra rows at the top and left
    ("(height - 1) * stride + k + output_padding", "(height - 1) * stride + k"),
], ids=["flipped-kernel", "stride-ignored", "padding-one-side", "output-padding-lost"])
def test_transpose_conv_proof_catches(old, new):
    proof_fails(NB, TCONV, "impl-tconv", old, new)


# ---------------------------------------------------------------------------------------------
# IoU equals hand-worked cases and torchvision.ops.box_iou

IOU = ["setup", "impl-iou", "proof-iou"]


def test_iou_proof_passes():
    exec_cells(NB, IOU)


@pytest.mark.parametrize("old, new", [
    # no clamp: boxes apart in x and in y multiply two negative widths into a positive overlap
    ("(bottom_right - top_left).clamp(min=0)", "(bottom_right - top_left)"),
    # union without removing the intersection (counted twice)
    ("area_a[:, None] + area_b[None, :] - intersection", "area_a[:, None] + area_b[None, :]"),
    # inclusive pixel coordinates: width x1 - x0 + 1
    ("(a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])", "(a[:, 2] - a[:, 0] + 1) * (a[:, 3] - a[:, 1] + 1)"),
    # intersection from the smaller left edge (the union's box) instead of the larger one
    ("torch.maximum(a[:, None, :2], b[None, :, :2])", "torch.minimum(a[:, None, :2], b[None, :, :2])"),
], ids=["no-clamp", "union-double-counts", "inclusive-coordinates", "min-instead-of-max"])
def test_iou_proof_catches(old, new):
    proof_fails(NB, IOU, "impl-iou", old, new)


# ---------------------------------------------------------------------------------------------
# AP equals the hand-worked table

AP = ["setup", "impl-ap", "worked-ap", "proof-ap"]


def test_ap_proof_passes():
    ns = exec_cells(NB, AP)
    assert abs(ns["ap"] - 34 / 45) < 1e-12


@pytest.mark.parametrize("old, new", [
    # precision not made monotone
    ("precision = precision.flip(0).cummax(0).values.flip(0)", "pass"),
    # detections taken in the order given instead of by score
    ("descending=True, stable=True)", "descending=True, stable=True) * 0 + torch.arange(len(scores))"),
    # recall divided by the number of detections: missed objects no longer count
    ("recall = tp / n_truth", "recall = tp / len(hits)"),
    # monotone from the left (running max of earlier precisions): optimistic
    ("precision = precision.flip(0).cummax(0).values.flip(0)", "precision = precision.cummax(0).values"),
], ids=["not-monotone", "unsorted-scores", "recall-over-detections", "max-from-the-left"])
def test_ap_proof_catches(old, new):
    proof_fails(NB, AP, "impl-ap", old, new)


# ---------------------------------------------------------------------------------------------
# the U-Net beats the same net with its skips cut (one mutant: it trains two small nets)

UNET = ["setup", "data", "impl-unet", "train-unet", "proof-unet"]


def test_unet_proof_catches_skips_ignored():
    # the "U-Net" with its skips cut is the no-skip net: same seed, same numbers, no gap
    wrong = edited_cell(NB, "impl-unet", "if self.skips else", "if False else")
    with pytest.raises(AssertionError):
        exec_cells(NB, UNET, replace={"impl-unet": wrong})


# ---------------------------------------------------------------------------------------------
# benchmarks/segmentation_grid.py re-makes the notebook's learning-rate choice from its cells


def test_segmentation_grid_runs_on_the_notebooks_current_cells():
    out = run_benchmark("segmentation_grid.py", "--lrs", "0.003", "--batch-sizes", "8", "--epochs", "1")
    assert "best average of the two nets: lr 0.003, batch 8" in out
