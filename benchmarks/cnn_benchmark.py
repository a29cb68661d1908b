"""Two ways to train the textbook's MNIST CNN, timed side by side in one run.

(a) conventional: the torchvision MNIST dataset (``ck.mnist`` with ``ToTensor``) read through a
    ``DataLoader`` (2 workers, pinned memory), batch 128, Adam with a constant 1e-3, 15 epochs, one seed;
(b) resident: the training images as two tensors already on the device
    (``ck.mnist_tensors(device=...)``), shuffled batches cut by indexing, batch 512, Adam with a
    one-cycle learning rate peaking at 3e-3 (notebook 06's recipe), 12 epochs, for seeds 0, 1 and 2.

Both loops train on the same 55,000 of the 60,000 training images that notebook 06 trains on (its
seeded split); the other 5,000 are the validation split. For every run it reports the training time
(the clock stops for the validation pass after each epoch), images per second, the validation
accuracy after every epoch, the training time at which the validation accuracy first reached the
target (99.4% by default), and the speed ratio of the two loops. The test set is used once per run,
after the last epoch, for the final accuracy: nothing is chosen by looking at it. Figures are the
measurement on the machine the script runs on; benchmarks/README.md records them with the machine.

    python benchmarks/cnn_benchmark.py                              # the full comparison (a GPU helps)
    python benchmarks/cnn_benchmark.py --bf16 --channels-last       # faster on recent NVIDIA GPUs
    python benchmarks/cnn_benchmark.py --epochs 1 --limit 512 --val-limit 500 --test-limit 500 --seeds 0   # smoke run
    python benchmarks/cnn_benchmark.py --json results.json          # also write the numbers

Data come only through coursekit (set COURSEKIT_MIRROR to use a local mirror).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from contextlib import nullcontext

import torch
import torch.nn.functional as F
from torch import nn

import coursekit as ck


def textbook_cnn() -> nn.Module:
    """5x5x32 conv, 2x2 pool, 5x5x64 conv, 2x2 pool, fc 1024 + dropout 0.5, fc 10 (notebook 06)."""
    return nn.Sequential(
        nn.Conv2d(1, 32, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, kernel_size=5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 7 * 7, 1024), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(1024, 10),
    )


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type == "mps":
        torch.mps.synchronize()


class Setup:
    """Device and the optional speed-ups, applied the same way to both loops."""

    def __init__(self, device: torch.device, bf16: bool, channels_last: bool):
        self.device, self.bf16, self.channels_last = device, bf16, channels_last

    def model(self, seed: int) -> nn.Module:
        torch.manual_seed(seed)
        model = textbook_cnn().to(self.device)
        if self.channels_last:
            model = model.to(memory_format=torch.channels_last)
        return model

    def inputs(self, x: torch.Tensor) -> torch.Tensor:
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x

    def autocast(self):
        if not self.bf16:
            return nullcontext()
        return torch.autocast(device_type=self.device.type, dtype=torch.bfloat16)


@torch.no_grad()
def accuracy(model: nn.Module, setup: Setup, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of the images ``x`` classified as ``y``, in eval mode (dropout off)."""
    model.eval()
    correct = 0
    for start in range(0, len(x), 2048):
        with setup.autocast():
            outputs = model(setup.inputs(x[start:start + 2048]))
        correct += (outputs.argmax(dim=1) == y[start:start + 2048]).sum()
    model.train()
    return correct.item() / len(x)


