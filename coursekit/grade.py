"""Grade exercise submissions: run each notebook in a fresh kernel and score its graded parts.

    python -m coursekit.grade submissions/*.ipynb --csv grades.csv [--json grades.json]
                              [--timeout 60] [--jobs 1] [--feedback DIR] [--assignment STEM]

For every submitted notebook:

1. **Which exercise is it?** ``metadata.coursekit.assignment`` (written by ``coursekit.exercises``)
   names the solution notebook in ``solutions/``; without it, the solution notebook sharing the most
   nbgrader ``grade_id`` s wins, then one whose name appears in the file name. None found is a
   grader error.
2. **The course's tests, not the learner's.** The learner's solution cells (and any cells they
   added) are kept. Every cell the course owns (graded test cells with their hidden tests, read-only
   cells) comes from the course's solution notebook, matched by ``grade_id``; one the learner
   deleted is put back after the cell it followed. Editing a test cell to ``pass`` or deleting it
   cannot raise a score.
3. **Run it** with nbclient in a fresh ``python3`` kernel of this Python, from the notebook's folder,
   with ``COURSEKIT_LIVE=0``, a per-cell time limit (``--timeout``, 60 s) after which the cell is
   interrupted, and errors allowed, so a broken or endless part costs that part only.
4. **Score**: a graded test cell earns its ``points`` if it ran without an error, else 0.
   Manually graded answers (nbgrader markdown answer cells) are listed as ``manual``, outside the
   automatic total.

Prints a table; ``--csv``/``--json`` write one row per notebook and part plus a ``TOTAL`` row per
notebook, for a gradebook; ``--feedback DIR`` saves each executed notebook (the learner sees every
check's hints). The exit status is non-zero only for grader errors (an unreadable notebook, an
unknown exercise), never for a low score.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path

import nbformat

from .exercises import SOLUTIONS, nbgrader_meta

TOTAL = "TOTAL"


class GraderError(Exception):
    """The grader could not grade a notebook (not the learner's score)."""


@dataclass
class Part:
    grade_id: str
    max_points: float
    points: float | None  # None: graded by hand
    status: str  # passed | failed | not run | manual
    message: str = ""


@dataclass
class Result:
    notebook: str
    assignment: str = ""
    parts: list[Part] = field(default_factory=list)
    completed: bool = False  # every code cell ran (errors allowed)
    error: str = ""  # a grader error: nothing was scored
    note: str = ""  # e.g. the kernel died

    @property
    def points(self) -> float:
        return sum(p.points or 0.0 for p in self.parts if p.status != "manual")

    @property
    def max_points(self) -> float:
        return sum(p.max_points for p in self.parts if p.status != "manual")


# ---------------------------------------------------------------------------------------------
# which exercise, and the notebook to run


def _grade_id(cell) -> str | None:
    return nbgrader_meta(cell).get("grade_id")


def _course_owned(cell) -> bool:
    """Cells the course, not the learner, decides: graded tests and read-only cells."""
    meta = nbgrader_meta(cell)
    return bool((meta.get("grade") or meta.get("locked")) and not meta.get("solution"))


def _is_auto_test(cell) -> bool:
    return cell.cell_type == "code" and bool(nbgrader_meta(cell).get("grade"))


def load_solutions(solutions: Path = SOLUTIONS) -> dict[str, nbformat.NotebookNode]:
    return {p.stem: nbformat.read(p, as_version=4) for p in sorted(Path(solutions).glob("*.ipynb"))}


def find_assignment(nb, path: Path, solutions: dict) -> str:
    """The stem of the solution notebook that ``nb`` (read from ``path``) is a submission of."""
    named = nb.metadata.get("coursekit", {}).get("assignment")
    if named in solutions:
        return named
    ids = {i for i in map(_grade_id, nb.cells) if i}
    overlap = {stem: len(ids & {i for i in map(_grade_id, sol.cells) if i}) for stem, sol in solutions.items()}
    best = max(overlap.values(), default=0)
    candidates = [stem for stem, n in overlap.items() if n == best and n > 0]
    if len(candidates) > 1:
        candidates = [stem for stem in candidates if stem in path.stem] or candidates
    if len(candidates) == 1:
        return candidates[0]
    by_name = [stem for stem in solutions if stem in path.stem]
    if len(by_name) == 1 and not candidates:
        return by_name[0]
    why = f"its metadata names {named!r}, which is not in solutions/" if named else "no coursekit metadata"
    raise GraderError(f"{path}: cannot tell which exercise this is ({why}; "
                      f"{'several' if candidates else 'no'} solution notebooks match its grade ids)")


def _key(cell) -> tuple[str, str] | None:
    gid = _grade_id(cell)
    if gid:
        return ("grade_id", gid)
    return ("id", cell["id"]) if cell.get("id") else None


def notebook_to_grade(submission, solution):
    """The learner's notebook with every course-owned cell taken from ``solution``."""
    owned = {_grade_id(c): c for c in solution.cells if _course_owned(c) and _grade_id(c)}
    cells = [c for c in submission.cells if _grade_id(c) not in owned]
    position = {_key(c): i for i, c in enumerate(cells) if _key(c)}
    inserted_before: dict[int, list] = {}  # index in `cells` -> course cells to put there
    cursor = 0
    for course_cell in solution.cells:
        if _grade_id(course_cell) in owned:
            cell = copy.deepcopy(course_cell)
            cell.metadata.pop("coursekit", None)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
            inserted_before.setdefault(cursor, []).append(cell)
        elif _key(course_cell) in position:
            cursor = max(cursor, position[_key(course_cell)] + 1)
    out = []
    for i in range(len(cells) + 1):
        out.extend(inserted_before.get(i, []))
        if i < len(cells):
            out.append(cells[i])
    graded = copy.deepcopy(submission)
    graded.cells = out
    return graded


# ---------------------------------------------------------------------------------------------
# running and scoring


def _error_line(cell) -> str:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            return f"{output.get('ename', 'Error')}: {output.get('evalue', '')}".strip()
    return ""


def execute(nb, cwd: Path, timeout: float, trusted: set[str] = frozenset(),
            trusted_timeout: float = 600.0) -> tuple[dict[int, dict], str]:
    """Run ``nb`` in place; return (cell index -> execute_reply content, note).

    Code cells get ``timeout`` seconds each, except the course's own setup cells (``grade_id`` in
    ``trusted``: imports on a busy machine can be slow), which get ``trusted_timeout``. The limit is
    there to stop a learner's code, which runs in their cells and in the test cells.
    """
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    replies: dict[int, dict] = {}

    def on_cell_executed(cell, cell_index, execute_reply):
        replies[cell_index] = (execute_reply or {}).get("content", {})

    env = dict(os.environ, COURSEKIT_LIVE="0")
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", allow_errors=True, interrupt_on_timeout=True,
        error_on_timeout={"ename": "CellTimeout", "evalue": f"stopped after the {timeout:g} s time limit "
                          "per cell (an infinite loop?)", "traceback": []},
        resources={"metadata": {"path": str(cwd)}}, on_cell_executed=on_cell_executed,
        timeout_func=lambda cell: trusted_timeout if _grade_id(cell) in trusted else timeout,
    )
    note = ""
    try:
        # the kernel's own log (not the cells' output, which comes over the wire) would only add noise
        client.execute(env=env, stderr=subprocess.DEVNULL)
    except DeadKernelError:
        note = "the kernel died (out of memory, or the notebook ended the process); later cells did not run"
    return replies, note


