"""How ddp_train.py's --base-lr 0.1 for --base-batch 64 was chosen (notebook 18, section 6).

One process, the script's model, optimizer and schedule (SGD with momentum 0.9; for one process
with batch 64 the peak rate is the base rate: constant over the 50 warm-up steps, then a cosine
decay to 0 at step 128), trained for 128 steps of 64 images drawn from the first 50,000 MNIST
training images; each candidate rate is scored on a validation split, training images 50,000 to
52,000. The test images are not touched.

    python ddp_lr_scan.py                       # about 15 s of CPU time per rate
    python ddp_lr_scan.py --rates 0.05 0.1 0.2

Recorded (2 shared CPU cores, seed 0): 0.01 -> 88.9 %, 0.02 -> 93.3 %, 0.05 -> 95.9 %, 0.1 -> 97.0 %,
0.2 -> 92.2 %, 0.4 -> 10.0 % (diverged).
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from ddp_train import lr_at, parse_args, textbook_cnn


def validation_accuracy(base_lr: float, images, labels, *, steps: int = 128, seed: int = 0) -> float:
    defaults = parse_args([])
    train_x, train_y = images[:50_000], labels[:50_000]
    valid_x, valid_y = images[50_000:52_000], labels[50_000:52_000]
    torch.manual_seed(seed)
    model = textbook_cnn(defaults.dropout)
    optimizer = torch.optim.SGD(model.parameters(), lr=base_lr, momentum=defaults.momentum)
    order = torch.randperm(len(train_x), generator=torch.Generator().manual_seed(seed))
    batch = defaults.base_batch
    for step in range(steps):
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, base_lr=base_lr, peak_lr=base_lr, warmup_steps=defaults.warmup_steps,
                                total_steps=steps)
        index = order[step * batch:(step + 1) * batch]
        loss = F.cross_entropy(model(train_x[index]), train_y[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        return (model(valid_x).argmax(1) == valid_y).float().mean().item()


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rates", type=float, nargs="+", default=[0.01, 0.02, 0.05, 0.1, 0.2, 0.4])
    parser.add_argument("--steps", type=int, default=128)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    import coursekit as ck

    images, labels = ck.mnist_tensors(train=True)
    for rate in args.rates:
        accuracy = validation_accuracy(rate, images, labels, steps=args.steps, seed=args.seed)
        print(f"base lr {rate:g}: validation accuracy {accuracy:.1%}", flush=True)


if __name__ == "__main__":
    main()
