"""``make full``: execute notebooks in full mode, each in a fresh kernel, and write RESULTS.md.

    python -m coursekit.full notebooks/*.ipynb [--table RESULTS.md] [--jsonl rows.jsonl]

Every figure a notebook records with ``coursekit.record`` goes to a fresh JSON-lines file;
the table lists each notebook's device, mode and wall time (data loading included) beside
its figures. A notebook that fails is marked FAILED and the command exits 1.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from .results import ENV_VAR, NOTEBOOK_ENV, read, table


def run_notebooks(paths: list[Path], out: Path, timeout: int = 3600) -> list[dict]:
    """Execute each notebook in a fresh kernel (full mode unless the caller set another)."""
    import nbformat

    from .device import describe_device
    from .nbrun import execute

    os.environ.setdefault("COURSEKIT_MODE", "full")
    os.environ[ENV_VAR] = str(out)
    runs = []
    for path in paths:
        os.environ[NOTEBOOK_ENV] = path.stem
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        ok = True
        try:
            execute(nb, path, timeout)
        except Exception as err:  # report the failure in the table, keep running the others
            ok = False
            print(f"{path.name}: FAILED: {str(err)[-2000:]}", file=sys.stderr)
        seconds = time.perf_counter() - start
        runs.append({"notebook": path.stem, "seconds": seconds, "ok": ok, "mode": os.environ["COURSEKIT_MODE"],
                     "device": str(describe_device().device)})
        print(f"{path.name}: {'ok' if ok else 'FAILED'} in {seconds:.0f} s", flush=True)
    return runs


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.full", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--table", type=Path, default=Path("RESULTS.md"))
    parser.add_argument("--jsonl", type=Path, default=None, help="where the recorded rows go")
    parser.add_argument("--timeout", type=int, default=3600,
                        help="seconds one cell may run (default 3600; a CPU may need more for 06's search)")
    args = parser.parse_args(argv)
    from .data import cache_root

    jsonl = args.jsonl or cache_root() / "results-full.jsonl"
    jsonl.parent.mkdir(parents=True, exist_ok=True)
    jsonl.unlink(missing_ok=True)
    runs = run_notebooks(sorted(args.notebooks), jsonl, timeout=args.timeout)
    header = ("# Results\n\nWritten by `make full` (`python -m coursekit.full`): each notebook executed "
              "in a fresh kernel, wall time including data loading, and every figure the notebook recorded.\n\n")
    args.table.write_text(header + table(read(jsonl), runs))
    print(f"wrote {args.table}")
    return 0 if all(r["ok"] for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
