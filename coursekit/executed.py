"""Executed copies of the lecture notebooks, shared by the course site, the slides and the browser test.

Running a notebook is the slow part of every classroom artefact, and ``make test`` already runs each
lecture once under nbval. Loaded as a pytest plugin (``pytest -p coursekit.executed``), this module
keeps what nbval computed: every notebook in ``notebooks/`` whose cells all ran without an error is
saved with its outputs in ``build/executed/``. ``make book``, ``make slides`` and the browser test then
reuse a copy whose *key* still matches the notebook, and execute (with nbclient, in a fresh kernel)
only the notebooks whose copy is missing or stale.

The key is a hash of what decides a notebook's outputs: its code cells, coursekit's sources and the
mode. Prose and slide metadata are not in it: ``with_outputs`` puts the saved outputs into the
notebook as it is now, so fixing a sentence or a slide break never forces a re-run.

    python -m coursekit.executed [NOTEBOOKS...]   # fill the cache (default: every lecture notebook)
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(os.environ.get("COURSEKIT_EXECUTED", ROOT / "build" / "executed"))
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def lecture_notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _code_sources(nb) -> list[str]:
    return [cell.source if isinstance(cell.source, str) else "".join(cell.source)
            for cell in nb.cells if cell.cell_type == "code"]


# The classroom tooling reads executed notebooks; it never changes what a notebook computes.
_NOT_IN_KEY = {"executed.py", "slides.py", "book.py"}


def _coursekit_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in Path(__file__).parent.glob("*.py") if p.name not in _NOT_IN_KEY):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def key(nb) -> str:
    """What the outputs of ``nb`` depend on: its code, the course package, the mode."""
    from .mode import current_mode

    blob = json.dumps({"code": _code_sources(nb), "coursekit": _coursekit_digest(), "mode": current_mode()})
    return hashlib.sha256(blob.encode()).hexdigest()[:20]


def _read(path: Path):
    import nbformat

    return nbformat.read(path, as_version=4)


def cached(path: Path):
    """The saved executed copy of ``path`` if it is still valid, else None."""
    copy_path = CACHE / path.name
    if not copy_path.exists():
        return None
    try:
        saved = _read(copy_path)
    except Exception:  # a half-written or foreign file is just a miss
        return None
    meta = saved.metadata.get("coursekit_executed", {})
    return saved if meta.get("key") == key(_read(path)) else None


def save(path: Path, executed_nb, seconds: float | None = None) -> Path:
    """Store ``executed_nb`` (the notebook at ``path`` with outputs) atomically in the cache."""
    import nbformat

    nb = copy.deepcopy(executed_nb)
    nb.metadata["coursekit_executed"] = {"key": key(_read(path)), "seconds": seconds}
    CACHE.mkdir(parents=True, exist_ok=True)
    target = CACHE / path.name
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    nbformat.write(nb, tmp)
    tmp.replace(target)
    return target


def execute(path: Path, timeout: int = 600):
    """Run ``path`` as the tests do (quick mode unless set, no live redraws) and cache the result."""
    from .nbrun import execute as run_cells

    os.environ.setdefault("COURSEKIT_LIVE", "0")
    nb = _read(path)
    start = time.perf_counter()
    run_cells(nb, path, timeout)
    seconds = time.perf_counter() - start
    save(path, nb, seconds)
    print(f"executed {path.name} in {seconds:.0f} s", file=sys.stderr, flush=True)
    return nb


def ensure(path: Path):
    """The executed copy of ``path``: from the cache, or by running it now."""
    return cached(path) or execute(path)


def with_outputs(path: Path):
    """The notebook at ``path`` as it is now (prose, metadata) with the outputs of its executed copy."""
    nb, executed = _read(path), ensure(path)
    runs = [cell for cell in executed.cells if cell.cell_type == "code"]
    for cell, ran in zip((c for c in nb.cells if c.cell_type == "code"), runs, strict=True):
        cell.outputs, cell.execution_count = ran.outputs, ran.execution_count
    return nb


def displays_widget(executed_nb) -> bool:
    """Whether a run of the notebook displayed an ipywidgets view (what it shows, not what it says)."""
    return any(WIDGET_MIME in output.get("data", {})
               for cell in executed_nb.cells if cell.cell_type == "code" for output in cell.get("outputs", []))


# --- pytest plugin: keep what nbval executed -------------------------------------------------------
_failed: set[str] = set()


def pytest_runtest_logreport(report):
    if report.failed:
        _failed.add(report.nodeid.split("::")[0])


def pytest_runtest_teardown(item, nextitem):
    notebook = getattr(item, "parent", None)
    if not hasattr(item, "test_outputs") or not hasattr(notebook, "nb"):
        return  # not an nbval cell
    path = Path(str(notebook.fspath))
    if path.parent != ROOT / "notebooks":
        return
    if item.test_outputs is not None and item.nodeid.split("::")[0] not in _failed:
        item.cell.outputs = list(item.test_outputs)
        item.cell.execution_count = item.cell_num + 1
        item.cell.metadata["coursekit_ran"] = True
    if nextitem is not None and getattr(nextitem, "parent", None) is notebook:
        return  # not the notebook's last cell yet
    code = [c for c in notebook.nb.cells if c.cell_type == "code"]
    complete = all(c.metadata.pop("coursekit_ran", False) for c in code)
    if complete and item.nodeid.split("::")[0] not in _failed:
        try:
            save(path, notebook.nb)
        except Exception as err:  # a cache is never worth a failed test run
            print(f"coursekit.executed: not saved {path.name}: {err}", file=sys.stderr)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.executed", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    args = parser.parse_args(argv)
    for path in args.notebooks or lecture_notebooks():
        nb = cached(path)
        print(f"{path.name}: {'cached' if nb is not None else 'executing'}", flush=True)
        if nb is None:
            execute(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
