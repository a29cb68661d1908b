"""Data-parallel training of notebook 06's MNIST CNN with DistributedDataParallel (notebook 18).

torchrun starts the processes and tells each one who it is through environment variables
(RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT). Every process holds a full copy of
the model, trains on its own shard of each epoch (DistributedSampler), and DDP averages the
gradients across processes during ``loss.backward()``, so every copy takes the same step.

    torchrun --standalone --nproc_per_node=2 ddp_train.py --epochs 1       # 2 processes, CPU or GPU
    torchrun --standalone --nproc_per_node=gpu ddp_train.py --epochs 12    # one process per GPU

With CUDA GPUs the processes talk through NCCL, one GPU each; otherwise through gloo on the CPU
(``--device cpu`` forces the CPU). Rank 0 alone prints and writes the checkpoint. Notebook 18
shows how to launch the same script on several machines (torchrun's rendezvous, SLURM).

Learning rate: ``--base-lr`` is tuned for ``--base-batch`` images per step; with a global batch
of ``world_size * --batch-size`` images the linear scaling rule (Goyal et al. 2017, "Accurate,
Large Minibatch SGD", arXiv:1706.02677) multiplies it by ``global_batch / base_batch``, reached by
a linear warm-up from the base rate over the first ``--warmup-steps`` steps, then a cosine decay.
"""

from __future__ import annotations

import argparse
import math
import os
import time
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler


