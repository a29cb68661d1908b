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

Regenerating never overwrites a learner's work: a notebook in ``exercises/`` whose cells differ
from what the generator wrote there last time (recorded in ``exercises/.generated.json``, which
git ignores; on a fresh clone, what git has committed) is left alone, named, and the command
exits 1.

Learners work on **their own copies** in ``work/`` (git-ignored), made on first use by
``make lab`` or by ``--work``: a copy is never overwritten; when the course's exercise changes
later, the new version is put beside it as ``work/NN_name.updated-<hash>.ipynb``.

Usage (``make exercises`` runs the first; ``make lab`` runs ``--work``)::

    python -m coursekit.exercises            # regenerate exercises/ from solutions/
    python -m coursekit.exercises --check    # exit 1 if exercises/ is out of date
    python -m coursekit.exercises --work     # copy every exercise to work/ (those not there yet)
    python -m coursekit.exercises --work 01  # the same for one exercise (by number or name)
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
WORK = ROOT / "work"
STATE = ".generated.json"  # in the exercises folder: what was written there last time

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


def cells_digest(text: str) -> str:
    """A hash of a notebook's cells (types and sources; outputs and metadata do not count)."""
    try:
        cells = nbformat.reads(text, as_version=4).cells
    except Exception:
        return hashlib.sha256(text.encode()).hexdigest()
    joined = json.dumps([(c.cell_type, c.source) for c in cells])
    return hashlib.sha256(joined.encode()).hexdigest()


def committed(path: Path) -> str | None:
    """The text of ``path`` as git has it committed (HEAD), or None (not in git, or no git)."""
    path = Path(path).resolve()
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path.parent, capture_output=True,
                             text=True, timeout=30)
        if top.returncode != 0:
            return None
        rel = path.relative_to(Path(top.stdout.strip()).resolve()).as_posix()
        shown = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=path.parent, capture_output=True, timeout=30)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    return shown.stdout.decode("utf-8") if shown.returncode == 0 else None


def _same(a: str, b: str) -> bool:
    return nbformat.reads(a, as_version=4) == nbformat.reads(b, as_version=4)


def stale(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES, read=None) -> list[str]:
    """What is out of date in ``exercises``: missing, different, or orphaned notebooks.

    ``read(path) -> text or None`` reads both folders; by default the working tree. With
    ``read=committed`` it checks what git has committed, whatever a learner did in their clone.
    """
    read = read or (lambda p: p.read_text(encoding="utf-8") if p.exists() else None)
    problems = []
    names = sorted({p.name for p in solutions.glob("*.ipynb")} | {p.name for p in exercises.glob("*.ipynb")})
    for name in names:
        solution_text, exercise_text = read(solutions / name), read(exercises / name)
        if solution_text is None:
            if exercise_text is not None and "generated_from" in exercise_text:
                problems.append(f"{exercises / name}: its solution notebook is gone")
            continue
        wanted = render(make_exercise(nbformat.reads(solution_text, as_version=4), Path(name).stem))
        if exercise_text is None:
            problems.append(f"{exercises / name}: missing")
        elif not _same(exercise_text, wanted):
            problems.append(f"{exercises / name}: differs from what {solutions.name}/{name} generates")
    return problems


