"""Run a learner's notebook in the sandbox and harvest what their functions return.

    python -m coursekit.harvest JOB.json     (started by ``coursekit.grade`` inside the sandbox)

The job lists the notebook's code cells in order: the course's setup cells, the learner's own
cells, and in place of each graded test cell a *harvest step*. The cells run in an IPython shell
(magics work) with a time limit each. A harvest step reads the inputs of that part's cases (plain
data, ``coursekit.plaindata``), calls the learner's function **by name** on each, and records the
outcome: the result (plain data), the exception as text, a time-out, the banned calls the call
reached, and for ``Seeded`` cases a second result for the generator proof. No expected value is
ever here: the grader compares in its own process.

Everything is appended to the events file as JSON lines as soon as it happens, so a process that
is killed halfway loses only the step it was in. Nothing in this process is trusted: the
learner's code runs in it and may change any of it; the grader treats each line as data.
"""

from __future__ import annotations

import json
import signal
import sys
import time
from pathlib import Path

MAX_TEXT = 20_000  # characters of a cell's output kept for the feedback notebook


class CellTimeout(BaseException):
    """Raised in a cell that ran past its time limit (a BaseException: `except Exception` in
    the learner's code does not catch it)."""


def _emit(stream, **event) -> None:
    stream.write(json.dumps(event, allow_nan=True) + "\n")
    stream.flush()


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit // 2] + "\n[...]\n" + text[-limit // 2:]


def _run_cell(shell, source: str, seconds: float) -> dict:
    """Run one cell with a time limit; what happened, as plain data."""
    from IPython.utils.capture import capture_output

    timed_out = []

    def on_alarm(signum, frame):
        timed_out.append(True)
        raise CellTimeout(f"stopped after the {seconds:g} s time limit per cell")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        with capture_output() as captured:
            result = shell.run_cell(source, store_history=True)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    text = captured.stdout + captured.stderr
    images = [o.data["image/png"] for o in captured.outputs if "image/png" in getattr(o, "data", {})][:4]
    error = result.error_before_exec or result.error_in_exec
    if timed_out:
        return {"status": "timeout", "error": "CellTimeout", "message": f"stopped after the {seconds:g} s time "
                "limit per cell (an infinite loop?)", "text": _clip(text), "images": images}
    if error is not None:
        return {"status": "error", "error": type(error).__name__, "message": str(error)[:500],
                "text": _clip(text), "images": images}
    return {"status": "ok", "text": _clip(text), "images": images}


def _outcome_event(outcome) -> dict:
    """An Outcome as plain data; a result that is not plain data becomes a 'lost' outcome."""
    from . import plaindata

    try:
        return {"status": outcome.status, "error": str(outcome.error), "message": str(outcome.message),
                "where": str(outcome.where), "banned": [str(b) for b in outcome.banned],
                "seeded": bool(outcome.seeded), "changed_inputs": bool(outcome.changed_inputs),
                "seconds": float(outcome.seconds),
                "result": plaindata.encode(outcome.result, "your result"),
                "repeat": plaindata.encode(outcome.repeat, "your result")}
    except BaseException as error:  # anything the learner's objects do while being read
        return {"status": "lost", "message": f"your function returned something the grader cannot read: "
                                            f"{type(error).__name__}: {str(error)[:200]}"}


def reap_strays() -> None:
    """Kill every other process of this sandbox's user (what a fork bomb or a background process
    left behind). Only run when the sandbox has a user id of its own."""
    import os

    try:
        os.kill(-1, signal.SIGKILL)  # every process we may signal, except ourselves
    except (ProcessLookupError, PermissionError):
        pass


def harvest(shell, part: str, checks: list, done: set, stopped: set, events, case_limit: float,
            reap=lambda: None) -> None:
    """Run the learner's functions on one part's cases (see the module docstring)."""
    from IPython.utils.capture import capture_output

    from .grading import Case, Outcome, run_case, stops_the_check

    for j, spec in enumerate(checks):
        if (part, j) in stopped:
            continue
        fn = shell.user_ns.get(spec["fn"])
        limit = min(float(spec["time_limit"]), case_limit)
        for k, (args, kwargs) in enumerate(spec["cases"]):
            if (part, j, k) in done:
                continue
            _emit(events, event="case_start", part=part, check=j, case=k)
            try:
                with capture_output():  # the learner's prints are not graded
                    outcome = run_case(fn, Case(args=args, kwargs=kwargs), limit, tuple(spec["banned"]))
            except BaseException as exc:  # SystemExit, KeyboardInterrupt, ... from the learner's code
                outcome = Outcome("raised", error=type(exc).__name__, message=str(exc)[:300])
            reap()
            _emit(events, event="case", part=part, check=j, case=k, outcome=_outcome_event(outcome))
            if stops_the_check(outcome):
                break


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    events = open(job["events"], "a", encoding="utf-8")

    from IPython.core.interactiveshell import InteractiveShell

    from . import plaindata

    inputs = plaindata.decode(json.loads(Path(job["inputs"]).read_text(encoding="utf-8")))
    shell = InteractiveShell.instance(colors="nocolor")
    _emit(events, event="hello", time=time.time())  # started: from here on, every step has its time limit
    done = {tuple(key) for key in job.get("done", [])}
    stopped = {tuple(key) for key in job.get("stopped", [])}
    skip = set(job.get("skip", []))
    reap = reap_strays if job.get("reap") else (lambda: None)
    for cell in job["cells"]:
        index = cell["index"]
        if index in skip:
            continue
        if cell["kind"] == "test":
            _emit(events, event="start", cell=index)
            harvest(shell, cell["grade_id"], inputs.get(cell["grade_id"], []), done, stopped, events,
                    float(job["case_limit"]), reap)
            _emit(events, event="cell", cell=index, status="ok")
        else:
            _emit(events, event="start", cell=index)
            outcome = _run_cell(shell, cell["source"], float(cell["timeout"]))
            reap()
            _emit(events, event="cell", cell=index, **outcome)
    _emit(events, event="done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
