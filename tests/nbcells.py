"""Run chosen cells of a notebook in-process, optionally with one cell's code swapped.

Mutation tests use this: a notebook tags the cell that *is* the lesson (``impl-softmax``)
and its proof cell (``proof-softmax``); a test runs them with the implementation replaced by
a wrong one and expects the proof cell to fail. Cells run in notebook order, IPython magics
and shell lines are skipped.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path

import nbformat
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent


def tagged_sources(notebook: str | Path, tag: str) -> list[str]:
    nb = nbformat.read(ROOT / notebook, as_version=4)
    return [c.source for c in nb.cells if c.cell_type == "code" and tag in c.metadata.get("tags", [])]


def edited_cell(notebook: str | Path, tag: str, old: str, new: str) -> str:
    """The source of the one cell tagged ``tag`` with ``old`` replaced by ``new`` (which must occur)."""
    (source,) = tagged_sources(notebook, tag)
    assert old in source, f"{notebook}[{tag}] no longer contains {old!r}: update this test"
    return source.replace(old, new)


def proof_fails(notebook: str | Path, tags: list[str], tag: str, old: str, new: str) -> None:
    """A mutation check: with ``old`` replaced by ``new`` in the cell tagged ``tag``, running the cells
    carrying ``tags`` must fail an assert (the proof catches the mistake)."""
    wrong = edited_cell(notebook, tag, old, new)
    with pytest.raises(AssertionError):
        exec_cells(notebook, tags, replace={tag: wrong})


def exec_cells(notebook: str | Path, tags: list[str], replace: dict[str, str] | None = None) -> dict:
    """Execute the code cells carrying any of ``tags`` (in notebook order); return the namespace.

    ``replace`` maps a tag to source code that runs instead of the cell(s) carrying that tag.
    Raises whatever the cells raise (an ``AssertionError`` from a proof cell, typically).
    """
    replace = replace or {}
    nb = nbformat.read(ROOT / notebook, as_version=4)
    # A real module object, so that code relying on its module (dataclasses, pickling) works.
    module = types.ModuleType("__nbcells__")
    sys.modules[module.__name__] = module
    namespace = module.__dict__
    found = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell_tags = [t for t in cell.metadata.get("tags", []) if t in tags]
        if not cell_tags:
            continue
        found.update(cell_tags)
        tag = cell_tags[0]
        source = replace.get(tag, cell.source)
        source = "\n".join(line for line in source.splitlines() if not line.lstrip().startswith(("%", "!")))
        exec(compile(source, f"{notebook}[{tag}]", "exec"), namespace)
    missing = set(tags) - found
    if missing:
        raise LookupError(f"{notebook} has no code cell tagged {sorted(missing)}")
    return namespace


def run_benchmark(script: str, *args: str) -> str:
    """Run ``benchmarks/<script>`` (a script that re-makes a notebook's measurement from its cells) with ``args``;
    return what it printed, failing the test with its stderr if it failed."""
    import subprocess

    run = subprocess.run([sys.executable, f"benchmarks/{script}", *args], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


@pytest.fixture(autouse=True)
def quick_mode_and_threads(monkeypatch, tmp_path):
    """Autouse in every lesson test that imports it: the cells run in quick mode without live plots, record
    their figures in a scratch file (not the learner's results), and whatever thread count a cell sets for
    torch, and the figures it leaves open, are undone afterwards."""
    monkeypatch.setenv("COURSEKIT_MODE", "quick")
    monkeypatch.setenv("COURSEKIT_LIVE", "0")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results.jsonl"))
    threads = torch.get_num_threads()
    yield
    torch.set_num_threads(threads)
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")