def _load_state(exercises: Path) -> dict:
    try:
        return json.loads((exercises / STATE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _untouched(path: Path, state: dict, wanted: str | None = None) -> bool:
    """Is ``path`` as the generator left it (cells unchanged since it was written or committed)?"""
    digest = cells_digest(path.read_text(encoding="utf-8"))
    known = {state.get(path.name)}
    if wanted is not None:
        known.add(cells_digest(wanted))
    if digest in known:
        return True
    text = committed(path)
    return text is not None and cells_digest(text) == digest


class LearnerWork(Exception):
    """Notebooks in exercises/ that hold a learner's edits: regeneration left them alone."""


def generate(solutions: Path = SOLUTIONS, exercises: Path = EXERCISES) -> list[Path]:
    """Write the exercise notebooks that changed (returned); remove generated ones whose solution
    is gone. Raises ``LearnerWork`` naming the notebooks it would not overwrite (after writing the
    others)."""
    exercises.mkdir(parents=True, exist_ok=True)
    wanted = expected_exercises(solutions)
    state = _load_state(exercises)
    written, kept = [], []
    for name, text in wanted.items():
        path = exercises / name
        if path.exists() and path.read_text(encoding="utf-8") == text:
            state[name] = cells_digest(text)
            continue
        if path.exists() and not _untouched(path, state, text):
            kept.append(path)
            continue
        path.write_text(text, encoding="utf-8")
        state[name] = cells_digest(text)
        written.append(path)
    for path in exercises.glob("*.ipynb"):
        if path.name not in wanted and _generated_here(path):
            if _untouched(path, state):
                path.unlink()
                state.pop(path.name, None)
            else:
                kept.append(path)
    (exercises / STATE).write_text(json.dumps(state, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if kept:
        raise LearnerWork(kept)
    return written


# ---------------------------------------------------------------------------------------------
# the learners' working copies


def _pick(exercises: Path, wanted: list[str]) -> list[Path]:
    paths = sorted(exercises.glob("*.ipynb"))
    if not wanted:
        return paths
    picked = [p for p in paths if any(p.stem == w or p.stem.startswith(f"{w}_") or p.name == w for w in wanted)]
    unknown = [w for w in wanted if not any(p.stem == w or p.stem.startswith(f"{w}_") or p.name == w
                                            for p in paths)]
    if unknown:
        raise ExerciseFormatError(f"no exercise {', '.join(unknown)} in {exercises} "
                                  f"(have: {', '.join(p.stem for p in paths)})")
    return picked


def working_copies(exercises: Path = EXERCISES, work: Path = WORK, wanted: list[str] = ()) -> list[str]:
    """Copy exercises to ``work`` for the learner; never overwrite a copy. Returns what happened."""
    work.mkdir(parents=True, exist_ok=True)
    said = []
    for source in _pick(exercises, list(wanted)):
        text = source.read_text(encoding="utf-8")
        digest = cells_digest(text)
        nb = nbformat.reads(text, as_version=4)
        nb.metadata.setdefault("coursekit", {})["exercise_digest"] = digest
        copy_path = work / source.name
        if not copy_path.exists():
            nbformat.write(nb, copy_path)
            said.append(f"{copy_path}: your copy of {source.name}, made now")
            continue
        try:
            theirs = nbformat.read(copy_path, as_version=4).metadata.get("coursekit", {}).get("exercise_digest")
        except Exception:
            theirs = None
        if theirs in (None, digest):
            continue  # up to date (or not made here): left as it is
        updated = work / f"{source.stem}.updated-{digest[:8]}.ipynb"
        if not updated.exists():
            nbformat.write(nb, updated)
            said.append(f"{updated}: the exercise changed since you copied it; the new version is beside "
                        f"your copy (yours is untouched)")
    return said


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.exercises", description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if exercises/ is out of date")
    parser.add_argument("--work", nargs="*", metavar="NN",
                        help="copy exercises (all, or these numbers/names) to work/, never overwriting")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS)
    parser.add_argument("--exercises", type=Path, default=EXERCISES)
    parser.add_argument("--work-dir", type=Path, default=WORK)
    args = parser.parse_args(argv)
    try:
        if args.work is not None:
            for line in working_copies(args.exercises, args.work_dir, args.work):
                print(line)
            print(f"your exercise notebooks are in {os.path.relpath(args.work_dir)}/")
            return 0
        if args.check:
            problems = stale(args.solutions, args.exercises)
            for problem in problems:
                print(problem)
            if problems:
                print("exercises/ is out of date: run `make exercises` and commit the result")
                return 1
            print(f"exercises/ is up to date ({len(expected_exercises(args.solutions))} notebooks)")
            return 0
        try:
            written = generate(args.solutions, args.exercises)
        except LearnerWork as kept:
            for path in kept.args[0]:
                print(f"NOT overwritten: {os.path.relpath(path)}: its cells differ from what this command wrote "
                      f"there last time (your work?). Keep your work in work/ (`python -m coursekit.exercises "
                      f"--work` copies the exercises there), then delete or move this file and run again.",
                      file=sys.stderr)
            return 1
        for path in written:
            print(f"wrote {os.path.relpath(path)}")
        print(f"{len(expected_exercises(args.solutions))} exercise notebooks, {len(written)} rewritten")
    except ExerciseFormatError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
