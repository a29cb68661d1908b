"""Device choice, quick/full mode, seeding and the package's import hygiene."""

from __future__ import annotations

import random
import subprocess
import sys

import numpy as np
import pytest
import torch

import coursekit
from coursekit import device as dev
from coursekit import mode as md


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    monkeypatch.delenv("COURSEKIT_DEVICE", raising=False)
    monkeypatch.delenv("COURSEKIT_MODE", raising=False)


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(dev, "_mps_available", lambda: True)
    assert dev.pick_device() == torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert dev.pick_device() == torch.device("mps")
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    assert dev.pick_device() == torch.device("cpu")
    assert "CPU" in dev.describe_device().reason


def test_env_override_wins_over_auto(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv("COURSEKIT_DEVICE", "cpu")
    assert dev.pick_device() == torch.device("cpu")
    assert "COURSEKIT_DEVICE=cpu" in dev.describe_device().reason


def test_argument_override_wins_over_env(monkeypatch):
    monkeypatch.setenv("COURSEKIT_DEVICE", "cuda")
    assert dev.pick_device("cpu") == torch.device("cpu")


def test_asking_for_a_missing_gpu_is_an_error_not_a_silent_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(dev, "_mps_available", lambda: False)
    monkeypatch.setenv("COURSEKIT_DEVICE", "cuda")
    with pytest.raises(RuntimeError, match="no CUDA GPU"):
        dev.pick_device()
    with pytest.raises(RuntimeError, match="MPS"):
        dev.pick_device("mps")


def test_a_nonsense_device_name_is_explained():
    with pytest.raises(ValueError, match="not a device name|supports cuda"):
        dev.pick_device("tpu0")


def test_report_agrees_with_torch():
    info = dev.describe_device()
    assert info.torch_version == torch.__version__
    assert info.cuda_version == torch.version.cuda
    assert (info.device.type == "cuda") == torch.cuda.is_available()
    text = str(info)
    assert str(info.device) in text and info.reason in text


def test_seeding_makes_two_runs_identical():
    def draws():
        return random.random(), np.random.rand(3).tolist(), torch.randn(3).tolist()

    coursekit.seed_everything(7)
    first = draws()
    coursekit.seed_everything(7)
    assert draws() == first
    coursekit.seed_everything(8)
    assert draws() != first


def test_mode_defaults_to_quick_and_reads_the_env(monkeypatch):
    assert md.current_mode() == "quick" and md.by_mode(quick=1, full=2) == 1
    monkeypatch.setenv("COURSEKIT_MODE", "FULL")
    assert md.current_mode() == "full" and md.by_mode(quick=1, full=2) == 2 and md.is_full()


def test_an_unknown_mode_is_an_error(monkeypatch):
    monkeypatch.setenv("COURSEKIT_MODE", "fast")
    with pytest.raises(ValueError, match="quick, full"):
        md.current_mode()


def test_start_lesson_prints_mode_time_and_device_and_seeds(capsys, monkeypatch):
    monkeypatch.setenv("COURSEKIT_MODE", "full")
    device = md.start_lesson(quick="10 s", full="5 min", seed=3)
    out = capsys.readouterr().out
    assert "mode   : full (expected run time 5 min)" in out
    assert str(device) in out and "seed   : 3" in out
    after = torch.randn(2)
    coursekit.seed_everything(3)
    assert torch.equal(after, torch.randn(2))


def test_public_api_is_listed_and_importable():
    for name in coursekit.__all__:
        assert hasattr(coursekit, name), name


def test_import_has_no_side_effects():
    code = (
        "import random, numpy as np, torch\n"
        "r, n, t = random.getstate(), np.random.get_state()[1].copy(), torch.get_rng_state().clone()\n"
        "flags = (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic,"
        " torch.are_deterministic_algorithms_enabled(), torch.get_default_dtype())\n"
        "import coursekit, coursekit.grading\n"
        "assert random.getstate() == r, 'python RNG touched'\n"
        "assert (np.random.get_state()[1] == n).all(), 'numpy RNG touched'\n"
        "assert torch.equal(torch.get_rng_state(), t), 'torch RNG touched'\n"
        "assert flags == (torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic,"
        " torch.are_deterministic_algorithms_enabled(), torch.get_default_dtype()), 'torch flags changed'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
