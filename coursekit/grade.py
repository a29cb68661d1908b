"""Grade exercise submissions outside the learner's process, each in its own sandbox.

    python -m coursekit.grade submissions/*.ipynb --csv grades.csv [--json grades.json]
                              [--timeout 60] [--deadline 900] [--memory 4] [--jobs 1]
                              [--feedback DIR] [--assignment STEM] [--hide PATH ...]

For every submitted notebook:

1. **Which exercise is it?** ``metadata.coursekit.assignment`` (written by ``coursekit.exercises``)
   names the solution notebook in ``solutions/``; without it, the solution notebook sharing the most
   nbgrader ``grade_id`` s wins, then one whose name appears in the file name.
2. **The notebook to run**: the learner's solution cells and any cells they added, with every cell
   the course owns (setup cells, graded test cells) taken from the course's solution notebook by
   ``grade_id``; one the learner deleted is put back where it was. Editing or deleting a test
   cell changes nothing.
3. **Expected values in a trusted process** (``coursekit.reference``, one per exercise and batch):
   it runs the course's solution notebook (setup, reference solution, test cells with hidden
   cases) and collects every ``check``'s cases. Only the cases' *inputs* leave it.
4. **The learner's notebook in a sandbox** (``coursekit.sandbox``: bubblewrap where available, an
   unprivileged uid, resource limits; ``coursekit.harvest`` inside): their cells run in order, and
   each graded test cell is replaced by a harvest step that calls the learner's function by name
   on the inputs and sends back the outcomes as plain data (``coursekit.plaindata``, no pickle).
   A cell or case gets a time limit (``--timeout``, and each check's ``time_limit``); one that
   ignores the interrupt, or a process that dies (killed, out of memory, a fork bomb against the
   process limit), is stopped from outside and the notebook is run again without that step, so
   it costs only its part. The whole submission has a wall-clock ``--deadline``.
5. **Judged in the trusted process**: each case is compared with its expected value there, with
   the same hints as the in-notebook ``check``. A part worth P points earns P x (weight of the
   cases passed) / (weight of all its cases, hidden ones included).

Prints a table; ``--csv``/``--json`` write one row per notebook and part plus a ``TOTAL`` row per
notebook (with the isolation that was in force), always, whatever a submission did;
``--feedback DIR`` saves each notebook as run, with every check's lines in its test cells. The
exit status is non-zero only for grader errors (an unreadable notebook, an unknown exercise, a
course test cell that breaks the grading rules), never for a low score.
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

import nbformat

from . import sandbox
from .exercises import ROOT, SOLUTIONS, nbgrader_meta
from .grading import is_stub

TOTAL = "TOTAL"
GRACE = 5.0  # seconds past a limit before the sandbox is killed (the in-process alarm comes first)
MAX_ATTEMPTS = 8
PASS_ENV = ("COURSEKIT_MODE", "COURSEKIT_MIRROR", "COURSEKIT_DATA", "OMP_NUM_THREADS", "LANG")


class GraderError(Exception):
    """The grader could not grade a notebook (not the learner's score)."""


@dataclass
class Part:
    grade_id: str
    max_points: float
    points: float | None  # None: graded by hand
    status: str  # passed | partial | failed | manual | error
    message: str = ""
    lines: list[str] = field(default_factory=list)  # what the check printed, for the feedback


@dataclass
class Result:
    notebook: str
    assignment: str = ""
    parts: list[Part] = field(default_factory=list)
    completed: bool = False  # every cell and harvest step ran
    error: str = ""  # a grader error: nothing was scored
    note: str = ""  # e.g. the notebook's process was killed and run again without a cell
    isolation: str = ""
    seconds: float = 0.0

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
    return cell.cell_type == "code" and bool(nbgrader_meta(cell).get("grade")) \
        and not nbgrader_meta(cell).get("solution")


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
# the trusted process of one exercise


class Reference:
    """``coursekit.reference`` for one solution notebook: started once, asked once per submission."""

    def __init__(self, solution_path: Path, folder: Path, timeout: float = 3600.0):
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)
        self.log = folder / "reference.log"
        self.lock = threading.Lock()
        env = dict(os.environ, COURSEKIT_LIVE="0", MPLBACKEND="Agg")
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "coursekit.reference", str(solution_path), str(folder)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, env=env, cwd=ROOT)
        ready = self._read(timeout)
        if not ready.get("ready"):
            raise GraderError(f"the course's solution notebook {solution_path.name} could not be run by the grader: "
                              f"{self._log_tail()}")
        self.inputs = Path(ready["inputs"])
        self.parts = ready["parts"]  # gid -> {"time_limits": [...], "problems": [...]}
        self.cell_errors = ready["cell_errors"]

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-1500:].strip()
        except OSError:
            return ""

    def _read(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else b""
        if not line:
            return {}
        return json.loads(line)

    def judge(self, events: Path, outcomes: list, not_run: str, case_limit: float) -> dict:
        with self.lock:
            if self.process.poll() is not None:
                raise GraderError(f"the grader's reference process ended: {self._log_tail()}")
            request = {"judge": str(events), "outcomes": outcomes, "not_run": not_run, "case_limit": case_limit}
            self.process.stdin.write((json.dumps(request) + "\n").encode())
            self.process.stdin.flush()
            answer = self._read(900)
        if "parts" not in answer:
            raise GraderError(f"the grader's reference process did not answer: {self._log_tail()}")
        return answer["parts"]

    def close(self) -> None:
        if self.process.poll() is None and not self.process.stdin.closed:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()


# ---------------------------------------------------------------------------------------------
# running one submission in its sandbox


@dataclass
class Options:
    timeout: float = 60.0  # per cell and (at most) per case
    setup_timeout: float = 600.0  # the course's own setup cells (imports, data)
    deadline: float = 900.0  # the whole submission, all runs together
    limits: sandbox.Limits = field(default_factory=sandbox.Limits)
    hide: list[Path] = field(default_factory=list)


def _exit_reason(code: int) -> str:
    signum = -code if code < 0 else (code - 128 if code > 128 else 0)
    if signum == signal.SIGKILL:
        return ("the notebook's process was killed (SIGKILL): out of memory or CPU time, or the notebook "
                "killed its own process")
    if signum == signal.SIGXCPU:
        return "the notebook's process used up its CPU time"
    if signum:
        return f"the notebook's process was ended by signal {signal.Signals(signum).name}"
    if code == 0:
        return "the notebook's process ended early (exit() or sys.exit() in a cell?)"
    return f"the notebook's process exited with code {code}"


class _Events:
    """Reads a growing events file; keeps what is running and what finished."""

    def __init__(self, path: Path):
        self.path, self.offset, self.partial = path, 0, b""
        self.current: tuple | None = None  # ("cell", index) or ("case", (part, check, case))
        self.since = time.monotonic()
        self.hello = self.done = False
        self.cells: dict[int, dict] = {}
        self.cases: set[tuple] = set()

    def poll(self) -> None:
        try:
            with open(self.path, "rb") as stream:
                stream.seek(self.offset)
                data = stream.read(64 * 2**20)
        except OSError:
            return
        self.offset += len(data)
        lines = (self.partial + data).split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            try:
                event = json.loads(line)
            except (ValueError, RecursionError):
                continue
            if isinstance(event, dict):
                self._apply(event)

    def _apply(self, event: dict) -> None:
        kind = event.get("event")
        now = time.monotonic()
        if kind == "hello":
            self.hello = True
            self.current, self.since = None, now
        elif kind == "start" and type(event.get("cell")) is int:
            self.current, self.since = ("cell", event["cell"]), now
        elif kind == "cell" and type(event.get("cell")) is int:
            self.cells[event["cell"]] = event
            self.current, self.since = None, now
        elif kind == "case_start":
            key = (event.get("part"), event.get("check"), event.get("case"))
            self.current, self.since = ("case", key), now
        elif kind == "case":
            self.cases.add((event.get("part"), event.get("check"), event.get("case")))
            self.current, self.since = None, now
        elif kind == "done":
            self.done = True


def run_in_sandbox(graded, reference: Reference, scratch_root: Path, options: Options,
                   hide: list[Path]) -> tuple[dict[int, dict], list, str, bool]:
    """Run the graded notebook's cells and harvest steps in a sandbox, again without a step that
    killed or hung it. Returns (cell index -> status, the reference's verdicts per part, a note on
    what was stopped, completed)."""
    uid = sandbox.new_uid()
    scratch = Path(tempfile.mkdtemp(prefix="sub-", dir=scratch_root))
    sandbox.prepare_scratch(scratch, uid)
    events_path = scratch / "events.jsonl"
    cells, limits = [], {}
    for index, cell in enumerate(graded.cells):
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if _is_auto_test(cell):
            cells.append({"index": index, "kind": "test", "grade_id": _grade_id(cell)})
            continue
        course = _course_owned(cell)
        seconds = max(options.timeout, options.setup_timeout) if course else options.timeout
        cells.append({"index": index, "kind": "course" if course else "learner", "source": cell.source,
                      "timeout": seconds})
        limits[index] = seconds
    job = {"cells": cells, "inputs": str(reference.inputs), "events": str(events_path),
           "case_limit": options.timeout, "skip": [], "done": [], "stopped": [], "reap": uid is not None}
    statuses: dict[int, dict] = {}
    supervised: dict[tuple, dict] = {}
    env = {name: os.environ[name] for name in PASS_ENV if name in os.environ}
    env.update(PATH=os.environ.get("PATH", "/usr/bin:/bin"), HOME=str(scratch), TMPDIR=str(scratch / "tmp"),
               MPLCONFIGDIR=str(scratch / "tmp"), IPYTHONDIR=str(scratch / "tmp" / "ipython"),
               COURSEKIT_LIVE="0", MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
    env.setdefault("OMP_NUM_THREADS", "1")
    if uid is not None and _private_data_cache() and os.environ.get("COURSEKIT_MIRROR"):
        # the submission's user cannot read the cache: a fresh one of its own, filled from the mirror
        env["COURSEKIT_DATA"] = str(scratch / "data")
    started = time.monotonic()
    why_missing, completed, kills = "", False, []
    try:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            job_path = scratch / f"job{attempt}.json"
            job_path.write_text(json.dumps(job), encoding="utf-8")
            os.chmod(job_path, 0o644)
            events = _Events(events_path)
            events.offset = events_path.stat().st_size if events_path.exists() else 0
            box = sandbox.start([sys.executable, "-m", "coursekit.harvest", str(job_path)], scratch, uid=uid,
                                limits=options.limits, env=env, hide=hide, readable=[reference.inputs],
                                log=scratch / "worker.log")
            killed_for = ""
            try:
                while True:
                    code = box.poll()
                    events.poll()
                    if code is not None:
                        break
                    now = time.monotonic()
                    if now - started > options.deadline:
                        killed_for = "deadline"
                        break
                    item = events.current
                    if not events.hello:
                        limit = max(180.0, options.timeout)
                    elif item is None:
                        limit = options.timeout
                    elif item[0] == "cell":
                        limit = limits.get(item[1], options.timeout)
                    else:
                        part, j, _ = item[1]
                        check_limits = reference.parts.get(part, {}).get("time_limits", [])
                        limit = min(check_limits[j] if isinstance(j, int) and 0 <= j < len(check_limits)
                                    else options.timeout, options.timeout)
                    if now - events.since > limit + GRACE:
                        killed_for = f"time limit:{limit:g}"
                        break
                    time.sleep(0.05)
            finally:
                sandbox.stop(box)
            events.poll()
            for index, event in events.cells.items():
                statuses[index] = event
            if events.done:
                completed = True
                break
            code = box.process.returncode
            if killed_for == "deadline":
                reason = f"the notebook ran past its {options.deadline:g} s deadline"
            elif killed_for:
                seconds = killed_for.split(":")[1]
                reason = (f"stopped after the {seconds} s time limit, from outside: it did not respond to the "
                          f"interrupt (an infinite loop that blocks or ignores signals?)")
            else:
                reason = _exit_reason(code if code is not None else -9)
            item = events.current
            if not events.hello:
                why_missing = f"the notebook could not be started in the sandbox ({reason}): {_tail(scratch)}"
                break
            if item is None:
                why_missing = reason
                break
            if item[0] == "cell":
                statuses[item[1]] = {"status": "killed", "error": "Stopped", "message": reason}
                job["skip"].append(item[1])
            else:
                key = item[1]
                if killed_for.startswith("time limit"):
                    supervised[key] = {"status": "timeout"}
                else:
                    supervised[key] = {"status": "lost", "message": reason}
                job["done"].append(list(key))
                job["stopped"].append(list(key[:2]))
            why_missing = reason
            where = f"cell {item[1]}" if item[0] == "cell" else f"case {item[1][2] + 1} of {item[1][0]}"
            kills.append(f"{where}: {reason}")
            if killed_for == "deadline" or attempt == MAX_ATTEMPTS:
                break
        answer_outcomes = [[list(k), v] for k, v in supervised.items()]
        not_run = f"not run: {why_missing}" if why_missing else "not run"
        judged = reference.judge(events_path, answer_outcomes, not_run, options.timeout)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    note = "; ".join(kills + ([] if completed or why_missing in "".join(kills) else [why_missing]))
    if kills and completed:
        note = f"run {len(kills) + 1} times, without what stopped it: {note}"
    return statuses, judged, note, completed


@lru_cache(maxsize=1)
def _private_data_cache() -> bool:
    """Does the data cache hold dataset files only their owner can read (a sandboxed user cannot)?"""
    from .data import DATASETS, cache_root

    root = cache_root()
    for dataset in DATASETS.values():
        for name in dataset.files:
            path = root / dataset.cache_dir / name
            if path.is_file() and not path.stat().st_mode & 0o004:
                return True
    return False


def _tail(scratch: Path) -> str:
    try:
        return (scratch / "worker.log").read_text(errors="replace")[-800:].strip()
    except OSError:
        return ""


# ---------------------------------------------------------------------------------------------
# scoring


def _cell_problem(status: dict | None) -> str:
    if not status or status.get("status") == "ok":
        return ""
    error, message = status.get("error", "Error"), status.get("message", "")
    if is_stub(error, message):
        return "not implemented yet (the cell still raises NotImplementedError)"
    return f"{error}: {message}".strip()


def score(graded, solution, statuses: dict[int, dict], judged: dict, reference: Reference) -> list[Part]:
    """One Part per graded cell of ``solution``, in its order."""
    index_of = {_grade_id(c): i for i, c in enumerate(graded.cells) if _grade_id(c)}
    parts, own_cells, broken_setup = [], [], ""
    for course_cell in solution.cells:
        meta = nbgrader_meta(course_cell)
        gid = meta.get("grade_id")
        if meta.get("solution") and course_cell.cell_type == "code" and gid:
            own_cells.append(gid)
        if _course_owned(course_cell) and not _is_auto_test(course_cell) and gid in index_of and not broken_setup:
            problem = _cell_problem(statuses.get(index_of[gid]))
            if problem:
                broken_setup = f"the course's cell '{gid}' failed: {problem} | then the check: "
        if not meta.get("grade") or not gid:
            continue
        max_points = float(meta.get("points", 0))
        if not _is_auto_test(course_cell):
            parts.append(Part(gid, max_points, None, "manual", "graded by hand"))
            continue
        problems = reference.parts.get(gid, {}).get(
            "problems", [f"the grader's run of the solution notebook has no test cell '{gid}' (did the notebook "
                         f"change while grading?)"])
        if problems or gid not in judged:
            parts.append(Part(gid, max_points, 0.0, "error",
                              "the course's test cell cannot be graded: " + "; ".join(problems or ["no verdict"])))
            own_cells = []
            continue
        verdict = judged[gid]
        fraction = float(verdict["fraction"])
        points = round(max_points * fraction, 6)
        status = "passed" if fraction >= 1 else ("partial" if fraction > 0 else "failed")
        message = ""
        if status != "passed":
            failures = verdict["failures"]
            shown = "; ".join(failures[:3]) + ("; ..." if len(failures) > 3 else "")
            message = f"{verdict['n_passed']} of {verdict['n_cases']} cases passed ({100 * fraction:.0f} %): {shown}"
            for sid in own_cells:  # the learner's own cell for this part broke: it explains the failures
                problem = _cell_problem(statuses.get(index_of.get(sid, -1)))
                if problem:
                    message = f"your cell '{sid}' failed: {problem} | then the check: {message}"
            if broken_setup and not message.startswith("your cell"):
                message = broken_setup + message
        parts.append(Part(gid, max_points, points, status, message, list(verdict["lines"])))
        own_cells = []
    return parts


def feedback_notebook(graded, statuses: dict[int, dict], parts: list[Part]):
    """The notebook as run: the learner's outputs, and each test cell with its check's lines."""
    nb = copy.deepcopy(graded)
    by_gid = {p.grade_id: p for p in parts}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        if _is_auto_test(cell) and _grade_id(cell) in by_gid:
            part = by_gid[_grade_id(cell)]
            text = "\n".join(part.lines) or part.message
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=text + "\n"))
            if part.status not in ("passed", "manual"):
                cell.outputs.append(nbformat.v4.new_output("error", ename="CheckFailed", evalue=part.message,
                                                           traceback=[]))
            continue
        status = statuses.get(index)
        if not status:
            continue
        if status.get("text"):
            cell.outputs.append(nbformat.v4.new_output("stream", name="stdout", text=str(status["text"])))
        for image in status.get("images", [])[:4]:
            if isinstance(image, str):
                cell.outputs.append(nbformat.v4.new_output("display_data", data={"image/png": image}))
        if status.get("status") != "ok":
            cell.outputs.append(nbformat.v4.new_output("error", ename=str(status.get("error", "Error")),
                                                       evalue=str(status.get("message", "")), traceback=[]))
    return nb


