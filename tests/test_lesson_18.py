"""Mutation tests for notebook 18 (scaling up and out) and its training script ddp_train.py.

Each proof cell must pass with the notebook's own code and fail (AssertionError) when the code under
test is replaced by a plausible wrong one. The DDP proof is tested on the script itself: broken copies
of ddp_train.py are launched with torchrun (two gloo processes on the CPU) and the proof cell must
reject every one of them.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import types
from pathlib import Path

import pytest

from tests.nbcells import ROOT, edited_cell, tagged_sources

NB18 = "notebooks/18_scaling_up_and_out.ipynb"
SCRIPT = ROOT / "notebooks" / "ddp_train.py"


def run_tags(namespace: dict, tags: list[str], replace: dict[str, str] | None = None) -> dict:
    """Run the cells tagged ``tags`` (in that order) in ``namespace``; ``replace`` swaps a cell's code."""
    replace = replace or {}
    for tag in tags:
        sources = [replace[tag]] if tag in replace else tagged_sources(NB18, tag)
        assert sources, f"{NB18} has no cell tagged {tag!r}"
        for source in sources:
            code = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
            exec(compile(code, f"{NB18}[{tag}]", "exec"), namespace)
    return namespace


@pytest.fixture(scope="module")
def lesson():
    """The notebook's setup and data cells, run once, from the notebook's folder (as Jupyter does)."""
    before = os.getcwd()
    os.chdir(ROOT / "notebooks")
    module = types.ModuleType("__nb18__")
    sys.modules[module.__name__] = module
    try:
        yield run_tags(module.__dict__, ["setup", "data"])
    finally:
        os.chdir(before)


def fresh(lesson: dict) -> dict:
    return dict(lesson)  # the lesson's names, rebound freely by each test


# ---------------------------------------------------------------------------------------------
# the profiler's FLOP count == the hand count


@pytest.fixture(scope="module")
def profiled(lesson):
    return run_tags(fresh(lesson), ["profile"])


def test_flop_proof_passes(profiled):
    ns = run_tags(dict(profiled), ["impl-flops", "proof-flops"])
    assert 0.6 < ns["flop_share"] < 0.8


@pytest.mark.parametrize("old, new", [
    ("return {layer: 2 * count * batch", "return {layer: count * batch"),  # multiply-adds, not FLOPs
    ('"conv1": 28 * 28 * 32', '"conv1": 24 * 24 * 32'),  # no padding: a 5x5 filter shrinks 28 to 24
    ('"dense1": (64 * 7 * 7) * 1024', '"dense1": (32 * 7 * 7) * 1024'),  # the first conv's channels
    ('"conv2": 14 * 14 * 64 * (32 * 5 * 5)', '"conv2": 14 * 14 * 64 * (5 * 5)'),  # one input channel per filter
], ids=["macs-not-flops", "no-padding", "wrong-fan-in", "depthwise-conv2"])
def test_flop_proof_catches_a_wrong_hand_count(profiled, old, new):
    wrong = edited_cell(NB18, "impl-flops", old, new)
    with pytest.raises(AssertionError):
        run_tags(dict(profiled), ["impl-flops", "proof-flops"], replace={"impl-flops": wrong})


# ---------------------------------------------------------------------------------------------
# compiled == eager

COMPILE_TAGS = ["bench-setup", "impl-compile", "proof-compile"]


def test_compile_proof_passes(lesson):
    ns = run_tags(fresh(lesson), COMPILE_TAGS)
    assert ns["compile_error"] <= ns["compile_tolerance"]


@pytest.mark.parametrize("old, new", [
    # train mode: dropout draws different masks in the two runs
    ("eager = textbook_cnn().to(device).eval()", "eager = textbook_cnn().to(device)"),
    # the compiled model run under bf16 autocast: bf16 rounding is ~1e-2, far above float32's
    ("    compiled_logits = compiled(probe)",
     "    with torch.autocast(device.type, dtype=torch.bfloat16):\n        compiled_logits = compiled(probe)"),
    # a second model, with weights of its own, compiled instead of the eager one
    ("compiled = torch.compile(eager, backend=compile_backend)",
     "compiled = torch.compile(textbook_cnn().to(device).eval(), backend=compile_backend)"),
], ids=["dropout-on", "bf16-compiled", "other-weights"])
def test_compile_proof_catches(lesson, old, new):
    wrong = edited_cell(NB18, "impl-compile", old, new)
    with pytest.raises(AssertionError):
        run_tags(fresh(lesson), COMPILE_TAGS, replace={"impl-compile": wrong})


# ---------------------------------------------------------------------------------------------
# bf16 reaches float32's accuracy (asserted in full mode)


@pytest.mark.parametrize("bf16, passes", [(0.9931, True), (0.9950, True), (0.9880, False)],
                         ids=["slightly-lower", "higher", "a-point-lower"])
def test_bf16_proof_in_full_mode(monkeypatch, tmp_path, bf16, passes):
    import coursekit as ck

    monkeypatch.setenv("COURSEKIT_MODE", "full")
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results.jsonl"))
    ns = {"ck": ck, "accuracy_fp32": 0.9940, "accuracy_bf16": bf16}
    if passes:
        run_tags(ns, ["proof-bf16"])
    else:
        with pytest.raises(AssertionError):
            run_tags(ns, ["proof-bf16"])