def split_indices(n_val: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Notebook 06's split of the 60,000 training images: (55,000 training, 5,000 validation) indices."""
    order = torch.randperm(60000, generator=torch.Generator().manual_seed(0))
    return order[:55000], order[55000:][:n_val]


def train_step(model, optimizer, scheduler, setup: Setup, inputs, targets) -> None:
    with setup.autocast():
        loss = F.cross_entropy(model(setup.inputs(inputs)), targets)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()  # no loss.item(): it would make the host wait for the GPU on every step
    optimizer.step()
    if scheduler is not None:
        scheduler.step()


def run(name: str, seed: int, epochs: int, batch_size: int, model, optimizer, scheduler, batches_of_epoch,
        n_images: int, setup: Setup, evaluation, target: float) -> dict:
    """Train for ``epochs``, timing only the training; validate after every epoch, test once at the end."""
    train_seconds, accuracies, time_to_target = 0.0, [], None
    for epoch in range(1, epochs + 1):
        synchronize(setup.device)
        start = time.perf_counter()
        for inputs, targets in batches_of_epoch():
            train_step(model, optimizer, scheduler, setup, inputs, targets)
        synchronize(setup.device)
        train_seconds += time.perf_counter() - start
        val_accuracy = accuracy(model, setup, *evaluation["val"])
        accuracies.append(val_accuracy)
        if time_to_target is None and val_accuracy >= target:
            time_to_target = train_seconds
        print(f"  [{name}, seed {seed}] epoch {epoch:2d}: validation accuracy {val_accuracy:.4f}, "
              f"training time so far {train_seconds:7.2f} s", flush=True)
    return {
        "loop": name, "seed": seed, "epochs": epochs, "batch_size": batch_size,
        "train_seconds": train_seconds, "images_per_second": n_images * epochs / train_seconds,
        "time_to_target_seconds": time_to_target, "final_val_accuracy": accuracies[-1],
        "val_accuracy_per_epoch": accuracies, "test_accuracy": accuracy(model, setup, *evaluation["test"]),
    }


def conventional(args, setup: Setup, train_index, evaluation, seed: int) -> dict:
    """torchvision dataset + DataLoader (workers, pinned memory), batch 128, Adam 1e-3."""
    from torch.utils.data import DataLoader, Subset
    from torchvision.transforms import ToTensor

    dataset = Subset(ck.mnist(train=True, transform=ToTensor()), train_index.tolist())
    generator = torch.Generator().manual_seed(seed)
    loader = DataLoader(dataset, batch_size=args.conventional_batch, shuffle=True, generator=generator,
                        num_workers=args.workers, pin_memory=setup.device.type == "cuda")
    model = setup.model(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.conventional_lr)

    def batches_of_epoch():
        for inputs, targets in loader:
            yield inputs.to(setup.device, non_blocking=True), targets.to(setup.device, non_blocking=True)

    return run("conventional", seed, args.conventional_epochs, args.conventional_batch, model, optimizer, None,
               batches_of_epoch, len(dataset), setup, evaluation, args.target)


def resident(args, setup: Setup, train_x, train_y, evaluation, seed: int) -> dict:
    """Tensors on the device, batches by indexing, batch 512, Adam with a one-cycle LR."""
    n = len(train_x)
    model = setup.model(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.peak_lr)
    steps_per_epoch = -(-n // args.resident_batch)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=args.peak_lr, epochs=args.resident_epochs,
                                                    steps_per_epoch=steps_per_epoch)
    generator = torch.Generator(device=setup.device).manual_seed(seed)

    def batches_of_epoch():
        order = torch.randperm(n, device=setup.device, generator=generator)
        for start in range(0, n, args.resident_batch):
            index = order[start:start + args.resident_batch]
            yield train_x[index], train_y[index]

    return run("resident", seed, args.resident_epochs, args.resident_batch, model, optimizer, scheduler,
               batches_of_epoch, n, setup, evaluation, args.target)


def report(results: list[dict], target: float) -> None:
    print(f"\n{'loop':13s} {'seed':>4s} {'epochs':>6s} {'batch':>5s} {'train s':>8s} {'images/s':>9s} "
          f"{'s to ' + format(target, '.1%'):>10s} {'val acc':>8s} {'test acc':>8s}")
    for r in results:
        reached = f"{r['time_to_target_seconds']:.2f}" if r["time_to_target_seconds"] is not None else "not reached"
        print(f"{r['loop']:13s} {r['seed']:4d} {r['epochs']:6d} {r['batch_size']:5d} {r['train_seconds']:8.2f} "
              f"{r['images_per_second']:9.0f} {reached:>10s} {r['final_val_accuracy']:8.4f} {r['test_accuracy']:8.4f}")
    by_loop = {}
    for r in results:
        by_loop.setdefault(r["loop"], []).append(r)
    if len(by_loop) == 2:
        conv = statistics.mean(r["train_seconds"] for r in by_loop["conventional"])
        res = statistics.mean(r["train_seconds"] for r in by_loop["resident"])
        conv_ips = statistics.mean(r["images_per_second"] for r in by_loop["conventional"])
        res_ips = statistics.mean(r["images_per_second"] for r in by_loop["resident"])
        print(f"\nspeed ratio: the resident loop trains {conv / res:.1f}x faster in total time "
              f"({conv:.2f} s vs {res:.2f} s) and processes {res_ips / conv_ips:.1f}x more images per second")
    resident_runs = by_loop.get("resident", [])
    if resident_runs:
        tests = [r["test_accuracy"] for r in resident_runs]
        spread = f" ± {statistics.stdev(tests):.2%}" if len(tests) > 1 else ""
        print(f"resident loop: test accuracy {statistics.mean(tests):.2%}{spread} over {len(tests)} seed(s); "
              f"training time {min(r['train_seconds'] for r in resident_runs):.2f}-"
              f"{max(r['train_seconds'] for r in resident_runs):.2f} s")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=None, help="epochs for both loops (overrides the two below)")
    parser.add_argument("--conventional-epochs", type=int, default=15)
    parser.add_argument("--resident-epochs", type=int, default=12)
    parser.add_argument("--conventional-batch", type=int, default=128)
    parser.add_argument("--resident-batch", type=int, default=512)
    parser.add_argument("--conventional-lr", type=float, default=1e-3)
    parser.add_argument("--peak-lr", type=float, default=3e-3, help="one-cycle peak of the resident loop")
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the conventional loop")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds of the resident loop")
    parser.add_argument("--conventional-seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--limit", type=int, default=None, help="train on N of the 55,000 images only (smoke runs)")
    parser.add_argument("--val-limit", type=int, default=5000, help="validation images (default: all 5,000)")
    parser.add_argument("--test-limit", type=int, default=None, help="test on the first N test images only")
    parser.add_argument("--target", type=float, default=0.994, help="validation accuracy to time (default 0.994)")
    parser.add_argument("--skip-conventional", action="store_true")
    parser.add_argument("--skip-resident", action="store_true")
    parser.add_argument("--bf16", action="store_true", help="bfloat16 autocast in both loops")
    parser.add_argument("--channels-last", action="store_true", help="channels_last memory format in both loops")
    parser.add_argument("--device", default=None, help="cuda, cuda:N, mps or cpu (default: coursekit's choice)")
    parser.add_argument("--json", default=None, help="write all results to this file")
    args = parser.parse_args(argv)
    if args.epochs is not None:
        args.conventional_epochs = args.resident_epochs = args.epochs

    info = ck.describe_device(args.device)
    device = info.device
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # time cuDNN's algorithms once per shape, keep the fastest
    setup = Setup(device, args.bf16, args.channels_last)
    print(info)
    print(f"flags: bf16 autocast {args.bf16}, channels_last {args.channels_last}, "
          f"cudnn.benchmark {device.type == 'cuda'}")
    if device.type != "cuda":
        print("note: not a CUDA GPU: expect minutes per epoch instead of seconds")

    train_index, val_index = split_indices(args.val_limit)
    train_index = train_index[:args.limit] if args.limit else train_index
    images, labels = ck.mnist_tensors(device=device)
    evaluation = {"val": (images[val_index.to(device)], labels[val_index.to(device)]),
                  "test": ck.mnist_tensors(train=False, device=device, limit=args.test_limit)}
    results = []
    if not args.skip_conventional:
        for seed in args.conventional_seeds:
            print(f"(a) conventional: DataLoader, {args.workers} workers, batch {args.conventional_batch}, "
                  f"Adam {args.conventional_lr:g}, {args.conventional_epochs} epochs, seed {seed}", flush=True)
            results.append(conventional(args, setup, train_index, evaluation, seed))
    if not args.skip_resident:
        train_x, train_y = images[train_index.to(device)], labels[train_index.to(device)]
        for seed in args.seeds:
            print(f"(b) resident: tensors on {device}, batch {args.resident_batch}, one-cycle peak {args.peak_lr:g}, "
                  f"{args.resident_epochs} epochs, seed {seed}", flush=True)
            results.append(resident(args, setup, train_x, train_y, evaluation, seed))
    report(results, args.target)
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": str(info.device), "device_name": info.name, "torch": torch.__version__,
                       "args": vars(args), "results": results}, f, indent=2)
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