# ---------------------------------------------------------------------------------------------
# a batch


class Grader:
    """Grades notebooks: one trusted reference process per exercise, one sandbox per submission."""

    def __init__(self, solutions: dict, solutions_dir: Path = SOLUTIONS, options: Options | None = None,
                 feedback: Path | None = None, submissions: list[Path] = ()):
        self.solutions, self.solutions_dir = solutions, Path(solutions_dir)
        self.options = options or Options()
        self.feedback = feedback
        self.root = Path(tempfile.mkdtemp(prefix="coursekit-grade-"))
        os.chmod(self.root, 0o711)  # the submissions' users may pass through to their own folders
        self.references: dict[str, Reference | GraderError] = {}
        self.lock = threading.Lock()
        self.isolation = sandbox.probe().describe(self.options.limits)
        self.hide = self._hidden(list(submissions))

    def _hidden(self, submissions: list[Path]) -> list[Path]:
        """What a submission must not see: the solutions, git history, the other submissions."""
        keep = [ROOT.resolve(), Path(sys.prefix).resolve(), self.root]
        hide = [self.solutions_dir.resolve(), ROOT / ".git", ROOT / "work", *self.options.hide]
        if not sandbox._inside(self.root, Path("/tmp")):
            hide.append(self.root)
        for path in submissions:
            path = Path(path).resolve()
            folder = path.parent
            if any(sandbox._inside(k, folder) for k in keep):
                hide.append(path)  # a folder holding the course itself: hide the file only
            else:
                hide.append(folder)
        return [p for p in dict.fromkeys(Path(p).resolve() for p in hide) if p.exists()]

    def reference(self, stem: str) -> Reference:
        with self.lock:
            if stem not in self.references:
                try:
                    self.references[stem] = Reference(self.solutions_dir / f"{stem}.ipynb", self.root / f"ref-{stem}")
                except GraderError as error:
                    self.references[stem] = error
            found = self.references[stem]
        if isinstance(found, GraderError):
            raise found
        return found

    def grade_all(self, paths: list[Path], assignment: str | None = None, jobs: int = 1):
        """Grade ``paths`` (``jobs`` at a time), yielding results in order; each exercise's reference
        process ends as soon as its last submission is graded (it holds a whole torch process)."""
        remaining: dict[str, int] = {}
        for path in paths:
            stem = assignment or self._peek_assignment(path)
            remaining[stem] = remaining.get(stem, 0) + 1

        def one(path):
            result = self.grade(path, assignment)
            stem = assignment or self._peek_assignment(path)
            with self.lock:
                remaining[stem] -= 1
                finished = remaining[stem] == 0 and isinstance(self.references.get(stem), Reference)
                reference = self.references.get(stem) if finished else None
            if reference is not None:
                reference.close()
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            yield from pool.map(one, paths)

    def _peek_assignment(self, path: Path) -> str:
        try:
            return find_assignment(nbformat.read(path, as_version=4), Path(path), self.solutions)
        except Exception:
            return ""

    def grade(self, path: Path, assignment: str | None = None) -> Result:
        path = Path(path)
        result = Result(notebook=str(path), isolation=self.isolation)
        started = time.monotonic()
        try:
            try:
                submission = nbformat.read(path, as_version=4)
            except Exception as exc:
                raise GraderError(f"{path}: not a readable notebook ({type(exc).__name__}: {exc})") from None
            if assignment and assignment not in self.solutions:
                raise GraderError(f"no solution notebook {assignment!r} (have: {', '.join(self.solutions)})")
            result.assignment = assignment or find_assignment(submission, path, self.solutions)
            solution = self.solutions[result.assignment]
            reference = self.reference(result.assignment)
            graded = notebook_to_grade(submission, solution)
            statuses, judged, why, result.completed = run_in_sandbox(
                graded, reference, self.root, self.options, self.hide)
            result.note = why
            result.parts = score(graded, solution, statuses, judged, reference)
            broken = [p for p in result.parts if p.status == "error"]
            if broken:
                result.error = "the course's test cells break the grading rules (see the parts marked error)"
            if self.feedback is not None:
                self.feedback.mkdir(parents=True, exist_ok=True)
                nbformat.write(feedback_notebook(graded, statuses, result.parts), self.feedback / path.name)
        except GraderError as error:
            result.error = str(error)
        except Exception as error:  # a grader bug must not lose the batch
            result.error = f"grader error: {type(error).__name__}: {error}"
        result.seconds = round(time.monotonic() - started, 2)
        return result

    def close(self) -> None:
        for reference in self.references.values():
            if isinstance(reference, Reference):
                reference.close()
        shutil.rmtree(self.root, ignore_errors=True)


