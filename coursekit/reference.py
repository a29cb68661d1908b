"""The grader's trusted side: run the course's solution notebook, collect its checks, judge outcomes.

    python -m coursekit.reference SOLUTION.ipynb FOLDER    (started by ``coursekit.grade``)

One process per exercise, outside any sandbox, for a whole batch:

1. it runs the solution notebook's code cells in order (setup cells, the *reference* solution,
   and the graded test cells with their hidden cases) with ``check`` switched to collecting:
   each call records the part it belongs to (the test cell's ``grade_id``), the function's name,
   the options and the cases. The expected values stay in this process;
2. it writes the cases' *inputs* to ``FOLDER/inputs.json`` (plain data, ``coursekit.plaindata``)
   for the learners' sandboxes, and answers on stdout with one JSON line: the parts, their
   checks' time limits, and the rule violations found in the course's test cells;
3. then, for each JSON request line ``{"judge": EVENTS_FILE, "outcomes": {...}}`` on stdin, it
   reads a learner's outcomes (untrusted data, size-limited), judges every case with the same
   ``coursekit.grading.judge`` the in-notebook check uses, and answers with each part's lines
   (what ``check`` would have printed) and credit.

The rules a graded test cell must follow here (see the README, "Writing an exercise"): pass
``check`` a top-level function by name (no lambda, partial, method, or function defined in the
test cell); build cases and call ``check`` only; plain data in the cases' inputs.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import types
from pathlib import Path

from . import grading, plaindata
from .grading import Case, Outcome

JUDGE_SECONDS = 60.0  # for the course's property checks (`expected` callables) on one result
MAX_EVENTS_BYTES = 600 * 2**20


class Collected:
    """The checks of one part (a graded test cell)."""

    def __init__(self):
        self.checks: list[dict] = []
        self.problems: list[str] = []


def _defined_in_running_cell(fn) -> bool:
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    frame = sys._getframe()
    while frame is not None:
        if frame.f_code.co_filename == code.co_filename and frame.f_code.co_name == "<module>":
            return True
        frame = frame.f_back
    return False


def _bare_asserts(source: str) -> list[int]:
    """Lines of ``assert`` statements outside any function in a cell (rule 2 forbids them)."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found, todo = [], list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, ast.Assert):
            found.append(node.lineno)
        todo.extend(ast.iter_child_nodes(node))
    return sorted(found)