def _status(index: int, cell, replies: dict[int, dict]) -> tuple[str, str]:
    """('passed' | 'failed' | 'not run', message) for a code cell after execution."""
    if index not in replies:
        return "not run", "the cell did not run"
    reply = replies[index]
    if reply.get("status") == "ok" and not _error_line(cell):
        return "passed", ""
    if reply.get("ename") == "CellTimeout":
        return "failed", f"CellTimeout: {reply.get('evalue', '')}"
    return "failed", _error_line(cell) or f"{reply.get('ename', 'Error')}: {reply.get('evalue', '')}"


def score(graded, solution, replies: dict[int, dict]) -> list[Part]:
    """One Part per graded cell of ``solution``, in its order."""
    index_of = {_grade_id(c): i for i, c in enumerate(graded.cells) if _grade_id(c)}
    parts, solution_cells, broken_setup = [], [], ""
    for course_cell in solution.cells:
        meta = nbgrader_meta(course_cell)
        gid = meta.get("grade_id")
        if meta.get("solution") and course_cell.cell_type == "code" and gid:
            solution_cells.append(gid)
        if (_course_owned(course_cell) and not _is_auto_test(course_cell) and gid in index_of
                and not broken_setup):
            s_status, s_message = _status(index_of[gid], graded.cells[index_of[gid]], replies)
            if s_status == "failed":
                broken_setup = f"the course's cell '{gid}' failed: {s_message} | then the test: "
        if not meta.get("grade") or not gid:
            continue
        max_points = float(meta.get("points", 0))
        if not _is_auto_test(course_cell):
            parts.append(Part(gid, max_points, None, "manual", "graded by hand"))
            continue
        i = index_of[gid]
        status, message = _status(i, graded.cells[i], replies)
        if status != "passed":
            # say so when the learner's own cell for this part broke (it explains the test's error)
            for sid in solution_cells:
                j = index_of.get(sid)
                if j is not None and j in replies:
                    s_status, s_message = _status(j, graded.cells[j], replies)
                    if s_status == "failed":
                        message = f"your cell '{sid}' failed: {s_message} | then the test: {message}"
            if broken_setup and not message.startswith("your cell"):
                message = broken_setup + message
        parts.append(Part(gid, max_points, max_points if status == "passed" else 0.0, status, message))
        solution_cells = []
    return parts


