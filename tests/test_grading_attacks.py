"""Attacks on the grader, as a cheating student would write them: none may raise a score.

Each attack is a few lines in the learner's cells of the *blank* exercise 01 (the functions still
raise NotImplementedError, or return garbage). One ``coursekit.grade`` batch grades them all, side
by side with an honest full solution; each attack is its own test case: it scores 0, the batch
completes (its gradebook has every notebook), and the attack's row says what happened where
there is something to say (killed, out of memory, stopped from outside).

The attacks that fooled the first edition are checked against the in-kernel design too (the
mutation check): run the same way the first edition ran them, in the learner's own kernel, they
do score, so scoring 0 here is the grader's doing and not an attack that was broken anyway. The
same batch runs again without bubblewrap (the fallback: rlimits and an unprivileged uid).
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from coursekit import plaindata, sandbox

ROOT = Path(__file__).resolve().parent.parent
STEM = "01_neurons_and_activations"
# the exercise's three graded functions (grade id = function name) and their signatures
FIRST, SECOND, THIRD = "log_sigmoid", "softmax_backward", "log_softmax_backward"
SIGNATURES = {FIRST: "z", SECOND: "z, grad_out, dim=-1", THIRD: "z, grad_out, dim=-1"}
STUB = f"def {FIRST}(z):\n    raise NotImplementedError()\n"
# a wrong answer everywhere (z * 0 would be right for a backward whose grad_out is constant)
GARBAGE = {name: f"def {name}({sig}):\n    return z * 0 + 0.4242\n" for name, sig in SIGNATURES.items()}


def _returning(expression: str) -> dict[str, str]:
    return {name: f"def {name}({sig}):\n    return {expression}\n" for name, sig in SIGNATURES.items()}


STEAL = '''import inspect


def _steal():
    # the expected value, read out of check's stack frame
    frame = inspect.currentframe()
    while frame is not None:
        case = frame.f_locals.get("case")
        if case is not None and hasattr(case, "expected"):
            return case.expected
        frame = frame.f_back
    raise NotImplementedError()
'''
SUBCLASS = '''import numpy as np
import torch


class _Yes(np.ndarray):
    # an array that says "equal" to everything
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.ones(np.broadcast_shapes(*(np.shape(i) for i in inputs)), dtype=bool)

    def astype(self, *args, **kwargs):
        return self


class Anything(torch.Tensor):
    def numpy(self, *args, **kwargs):
        return np.zeros(tuple(self.shape)).view(_Yes)
'''
SIGNALS = {signal.SIGINT, signal.SIGALRM}
ATTACKS = {
    "rebind_check": {FIRST: "check = lambda *args, **kwargs: None\n\n\n" + STUB},
    "patch_compare": {**GARBAGE, FIRST: "import coursekit.grading as grading\n\ngrading._compare = lambda *args, **kwargs: None\n"
                                        "grading.judge = lambda *args, **kwargs: ''\n\n\n" + GARBAGE[FIRST]},
    "stack_frame": {**_returning("_steal()"), FIRST: STEAL + "\n\n" + _returning("_steal()")[FIRST]},
    "tensor_subclass": {**_returning("Anything(torch.empty_like(z))"),
                        FIRST: SUBCLASS + "\n\n" + _returning("Anything(torch.empty_like(z))")[FIRST]},
    "custom_exception_handler": {FIRST: "get_ipython().set_custom_exc((BaseException,), lambda *a, **k: None)"
                                        "\n\n\n" + STUB},
    "kill_parent": {FIRST: "import os\nimport signal\n\nos.kill(os.getppid(), signal.SIGKILL)\n\n\n" + STUB},
    "kill_itself": {FIRST: f"import os\nimport signal\n\n\ndef {FIRST}(z):\n"
                           "    os.kill(os.getpid(), signal.SIGKILL)\n"},
    "ignore_signals": {FIRST: "import signal\n\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                              "signal.signal(signal.SIGALRM, signal.SIG_IGN)\n\n\n"
                              f"def {FIRST}(z):\n"
                              "    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGALRM})\n"
                              "    while True:\n        pass\n"},
    "write_solutions": {FIRST: '''from pathlib import Path

import coursekit

solutions = Path(coursekit.__file__).resolve().parents[1] / "solutions"
found = sorted(solutions.glob("*.ipynb"))
print("solutions visible:", len(found))
for path in found + [solutions / "01_neurons_and_activations.ipynb", solutions / "new.ipynb"]:
    try:
        path.write_text("{}")
        print("WROTE", path)
    except OSError as error:
        print("could not write", path.name, type(error).__name__)


''' + STUB},
    "fork_bomb": {FIRST: "import os\n\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n"
                         "        pass\n\n\n" + STUB},
    "memory_hog": {FIRST: "hog = []\nwhile True:\n    hog.append(bytearray(100 * 2**20))\n\n\n" + STUB,
                   SECOND: f"import torch\n\n\ndef {SECOND}({SIGNATURES[SECOND]}):\n    return torch.ones(2**33)\n"},
}
# what the gradebook says happened (in the note or a part's message), where something happened
MARKS = {
    "kill_itself": ["killed"],
    "ignore_signals": ["took longer than"],
    "fork_bomb": [FIRST],  # the cell ends by its time limit, the fork errors or the kill from outside
    "memory_hog": ["MemoryError", "can't allocate memory"],
    "kill_parent": ["PermissionError", "killed"],
}
FALLBACK = ["kill_parent", "fork_bomb", "memory_hog", "write_solutions"]  # the attacks on the isolation itself


def _auto_points() -> float:
    """What the exercise's autograded tests are worth (its written part is graded by hand)."""
    solution = nbformat.read(ROOT / "solutions" / f"{STEM}.ipynb", as_version=4)
    return sum(c.metadata["nbgrader"]["points"] for c in solution.cells
               if c.metadata.get("nbgrader", {}).get("grade") and not c.metadata["nbgrader"].get("solution"))