def textbook_cnn(dropout: float = 0.5) -> nn.Module:
    """5x5x32 conv, 2x2 pool, 5x5x64 conv, 2x2 pool, fc 1024 + dropout, fc 10 (notebook 06)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Dropout(dropout),
        nn.Linear(1024, 10),
    )


def scaled_lr(base_lr: float, base_batch: int, global_batch: int) -> float:
    """The linear scaling rule: k times the images per step, k times the learning rate."""
    return base_lr * global_batch / base_batch


def lr_at(step: int, *, base_lr: float, peak_lr: float, warmup_steps: int, total_steps: int) -> float:
    """Learning rate of optimizer step ``step`` (0, 1, ...): linear warm-up from ``base_lr`` (or from
    ``peak_lr`` if that is lower) to ``peak_lr`` over ``warmup_steps`` steps, then cosine decay to 0
    at ``total_steps``."""
    if step < warmup_steps:
        start = min(base_lr, peak_lr)
        return start + (peak_lr - start) * step / warmup_steps
    progress = (step - warmup_steps) / max(1, total_steps - warmup_steps)
    return peak_lr * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0)))


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--steps", type=int, default=None, help="stop after this many optimizer steps")
    parser.add_argument("--batch-size", type=int, default=64, help="images per step in EACH process")
    parser.add_argument("--base-lr", type=float, default=0.1, help="SGD learning rate for --base-batch images")
    parser.add_argument("--base-batch", type=int, default=64)
    parser.add_argument("--warmup-steps", type=int, default=50)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--dropout", type=float, default=0.5)
    parser.add_argument("--data", type=Path, default=None,
                        help="a file of tensors {'images', 'labels'} saved with torch.save (default: MNIST)")
    parser.add_argument("--limit", type=int, default=None, help="train on the first N training images")
    parser.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    parser.add_argument("--device", choices=["auto", "cpu"], default="auto", help="cpu: gloo even with GPUs")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--log-every", type=int, default=10, help="steps between two lines of rank 0's log")
    parser.add_argument("--checkpoint", type=Path, default=None, help="where rank 0 saves the trained model")
    return parser.parse_args(argv)


def setup(device_choice: str) -> tuple[int, int, torch.device]:
    """Join the process group that torchrun prepared: NCCL with one GPU per process, else gloo."""
    local_rank = int(os.environ["LOCAL_RANK"])
    if device_choice == "auto" and torch.cuda.is_available():
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device, timeout=timedelta(minutes=5))
    else:
        device = torch.device("cpu")
        dist.init_process_group("gloo", timeout=timedelta(minutes=5))
    return dist.get_rank(), dist.get_world_size(), device


def load_data(path: Path | None, limit: int | None) -> tuple[torch.Tensor, torch.Tensor]:
    """The training images and labels: from ``path`` if given, else MNIST through coursekit."""
    if path is not None:  # prepared once by the caller; mmap: the processes of a machine share the pages
        data = torch.load(path, mmap=True, weights_only=True)
        return data["images"][:limit], data["labels"][:limit]
    import coursekit as ck  # only this path needs it

    # Local rank 0 of each machine fetches the files once; the others wait, then read the verified copy.
    if int(os.environ["LOCAL_RANK"]) == 0:
        ck.mnist(train=True, progress=False)
    dist.barrier()
    return ck.mnist_tensors(train=True, limit=limit)


def main(argv=None) -> None:
    args = parse_args(argv)
    rank, world_size, device = setup(args.device)
    dtype = getattr(torch, args.dtype)

    def log(message: str) -> None:  # one voice: rank 0 prints, the others stay quiet
        if rank == 0:
            print(message, flush=True)

    images, labels = load_data(args.data, args.limit)
    images, labels = images.to(device, dtype), labels.to(device)  # resident: the whole set on the device

    torch.manual_seed(args.seed)  # the same initial weights everywhere (DDP also broadcasts rank 0's)
    model = textbook_cnn(args.dropout).to(device, dtype)
    model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    torch.manual_seed(args.seed + 1000 * (rank + 1))  # but each rank its own dropout masks

    sampler = DistributedSampler(range(len(images)), num_replicas=world_size, rank=rank, shuffle=True,
                                 seed=args.seed)
    steps_per_epoch = math.ceil(len(sampler) / args.batch_size)  # the same on every rank
    total_steps = args.steps or args.epochs * steps_per_epoch
    global_batch = world_size * args.batch_size
    peak_lr = scaled_lr(args.base_lr, args.base_batch, global_batch)
    warmup = min(args.warmup_steps, total_steps // 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.base_lr, momentum=args.momentum)
    log(f"{world_size} process(es), {dist.get_backend()} on {device.type}, {args.batch_size} images per process "
        f"and step = global batch {global_batch}; lr {args.base_lr:g} x {global_batch}/{args.base_batch} = "
        f"{peak_lr:g} after {warmup} warm-up steps; {total_steps} steps, {len(images):,} images, {args.dtype}")

    history = {"step": [], "loss": [], "lr": []}
    step, seen, start = 0, 0, time.perf_counter()
    for epoch in range(math.ceil(total_steps / steps_per_epoch)):
        sampler.set_epoch(epoch)  # a new shuffle each epoch, the same one on every rank
        order = torch.tensor(list(sampler), device=device)  # this rank's shard of the epoch
        for first in range(0, len(order), args.batch_size):
            if step == total_steps:
                break
            lr = lr_at(step, base_lr=args.base_lr, peak_lr=peak_lr, warmup_steps=warmup, total_steps=total_steps)
            for group in optimizer.param_groups:
                group["lr"] = lr
            index = order[first:first + args.batch_size]
            loss = F.cross_entropy(model(images[index]), labels[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()  # DDP all-reduces (averages) the gradients here, overlapped with backward
            optimizer.step()
            step += 1
            seen += len(index) * world_size
            if step % args.log_every == 0 or step == total_steps:
                mean_loss = loss.detach().clone()
                dist.all_reduce(mean_loss)  # sum of the ranks' losses ...
                mean_loss /= world_size  # ... divided by their number: the loss of the global batch
                history["step"].append(step)
                history["loss"].append(mean_loss.item())
                history["lr"].append(lr)
                log(f"step {step:4d}/{total_steps} (epoch {epoch + 1}): loss {mean_loss.item():.4f}, lr {lr:.4f}")
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    log(f"{seen:,} images in {seconds:.1f} s: {seen / seconds:,.0f} images/s over {world_size} process(es)")

    if rank == 0 and args.checkpoint is not None:  # one copy is enough: the weights are identical
        args.checkpoint.parent.mkdir(parents=True, exist_ok=True)
        partial = args.checkpoint.with_suffix(".partial")
        torch.save({"model": model.module.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                    "world_size": world_size, "backend": dist.get_backend(), "images_per_second": seen / seconds,
                    "history": history, "args": {k: str(v) for k, v in vars(args).items()}}, partial)
        partial.replace(args.checkpoint)  # a crash mid-write never leaves a truncated checkpoint
        log(f"rank 0 saved {args.checkpoint}")
    dist.barrier()  # nobody leaves before the checkpoint is written
    dist.destroy_process_group()


if __name__ == "__main__":
    main()
