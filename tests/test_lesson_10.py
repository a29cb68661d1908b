"""Mutation tests for notebook 10 (CNN architectures and transfer learning).

Each proof cell must pass with the notebook's own code and fail (AssertionError) when that code is replaced by a
plausible wrong one. The transfer cells run with smaller sizes than the notebook (see ``small_transfer``).
"""

from __future__ import annotations

import pytest

from tests.nbcells import edited_cell, exec_cells, proof_fails, tagged_sources

NB = "notebooks/10_cnn_architectures_and_transfer_learning.ipynb"

COUNT_CELLS = ["setup", "impl-count", "proof-count"]


def test_counter_matches_torchvision():
    ns = exec_cells(NB, COUNT_CELLS)
    assert round(ns["architectures"].loc["ResNet-50", "parameters (M)"] * 1e6) == 25_557_032


@pytest.mark.parametrize("old, new", [
    # a conv weight counted once per image, as if it were a linear layer's
    ("macs = c_in_per_group * kh * kw * output[0].numel()", "macs = c_in_per_group * kh * kw * output.shape[1]"),
    # conv biases forgotten
    ("params = c_out * c_in_per_group * kh * kw + (c_out if module.bias is not None else 0)",
     "params = c_out * c_in_per_group * kh * kw"),
    # batch norm's running mean and variance counted as parameters
    ("params, macs = 2 * module.num_features, 0", "params, macs = 4 * module.num_features, 0"),
], ids=["conv-macs-per-image", "no-conv-bias", "bn-buffers-counted"])
def test_count_proof_catches(old, new):
    proof_fails(NB, COUNT_CELLS, "impl-count", old, new)


BLOCK_CELLS = ["setup", "impl-count", "proof-count", "impl-blocks", "proof-blocks"]


def test_blocks_proof_passes():
    exec_cells(NB, BLOCK_CELLS)


@pytest.mark.parametrize("old, new", [
    # the 3x3 branch without its 1x1 reduction
    ("nn.Sequential(conv_bn_relu(c_in, c3_reduce, 1), conv_bn_relu(c3_reduce, c3, 3, padding=1))",
     "conv_bn_relu(c_in, c3, 3, padding=1)"),
    # VGG's convolutions without biases
    ("kernel_size=3, padding=1)", "kernel_size=3, padding=1, bias=False)"),
    # a VGG stage that repeats one convolution too few
    ("for i in range(n_convs):", "for i in range(n_convs - 1 if n_convs == 3 else n_convs):"),
], ids=["inception-no-reduction", "vgg-no-bias", "vgg-stage-short"])
def test_blocks_proof_catches(old, new):
    proof_fails(NB, BLOCK_CELLS, "impl-blocks", old, new)


RESIDUAL_CELLS = ["setup", "impl-residual", "proof-residual"]


def test_residual_proof_passes():
    exec_cells(NB, RESIDUAL_CELLS)


@pytest.mark.parametrize("edits", [
    # no zero initialisation: the block is not the identity
    [("nn.init.zeros_(self.bn2.weight)", "pass")],
    # the shortcut forgotten: a plain block
    [("return F.relu(out + shortcut)", "return F.relu(out)")],
    # ReLU on the residual before adding: the identity still holds, torchvision's block disagrees
    [("return F.relu(out + shortcut)", "return F.relu(out) + shortcut")],
    # the stride on the second convolution instead of the first: same shapes, other values
    [("nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False)", "nn.Conv2d(c_in, c_out, 3, padding=1, bias=False)"),
     ("nn.Conv2d(c_out, c_out, 3, padding=1, bias=False)", "nn.Conv2d(c_out, c_out, 3, stride=stride, padding=1, bias=False)")],
], ids=["no-zero-init", "no-shortcut", "relu-before-add", "stride-misplaced"])
def test_residual_proof_catches(edits):
    source = tagged_sources(NB, "impl-residual")[0]
    for old, new in edits:
        assert old in source, f"{NB}[impl-residual] no longer contains {old!r}: update this test"
        source = source.replace(old, new, 1)
    with pytest.raises(AssertionError):
        exec_cells(NB, RESIDUAL_CELLS, replace={"impl-residual": source})


GRADIENT_CELLS = ["setup", "impl-stack", "gradient-flow", "proof-gradient-flow"]


def test_gradient_flow_proof_passes():
    exec_cells(NB, GRADIENT_CELLS)


def test_gradient_flow_proof_catches_a_residual_stack_without_its_shortcut():
    proof_fails(NB, GRADIENT_CELLS, "impl-stack", "F.relu(h + out) if self.residual", "F.relu(out) if self.residual")


def small_transfer(**replacements):
    """The transfer-data cell with fewer source images and steps, for the tests."""
    source = edited_cell(NB, "transfer-data", "source_steps = ck.by_mode(quick=150, full=1500)",
                         "source_steps = ck.by_mode(quick=60, full=1500)")
    for old, new in replacements.items():
        assert old in source, old
        source = source.replace(old, new)
    return source


FROZEN_CELLS = ["setup", "transfer-data", "impl-transfer", "pretrain", "proof-frozen"]


def test_frozen_proof_passes():
    ns = exec_cells(NB, FROZEN_CELLS, replace={"transfer-data": small_transfer()})
    assert ns["drift"] > 0  # the buggy variant really moved its statistics


@pytest.mark.parametrize("old, new", [
    # the classic bug: train() leaves batch norm in the frozen body in train mode
    ("self.body.eval()  #", "pass  #"),
    # parameters not frozen: the optimiser moves the body
    ("self.body.requires_grad_(False)", "pass"),
], ids=["frozen-bn-in-train-mode", "body-not-frozen"])
def test_frozen_proof_catches(old, new):
    wrong = edited_cell(NB, "impl-transfer", old, new)
    with pytest.raises(AssertionError):
        exec_cells(NB, FROZEN_CELLS, replace={"transfer-data": small_transfer(), "impl-transfer": wrong})


TRANSFER_CELLS = ["setup", "transfer-data", "impl-transfer", "pretrain", "transfer-select", "transfer-curves",
                  "proof-transfer"]


def test_transfer_proof_catches_an_untrained_body():
    """'Pretrained' weights that were never trained (a fresh body) must not pass as transfer."""
    data = small_transfer(**{"quick=[10, 100]": "quick=[10]"})
    no_pretraining = "def pretrained_body():\n    return make_body()\n\n\nsource_test = 0.0\n"
    with pytest.raises(AssertionError):
        exec_cells(NB, TRANSFER_CELLS, replace={"transfer-data": data, "pretrain": no_pretraining})
