"""How close does a numpy im2col convolution come to PyTorch's F.conv2d on the CPU?

Notebook 05 turns a convolution into one matrix product: copy every window into a column
(im2col), then multiply by the flattened filters. This script times that numpy code and
``F.conv2d`` on the same batch of real MNIST digits (64 images of 28x28 by default), side by
side in one run, and prints the ratio. Both work in float32; every timing is the median of
``--repeats`` runs after a warm-up, with the two implementations interleaved so that load from
other programs hits both alike. The outputs are checked to agree before anything is timed.

    python benchmarks/im2col_benchmark.py                  # the default layers, batch 64
    python benchmarks/im2col_benchmark.py --batch 256 --repeats 50
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python benchmarks/im2col_benchmark.py --threads 1

numpy's BLAS and torch each pick their own number of threads; on a shared or busy machine the
last line (one thread each) compares like with like. Timings from a loaded machine are noisy:
PyTorch's CPU convolutions (oneDNN) suffer more from competing processes than numpy does.

Layers timed (all on 28x28 inputs except the last):
  spreadsheet conv1: 1 -> 2 channels, 3x3, padding 1 (notebook 05's two random filters)
  textbook conv1   : 1 -> 32 channels, 5x5, padding 2 (the MNIST CNN's first layer)
  textbook conv2   : 32 -> 64 channels, 5x5, padding 2, on 14x14 inputs (its second layer)
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from numpy.lib.stride_tricks import sliding_window_view


def im2col(x, f, padding=0, stride=1):
    """Batch x (N, C, H, W) -> (columns (N, C*F*F, H_out*W_out), (H_out, W_out)); as in notebook 05."""
    n, c, _, _ = x.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, (f, f), axis=(2, 3))[:, :, ::stride, ::stride]
    h_out, w_out = windows.shape[2:4]
    columns = windows.transpose(0, 1, 4, 5, 2, 3).reshape(n, c * f * f, h_out * w_out)
    return columns, (h_out, w_out)


def conv2d_im2col(x, weight, bias=None, padding=0, stride=1):
    """Notebook 05's version: one (C_out, C*F*F) @ (C*F*F, L) product per image (numpy batches them)."""
    c_out, c_in, f, _ = weight.shape
    columns, (h_out, w_out) = im2col(x, f, padding, stride)
    out = weight.reshape(c_out, c_in * f * f) @ columns
    if bias is not None:
        out = out + bias[:, None]
    return out.reshape(x.shape[0], c_out, h_out, w_out)


def conv2d_im2col_one_gemm(x, weight, bias=None, padding=0, stride=1):
    """The same arithmetic as a single large matrix product over the whole batch."""
    n, c, _, _ = x.shape
    c_out, c_in, f, _ = weight.shape
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    windows = sliding_window_view(padded, (f, f), axis=(2, 3))[:, :, ::stride, ::stride]
    h_out, w_out = windows.shape[2:4]
    columns = windows.transpose(1, 4, 5, 0, 2, 3).reshape(c * f * f, n * h_out * w_out)
    out = weight.reshape(c_out, c_in * f * f) @ columns
    if bias is not None:
        out = out + bias[:, None]
    return out.reshape(c_out, n, h_out, w_out).transpose(1, 0, 2, 3)


def load_batch(batch: int) -> np.ndarray:
    """The first ``batch`` MNIST training images, (N, 1, 28, 28) float32 in [0, 1], via coursekit."""
    import coursekit as ck

    images, _ = ck.mnist_tensors(limit=batch)
    return images.numpy()


def time_side_by_side(fns: dict, repeats: int) -> dict[str, list[float]]:
    """Run each function once to warm up, then ``repeats`` rounds calling each in turn; seconds per call."""
    for fn in fns.values():
        fn()
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=64, help="images per batch (default 64)")
    parser.add_argument("--repeats", type=int, default=30, help="timed calls per implementation (default 30)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--target", type=float, default=3.0, help="im2col may be at most this many times slower")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    digits = load_batch(args.batch)
    pooled_like = rng.random((args.batch, 32, 14, 14), dtype=np.float32)  # stands in for conv1 activations
    layers = [  # name, input, C_out, F, padding
        ("spreadsheet conv1 (1->2, 3x3)", digits, 2, 3, 1),
        ("textbook conv1 (1->32, 5x5)", digits, 32, 5, 2),
        ("textbook conv2 (32->64, 5x5, 14x14)", pooled_like, 64, 5, 2),
    ]
    print(f"CPU: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"torch {torch.__version__} with {torch.get_num_threads()} threads; numpy {np.__version__}")
    print(f"batch {args.batch}, float32, median of {args.repeats} interleaved calls after a warm-up\n")
    header = f"{'layer':38s} {'F.conv2d':>10s} {'im2col (nb 05)':>15s} {'im2col 1 GEMM':>14s} {'ratio':>7s}"
    print(header)
    print("-" * len(header))
    ratios = {}
    for name, x, c_out, f, padding in layers:
        weight = rng.standard_normal((c_out, x.shape[1], f, f), dtype=np.float32)
        bias = rng.standard_normal(c_out, dtype=np.float32)
        xt, wt, bt = torch.from_numpy(x), torch.from_numpy(weight), torch.from_numpy(bias)
        with torch.no_grad():
            reference = F.conv2d(xt, wt, bt, padding=padding).numpy()
        scale = np.abs(reference).max()
        for fn in (conv2d_im2col, conv2d_im2col_one_gemm):
            error = np.abs(fn(x, weight, bias, padding) - reference).max()
            assert error <= 1e-4 * scale, f"{name}: {fn.__name__} differs from F.conv2d by {error:.2e}"

        def torch_call(xt=xt, wt=wt, bt=bt, padding=padding):
            with torch.no_grad():
                return F.conv2d(xt, wt, bt, padding=padding)

        times = time_side_by_side({
            "torch": torch_call,
            "im2col": lambda x=x, w=weight, b=bias, p=padding: conv2d_im2col(x, w, b, p),
            "one_gemm": lambda x=x, w=weight, b=bias, p=padding: conv2d_im2col_one_gemm(x, w, b, p),
        }, args.repeats)
        median = {k: statistics.median(v) for k, v in times.items()}
        ratios[name] = median["im2col"] / median["torch"]
        print(f"{name:38s} {median['torch'] * 1e3:8.2f} ms {median['im2col'] * 1e3:12.2f} ms "
              f"{median['one_gemm'] * 1e3:11.2f} ms {ratios[name]:6.2f}x")
    print("\nratio = im2col (notebook 05's code) time / F.conv2d time; below 1 means numpy was faster.")
    key = "textbook conv1 (1->32, 5x5)"
    verdict = "within" if ratios[key] <= args.target else "NOT within"
    print(f"{key}, batch {args.batch} of 28x28: im2col is {ratios[key]:.2f}x F.conv2d's time, "
          f"{verdict} the {args.target:g}x target")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
