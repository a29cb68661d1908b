"""Headline figures: notebooks ``record`` them; ``make full`` collects them into RESULTS.md.

``record(name, value)`` appends one JSON line (name, value, unit, mode, device, seconds,
notebook) to ``$COURSEKIT_RESULTS`` (default ``data/results.jsonl``). ``python -m
coursekit.results run NOTEBOOK...`` executes notebooks in full mode with their results
going to a fresh file and writes the markdown table; ``table`` rebuilds it from a file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ENV_VAR = "COURSEKIT_RESULTS"
NOTEBOOK_ENV = "COURSEKIT_NOTEBOOK"


def results_file() -> Path:
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env)
    from .data import cache_root

    return cache_root() / "results.jsonl"


def record(name: str, value: float, unit: str = "", *, seconds: float | None = None) -> None:
    """Record a headline figure (and print it). ``seconds`` defaults to time since start_lesson."""
    from .device import describe_device, pick_device
    from .mode import current_mode, seconds_since_start

    info = describe_device()
    row = {
        "notebook": os.environ.get(NOTEBOOK_ENV, ""),
        "name": name,
        "value": float(value),
        "unit": unit,
        "mode": current_mode(),
        "device": f"{pick_device()} ({info.name})",
        "seconds": round(seconds if seconds is not None else (seconds_since_start() or 0.0), 2),
    }
    path = results_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")
    print(f"recorded: {name} = {value:g}{(' ' + unit) if unit else ''} ({row['mode']} mode, {row['device']})")


def read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def table(rows: list[dict], runs: list[dict]) -> str:
    """Markdown: one line per notebook run (wall time, device) and per recorded figure."""
    out = ["| notebook | device | mode | wall time (s) | figure | value |", "|---|---|---|---:|---|---:|"]
    for run in runs:
        mine = [r for r in rows if r["notebook"] == run["notebook"]]
        status = "" if run["ok"] else " (FAILED)"
        if not mine:
            out.append(f"| {run['notebook']}{status} | {run['device']} | {run['mode']} | {run['seconds']:.0f} | — | — |")
        for r in mine:
            value = f"{r['value']:.4g}{(' ' + r['unit']) if r['unit'] else ''}"
            out.append(f"| {run['notebook']}{status} | {r['device']} | {r['mode']} | {run['seconds']:.0f} "
                       f"| {r['name']} | {value} |")
    return "\n".join(out) + "\n"


def run_notebooks(paths: list[Path], out: Path, timeout: int = 3600) -> list[dict]:
    """Execute each notebook in a fresh kernel (full mode unless the caller set another)."""
    import nbformat
    from nbclient import NotebookClient

    from .device import describe_device

    os.environ.setdefault("COURSEKIT_MODE", "full")
    os.environ[ENV_VAR] = str(out)
    runs = []
    for path in paths:
        os.environ[NOTEBOOK_ENV] = path.stem
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        ok = True
        try:
            NotebookClient(nb, timeout=timeout, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}).execute()
        except Exception as err:  # report the failure in the table, keep running the others
            ok = False
            print(f"{path.name}: FAILED: {str(err)[-2000:]}", file=sys.stderr)
        seconds = time.perf_counter() - start
        runs.append({"notebook": path.stem, "seconds": seconds, "ok": ok, "mode": os.environ["COURSEKIT_MODE"],
                     "device": str(describe_device().device)})
        print(f"{path.name}: {'ok' if ok else 'FAILED'} in {seconds:.0f} s", flush=True)
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.results", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute notebooks (full mode) and write the results table")
    run.add_argument("notebooks", nargs="+", type=Path)
    run.add_argument("--table", type=Path, default=Path("RESULTS.md"))
    run.add_argument("--jsonl", type=Path, default=None, help="where the recorded rows go")
    args = parser.parse_args(argv)
    from .data import cache_root

    jsonl = args.jsonl or cache_root() / "results-full.jsonl"
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    jsonl.unlink(missing_ok=True)
    runs = run_notebooks(sorted(args.notebooks), jsonl)
    header = ("# Results\n\nWritten by `make full` (`python -m coursekit.results run`): each notebook executed "
              "in a fresh kernel, wall time including data loading, and every figure the notebook recorded.\n\n")
    args.table.write_text(header + table(read(jsonl), runs))
    print(f"wrote {args.table}")
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
