"""Which device to compute on, why, and how to make runs repeatable.

``pick_device()`` prefers CUDA, then Apple's MPS, then the CPU. Set ``COURSEKIT_DEVICE``
(``cuda``, ``cuda:1``, ``mps`` or ``cpu``) to override; asking for a device that is not
there is an error, never a silent fall-back to the CPU.
"""

from __future__ import annotations

import os
import platform
import random
from dataclasses import dataclass

import numpy as np
import torch

ENV_VAR = "COURSEKIT_DEVICE"


@dataclass(frozen=True)
class DeviceInfo:
    """What ``describe_device`` found: the device, its name and memory, and why it was chosen."""

    device: torch.device
    name: str
    memory_gb: float | None
    reason: str
    torch_version: str
    cuda_version: str | None

    def __str__(self) -> str:
        memory = f"{self.memory_gb:.1f} GB" if self.memory_gb is not None else "shared with the system"
        return "\n".join(
            [
                f"device : {self.device} ({self.name})",
                f"memory : {memory}",
                f"why    : {self.reason}",
                f"torch  : {self.torch_version}"
                + (f", CUDA {self.cuda_version}" if self.cuda_version else " (no CUDA runtime in this build)"),
            ]
        )


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def _choose(override: str | None) -> tuple[torch.device, str]:
    if override is None:
        override = os.environ.get(ENV_VAR, "").strip() or None
        source = f"{ENV_VAR}={override}"
    else:
        source = f"pick_device({override!r})"
    if override is not None and override.lower() != "auto":
        try:
            device = torch.device(override.lower())
        except RuntimeError as err:
            raise ValueError(
                f"{source}: {override!r} is not a device name; use cuda, cuda:N, mps, cpu or auto"
            ) from err
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise RuntimeError(f"{source} asks for CUDA, but torch sees no CUDA GPU here")
            if device.index is not None and device.index >= torch.cuda.device_count():
                raise RuntimeError(
                    f"{source} asks for {device}, but only {torch.cuda.device_count()} GPU(s) are visible"
                )
        elif device.type == "mps" and not _mps_available():
            raise RuntimeError(f"{source} asks for Apple MPS, which this machine or torch build lacks")
        elif device.type not in ("cuda", "mps", "cpu"):
            raise ValueError(f"{source}: the course supports cuda, mps and cpu, not {device.type}")
        return device, f"requested by {source}"
    if torch.cuda.is_available():
        return torch.device("cuda"), "a CUDA GPU is available (preferred over MPS and CPU)"
    if _mps_available():
        return torch.device("mps"), "no CUDA GPU; Apple MPS is available (preferred over CPU)"
    why = "no CUDA GPU and no Apple MPS found, so the CPU"
    if torch.version.cuda and not torch.cuda.is_available():
        why += f" (this torch has CUDA {torch.version.cuda} support, but no GPU or driver is visible)"
    return torch.device("cpu"), why


def pick_device(override: str | None = None) -> torch.device:
    """The device to use: ``override``, else ``$COURSEKIT_DEVICE``, else CUDA > MPS > CPU."""
    return _choose(override)[0]


def describe_device(override: str | None = None) -> DeviceInfo:
    """``pick_device`` plus the facts a learner needs to trust the choice."""
    device, reason = _choose(override)
    memory = None
    if device.type == "cuda":
        props = torch.cuda.get_device_properties(device)
        name, memory = props.name, props.total_memory / 1e9
    elif device.type == "mps":
        name = f"Apple GPU ({platform.machine()})"
    else:
        name = platform.processor() or platform.machine() or "CPU"
        name = f"{name}, {torch.get_num_threads()} torch threads"
    return DeviceInfo(device, name, memory, reason, torch.__version__, torch.version.cuda)


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's (CPU and every GPU) random generators."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds every CUDA and MPS device
