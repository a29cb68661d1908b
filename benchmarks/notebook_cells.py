"""Run a lecture notebook's tagged cells in this process, for the benchmark scripts that measure a notebook's choices.

A script that re-makes a notebook's measurement (a grid search, a table of variants) should use the notebook's own
code, not a copy of it. ``namespace`` executes the cells carrying the given tags, in notebook order, and from the
cells in ``definitions_only`` (cells that also train or plot) only their function definitions.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import nbformat

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"


def namespace(notebook: str, tags: list[str], definitions_only: list[str] = (), needs: list[str] = ()) -> dict:
    """The names the chosen cells of ``notebooks/<notebook>`` define, run in quick mode; ``needs``: names that must
    exist afterwards (else a message says the script is out of step with the notebook)."""
    path = NOTEBOOKS / notebook
    os.environ["COURSEKIT_MODE"] = "quick"  # the notebook's quick-mode sizes, which the scripts' recipes state
    os.environ.setdefault("COURSEKIT_LIVE", "0")
    cells = {tag: c.source for c in nbformat.read(path, as_version=4).cells for tag in c.metadata.get("tags", [])}
    missing = [tag for tag in [*tags, *definitions_only] if tag not in cells]
    if missing:
        raise SystemExit(f"{path.name} has no cell tagged {', '.join(missing)}: update this script")
    names: dict = {}
    for tag in tags:
        exec(compile(cells[tag], f"{path.name}[{tag}]", "exec"), names)
    for tag in definitions_only:
        tree = ast.parse(cells[tag])
        tree.body = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        exec(compile(tree, f"{path.name}[{tag}]", "exec"), names)
    absent = [name for name in needs if name not in names]
    if absent:
        raise SystemExit(f"{path.name} no longer defines {', '.join(absent)}: update this script")
    return names