def collect_notebook(nb, cell_seconds: float = 1800.0) -> tuple[dict[str, Collected], dict[str, str], object]:
    """Run the solution notebook with ``check`` collecting: ({grade_id: Collected}, cell errors, shell)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from .exercises import nbgrader_meta

    shell = InteractiveShell.instance(colors="nocolor")
    parts: dict[str, Collected] = {}
    cell_errors: dict[str, str] = {}
    current = {"gid": None}

    def collector(fn, cases, *, name, atol, rtol, time_limit, banned):
        gid = current["gid"]
        if gid is None:
            return None  # a check outside a graded cell: nothing to grade
        part = parts.setdefault(gid, Collected())
        where = f"check #{len(part.checks) + 1} of {gid}"
        fn_name = getattr(fn, "__name__", "")
        if not isinstance(fn, types.FunctionType) or fn_name == "<lambda>":
            part.problems.append(f"{where}: pass check a top-level function by its name, not "
                                 f"{'a lambda' if fn_name == '<lambda>' else type(fn).__name__}")
        elif shell.user_ns.get(fn_name) is not fn:
            part.problems.append(f"{where}: {fn_name} is not a top-level name of the notebook")
        elif _defined_in_running_cell(fn):
            part.problems.append(f"{where}: {fn_name} is defined in the test cell; define it in a solution "
                                 f"cell (the learner's) or in a locked setup cell")
        try:
            grading.check_banned_names(banned)
        except ValueError as error:
            part.problems.append(f"{where}: {error}")
        inputs = []
        for number, case in enumerate(cases, 1):
            if not isinstance(case, Case):
                part.problems.append(f"{where}: case {number} is not a Case")
                continue
            try:
                plaindata.encode((tuple(case.args), dict(case.kwargs)), f"case {number}'s inputs")
            except plaindata.NotPlainData as error:
                part.problems.append(f"{where}: {error}")
            if not callable(case.expected):
                try:
                    plaindata.encode(case.expected, f"case {number}'s expected value")
                except plaindata.NotPlainData as error:
                    part.problems.append(f"{where}: {error}")
            inputs.append((tuple(case.args), dict(case.kwargs)))
        part.checks.append({"fn": fn_name, "name": name or fn_name, "atol": atol, "rtol": rtol,
                            "time_limit": float(time_limit), "banned": list(banned), "cases": list(cases),
                            "inputs": inputs})
        return None

    grading.set_collector(collector)
    try:
        for cell in nb.cells:
            if cell.cell_type != "code" or not cell.source.strip():
                continue
            meta = nbgrader_meta(cell)
            graded = bool(meta.get("grade")) and not meta.get("solution")
            current["gid"] = meta.get("grade_id") if graded else None
            if graded:
                part = parts.setdefault(current["gid"], Collected())
                for line in _bare_asserts(cell.source):
                    part.problems.append(f"line {line} of the test cell is a bare assert: in the grader it would "
                                         f"test the reference solution; make it a Case (an `expected` function "
                                         f"can check a property)")
            with capture_output():
                result = shell.run_cell(cell.source, store_history=True)
            error = result.error_before_exec or result.error_in_exec
            if error is not None:
                name = meta.get("grade_id") or f"cell {nb.cells.index(cell)}"
                cell_errors[name] = f"{type(error).__name__}: {str(error)[:300]}"
                if graded:
                    parts[current["gid"]].problems.append(f"the test cell raised {cell_errors[name]}")
    finally:
        grading.set_collector(None)
        current["gid"] = None
    for part in parts.values():
        if not part.checks and not part.problems:
            part.problems.append("the test cell never called check()")
    return parts, cell_errors, shell


# ---------------------------------------------------------------------------------------------
# judging a learner's outcomes


_STATUSES = {"returned", "raised", "timeout", "missing", "lost", "skipped"}


def _text(value, limit: int = 300) -> str:
    text = value if isinstance(value, str) else ""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def outcome_from_data(data, banned: list[str]) -> Outcome:
    """An Outcome from untrusted data (a learner's events file), checked field by field."""
    if not isinstance(data, dict) or data.get("status") not in _STATUSES:
        return Outcome("lost", message="the grader could not read what your notebook sent back")
    status = data["status"]
    outcome = Outcome(status, error=_text(data.get("error"), 100), message=_text(data.get("message")),
                      where=_text(data.get("where")), seeded=data.get("seeded") is True,
                      changed_inputs=data.get("changed_inputs") is True)
    outcome.banned = [name for name in banned if isinstance(data.get("banned"), list) and name in data["banned"]]
    if status == "returned":
        try:
            outcome.result = plaindata.decode(data.get("result"))
            outcome.repeat = plaindata.decode(data.get("repeat"))
        except (plaindata.NotPlainData, ValueError, TypeError) as error:
            return Outcome("lost", message=f"the grader could not read your result: {_text(str(error))}")
    return outcome


def read_events(path: Path) -> dict[tuple, dict]:
    """Case outcomes from an events file: {(grade_id, check, case): outcome data}."""
    found: dict[tuple, dict] = {}
    try:
        with open(path, "rb") as stream:
            data = stream.read(MAX_EVENTS_BYTES + 1)
    except OSError:
        return found
    for line in data[:MAX_EVENTS_BYTES].splitlines():
        try:
            event = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if isinstance(event, dict) and event.get("event") == "case":
            key = (event.get("part"), event.get("check"), event.get("case"))
            if isinstance(key[0], str) and type(key[1]) is int and type(key[2]) is int:
                found[key] = event.get("outcome")
    return found


def _with_time_limit(seconds: float, fn, *args):
    def on_alarm(signum, frame):
        raise TimeoutError(f"took more than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        return fn(*args)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def judge_part(part: Collected, gid: str, outcomes: dict[tuple, dict], not_run: str,
               case_limit: float = float("inf")) -> dict:
    """Judge one part's cases (all its checks pooled): credit, lines, failures."""
    lines: list[str] = []
    failures: list[str] = []
    passed = total = 0.0
    n_cases = n_passed = 0
    for j, spec in enumerate(part.checks):
        cases: list[Case] = spec["cases"]
        name = spec["name"]
        limit = min(spec["time_limit"], case_limit)
        hints: list[str | None] = [None] * len(cases)
        stopped = ""
        for k, case in enumerate(cases):
            data = outcomes.get((gid, j, k))
            if data is None:
                outcome = Outcome("lost", message=not_run)
            else:
                outcome = outcome_from_data(data, spec["banned"])
            try:
                hints[k] = _with_time_limit(JUDGE_SECONDS, grading.judge, case, outcome, name, spec["atol"],
                                            spec["rtol"], limit)
            except TimeoutError:
                hints[k] = "the course's check of your result took too long"
            stopped = grading.stops_the_check(outcome)
            if stopped:
                break
        verdict = grading.report(name, cases, hints, stopped)
        lines += verdict.lines
        passed += verdict.passed_weight
        total += verdict.total_weight
        n_cases += verdict.n_cases
        n_passed += verdict.n_cases - len(verdict.failures)
        failures += [f"{name} case {n}" + (f" ({note})" if note else "") + f": {hint}"
                     for n, note, hint in verdict.failures if hint != "not run"]
    return {"fraction": passed / total if total > 0 else 0.0, "lines": lines, "failures": failures,
            "n_cases": n_cases, "n_passed": n_passed}


def main(argv: list[str] | None = None) -> int:
    import nbformat

    argv = sys.argv[1:] if argv is None else argv
    solution, folder = Path(argv[0]), Path(argv[1])
    # the protocol uses the real stdout; everything the notebook prints goes to stderr
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    def answer(**message):
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    nb = nbformat.read(solution, as_version=4)
    os.chdir(solution.resolve().parent)
    parts, cell_errors, _shell = collect_notebook(nb)
    # a part whose test cell breaks the rules is not graded (the grader reports it as the course's error)
    inputs = {gid: [{"fn": c["fn"], "time_limit": c["time_limit"], "banned": c["banned"], "cases": c["inputs"]}
                    for c in part.checks] for gid, part in parts.items() if not part.problems}
    path = folder / "inputs.json"
    path.write_text(json.dumps(plaindata.encode(inputs)), encoding="utf-8")
    os.chmod(path, 0o644)
    answer(ready=True, inputs=str(path), cell_errors=cell_errors,
           parts={gid: {"time_limits": [c["time_limit"] for c in part.checks], "problems": part.problems}
                  for gid, part in parts.items()})
    for line in sys.stdin:
        request = json.loads(line)
        outcomes = read_events(Path(request["judge"]))
        for key, data in request.get("outcomes", []):  # the supervisor's own verdicts (time-outs, kills)
            outcomes[tuple(key)] = data
        answer(parts={gid: judge_part(part, gid, outcomes, request.get("not_run", "not run"),
                                      float(request.get("case_limit", float("inf"))))
                      for gid, part in parts.items() if not part.problems})
    return 0


if __name__ == "__main__":
    sys.exit(main())
