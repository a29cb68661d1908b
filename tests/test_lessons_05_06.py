"""Mutation tests for notebooks 05 (convolution by hand) and 06 (pooling, dense layer, MNIST CNN).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError) when the
implementation is replaced by a plausible wrong one: a proof that cannot fail proves nothing.
"""

from __future__ import annotations

import numpy as np
import pytest

from tests.nbcells import edited_cell, exec_cells, proof_fails, tagged_sources

NB05 = "notebooks/05_convolution_by_hand.ipynb"
NB06 = "notebooks/06_pooling_dense_and_mnist_cnn.ipynb"


# ---------------------------------------------------------------------------------------------
# 05: loops == im2col == F.conv2d; the output-size formula

CONV_CELLS = ["setup", "impl-conv-loops", "impl-im2col", "proof-conv"]


def test_conv_proof_passes():
    ns = exec_cells(NB05, CONV_CELLS)
    assert ns["worst"] <= 1e-12


@pytest.mark.parametrize("old, new", [
    # true (flipping) convolution instead of the cross-correlation every library computes
    ("np.sum(window * weight[o])", "np.sum(window * weight[o][:, ::-1, ::-1])"),
    # image pasted into the top-left corner: 2P zeros at the bottom and right, none at the top and left
    ("padded[:, padding:padding + height, padding:padding + width] = x", "padded[:, :height, :width] = x"),
    # padding forgotten altogether (the output is smaller)
    ("padded = zero_pad(x, padding)", "padded = x"),
    # the window does not move by the stride (only the output size knows about it)
    ("window = padded[:, i * stride:i * stride + f, j * stride:j * stride + f]",
     "window = padded[:, i:i + f, j:j + f]"),
    # rows and columns of the window swapped
    ("np.sum(window * weight[o])", "np.sum(window * weight[o].transpose(0, 2, 1))"),
    # bias forgotten
    ("+ (0.0 if bias is None else bias[o])", ""),
], ids=["flipped-kernel", "padded-one-side", "no-padding", "stride-ignored", "transposed-window", "no-bias"])
def test_conv_proof_catches_wrong_loops(old, new):
    proof_fails(NB05, CONV_CELLS, "impl-conv-loops", old, new)


@pytest.mark.parametrize("old, new", [
    # columns laid out (channel, column, row): they no longer line up with weight.reshape(C_out, -1)
    ("windows.transpose(0, 1, 4, 5, 2, 3)", "windows.transpose(0, 1, 5, 4, 2, 3)"),
    # every window kept, stride ignored
    ("windows = windows[:, :, ::stride, ::stride]", "windows = windows"),
    # padded on one side only
    ("np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))",
     "np.pad(x, ((0, 0), (0, 0), (0, 2 * padding), (0, 2 * padding)))"),
], ids=["column-order", "stride-ignored", "padded-one-side"])
def test_conv_proof_catches_wrong_im2col(old, new):
    proof_fails(NB05, CONV_CELLS, "impl-im2col", old, new)


SIZE_CELLS = ["setup", "impl-conv-loops", "impl-output-size", "proof-output-size"]


def test_output_size_proof_passes():
    ns = exec_cells(NB05, SIZE_CELLS)
    assert ns["checked"] > 100


@pytest.mark.parametrize("wrong", [
    "(n + padding - f) // stride + 1",  # padding counted once, not on both sides
    "(n + 2 * padding - f) / stride + 1",  # no floor: 14.5 outputs
    "-(-(n + 2 * padding - f) // stride) + 1",  # rounds up: keeps a window that sticks out
    "(n + 2 * padding - f + 1) // stride",  # plausible-looking, right only for stride 1
], ids=["padding-once", "no-floor", "ceil", "off-by-one"])
def test_output_size_proof_catches(wrong):
    source = edited_cell(NB05, "impl-output-size", "(n + 2 * padding - f) // stride + 1", wrong)
    with pytest.raises(AssertionError):
        exec_cells(NB05, SIZE_CELLS, replace={"impl-output-size": source})