def grade_notebook(path: Path, solutions: dict | None = None, timeout: float = 60.0,
                   assignment: str | None = None, feedback: Path | None = None) -> Result:
    """Grade one submitted notebook (see the module docstring). Grader errors land in ``.error``."""
    grader = Grader(load_solutions() if solutions is None else solutions, options=Options(timeout=timeout),
                    feedback=feedback, submissions=[Path(path)])
    try:
        return grader.grade(path, assignment)
    finally:
        grader.close()


# ---------------------------------------------------------------------------------------------
# reports


def rows(results: list[Result]) -> list[dict]:
    """Gradebook rows: one per notebook and part, and a TOTAL row per notebook."""
    out = []
    for r in results:
        base = {"notebook": r.notebook, "assignment": r.assignment}
        for p in r.parts:
            out.append({**base, "part": p.grade_id, "points": "" if p.points is None else p.points,
                        "max_points": p.max_points, "status": p.status, "message": p.message, "isolation": ""})
        status = "error" if r.error else ("completed" if r.completed else "incomplete")
        out.append({**base, "part": TOTAL, "points": "" if r.error and not r.parts else r.points,
                    "max_points": r.max_points,
                    "status": status, "message": r.error or r.note, "isolation": r.isolation})
    return out


def print_table(results: list[Result], file=sys.stdout, width: int = 70) -> None:
    for r in results:
        if r.error and not r.parts:
            print(f"{r.notebook}: GRADER ERROR: {r.error}", file=file)
            continue
        print(f"{r.notebook}  ({r.assignment}): {r.points:g} / {r.max_points:g}"
              + (f"  [{r.note}]" if r.note else "") + (f"  [ERROR: {r.error}]" if r.error else ""), file=file)
        for p in r.parts:
            got = "manual" if p.points is None else f"{p.points:.4g}"
            message = p.message if len(p.message) <= width else p.message[: width - 3] + "..."
            print(f"  {p.grade_id:<28} {got:>6} / {p.max_points:<4g} {p.status:<8} {message}", file=file)