def _notebook(sources: dict[str, str]):
    nb = nbformat.read(ROOT / "exercises" / f"{STEM}.ipynb", as_version=4)
    ids = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in nb.cells}
    assert set(sources) <= ids, f"the attack targets cells exercise {STEM} no longer has: {set(sources) - ids}"
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in sources:
            cell.source = sources[gid]
    return nb


def _full_sources() -> dict[str, str]:
    solution = nbformat.read(ROOT / "solutions" / f"{STEM}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: c.source for c in solution.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def _digest(folder: Path) -> dict[str, str]:
    """The notebooks the attack tries to write (others may be edited meanwhile by the course's authors)."""
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() if (folder / name).exists() else ""
            for name in (f"{STEM}.ipynb", "new.ipynb")}


def _grade_batch(folder: Path, names: list[str], env: dict) -> dict:
    folder.mkdir(parents=True)
    for name in names:
        nbformat.write(_notebook(ATTACKS[name]), folder / f"{name}.ipynb")
    nbformat.write(_notebook(_full_sources()), folder / "honest.ipynb")
    before = _digest(ROOT / "solutions")
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "coursekit.grade", *sorted(map(str, folder.glob("*.ipynb"))), "--jobs", "2",
         "--timeout", "4", "--deadline", "240", "--memory", "2", "--json", str(folder / "grades.json"),
         "--csv", str(folder / "grades.csv"), "--feedback", str(folder / "feedback")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500)
    seconds = time.perf_counter() - started
    results = {Path(r["notebook"]).stem: r for r in json.loads((folder / "grades.json").read_text())}
    rows = list(csv.DictReader((folder / "grades.csv").open()))
    return {"results": results, "rows": rows, "output": done.stdout + done.stderr, "code": done.returncode,
            "seconds": seconds, "folder": folder, "solutions_before": before,
            "solutions_after": _digest(ROOT / "solutions")}


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """Every attack and an honest notebook, graded in one batch with the best isolation here."""
    return _grade_batch(tmp_path_factory.mktemp("attacks") / "batch", list(ATTACKS), dict(os.environ))


