"""Mutation tests for notebook 08 (training deep networks).

Each proof cell must pass with the notebook's own implementation and fail (AssertionError) when the
implementation is replaced by a plausible wrong one: a proof that cannot fail proves nothing.

The proofs about trained networks (permutation, snapshots, clipping, gradient noise) share one quick-mode run
of the training cells per module; each mutant then runs only the cell it breaks and the cells downstream of it,
in a copy of that namespace, never the whole notebook.
"""

from __future__ import annotations

import copy

import nbformat
import pytest

from tests.nbcells import ROOT, edited_cell, exec_cells, proof_fails, quick_mode_and_threads  # noqa: F401 (autouse fixture)

NB08 = "notebooks/08_training_deep_networks.ipynb"


def _cells(tags: list[str], replace: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """(tag, source) of the code cells carrying ``tags``, in notebook order, with ``replace`` applied."""
    replace = replace or {}
    nb = nbformat.read(ROOT / NB08, as_version=4)
    found = []
    for cell in nb.cells:
        tag = next((t for t in cell.metadata.get("tags", []) if t in tags), None)
        if cell.cell_type == "code" and tag:
            found.append((tag, replace.get(tag, cell.source)))
    assert {t for t, _ in found} == set(tags), f"{NB08}: missing cells {set(tags) - {t for t, _ in found}}"
    return found


def _continue(namespace: dict, tags: list[str], replace: dict[str, str] | None = None) -> dict:
    """Run more cells in a copy of ``namespace`` (which stays as it was); return the copy."""
    ns = dict(namespace)
    for tag, source in _cells(tags, replace):
        exec(compile(source, f"{NB08}[{tag}]", "exec"), ns)
    return ns


def _no_figure(tag: str, call: str) -> str:
    """The cell's source without its figure (a mutant need not draw)."""
    return edited_cell(NB08, tag, call, "pass  # figure left out")


@pytest.fixture(scope="module")
def data():
    # Module-scoped fixtures run before the function-scoped quick-mode fixture: set the mode here too.
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("COURSEKIT_MODE", "quick")
        mp.setenv("COURSEKIT_LIVE", "0")
        mp.setenv("MPLBACKEND", "Agg")
        yield exec_cells(NB08, ["setup", "data"])


# ---------------------------------------------------------------------------------------------
# 1 · He keeps the ReLU stack's scale, N(0, 0.01²) collapses, the per-layer factors are as predicted

INIT = ["impl-init", "run-init", "proof-init"]


def _init_run(data, replace=None):
    quiet = {"run-init": _no_figure("run-init", 'histogram_grid(stacks, "activations layer by layer (ReLU: the '
                                                 'positive values; the other half are exactly 0)")')}
    return _continue(data, INIT, {**quiet, **(replace or {})})


def test_init_proof_passes(data):
    ns = _init_run(data)
    assert ns["layer_std"]["ReLU, He"].iloc[-1] > 0.5


@pytest.mark.parametrize("old, new", [
    ('"He": lambda fan_in: math.sqrt(2 / fan_in)', '"He": lambda fan_in: math.sqrt(1 / fan_in)'),  # He = Xavier
    ('"N(0, 0.01²)": lambda fan_in: 0.01', '"N(0, 0.01²)": lambda fan_in: 0.1'),  # 0.1 explodes instead
    ('"Xavier": lambda fan_in: math.sqrt(1 / fan_in)', '"Xavier": lambda fan_in: math.sqrt(2 / fan_in)'),
], ids=["he-without-2", "small-is-0.1", "xavier-with-2"])
def test_init_proof_catches(data, old, new):
    wrong = edited_cell(NB08, "impl-init", old, new)
    with pytest.raises(AssertionError):
        _init_run(data, {"impl-init": wrong})


# ---------------------------------------------------------------------------------------------
# 1 · the fan-in of a convolution == torch.nn.init's

FAN_IN = ["setup", "impl-fan-in", "proof-fan-in"]


def test_fan_in_proof_passes():
    exec_cells(NB08, FAN_IN)


@pytest.mark.parametrize("old, new", [
    ("layer.in_channels // layer.groups", "layer.out_channels // layer.groups"),  # the filters, not the input depth
    ("layer.in_channels // layer.groups", "layer.in_channels"),  # grouped convolutions forgotten
    ("layer.in_channels // layer.groups * math.prod(layer.kernel_size)",
     "layer.kernel_size[0] * layer.kernel_size[-1]"),  # channels forgotten
], ids=["out-channels", "no-groups", "no-channels"])
def test_fan_in_proof_catches(old, new):
    proof_fails(NB08, FAN_IN, "impl-fan-in", old, new)


# ---------------------------------------------------------------------------------------------
# 2 · hand batch norm == nn.BatchNorm1d/2d in training and evaluation mode

BN = ["setup", "impl-batch-norm", "proof-batch-norm"]


def test_batch_norm_proof_passes():
    exec_cells(NB08, BN)


@pytest.mark.parametrize("old, new", [
    ("var = x.var(dim=dims, unbiased=False)", "var = x.var(dim=dims, unbiased=True)"),  # normalises by m - 1
    ("momentum * var * m / (m - 1)", "momentum * var"),  # stores the biased variance
    ("running_mean.mul_(1 - momentum).add_(momentum * mean)",
     "running_mean.mul_(momentum).add_((1 - momentum) * mean)"),  # Keras's momentum convention
    ("mean, var = running_mean, running_var",
     "mean, var = x.mean(dim=dims), x.var(dim=dims, unbiased=False)"),  # batch statistics in evaluation too
    ("torch.sqrt(var.view(shape) + eps)", "(torch.sqrt(var.view(shape)) + eps)"),  # eps outside the root
], ids=["unbiased-in-training", "biased-running-var", "keras-momentum", "eval-uses-batch", "eps-outside"])
def test_batch_norm_proof_catches(old, new):
    proof_fails(NB08, BN, "impl-batch-norm", old, new)


BN_PICTURE = ["impl-batch-norm", "run-bn-pictures"]


def _bn_picture_run(data, replace=None):
    # The picture cell's assert: with batch norm the N(0, 0.01²) ReLU stack keeps its scale over 20 layers.
    return _continue(_init_run(data), BN_PICTURE, replace)


def test_batch_norm_picture_assert_passes(data):
    ns = _bn_picture_run(data)
    assert 0.5 < ns["bn_std"].min() < ns["bn_std"].max() < 0.7  # a rectified standard normal: std 0.584


def test_batch_norm_picture_assert_catches_a_normalisation_that_only_centres(data):
    wrong = edited_cell(NB08, "run-bn-pictures",
                        "return batch_norm(z, ones, zeros, zeros.clone(), ones.clone(), training=True)",
                        "return z - z.mean(dim=0)")  # no rescaling: the stack collapses as without batch norm
    with pytest.raises(AssertionError):
        _bn_picture_run(data, {"run-bn-pictures": wrong})


# ---------------------------------------------------------------------------------------------
# 3 · clipping by norm gives exactly the stated norm and keeps the direction; by value == torch

CLIP = ["setup", "impl-clip", "proof-clip"]


def test_clip_proof_passes():
    exec_cells(NB08, CLIP)


@pytest.mark.parametrize("old, new", [
    ("    if total > max_norm:\n        for g in grads:\n            g.mul_(max_norm / total)",
     "    for g in grads:\n        if g.norm() > max_norm:\n            g.mul_(max_norm / g.norm())"),  # per tensor
    ("if total > max_norm:", "if True:"),  # small gradients blown up to the threshold
    ("total = torch.sqrt(sum((g**2).sum() for g in grads))", "total = sum(g.norm() for g in grads)"),
    ("p.grad.clamp_(-clip_value, clip_value)", "p.grad.clamp_(max=clip_value)"),  # one-sided
], ids=["per-tensor", "always-rescale", "sum-of-norms", "one-sided-value"])
def test_clip_proof_catches(old, new):
    proof_fails(NB08, CLIP, "impl-clip", old, new)


def test_clip_training_proof_catches_a_clip_that_never_acts(data):
    wrong = edited_cell(NB08, "impl-clip", "if total > max_norm:", "if False:")
    quiet = edited_cell(NB08, "train-clip", "plt.show()", "plt.close(fig)")
    with pytest.raises(AssertionError):
        _continue(data, ["impl-clip", "train-clip", "proof-clip-training"],
                  {"impl-clip": wrong, "train-clip": quiet})


# ---------------------------------------------------------------------------------------------
# 4 · weight scaling == the renormalised geometric mean of all thinned softmax layers

GEOMETRIC = ["setup", "impl-geometric", "proof-geometric"]


def test_geometric_proof_passes():
    exec_cells(NB08, GEOMETRIC)


@pytest.mark.parametrize("old, new", [
    ("(masks * x / (1 - p))", "(masks * x)"),  # plain dropout: no 1 / (1 - p) in training
    ("weights = (1 - p) ** kept * p ** (x.shape[0] - kept)",
     "weights = torch.full_like(kept, 1 / 2 ** x.shape[0])"),  # every mask equally likely
    ("geometric = torch.softmax((weights[:, None] * log_probs).sum(0), dim=0)",
     "geometric = arithmetic"),  # the arithmetic mean is not what weight scaling computes
], ids=["no-inverted-scaling", "uniform-masks", "arithmetic"])
def test_geometric_proof_catches(old, new):
    proof_fails(NB08, GEOMETRIC, "impl-geometric", old, new)


# ---------------------------------------------------------------------------------------------
# 5 · EMA == torch.optim.swa_utils' EMA

EMA = ["setup", "impl-ema", "proof-ema"]


def test_ema_proof_passes():
    exec_cells(NB08, EMA)


def test_ema_proof_catches_the_weights_swapped():
    proof_fails(NB08, EMA, "impl-ema", "alpha=1 - decay", "alpha=decay")


# ---------------------------------------------------------------------------------------------
# 5 · permuted twins, snapshot averaging (trained once per module)

@pytest.fixture(scope="module")
def trained(data):
    return _continue(data, ["impl-mlp", "train-independent", "impl-average", "run-averaging"])


@pytest.fixture(scope="module")
def snapshotted(trained):
    # train-snapshots trains the members on: give it copies, so that `trained` keeps the networks as they were
    ns = dict(trained)
    ns["members"], ns["member_optimizers"] = copy.deepcopy((trained["members"], trained["member_optimizers"]))
    return _continue(ns, ["impl-ema", "train-snapshots"])


SNAPSHOT = ["impl-average", "run-snapshots", "proof-snapshot"]
PERMUTE = ["impl-permute", "proof-permute"]


def test_permute_proof_passes(trained):
    _continue(trained, PERMUTE)


def test_snapshot_proof_passes(snapshotted):
    ns = _continue(snapshotted, SNAPSHOT)
    assert min(ns["gains"]) >= 0


@pytest.mark.parametrize("old, new", [
    ('        state[f"{second}.weight"] = state[f"{second}.weight"][:, perm]\n', ""),  # next layer not permuted
    ('        state[f"{first}.bias"] = state[f"{first}.bias"][perm]\n', ""),  # biases left in place
], ids=["next-layer", "bias"])
def test_permute_proof_catches(trained, old, new):
    wrong = edited_cell(NB08, "impl-permute", old, new)
    with pytest.raises(AssertionError):
        _continue(trained, PERMUTE, {"impl-permute": wrong})


@pytest.mark.parametrize("old, new", [
    ("sum(state[name] for state in states) / len(states)", "states[-1][name]"),  # no averaging at all
    ("sum(state[name] for state in states) / len(states)", "sum(state[name] for state in states)"),  # a sum
], ids=["last-only", "sum-not-mean"])
def test_snapshot_proof_catches(snapshotted, old, new):
    wrong = edited_cell(NB08, "impl-average", old, new)
    with pytest.raises(AssertionError):
        _continue(snapshotted, SNAPSHOT, {"impl-average": wrong})


# ---------------------------------------------------------------------------------------------
# 6 · gradient noise breaks the symmetry of a constant initialisation

def test_noise_proof_catches_noise_that_is_never_added(data):
    wrong = edited_cell(NB08, "impl-noise", "p.grad.add_(std * ", "p.grad.add_(0 * ")
    with pytest.raises(AssertionError):
        _continue(data, ["impl-mlp", "impl-noise", "train-noise", "proof-noise"], {"impl-noise": wrong})