def grade_notebook(path: Path, solutions: dict | None = None, timeout: float = 60.0,
                   assignment: str | None = None, feedback: Path | None = None) -> Result:
    """Grade one submitted notebook (see the module docstring). Grader errors land in ``.error``."""
    path = Path(path)
    result = Result(notebook=str(path))
    solutions = load_solutions() if solutions is None else solutions
    try:
        try:
            submission = nbformat.read(path, as_version=4)
        except Exception as exc:
            raise GraderError(f"{path}: not a readable notebook ({type(exc).__name__}: {exc})") from None
        if assignment and assignment not in solutions:
            raise GraderError(f"no solution notebook {assignment!r} (have: {', '.join(solutions)})")
        result.assignment = assignment or find_assignment(submission, path, solutions)
    except GraderError as error:
        result.error = str(error)
        return result
    solution = solutions[result.assignment]
    graded = notebook_to_grade(submission, solution)
    setup_cells = {_grade_id(c) for c in solution.cells
                   if _course_owned(c) and not _is_auto_test(c) and _grade_id(c)}
    replies, result.note = execute(graded, path.resolve().parent, timeout, setup_cells)
    result.completed = all(i in replies for i, c in enumerate(graded.cells)
                           if c.cell_type == "code" and c.source.strip())
    result.parts = score(graded, solution, replies)
    if feedback is not None:
        feedback.mkdir(parents=True, exist_ok=True)
        nbformat.write(graded, feedback / path.name)
    return result


# ---------------------------------------------------------------------------------------------
# reports


def rows(results: list[Result]) -> list[dict]:
    """Gradebook rows: one per notebook and part, and a TOTAL row per notebook."""
    out = []
    for r in results:
        base = {"notebook": r.notebook, "assignment": r.assignment}
        for p in r.parts:
            out.append({**base, "part": p.grade_id, "points": "" if p.points is None else p.points,
                        "max_points": p.max_points, "status": p.status, "message": p.message})
        status = "error" if r.error else ("completed" if r.completed else "incomplete")
        out.append({**base, "part": TOTAL, "points": "" if r.error else r.points, "max_points": r.max_points,
                    "status": status, "message": r.error or r.note})
    return out


def print_table(results: list[Result], file=sys.stdout, width: int = 70) -> None:
    for r in results:
        if r.error:
            print(f"{r.notebook}: GRADER ERROR: {r.error}", file=file)
            continue
        print(f"{r.notebook}  ({r.assignment}): {r.points:g} / {r.max_points:g}"
              + (f"  [{r.note}]" if r.note else ""), file=file)
        for p in r.parts:
            got = "manual" if p.points is None else f"{p.points:g}"
            message = p.message if len(p.message) <= width else p.message[: width - 3] + "..."
            print(f"  {p.grade_id:<28} {got:>6} / {p.max_points:<4g} {p.status:<8} {message}", file=file)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.grade", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="submitted .ipynb files")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds per cell (default 60)")
    parser.add_argument("--csv", type=Path, help="write one row per notebook and part to this CSV file")
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    parser.add_argument("--feedback", type=Path, help="save the executed notebooks in this folder")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS, help="the course's solution notebooks")
    parser.add_argument("--assignment", help="the solution notebook's stem, for every notebook given")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at the same time (default 1)")
    args = parser.parse_args(argv)

    solutions = load_solutions(args.solutions)
    grade_one = partial(grade_notebook, solutions=solutions, timeout=args.timeout,
                        assignment=args.assignment, feedback=args.feedback)
    results = []
    if args.jobs > 1 and len(args.notebooks) > 1:
        with ProcessPoolExecutor(max_workers=args.jobs) as pool:  # one kernel per notebook anyway
            for result in pool.map(grade_one, args.notebooks):
                print_table([result])
                results.append(result)
    else:
        for path in args.notebooks:
            results.append(grade_one(path))
            print_table(results[-1:])
    table = rows(results)
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=list(table[0]))
            writer.writeheader()
            writer.writerows(table)
    if args.json:
        payload = [{**asdict(r), "points": r.points, "max_points": r.max_points} for r in results]
        args.json.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    errors = [r for r in results if r.error]
    if errors:
        print(f"{len(errors)} notebook(s) could not be graded", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