@pytest.fixture(scope="module")
def attacked_without_bubblewrap(tmp_path_factory):
    """The fallback: a subprocess with rlimits (and its own uid when the grader is root)."""
    return _grade_batch(tmp_path_factory.mktemp("fallback") / "batch", FALLBACK,
                        dict(os.environ, COURSEKIT_SANDBOX="subprocess"))


def _check_attack(batch, name):
    results = batch["results"]
    assert set(results) == {*(n for n in results if n != "honest"), "honest"}
    assert name in results, f"{name} is missing from the gradebook:\n{batch['output'][-3000:]}"
    result = results[name]
    assert not result["error"], result["error"]
    assert result["max_points"] == _auto_points() and result["points"] == 0, result["parts"]
    assert any(r["notebook"].endswith(f"{name}.ipynb") and r["part"] == "TOTAL" for r in batch["rows"])
    honest = results["honest"]
    assert honest["points"] == honest["max_points"] == _auto_points(), honest["parts"]  # graded beside the attacks
    assert batch["code"] == 0, batch["output"][-3000:]
    if name in MARKS:
        said = result["note"] + " ".join(p["message"] for p in result["parts"])
        assert any(mark in said for mark in MARKS[name]), (name, said)
    assert batch["solutions_after"] == batch["solutions_before"], "solutions/ changed"


@pytest.mark.parametrize("name", list(ATTACKS))
def test_attack_on_the_blank_exercise_scores_zero_and_the_batch_completes(attacked, name):
    _check_attack(attacked, name)


@pytest.mark.parametrize("name", FALLBACK)
def test_attack_scores_zero_without_bubblewrap_too(attacked_without_bubblewrap, name):
    _check_attack(attacked_without_bubblewrap, name)


def test_the_gradebook_says_which_isolation_was_in_force(attacked, attacked_without_bubblewrap):
    with_bwrap = {r["isolation"] for r in attacked["rows"] if r["part"] == "TOTAL"}
    without = {r["isolation"] for r in attacked_without_bubblewrap["rows"] if r["part"] == "TOTAL"}
    assert len(with_bwrap) == len(without) == 1
    assert "without bubblewrap" in without.pop()
    assert ("bubblewrap (" in with_bwrap.pop()) == bool(sandbox.probe().bwrap)


def test_solutions_are_hidden_and_read_only_for_a_submission(attacked):
    executed = nbformat.read(attacked["folder"] / "feedback" / "write_solutions.ipynb", as_version=4)
    text = "".join(o.get("text", "") for c in executed.cells for o in c.get("outputs", []))
    assert "WROTE" not in text and "could not write" in text
    if sandbox.probe().bwrap:
        assert "solutions visible: 0" in text


def test_an_endless_case_that_blocks_signals_is_stopped_from_outside(attacked):
    result = attacked["results"]["ignore_signals"]
    part = next(p for p in result["parts"] if p["grade_id"] == f"test_{FIRST}")
    assert "took longer than 4 s" in part["message"]
    assert result["seconds"] < 120


