"""A small, readable training loop: ``fit``, ``evaluate`` and ``cached_or_train``.

Data can be a pair of tensors ``(inputs, targets)``, which is the fast path: the pair is
moved to the device once and cut into shuffled batches by indexing, with no DataLoader and
no per-batch copies (MNIST's 60,000 images are 188 MB; that fits on any GPU). Anything
else that yields ``(inputs, targets)`` batches, such as a ``DataLoader``, works too.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn


class TensorBatches:
    """Shuffled mini-batches of tensors that already live on the device."""

    def __init__(self, inputs: torch.Tensor, targets: torch.Tensor, batch_size: int, shuffle: bool = True,
                 generator: torch.Generator | None = None):
        if len(inputs) != len(targets):
            raise ValueError(f"inputs ({len(inputs)}) and targets ({len(targets)}) differ in length")
        self.inputs, self.targets = inputs, targets
        self.batch_size, self.shuffle, self.generator = batch_size, shuffle, generator

    def __len__(self) -> int:
        return -(-len(self.inputs) // self.batch_size)

    def __iter__(self):
        n = len(self.inputs)
        if self.shuffle:
            order = torch.randperm(n, generator=self.generator, device="cpu").to(self.inputs.device)
        else:
            order = None
        for start in range(0, n, self.batch_size):
            if order is None:
                yield self.inputs[start:start + self.batch_size], self.targets[start:start + self.batch_size]
            else:
                idx = order[start:start + self.batch_size]
                yield self.inputs[idx], self.targets[idx]


def _batches(data, batch_size: int, device, shuffle: bool) -> Iterable:
    if isinstance(data, tuple | list) and len(data) == 2 and all(isinstance(t, torch.Tensor) for t in data):
        return TensorBatches(data[0].to(device), data[1].to(device), batch_size, shuffle=shuffle)
    return data


def accuracy(outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Fraction of rows whose largest output is the target class."""
    return (outputs.argmax(dim=1) == targets).float().mean()


@torch.no_grad()
def evaluate(model: nn.Module, data, loss_fn: Callable = F.cross_entropy, metrics: dict | None = None,
             batch_size: int = 1024, device=None) -> dict[str, float]:
    """Mean loss and metrics of ``model`` on ``data`` in eval mode (dropout off, BN frozen)."""
    device = device or next(model.parameters()).device
    metrics = {"acc": accuracy} if metrics is None else metrics
    was_training = model.training
    model.eval()
    totals = {"loss": 0.0, **{k: 0.0 for k in metrics}}
    count = 0
    for inputs, targets in _batches(data, batch_size, device, shuffle=False):
        inputs, targets = inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
        outputs = model(inputs)
        n = len(targets)
        totals["loss"] += loss_fn(outputs, targets).item() * n
        for name, fn in metrics.items():
            totals[name] += float(fn(outputs, targets)) * n
        count += n
    model.train(was_training)
    return {k: v / count for k, v in totals.items()}


class History:
    """What ``fit`` saw: per-step training loss and per-epoch metrics (``.epochs`` as a DataFrame).

    Each epoch's row has ``train_loss``, the ``val_*`` metrics, ``train_seconds`` (cumulative time
    spent in training steps) and ``seconds`` (cumulative wall time, validation included).
    """

    def __init__(self):
        self.steps: list[float] = []
        self.epoch_rows: list[dict] = []

    @property
    def epochs(self):
        import pandas as pd

        return pd.DataFrame(self.epoch_rows).set_index("epoch") if self.epoch_rows else pd.DataFrame()

    def __getitem__(self, key: str) -> list[float]:
        return [row[key] for row in self.epoch_rows]


def fit(model: nn.Module, train, val=None, *, epochs: int, optimizer: torch.optim.Optimizer,
        loss_fn: Callable = F.cross_entropy, metrics: dict | None = None, batch_size: int = 128,
        scheduler=None, device=None, plot: bool = True, progress: bool = True,
        title: str | None = None) -> History:
    """Train ``model`` for ``epochs`` and return its ``History``.

    ``scheduler`` (if given) steps after every batch, which is what one-cycle and warm-up
    schedules expect. Validation metrics are computed after every epoch in eval mode. The progress
    bar is left out when ``COURSEKIT_LIVE=0`` (headless runs), like the live redraws of the plot.
    """
    from tqdm.auto import tqdm

    from .mode import live_updates
    from .plot import LivePlot

    device = device or next(model.parameters()).device
    metrics = {"acc": accuracy} if metrics is None else metrics
    history = History()
    live = LivePlot(title=title) if plot else None
    progress = progress and live_updates()
    batches = _batches(train, batch_size, device, shuffle=True)
    step = 0
    start = time.perf_counter()
    train_seconds = 0.0  # the training steps alone, without the validation passes
    for epoch in range(1, epochs + 1):
        model.train()
        running, seen = 0.0, 0
        epoch_start = time.perf_counter()
        bar = tqdm(batches, desc=f"epoch {epoch}/{epochs}", leave=False, disable=not progress)
        for inputs, targets in bar:
            inputs, targets = inputs.to(device, non_blocking=True), targets.to(device, non_blocking=True)
            loss = loss_fn(model(inputs), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            step += 1
            value = loss.item()
            history.steps.append(value)
            running += value * len(targets)
            seen += len(targets)
            if live is not None and step % 10 == 0:
                live.log(step, train_loss=value)
        if device.type == "cuda":
            torch.cuda.synchronize(device)  # GPU work is asynchronous: wait before reading the clock
        train_seconds += time.perf_counter() - epoch_start
        row = {"epoch": epoch, "train_loss": running / seen, "train_seconds": train_seconds,
               "seconds": time.perf_counter() - start}
        if val is not None:
            row.update({f"val_{k}": v for k, v in evaluate(model, val, loss_fn, metrics, device=device).items()})
        history.epoch_rows.append(row)
        if live is not None:
            live.log(step, **{k: v for k, v in row.items() if k.startswith("val_")})
        if progress:
            shown = ", ".join(f"{k} {v:.4f}" for k, v in row.items() if not k.endswith(("epoch", "seconds")))
            print(f"epoch {epoch}: {shown} ({row['seconds']:.1f} s)")
    if live is not None:
        live.close()
    return history


def checkpoint_path(name: str) -> Path:
    """Where ``cached_or_train`` keeps ``name``: ``<data cache>/checkpoints/<name>-<mode>.pt``."""
    from .data import cache_root
    from .mode import current_mode

    return cache_root() / "checkpoints" / f"{name}-{current_mode()}.pt"


def cached_or_train(name: str, model: nn.Module, train_fn: Callable[[nn.Module], object]) -> tuple[nn.Module, bool]:
    """Load ``model``'s weights from the cache if saved before, else ``train_fn(model)`` and save them.

    Returns ``(model, loaded)``. The file name includes the mode, so quick-mode weights never
    stand in for full-mode ones. Delete the file (``checkpoint_path(name)``) to retrain.
    """
    from .data import atomic_path

    path = checkpoint_path(name)
    if path.is_file():
        state = torch.load(path, map_location=next(model.parameters()).device, weights_only=True)
        model.load_state_dict(state)
        print(f"loaded trained weights from {path}")
        return model, True
    train_fn(model)
    with atomic_path(path) as tmp:
        torch.save(model.state_dict(), tmp)
    print(f"saved trained weights to {path}")
    return model, False
