"""Notebook 14's choice of learning rate and batch size for its two segmentation nets, on validation.

Notebook 14 trains a tiny U-Net and the same net with its skip connections cut, with one learning rate
and batch size for both. This script re-makes that choice: it runs the notebook's own cells (the shapes
data, ``TinyUNet``, ``train_segmenter`` and ``iou_per_class``, read from the notebook by their tags,
so that nothing is copied here) for every learning rate and batch size of the grid, both nets, at
the notebook's quick-mode size (300 training images, 8 epochs, seed 0), and scores each on the 100
validation images by mean IoU. The test images are never scored. It prints one row per setting and
the setting with the best average of the two nets.

    python benchmarks/segmentation_grid.py                  # the notebook's grid (a few minutes on a CPU core)
    python benchmarks/segmentation_grid.py --lrs 0.003 --batch-sizes 8 --epochs 1   # smoke run
"""

from __future__ import annotations

import argparse

from notebook_cells import namespace


def notebook_namespace() -> dict:
    """The notebook's set-up, data and U-Net cells, and the function definitions of its training cell."""
    return namespace("14_segmentation_and_detection.ipynb", ["setup", "data", "impl-unet"], ["train-unet"],
                     needs=["train_segmenter", "iou_per_class", "images", "masks", "val_idx"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lrs", type=float, nargs="+", default=[1e-3, 3e-3, 1e-2])
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    import numpy as np
    import pandas as pd
    import torch

    nb = notebook_namespace()
    rows = []
    for lr in args.lrs:
        for batch_size in args.batch_sizes:
            row = {"lr": lr, "batch size": batch_size}
            for skips, name in ((True, "U-Net"), (False, "no skips")):
                model, _ = nb["train_segmenter"](skips, args.seed, args.epochs, lr=lr, batch_size=batch_size)
                with torch.no_grad():
                    predicted = model(nb["images"][nb["val_idx"]]).argmax(1)
                row[name] = float(np.mean(nb["iou_per_class"](predicted, nb["masks"][nb["val_idx"]])))
            row["average"] = (row["U-Net"] + row["no skips"]) / 2
            rows.append(row)
            print(f"lr {lr:g}, batch {batch_size}: U-Net {row['U-Net']:.3f}, no skips {row['no skips']:.3f}", flush=True)
    table = pd.DataFrame(rows)
    print(f"\nvalidation mean IoU ({len(nb['val_idx'])} images), seed {args.seed}, {args.epochs} epochs")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    best = table.loc[table["average"].idxmax()]
    print(f"best average of the two nets: lr {best['lr']:g}, batch {int(best['batch size'])} "
          f"(U-Net {best['U-Net']:.3f}, no skips {best['no skips']:.3f})")
    for name in ("U-Net", "no skips"):
        own = table.loc[table[name].idxmax()]
        print(f"best for {name} alone: lr {own['lr']:g}, batch {int(own['batch size'])} ({own[name]:.3f})")


if __name__ == "__main__":
    main()
