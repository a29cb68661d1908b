"""Turn the solution notebooks in ``solutions/`` into the learners' notebooks in ``exercises/``.

``solutions/NN_name.ipynb`` is the single source of an exercise, in nbgrader's format (so an
instructor can also hand it to ``nbgrader generate_assignment`` unchanged). Generating the
exercise does what nbgrader's release step does, line for line:

* a solution region (the lines from ``### BEGIN SOLUTION`` to ``### END SOLUTION``) becomes
  ``# YOUR CODE HERE`` / ``raise NotImplementedError()``, indented like the ``BEGIN`` line; lines
  before and after the markers (the ``def`` line, the docstring) stay. In a markdown cell it
  becomes ``YOUR ANSWER HERE``. A solution cell without markers is replaced as a whole;
* hidden tests (``### BEGIN HIDDEN TESTS`` to ``### END HIDDEN TESTS``) are removed;
* outputs and execution counts are cleared, and coursekit's own cell metadata (the CI
  ``mutant``) is dropped; nbgrader's cell metadata stays (grade ids, points), and locked cells
  (the checks) are marked ``editable: false`` / ``deletable: false`` like nbgrader's release;
* the notebook's metadata records where it came from:
  ``metadata.coursekit = {"assignment": "<stem>", "generated_from": "solutions/<stem>.ipynb"}``,
  which is how ``coursekit.grade`` finds the solution a submission belongs to.

Usage (``make exercises`` runs the first)::

    python -m coursekit.exercises            # regenerate exercises/ from solutions/
    python -m coursekit.exercises --check    # exit 1 if exercises/ is out of date
"""

from __future__ import annotations

import argparse
import copy
import os
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
CODE_STUB = ["# YOUR CODE HERE", "raise NotImplementedError()"]
TEXT_STUB = ["YOUR ANSWER HERE"]


class ExerciseFormatError(ValueError):
    """A solution notebook whose markers do not pair up."""


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_solution_cell(cell) -> bool:
    return bool(nbgrader_meta(cell).get("solution"))


def is_test_cell(cell) -> bool:
    """A graded code cell (nbgrader's autograder tests)."""
    return cell.cell_type == "code" and bool(nbgrader_meta(cell).get("grade"))


def _cut_regions(source: str, begin: str, end: str, stub: list[str] | None, where: str) -> tuple[str, int]:
    """Replace each ``begin``..``end`` region (marker lines included) by ``stub`` indented like
    the ``begin`` line, or drop it when ``stub`` is None. Returns (new source, regions found)."""
    out: list[str] = []
    inside, found = False, 0
    for line in source.split("\n"):
        if begin in line:
            if inside:
                raise ExerciseFormatError(f"{where}: nested '{begin}'")
            inside, found = True, found + 1
            indent = re.match(r"\s*", line).group(0)
            out.extend(indent + s for s in (stub or []))
        elif end in line:
            if not inside:
                raise ExerciseFormatError(f"{where}: '{end}' without '{begin}'")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise ExerciseFormatError(f"{where}: '{begin}' without '{end}'")
    return "\n".join(out), found


def solution_regions(source: str) -> list[list[str]]:
    """The lines inside each solution region of ``source`` (markers excluded)."""
    regions, current = [], None
    for line in source.split("\n"):
        if BEGIN_SOLUTION in line:
            current = []
        elif END_SOLUTION in line and current is not None:
            regions.append(current)
            current = None
        elif current is not None:
            current.append(line)
    return regions


def make_exercise(solution: nbformat.NotebookNode, stem: str) -> nbformat.NotebookNode:
    """The learner's notebook for a solution notebook (a new notebook; the input is untouched)."""
    nb = copy.deepcopy(solution)
    for index, cell in enumerate(nb.cells):
        where = f"{stem}.ipynb cell {index}"
        stub = CODE_STUB if cell.cell_type == "code" else TEXT_STUB
        source, n_solutions = _cut_regions(cell.source, BEGIN_SOLUTION, END_SOLUTION, stub, where)
        if n_solutions and not is_solution_cell(cell):
            raise ExerciseFormatError(f"{where}: a solution region in a cell not marked as a "
                                      f"solution cell (nbgrader metadata 'solution': true)")
        if is_solution_cell(cell) and not n_solutions:
            source = "\n".join(stub)
        source, _ = _cut_regions(source, BEGIN_HIDDEN, END_HIDDEN, None, where)
        cell.source = source
        cell.metadata.pop("coursekit", None)
        if nbgrader_meta(cell).get("locked"):  # as nbgrader does: JupyterLab then protects the cell
            cell.metadata["editable"] = False
            cell.metadata["deletable"] = False
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    nb.metadata.pop("celltoolbar", None)
    nb.metadata["coursekit"] = {"assignment": stem, "generated_from": f"solutions/{stem}.ipynb"}
    return nb


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def expected_exercises(solutions: Path = SOLUTIONS) -> dict[str, str]:
    """File name -> the exercise notebook's text, for every solution notebook."""
    out = {}
    for path in sorted(solutions.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        out[path.name] = render(make_exercise(nb, path.stem))
    return out


def _generated_here(path: Path) -> bool:
    try:
        return "generated_from" in nbformat.read(path, as_version=4).metadata.get("coursekit", {})
    except Exception:
        return False


def stale(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[str]:
    """What is out of date in ``exercises``: missing, different, or orphaned notebooks."""
    problems = []
    wanted = expected_exercises(solutions)
    for name, text in wanted.items():
        path = exercises / name
        if not path.exists():
            problems.append(f"{path}: missing")
        elif nbformat.reads(path.read_text(encoding="utf-8"), as_version=4) != nbformat.reads(text, as_version=4):
            problems.append(f"{path}: differs from what {solutions.name}/{name} generates")
    for path in sorted(exercises.glob("*.ipynb")):
        if path.name not in wanted and _generated_here(path):
            problems.append(f"{path}: its solution notebook is gone")
    return problems


def generate(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[Path]:
    """Write the exercise notebooks that changed (returned); remove generated ones whose solution
    is gone."""
    exercises.mkdir(parents=True, exist_ok=True)
    wanted = expected_exercises(solutions)
    written = []
    for name, text in wanted.items():
        path = exercises / name
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            written.append(path)
    for path in exercises.glob("*.ipynb"):
        if path.name not in wanted and _generated_here(path):
            path.unlink()
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.exercises", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if exercises/ is out of date")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS)
    parser.add_argument("--exercises", type=Path, default=EXERCISES)
    args = parser.parse_args(argv)
    try:
        if args.check:
            problems = stale(args.solutions, args.exercises)
            for problem in problems:
                print(problem)
            if problems:
                print("exercises/ is out of date: run `make exercises` and commit the result")
                return 1
            print(f"exercises/ is up to date ({len(expected_exercises(args.solutions))} notebooks)")
            return 0
        written = generate(args.solutions, args.exercises)
        for path in written:
            print(f"wrote {os.path.relpath(path)}")
        print(f"{len(expected_exercises(args.solutions))} exercise notebooks, {len(written)} rewritten")
    except ExerciseFormatError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