def test_without_root_or_bubblewrap_killing_the_parent_kills_only_the_nanny(tmp_path, monkeypatch):
    """The weakest fallback (the submission runs as the grading user): its parent is a nanny process,
    so the grader survives, sees what happened, and stop() ends the submission's process too."""
    monkeypatch.setenv("COURSEKIT_SANDBOX", "subprocess-same-user")
    sandbox.probe.cache_clear()
    try:
        script = ("import os, signal, time\nopen('pid', 'w').write(str(os.getpid()))\n"
                  "os.kill(os.getppid(), signal.SIGKILL)\ntime.sleep(60)\n")
        box = sandbox.start([sys.executable, "-c", script], tmp_path, uid=None, limits=sandbox.Limits(),
                            env=dict(os.environ))
        box.process.wait(timeout=60)
        assert box.process.returncode == -signal.SIGKILL  # the nanny died, not us
        deadline = time.monotonic() + 30
        while not (tmp_path / "pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        pid = int((tmp_path / "pid").read_text())
        sandbox.stop(box)
        time.sleep(0.5)
        assert not Path(f"/proc/{pid}").exists() or "Z" in Path(f"/proc/{pid}/stat").read_text().split()[2]
    finally:
        monkeypatch.delenv("COURSEKIT_SANDBOX")
        sandbox.probe.cache_clear()


# ---------------------------------------------------------------------------------------------
# mutation checks: the same attacks, run the first edition's way (in the learner's kernel), score


def _score_in_kernel(sources: dict[str, str]) -> dict[str, bool]:
    """Run the exercise with the course's test cells in the learner's own IPython shell, the way
    the first edition graded (a test cell passes when the kernel reports no error)."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    from coursekit import grading

    solution = nbformat.read(ROOT / "solutions" / f"{STEM}.ipynb", as_version=4)
    blank = {c.metadata["nbgrader"]["grade_id"]: c.source for c in _notebook({}).cells
             if c.metadata.get("nbgrader", {}).get("solution")}
    shell = InteractiveShell()
    reported = []
    show = shell.showtraceback
    shell.showtraceback = lambda *args, **kwargs: (reported.append(1), show(*args, **kwargs))
    saved = dict(vars(grading))
    passed = {}
    try:
        for cell in solution.cells:
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type != "code":
                continue
            source = sources.get(meta.get("grade_id"), blank.get(meta.get("grade_id"))) \
                if meta.get("solution") else cell.source
            errors_before = len(reported)
            with capture_output():
                shell.run_cell(source)
            if meta.get("grade"):
                passed[meta["grade_id"]] = len(reported) == errors_before
    finally:
        for key, value in saved.items():  # the attack patched the module in this process
            setattr(grading, key, value)
    return passed


@pytest.mark.parametrize("name", ["rebind_check", "patch_compare", "stack_frame", "custom_exception_handler"])
def test_mutation_the_attack_scores_when_checks_run_in_the_learners_kernel(name):
    passed = _score_in_kernel(ATTACKS[name])
    assert any(passed.values()), f"{name} should fool an in-kernel grader: {passed}"
    assert not any(_score_in_kernel({}).values()), "the blank exercise itself scores nothing in-kernel"


def test_mutation_killing_the_parent_kills_a_grader_that_is_the_parent(tmp_path):
    """Without the sandbox between them, the attack's cell kills the process that started it."""
    cell = ATTACKS["kill_parent"][FIRST]
    parent = subprocess.Popen([sys.executable, "-c", "import subprocess, sys; subprocess.run([sys.executable, '-c', "
                               f"{cell!r}]); print('survived')"], stdout=subprocess.PIPE, text=True)
    out, _ = parent.communicate(timeout=120)
    assert parent.returncode == -signal.SIGKILL and "survived" not in out


def test_mutation_a_case_that_blocks_signals_outlives_the_in_process_time_limit():
    code = ("import signal, time\nfrom coursekit.grading import Case, check\n"
            + ATTACKS["ignore_signals"][FIRST]
            + f"\ncheck({FIRST}, [Case(args=(1,), expected=1)], time_limit=0.5)\n")
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run([sys.executable, "-c", code], timeout=8, capture_output=True)


def test_a_tensor_subclass_reaches_the_grader_as_a_plain_tensor_of_its_data():
    import numpy as np
    import torch

    namespace: dict = {}
    exec(SUBCLASS, namespace)
    sneaky = namespace["Anything"](torch.tensor([1.0, 2.0]))
    assert bool((sneaky.numpy() == np.array([5.0, 6.0])).all())  # it "equals" anything in-process
    received = plaindata.loads(plaindata.dumps(sneaky))
    assert type(received) is torch.Tensor and received.tolist() == [1.0, 2.0]  # its real data, nothing else
