"""Training throughput of notebook 06's MNIST CNN with 1 and 2 data-parallel processes, side by side.

Every configuration is one ``torchrun`` launch of this file in worker mode. Each worker wraps the CNN
(the one ``notebooks/ddp_train.py`` trains) in DistributedDataParallel, keeps its shard of the MNIST
training images resident on its device, takes ``--warmup`` untimed steps, then ``--steps`` timed SGD
steps of ``--batch`` images per process, between two barriers; rank 0 reports the global images/s.
The per-process batch is fixed, so the global batch grows with the number of processes (weak scaling,
as when data-parallel training adds GPUs). Configurations, run in interleaved rounds:

* CPU (gloo): 1 process x 1 thread (the baseline), 2 processes x 1 thread, and 1 process x 2 threads,
  which is what the second core buys without data parallelism;
* CUDA (NCCL): 1 process on 1 GPU, then one process per GPU on ``--gpus`` GPUs (default: all).

Scaling efficiency = images/s of w processes / (w x images/s of 1 process). Speed-ups are relative to
the 1-process baseline.

    python benchmarks/ddp_benchmark.py                      # CPU here, GPUs where there are any
    python benchmarks/ddp_benchmark.py --device cpu --rounds 5 --steps 30
    python benchmarks/ddp_benchmark.py --json ddp.json

Data come only through coursekit (set COURSEKIT_MIRROR to use a local mirror).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def worker(args) -> None:
    """One process of a configuration (started by torchrun)."""
    import torch.distributed as dist
    import torch.nn.functional as F
    from torch.nn.parallel import DistributedDataParallel

    import coursekit as ck

    sys.path.insert(0, str(ROOT / "notebooks"))
    from ddp_train import textbook_cnn

    local_rank = int(os.environ["LOCAL_RANK"])
    if args.device == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
        dist.init_process_group("nccl", device_id=device)
    else:
        device = torch.device("cpu")
        dist.init_process_group("gloo")
    rank, world_size = dist.get_rank(), dist.get_world_size()
    if local_rank == 0:
        ck.mnist(train=True, progress=False)
    dist.barrier()
    images, labels = ck.mnist_tensors(train=True)
    shard = torch.arange(rank, len(images), world_size)  # this rank's share, resident on its device
    images, labels = images[shard].to(device), labels[shard].to(device)

    torch.manual_seed(0)
    model = DistributedDataParallel(textbook_cnn().to(device), device_ids=[local_rank] if device.type == "cuda" else None)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    generator = torch.Generator(device=device).manual_seed(rank)

    def step() -> None:
        index = torch.randint(0, len(images), (args.batch,), device=device, generator=generator)
        loss = F.cross_entropy(model(images[index]), labels[index])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()  # DDP all-reduces the gradients here
        optimizer.step()

    for _ in range(args.warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    dist.barrier()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    dist.barrier()
    seconds = time.perf_counter() - start
    if rank == 0:
        result = {"processes": world_size, "threads": torch.get_num_threads(), "backend": dist.get_backend(),
                  "global_batch": args.batch * world_size, "seconds": seconds,
                  "images_per_second": args.steps * args.batch * world_size / seconds}
        Path(args.result).write_text(json.dumps(result))
    dist.destroy_process_group()


def launch(processes: int, threads: int, args, result: Path) -> dict:
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               __file__, "--worker", "--device", args.device, "--batch", str(args.batch), "--steps", str(args.steps),
               "--warmup", str(args.warmup), "--result", str(result)]
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"{processes} process(es) x {threads} thread(s) failed:\n{done.stdout[-2000:]}\n"
                           f"{done.stderr[-3000:]}")
    return json.loads(result.read_text())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--gpus", type=int, default=None, help="processes (GPUs) of the largest CUDA configuration")
    parser.add_argument("--batch", type=int, default=64, help="images per process and step")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per launch")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps before the clock starts")
    parser.add_argument("--rounds", type=int, default=3, help="rounds over all configurations; the best is kept")
    parser.add_argument("--json", default=None, help="write the results to this file")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--result", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0

    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    if args.device == "cuda":
        gpus = args.gpus or torch.cuda.device_count()
        configs = [(1, 1)] + ([(gpus, 1)] if gpus > 1 else [])
        name = torch.cuda.get_device_name(0)
        if gpus < 2:
            print("note: one GPU only, so only the 1-process configuration can run")
    else:
        configs = [(1, 1), (2, 1), (1, 2)]
        name = f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs"
    load = os.getloadavg() if hasattr(os, "getloadavg") else None
    started = datetime.datetime.now().isoformat(timespec="minutes")
    print(f"{started}; {args.device}: {name}; torch {torch.__version__}; batch {args.batch} per process, "
          f"{args.steps} timed steps after {args.warmup}, best of {args.rounds} rounds"
          + (f"; load average {load[0]:.1f}" if load else ""), flush=True)

    runs: dict[tuple[int, int], list[dict]] = {c: [] for c in configs}
    with tempfile.TemporaryDirectory() as folder:
        for round_ in range(args.rounds):
            for processes, threads in configs:
                result = launch(processes, threads, args, Path(folder) / f"{processes}x{threads}.json")
                runs[processes, threads].append(result)
                print(f"  round {round_ + 1}: {processes} process(es) x {threads} thread(s): "
                      f"{result['images_per_second']:,.0f} images/s", flush=True)

    base = max(r["images_per_second"] for r in runs[1, 1])
    rows = []
    for (processes, threads), results in runs.items():
        best = max(r["images_per_second"] for r in results)
        rows.append({"processes": processes, "threads": threads, "backend": results[0]["backend"],
                     "global_batch": results[0]["global_batch"], "images_per_second": best,
                     "spread": [round(r["images_per_second"]) for r in results],
                     "median": statistics.median(r["images_per_second"] for r in results),
                     "speed_up": best / base, "efficiency": best / (base * processes * threads)})
    print("\n| processes × threads | backend | global batch | images/s (best) | all rounds | speed-up | "
          "scaling efficiency |\n|---|---|---:|---:|---|---:|---:|")
    for row in rows:
        print(f"| {row['processes']} × {row['threads']} | {row['backend']} | {row['global_batch']} | "
              f"{row['images_per_second']:,.0f} | {', '.join(f'{v:,}' for v in row['spread'])} | "
              f"{row['speed_up']:.2f} | {row['efficiency']:.0%} |")
    print("scaling efficiency = images/s / (images/s of 1 x 1 x processes x threads)")
    if args.json:
        Path(args.json).write_text(json.dumps({"date": started, "device": args.device, "device_name": name,
                                               "torch": torch.__version__, "load_average": load,
                                               "args": vars(args), "rows": rows}, indent=2))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