@pytest.mark.parametrize("old, new, fails", [
    ("np.sum(window * weight[o])", "np.sum(window * weight[o])", False),  # the notebook's own loops
    # only the first input channel is used: a "3x3x2" filter that never looks at channel 2
    ("np.sum(window * weight[o])", "np.sum(window[:1] * weight[o][:1])", True),
], ids=["own-loops", "first-channel-only"])
def test_shared_filter_proof_needs_a_convolution_that_sums_over_channels(old, new, fails):
    """The proof runs on conv1 and filters2 from untagged cells; small random stand-ins keep the test fast."""
    ns = exec_cells(NB05, ["setup", "impl-conv-loops"],
                    replace={"impl-conv-loops": edited_cell(NB05, "impl-conv-loops", old, new)})
    rng = np.random.default_rng(0)
    ns["conv1"], ns["filters2"] = rng.random((2, 8, 9)), rng.normal(size=(2, 2, 3, 3))
    (proof,) = tagged_sources(NB05, "proof-shared-filter")
    if fails:
        with pytest.raises(AssertionError):
            exec(proof, ns)
    else:
        exec(proof, ns)


CENTRE_CELLS = ["setup", "data", "impl-conv-loops", "impl-edge-filters", "impl-centre", "centring", "proof-centring"]


def test_centring_proof_passes():
    ns = exec_cells(NB05, CENTRE_CELLS)
    assert ns["kappa_centred"] < ns["kappa"] / 5


@pytest.mark.parametrize("wrong", [
    "x / x.std()",  # scaled but not shifted: the steep mean direction and the invented edges stay
    "x - x.min()",  # shifted by the darkest pixel, which is 0 on white paper: nothing changes
], ids=["scaled-not-shifted", "minus-the-minimum"])
def test_centring_proof_catches_a_centring_that_does_not_remove_the_mean(wrong):
    source = edited_cell(NB05, "impl-centre", "x - x.mean()", wrong)
    with pytest.raises(AssertionError):
        exec_cells(NB05, CENTRE_CELLS, replace={"impl-centre": source})


BACKWARD_CELLS = ["setup", "impl-conv-loops", "impl-im2col", "proof-conv", "impl-conv-backward", "proof-conv-backward"]


def test_conv_backward_proof_passes():
    exec_cells(NB05, BACKWARD_CELLS)


@pytest.mark.parametrize("old, new", [
    # col2im overwrites instead of adding: a pixel shared by overlapping windows keeps one gradient only
    ("v:v + stride * w_out:stride] += columns", "v:v + stride * w_out:stride] = columns"),
    # the padding is cut off at the wrong side
    ("return padded[:, :, padding:padding + height, padding:padding + width]", "return padded[:, :, :height, :width]"),
    # a shared weight's gradient from the first image only, not summed over the batch
    ('np.einsum("nol,nkl->ok", g, columns)', 'np.einsum("ol,kl->ok", g[0], columns[0])'),
    # the bias gradient averaged instead of summed over its uses
    ("grad_out.sum(axis=(0, 2, 3))", "grad_out.mean(axis=(0, 2, 3))"),
    # W reshaped the wrong way round instead of transposed (same shape, wrong numbers)
    ("weight.reshape(c_out, -1).T @ g", "weight.reshape(-1, c_out) @ g"),
    # the "full convolution" without the flip
    ("weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)", "weight.transpose(1, 0, 2, 3)"),
    # the correlation formula for the first image only
    ('np.einsum("noij,ncuvij->ocuv", grad_out, windows)', 'np.einsum("oij,cuvij->ocuv", grad_out[0], windows[0])'),
], ids=["col2im-overwrites", "crop-wrong-side", "first-image-only", "bias-mean", "reshape-not-transpose",
        "no-flip", "correlation-first-image"])
def test_conv_backward_proof_catches(old, new):
    proof_fails(NB05, BACKWARD_CELLS, "impl-conv-backward", old, new)


GRADCHECK_CELLS = ["setup", "impl-im2col", "impl-conv-backward", "proof-gradcheck"]


def test_gradcheck_proof_passes():
    exec_cells(NB05, GRADCHECK_CELLS)