def write_reports(results: list[Result], csv_path: Path | None, json_path: Path | None) -> None:
    table = rows(results)
    if csv_path:
        fields = ["notebook", "assignment", "part", "points", "max_points", "status", "message", "isolation"]
        with open(csv_path, "w", newline="", encoding="utf-8") as f:
            writer = csv.DictWriter(f, fieldnames=fields)
            writer.writeheader()
            writer.writerows(table)
    if json_path:
        payload = [{**asdict(r), "points": r.points, "max_points": r.max_points} for r in results]
        json_path.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.grade", description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path, help="submitted .ipynb files")
    parser.add_argument("--timeout", type=float, default=60.0,
                        help="seconds per cell, and at most per case of a check (default 60)")
    parser.add_argument("--deadline", type=float, default=900.0,
                        help="wall-clock seconds for one submission, all its cells together (default 900)")
    parser.add_argument("--memory", type=float, default=4.0, help="GiB of memory per submission (default 4)")
    parser.add_argument("--csv", type=Path, help="write one row per notebook and part to this CSV file")
    parser.add_argument("--json", type=Path, help="write the results to this JSON file")
    parser.add_argument("--feedback", type=Path, help="save the notebooks as run in this folder")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS, help="the course's solution notebooks")
    parser.add_argument("--assignment", help="the solution notebook's stem, for every notebook given")
    parser.add_argument("--jobs", type=int, default=1, help="notebooks graded at the same time (default 1)")
    parser.add_argument("--hide", type=Path, action="append", default=[],
                        help="another file or folder the submissions must not see (repeatable)")
    args = parser.parse_args(argv)

    limits = sandbox.Limits(cpu_seconds=int(args.deadline) + 60, memory_bytes=int(args.memory * 2**30))
    options = Options(timeout=args.timeout, deadline=args.deadline, limits=limits, hide=args.hide)
    results: list[Result] = []
    grader = None
    try:
        grader = Grader(load_solutions(args.solutions), args.solutions, options, args.feedback, args.notebooks)
        print(f"isolation: {grader.isolation}")
        for note in sandbox.probe().notes:
            print(f"  ({note})")
        if sandbox.probe().drops_uid and _private_data_cache():
            print("  (the data cache has files only their owner can read: the submissions' users load datasets "
                  + ("from the mirror into a cache of their own)" if os.environ.get("COURSEKIT_MIRROR") else
                     "nowhere; make it readable (chmod -R a+rX data/) or set COURSEKIT_MIRROR)"))
        for result in grader.grade_all(args.notebooks, args.assignment, args.jobs):
            print_table([result])
            results.append(result)
    finally:
        # the gradebook is written whatever happened, with a row for every notebook
        graded = {r.notebook for r in results}
        results += [Result(notebook=str(p), error="not graded: the grader stopped before it")
                    for p in args.notebooks if str(p) not in graded]
        write_reports(results, args.csv, args.json)
        if grader is not None:
            grader.close()
    errors = [r for r in results if r.error]
    if errors:
        print(f"{len(errors)} notebook(s) could not be graded", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
