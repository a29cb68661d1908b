"""Headline figures: notebooks ``record`` them; ``make full`` collects them into RESULTS.md.

``record(name, value)`` appends one JSON line (name, value, unit, mode, device, seconds,
notebook) to ``$COURSEKIT_RESULTS`` (default ``data/results.jsonl``); ``read`` and ``table``
turn such a file into the markdown table that ``python -m coursekit.full`` writes.
"""

from __future__ import annotations

import json
import os
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