@pytest.mark.parametrize("old, new", [
    ("v:v + stride * w_out:stride] += columns", "v:v + stride * w_out:stride] = columns"),
    ('np.einsum("nol,nkl->ok", g, columns)', 'np.einsum("ol,kl->ok", g[0], columns[0])'),
    ("grad_out.sum(axis=(0, 2, 3))", "grad_out.sum(axis=(0, 2, 3)) / 2"),
], ids=["col2im-overwrites", "first-image-only", "half-bias"])
def test_gradcheck_proof_catches_a_wrong_backward_without_looking_at_torch(old, new):
    proof_fails(NB05, GRADCHECK_CELLS, "impl-conv-backward", old, new)


# ---------------------------------------------------------------------------------------------
# 06: hand pooling == F.max_pool2d; hand forward == nn.Sequential; invariance; parameter count

POOL_CELLS = ["setup", "impl-pool", "proof-pool"]


def test_pool_proof_passes():
    exec_cells(NB06, POOL_CELLS)


@pytest.mark.parametrize("old, new", [
    (".max()\n", ".mean()\n"),  # average pooling
    ("stride = k if stride is None else stride", "stride = 1 if stride is None else stride"),  # overlapping
    ("h_out = (height - k) // stride + 1", "h_out = -(-(height - k) // stride) + 1"),  # ceil mode: partial tiles
    # windows as wide as the stride, not k (the same thing only when stride == k)
    ("x[c, i * stride:i * stride + k, j * stride:j * stride + k]",
     "x[c, i * stride:i * stride + stride, j * stride:j * stride + stride]"),
], ids=["average", "overlapping-default", "ceil-mode", "window-of-stride"])
def test_pool_proof_catches(old, new):
    proof_fails(NB06, POOL_CELLS, "impl-pool", old, new)


def test_pool_proof_catches_a_reshape_pool_that_mixes_rows_and_columns():
    wrong = edited_cell(NB06, "impl-pool", "reshape(channels, h_out, k, w_out, k)", "reshape(channels, h_out, w_out, k, k)")
    with pytest.raises(AssertionError):
        exec_cells(NB06, POOL_CELLS, replace={"impl-pool": wrong})


FORWARD_CELLS = ["setup", "impl-conv", "impl-pool", "impl-dense", "impl-forward", "proof-forward"]


def test_forward_proof_passes():
    ns = exec_cells(NB06, FORWARD_CELLS)
    assert ns["error"] <= 1e-10


@pytest.mark.parametrize("tag, old, new", [
    # PyTorch's weight laid out (H, W, C) instead of Flatten's (C, H, W) order
    ("impl-forward", 'params["dense"].reshape(10, -1)', 'params["dense"].transpose(0, 2, 3, 1).reshape(10, -1)'),
    # the hand network forgets a ReLU
    ("impl-forward", 'conv2 = np.maximum(conv2d_loops(conv1, params["filters2"], params["bias2"], padding=1), 0)',
     'conv2 = conv2d_loops(conv1, params["filters2"], params["bias2"], padding=1)'),
    # one weight matrix shared by both channels
    ("impl-dense", "np.sum(pooled[c] * weights[k, c])", "np.sum(pooled[c] * weights[k, 0])"),
    # channels pooled before being weighted: sum over channels, then one matrix
    ("impl-dense", "np.sum(pooled[c] * weights[k, c])", "np.sum(pooled.sum(axis=0) * weights[k, c]) / channels"),
    # a flipped kernel in the hand convolution
    ("impl-conv", "np.sum(window * weight[o])", "np.sum(window * weight[o][:, ::-1, ::-1])"),
], ids=["flatten-order", "missing-relu", "shared-dense-matrix", "channels-summed-first", "flipped-kernel"])
def test_forward_proof_catches(tag, old, new):
    proof_fails(NB06, FORWARD_CELLS, tag, old, new)


INVARIANCE_CELLS = ["setup", "impl-conv", "data", "invariance", "proof-invariance"]