def test_bf16_proof_asserts_nothing_in_quick_mode(monkeypatch):
    import coursekit as ck

    monkeypatch.setenv("COURSEKIT_MODE", "quick")
    run_tags({"ck": ck, "accuracy_fp32": 0.9, "accuracy_bf16": 0.5}, ["proof-bf16"])


# ---------------------------------------------------------------------------------------------
# DistributedSampler's shards cover each epoch exactly once

SHARD_TAGS = ["impl-shards", "proof-shards"]


def test_shard_proof_passes(lesson):
    ns = run_tags(fresh(lesson), SHARD_TAGS)
    assert ns["checked"] == 120


@pytest.mark.parametrize("old, new", [
    ("        sampler.set_epoch(epoch)\n", ""),  # every epoch repeats epoch 0's order
    ("shuffle=True, seed=seed,", "shuffle=True, seed=seed + rank,"),  # each rank its own permutation
    ("num_replicas=world_size, rank=rank", "num_replicas=1, rank=0"),  # every rank takes everything
    ("drop_last=drop_last)", "drop_last=False)"),  # drop_last ignored
], ids=["no-set-epoch", "seed-per-rank", "no-sharding", "drop-last-ignored"])
def test_shard_proof_catches(lesson, old, new):
    wrong = edited_cell(NB18, "impl-shards", old, new)
    with pytest.raises(AssertionError):
        run_tags(fresh(lesson), SHARD_TAGS, replace={"impl-shards": wrong})


# ---------------------------------------------------------------------------------------------
# 2 DDP processes x batch B == 1 process x batch 2B, on the script itself


def ddp_proof(lesson, tmp_path: Path, script: Path) -> dict:
    """Launch ``script`` as the notebook does (files in ``tmp_path``), then run the proof cells."""
    args_cell = edited_cell(NB18, "ddp-proof-args", 'checkpoint_path("ddp_proof_2x16")', f"Path({str(tmp_path / 'proof.pt')!r})")
    args_cell = args_cell.replace('cache_root() / "ddp"', f"Path({str(tmp_path)!r})")
    ns = run_tags(fresh(lesson), ["ddp-proof-args"], replace={"ddp-proof-args": args_cell})
    assert str(ns["proof_file"]).startswith(str(tmp_path))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2", str(script),
               *shlex.split(ns["proof_args"])]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return run_tags(ns, ["impl-reference", "proof-ddp"])


def test_ddp_proof_passes_on_the_script(lesson, tmp_path):
    ns = ddp_proof(lesson, tmp_path, SCRIPT)
    assert ns["one_big_batch"] <= 1e-10 < 1e-3 < ns["moved"]
    assert ns["one_small_batch"] > 1e-4  # the comparison can tell the batches apart


@pytest.mark.parametrize("old, new", [
    # DDP's no_sync() around the forward pass: the gradients are never all-reduced
    ("            loss = F.cross_entropy(model(images[index]), labels[index])\n",
     "            with model.no_sync():\n                loss = F.cross_entropy(model(images[index]), labels[index])\n"),
    # set_epoch forgotten: the second epoch repeats the first one's order
    ("        sampler.set_epoch(epoch)", "        pass"),
    # every rank trains on rank 0's shard
    ("num_replicas=world_size, rank=rank, shuffle=True", "num_replicas=world_size, rank=0, shuffle=True"),
    # summed instead of averaged loss: DDP's average of sums is B times the big batch's mean gradient
    ("F.cross_entropy(model(images[index]), labels[index])",
     "F.cross_entropy(model(images[index]), labels[index], reduction='sum')"),
    # learning rate scaled by the per-process batch instead of the global batch
    ("global_batch = world_size * args.batch_size", "global_batch = args.batch_size"),
], ids=["no-sync", "no-set-epoch", "same-shard", "summed-loss", "lr-per-process-batch"])
def test_ddp_proof_catches_a_broken_script(lesson, tmp_path, old, new):
    source = SCRIPT.read_text()
    assert old in source, f"ddp_train.py no longer contains {old!r}: update this test"
    broken = tmp_path / "ddp_train.py"
    broken.write_text(source.replace(old, new))
    with pytest.raises(AssertionError):
        ddp_proof(lesson, tmp_path, broken)


def test_ddp_training_result_rejects_an_untrained_checkpoint(lesson, tmp_path):
    import torch

    ns = fresh(lesson)
    run_tags(ns, ["ddp-train-args"], replace={"ddp-train-args": (
        f"nproc, ddp_batch, train_file = 2, 64, Path({str(tmp_path / 'untrained.pt')!r})")})
    torch.manual_seed(0)
    torch.save({"model": ns["textbook_cnn"]().state_dict(), "history": {"step": [1], "loss": [2.3], "lr": [0.1]},
                "world_size": 2, "backend": "gloo", "images_per_second": 1.0}, ns["train_file"])
    with pytest.raises(AssertionError, match="reached only"):
        run_tags(ns, ["ddp-train-result"])