def test_invariance_proof_passes_and_fails_without_pooling():
    ns = exec_cells(NB06, INVARIANCE_CELLS)
    assert ns["changes"][1] < ns["changes"][0]
    no_pooling = edited_cell(NB06, "invariance",
                         "relative_change(F.max_pool2d(maps, k), F.max_pool2d(maps_shifted, k))",
                         "relative_change(maps, maps_shifted)")
    with pytest.raises(AssertionError):
        exec_cells(NB06, INVARIANCE_CELLS, replace={"invariance": no_pooling})


def test_parameter_count_proof_passes_and_catches_a_different_network():
    exec_cells(NB06, ["setup", "proof-params"])
    wrong = edited_cell(NB06, "proof-params", "nn.Conv2d(32, 64, kernel_size=5, padding=2)",
                    "nn.Conv2d(32, 64, kernel_size=3, padding=1)")
    with pytest.raises(AssertionError):
        exec_cells(NB06, ["setup", "proof-params"], replace={"proof-params": wrong})


RF_CELLS = ["setup", "impl-receptive-field", "proof-receptive-field"]


def test_receptive_field_proof_passes():
    ns = exec_cells(NB06, RF_CELLS)
    assert ns["receptive_field"]([(3, 1), (3, 1), (2, 2), (3, 1)]) == [3, 5, 6, 10]


@pytest.mark.parametrize("old, new", [
    ("side += (kernel - 1) * jump", "side += kernel - 1"),  # the jump forgotten: "6x6 input pixels"
    ("jump *= stride", "jump += stride - 1"),  # strides added instead of multiplied
], ids=["no-jump", "strides-added"])
def test_receptive_field_proof_catches(old, new):
    proof_fails(NB06, RF_CELLS, "impl-receptive-field", old, new)


POOL_BACKWARD_CELLS = ["setup", "impl-pool", "impl-pool-backward", "proof-pool-backward"]


def test_pool_backward_proof_passes():
    exec_cells(NB06, POOL_BACKWARD_CELLS)


@pytest.mark.parametrize("old, new", [
    # overlapping windows that share a winner: the second overwrites the first
    ("grad_x[c, i * stride + u, j * stride + v] += grad_out[c, i, j]",
     "grad_x[c, i * stride + u, j * stride + v] = grad_out[c, i, j]"),
    # ties go to the last maximum instead of the first (only the tied inputs tell)
    ("np.unravel_index(np.argmax(window), window.shape)",
     "np.unravel_index(window.size - 1 - np.argmax(window.ravel()[::-1]), window.shape)"),
    # average pooling's backward: the gradient spread evenly over the window
    ("grad_x[c, i * stride + u, j * stride + v] += grad_out[c, i, j]",
     "grad_x[c, i * stride:i * stride + k, j * stride:j * stride + k] += grad_out[c, i, j] / k**2"),
    # always the window's top-left corner
    ("u, v = np.unravel_index(np.argmax(window), window.shape)", "u, v = 0, 0"),
], ids=["overwrites", "last-tie", "spread-evenly", "top-left"])
def test_pool_backward_proof_catches(old, new):
    proof_fails(NB06, POOL_BACKWARD_CELLS, "impl-pool-backward", old, new)


CNN_CELLS = ["setup", "impl-conv", "data", "proof-params", "split", "train", "search", "seeds", "test", "proof-cnn"]


def test_cnn_proof_fails_when_the_cnn_loses_its_spatial_prior():
    """Shuffle the pixels (one fixed permutation) before the CNN: its filters no longer see neighbours,
    so its advantage over the MLP must vanish, and the proof must notice."""
    shuffled = edited_cell(NB06, "train", 'architectures = {"CNN": textbook_cnn, "MLP": mlp}', """
pixel_order = torch.randperm(28 * 28, generator=torch.Generator().manual_seed(1))


class ShufflePixels(nn.Module):
    def forward(self, x):
        return x.flatten(1)[:, pixel_order.to(x.device)].reshape(x.shape)


architectures = {"CNN": lambda: nn.Sequential(ShufflePixels(), *textbook_cnn()), "MLP": mlp}
""")
    with pytest.raises(AssertionError, match="should beat the MLP"):
        exec_cells(NB06, CNN_CELLS, replace={"train": shuffled})
