"""The exercise system, for every notebook in solutions/ (new ones are covered automatically).

* exercises/ is what ``python -m coursekit.exercises`` makes of solutions/, and gives nothing away;
* nbgrader accepts the solution notebooks as they are, and releases the same notebooks we generate;
* grading proves both directions: the solution scores full marks, the blank exercise zero (and
  runs to the end saying "not implemented"), the CI mutant loses credit on exactly its listed
  parts even with its test cells edited to ``pass`` or deleted, and an endless cell costs its
  part only; and the course's test cells follow the rules that grading outside the learner's
  process needs (a part that breaks them is reported as an error, with what to change).

The graded runs are shared by all tests (one module-scoped fixture): one ``coursekit.grade`` call
grades the full, blank and mutant submissions of every exercise, a second one side by side the
endless ones with a short cell timeout. The attacks on the grader are in test_grading_attacks.py.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from coursekit import exercises, grade, sandbox

ROOT = Path(__file__).resolve().parent.parent
SOLUTION_PATHS = sorted((ROOT / "solutions").glob("*.ipynb"))
STEMS = [p.stem for p in SOLUTION_PATHS]
LOOP_TIMEOUT = 10  # seconds per cell for the endless-loop run (the course's setup cells get more)


def read(path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def test_there_are_solution_notebooks():
    assert SOLUTION_PATHS, "solutions/ has no notebooks"


# ---------------------------------------------------------------------------------------------
# format of the solution notebooks


@pytest.mark.parametrize("stem", STEMS)
def test_solution_notebook_format(stem):
    nb = read(ROOT / "solutions" / f"{stem}.ipynb")
    ids = [meta(c)["grade_id"] for c in nb.cells if meta(c)]
    assert len(ids) == len(set(ids)), f"duplicate grade ids: {ids}"
    assert all(meta(c).get("schema_version") == 3 for c in nb.cells if meta(c))
    tests = [c for c in nb.cells if grade._is_auto_test(c)]
    solutions = [c for c in nb.cells if meta(c).get("solution")]
    assert tests and solutions
    assert all(meta(c)["locked"] and meta(c)["points"] > 0 for c in tests)
    assert all("BEGIN SOLUTION" not in c.source for c in tests)
    assert any("BEGIN HIDDEN TESTS" in c.source for c in tests), "at least one hidden test"
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    assert "from coursekit.grading import" in first_code.source
    mutants = [c for c in nb.cells if "mutant" in c.metadata.get("coursekit", {})]
    assert mutants, "at least one solution cell needs a CI mutant"
    test_ids = {meta(c)["grade_id"] for c in tests}
    for cell in mutants:
        assert meta(cell).get("solution")
        fails = cell.metadata["coursekit"]["mutant_fails"]
        assert fails and set(fails) <= test_ids, f"mutant_fails {fails} must name test cells"
        assert set(fails) != test_ids, "a mutant must leave some part passing"


# ---------------------------------------------------------------------------------------------
# generation


def test_exercises_are_up_to_date():
    """What git has committed in exercises/ is what the committed solutions/ generate (so a
    learner who ran or edited notebooks in their clone still gets a green `make test`); and a
    solution being edited in the working tree has its exercise regenerated (`make exercises`)."""
    in_git = exercises.committed(ROOT / "solutions" / SOLUTION_PATHS[0].name) is not None
    if in_git:
        assert exercises.stale(read=exercises.committed) == [], "commit the regenerated exercises/"
    edited = [p for p in SOLUTION_PATHS if not in_git or exercises.committed(p) != p.read_text(encoding="utf-8")]
    for path in edited:
        wanted = exercises.render(exercises.make_exercise(read(path), path.stem))
        current = ROOT / "exercises" / path.name
        assert current.exists() and exercises.cells_digest(current.read_text(encoding="utf-8")) == \
            exercises.cells_digest(wanted), f"{current}: run `make exercises` ({path} changed)"


def _copy_solutions(tmp_path) -> tuple[Path, Path, list[str]]:
    sol, ex = tmp_path / "solutions", tmp_path / "exercises"
    sol.mkdir()
    for path in SOLUTION_PATHS:
        (sol / path.name).write_bytes(path.read_bytes())
    return sol, ex, ["--solutions", str(sol), "--exercises", str(ex)]


def test_check_flag_and_regeneration(tmp_path, capsys):
    sol, ex, args = _copy_solutions(tmp_path)
    assert exercises.main(["--check", *args]) == 1  # missing
    assert exercises.main(args) == 0
    assert exercises.main(["--check", *args]) == 0
    target = ex / SOLUTION_PATHS[0].name
    solution = read(sol / target.name)
    solution.cells[-1].source += "\nchanged by the course"
    nbformat.write(solution, sol / target.name)
    assert exercises.main(["--check", *args]) == 1  # stale
    capsys.readouterr()
    assert exercises.main(args) == 0 and exercises.main(["--check", *args]) == 0
    assert "changed by the course" in target.read_text()
    (sol / SOLUTION_PATHS[0].name).unlink()
    assert exercises.main(["--check", *args]) == 1  # orphan
    assert "its solution notebook is gone" in capsys.readouterr().out
    exercises.main(args)
    assert not target.exists()


def test_regeneration_never_overwrites_a_learners_work(tmp_path, capsys):
    sol, ex, args = _copy_solutions(tmp_path)
    assert exercises.main(args) == 0
    target = ex / SOLUTION_PATHS[0].name
    nb = read(target)
    learner_cell = next(c for c in nb.cells if meta(c).get("solution") and c.cell_type == "code")
    learner_cell.source = "def my_answer():\n    return 42"
    nb.cells[-1].outputs = []
    nbformat.write(nb, target)
    edited = target.read_text()
    solution = read(sol / target.name)
    solution.cells[-1].source += "\na new version of the exercise"
    nbformat.write(solution, sol / target.name)
    capsys.readouterr()
    assert exercises.main(args) == 1
    assert target.read_text() == edited, "the learner's notebook was overwritten"
    assert f"NOT overwritten: {os.path.relpath(target)}" in capsys.readouterr().err
    # running a notebook (outputs only) is not work: regenerating may replace it
    second = ex / SOLUTION_PATHS[-1].name
    ran = read(second)
    ran.cells[0].metadata["collapsed"] = True
    for cell in ran.cells:
        if cell.cell_type == "code":
            cell.outputs = [nbformat.v4.new_output("stream", text="ran")]
    nbformat.write(ran, second)
    solution = read(sol / second.name)
    solution.cells[-1].source += "\nnewer"
    nbformat.write(solution, sol / second.name)
    target.unlink()  # the learner moved their work away
    assert exercises.main(args) == 0 and "newer" in second.read_text()


def test_working_copies_are_made_once_and_never_overwritten(tmp_path, capsys):
    sol, ex, args = _copy_solutions(tmp_path)
    exercises.main(args)
    work = tmp_path / "work"
    first = SOLUTION_PATHS[0].stem
    number = first.split("_")[0]
    assert exercises.main(["--exercises", str(ex), "--work-dir", str(work), "--work", number]) == 0
    assert [p.name for p in work.glob("*.ipynb")] == [f"{first}.ipynb"]
    copy_path = work / f"{first}.ipynb"
    nb = read(copy_path)
    assert nb.metadata["coursekit"]["assignment"] == first  # grading finds the exercise from the copy
    nb.cells[-1].source += "\nmy notes"
    nbformat.write(nb, copy_path)
    mine = copy_path.read_text()
    assert exercises.main(["--exercises", str(ex), "--work-dir", str(work), "--work"]) == 0  # every exercise
    assert copy_path.read_text() == mine and len(list(work.glob("*.ipynb"))) == len(SOLUTION_PATHS)
    # the course publishes a new version of the exercise: offered beside the copy
    solution = read(sol / f"{first}.ipynb")
    solution.cells[-1].source += "\nversion 2"
    nbformat.write(solution, sol / f"{first}.ipynb")
    exercises.main(args)
    capsys.readouterr()
    assert exercises.main(["--exercises", str(ex), "--work-dir", str(work), "--work", number]) == 0
    updated = list(work.glob(f"{first}.updated-*.ipynb"))
    assert len(updated) == 1 and "version 2" in updated[0].read_text()
    assert copy_path.read_text() == mine
    assert "the new version is beside your copy" in capsys.readouterr().out
    assert exercises.main(["--exercises", str(ex), "--work-dir", str(work), "--work", number]) == 0
    assert len(list(work.glob(f"{first}.updated-*.ipynb"))) == 1  # offered once, not again and again
    assert exercises.main(["--exercises", str(ex), "--work-dir", str(work), "--work", "99"]) == 2


def test_learner_folders_are_ignored_by_git():
    ignored = subprocess.run(["git", "check-ignore", "work/01_x.ipynb", "exercises/.generated.json"],
                             cwd=ROOT, capture_output=True, text=True)
    assert ignored.stdout.split() == ["work/01_x.ipynb", "exercises/.generated.json"]


def _nbgrader_cell(cell_type, source, grade_id, **flags):
    cell = (nbformat.v4.new_code_cell if cell_type == "code" else nbformat.v4.new_markdown_cell)(source)
    cell.metadata["nbgrader"] = {"grade": False, "solution": False, "locked": False, "task": False,
                                 "grade_id": grade_id, "schema_version": 3, **flags}
    return cell


def test_stubs_keep_surrounding_lines_and_indentation():
    code = _nbgrader_cell("code", 'def f(x):\n    """Doc."""\n    y = 1\n    ### BEGIN SOLUTION\n'
                                  '    return x + y\n    ### END SOLUTION\n\n\nprint(f)', "f", solution=True)
    code.outputs = [nbformat.v4.new_output("stream", text="hi")]
    code.execution_count = 3
    code.metadata["coursekit"] = {"mutant": "def f(x):\n    return x", "mutant_fails": ["t"]}
    whole = _nbgrader_cell("code", "answer = 42", "whole", solution=True)
    text = _nbgrader_cell("markdown", "Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION", "why",
                          solution=True, grade=True, points=1)
    test = _nbgrader_cell("code", "assert f(1) == 2\n### BEGIN HIDDEN TESTS\nassert f(2) == 3\n"
                                  "### END HIDDEN TESTS\nprint('done')", "t", grade=True, locked=True, points=1)
    nb = nbformat.v4.new_notebook(cells=[code, whole, text, test])
    out = exercises.make_exercise(nb, "demo")
    assert out.cells[0].source == ('def f(x):\n    """Doc."""\n    y = 1\n    # YOUR CODE HERE\n'
                                   '    raise NotImplementedError()\n\n\nprint(f)')
    assert out.cells[0].outputs == [] and out.cells[0].execution_count is None
    assert "coursekit" not in out.cells[0].metadata and "nbgrader" in out.cells[0].metadata
    assert out.cells[1].source == "# YOUR CODE HERE\nraise NotImplementedError()"
    assert out.cells[2].source == "Why?\n\nYOUR ANSWER HERE"
    assert out.cells[3].source == "assert f(1) == 2\nprint('done')"
    assert out.cells[3].metadata["editable"] is False
    assert out.metadata["coursekit"]["assignment"] == "demo"
    assert "BEGIN SOLUTION" in nb.cells[0].source  # the solution notebook itself is untouched


@pytest.mark.parametrize("source", ["### BEGIN SOLUTION\nx = 1", "x = 1\n### END SOLUTION",
                                    "### BEGIN SOLUTION\n### BEGIN SOLUTION\n### END SOLUTION"])
def test_unpaired_markers_are_errors(source):
    nb = nbformat.v4.new_notebook(cells=[_nbgrader_cell("code", source, "a", solution=True)])
    with pytest.raises(exercises.ExerciseFormatError):
        exercises.make_exercise(nb, "demo")


def test_solution_region_outside_a_solution_cell_is_an_error():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("### BEGIN SOLUTION\nx=1\n### END SOLUTION")])
    with pytest.raises(exercises.ExerciseFormatError, match="not marked as a solution cell"):
        exercises.make_exercise(nb, "demo")


def _secret_lines(solution_nb) -> set[str]:
    """Lines of solution regions and hidden tests that appear nowhere else in the solution."""
    secret, public = set(), []
    for cell in solution_nb.cells:
        inside = False
        for line in cell.source.split("\n"):
            if "BEGIN SOLUTION" in line or "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END SOLUTION" in line or "END HIDDEN TESTS" in line:
                inside = False
            elif inside:
                secret.add(line.strip())
            else:
                public.append(line.strip())
    return {line for line in secret if len(line) >= 10} - set(public)


@pytest.mark.parametrize("stem", STEMS)
def test_exercise_gives_nothing_away(stem):
    solution = read(ROOT / "solutions" / f"{stem}.ipynb")
    text = (ROOT / "exercises" / f"{stem}.ipynb").read_text(encoding="utf-8")
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", '"mutant"'):
        assert marker not in text, f"exercises/{stem}.ipynb contains {marker!r}"
    lines = {line.strip() for cell in read(ROOT / "exercises" / f"{stem}.ipynb").cells
             for line in cell.source.split("\n")}
    leaked = _secret_lines(solution) & lines
    assert not leaked, f"exercises/{stem}.ipynb shows solution/hidden lines: {sorted(leaked)}"
    assert "NotImplementedError" in text
    assert '"outputs": []' in text and '"output_type"' not in text


def test_nbgrader_generate_assignment_accepts_the_solutions(tmp_path):
    """An instructor can hand solutions/*.ipynb to nbgrader as they are; its release is our exercise."""
    # one nbgrader assignment holding every notebook: one nbgrader start-up for all of them
    (tmp_path / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.CourseDirectory.root = {str(tmp_path)!r}\nc.CourseDirectory.course_id = 'course'\n")
    source = tmp_path / "source" / "coursekit"
    source.mkdir(parents=True)
    for path in SOLUTION_PATHS:
        (source / path.name).write_bytes(path.read_bytes())
    bin_dir = Path(sys.executable).parent  # nbgrader runs `alembic` from the environment's bin/
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}")
    done = subprocess.run([str(bin_dir / "nbgrader"), "generate_assignment", "coursekit", "--force"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    for path in SOLUTION_PATHS:
        released = read(tmp_path / "release" / "coursekit" / path.name)
        ours = exercises.make_exercise(read(path), path.stem)  # what exercises/ must hold (tested above)
        assert [(c.cell_type, c.source) for c in released.cells] == [(c.cell_type, c.source) for c in ours.cells]


# ---------------------------------------------------------------------------------------------
# grading: the notebook to run


def _exercise_with(stem: str, sources: dict[str, str]):
    """The exercise notebook with the solution cells named in ``sources`` (grade_id -> code) filled in."""
    nb = read(ROOT / "exercises" / f"{stem}.ipynb")
    for cell in nb.cells:
        gid = meta(cell).get("grade_id")
        if gid in sources:
            cell.source = sources[gid]
    return nb


def _solved(stem: str, **replace: str):
    solution = read(ROOT / "solutions" / f"{stem}.ipynb")
    sources = {meta(c)["grade_id"]: c.source for c in solution.cells if meta(c).get("solution")}
    return _exercise_with(stem, {**sources, **replace})


def _mutants(stem: str) -> dict[str, dict]:
    solution = read(ROOT / "solutions" / f"{stem}.ipynb")
    return {meta(c)["grade_id"]: c.metadata["coursekit"] for c in solution.cells
            if "mutant" in c.metadata.get("coursekit", {})}


def test_course_cells_replace_edited_and_deleted_ones():
    stem = STEMS[0]
    solution = read(ROOT / "solutions" / f"{stem}.ipynb")
    sub = read(ROOT / "exercises" / f"{stem}.ipynb")
    tests = [c for c in sub.cells if grade._is_auto_test(c)]
    tests[0].source = "pass"
    sub.cells = [c for c in sub.cells if c is not tests[-1]]
    sub.cells.append(nbformat.v4.new_code_cell("helper = 1"))  # the learner's own cell stays
    graded = grade.notebook_to_grade(sub, solution)
    course = {meta(c)["grade_id"]: c.source for c in solution.cells if meta(c).get("grade")}
    for cell in graded.cells:
        if grade._is_auto_test(cell):
            assert cell.source == course[meta(cell)["grade_id"]]  # hidden tests included
    order = [meta(c).get("grade_id") for c in graded.cells if meta(c)]
    assert order == [meta(c)["grade_id"] for c in solution.cells if meta(c)]  # re-inserted in place
    assert graded.cells[-1].source == "helper = 1"


def test_find_assignment_without_metadata(tmp_path):
    solutions = grade.load_solutions()
    for stem in STEMS:
        nb = read(ROOT / "exercises" / f"{stem}.ipynb")
        assert grade.find_assignment(nb, Path("x.ipynb"), solutions) == stem
        del nb.metadata["coursekit"]  # e.g. saved by an old tool: the grade ids decide
        assert grade.find_assignment(nb, Path("x.ipynb"), solutions) == stem
        nb.cells = [c for c in nb.cells if not meta(c)]  # nothing left but the file name
        assert grade.find_assignment(nb, Path(f"alice_{stem}.ipynb"), solutions) == stem
        with pytest.raises(grade.GraderError, match="cannot tell which exercise"):
            grade.find_assignment(nb, Path("alice.ipynb"), solutions)


def test_grader_errors_exit_nonzero_and_are_reported(tmp_path, capsys):
    (tmp_path / "broken.ipynb").write_text("{not json")
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), tmp_path / "other.ipynb")
    out_csv = tmp_path / "grades.csv"
    code = grade.main([str(tmp_path / "broken.ipynb"), str(tmp_path / "other.ipynb"), "--csv", str(out_csv)])
    assert code == 1
    rows = list(csv.DictReader(out_csv.open()))
    assert [r["status"] for r in rows] == ["error", "error"]
    assert "not a readable notebook" in rows[0]["message"] and "cannot tell" in rows[1]["message"]


# ---------------------------------------------------------------------------------------------
# grading: executed, both directions


def _submissions(stem: str, folder: Path) -> dict:
    """Write the four submissions of one exercise into ``folder``; return what they should lose."""
    mutants = _mutants(stem)
    full = _solved(stem)
    # a learner's extra cell: proves the notebook runs in a scratch folder of its own with COURSEKIT_LIVE=0,
    # and (with bubblewrap) cannot see the other submissions or the solutions
    hidden = [str(folder / f"blank_{stem}.ipynb"), str(ROOT / "solutions" / f"{stem}.ipynb")]
    full.cells.append(nbformat.v4.new_code_cell(
        f"import os\nassert os.getcwd() != {str(folder)!r}, os.getcwd()\n"
        "assert os.environ['COURSEKIT_LIVE'] == '0'\n"
        + (f"assert not any(os.path.exists(p) for p in {hidden!r})" if sandbox.probe().bwrap else "")))
    nbformat.write(full, folder / f"full_{stem}.ipynb")
    nbformat.write(read(ROOT / "exercises" / f"{stem}.ipynb"), folder / f"blank_{stem}.ipynb")

    # the mutants in place, their failing test cells edited to `pass`, every other test cell deleted
    lost = {gid for m in mutants.values() for gid in m["mutant_fails"]}
    tampered = _solved(stem, **{gid: m["mutant"] for gid, m in mutants.items()})
    cells = []
    for cell in tampered.cells:
        if grade._is_auto_test(cell):
            if meta(cell)["grade_id"] not in lost:
                continue  # deleted
            cell.source = "pass"
        cells.append(cell)
    tampered.cells = cells
    nbformat.write(tampered, folder / f"mutant_tampered_{stem}.ipynb")

    # an endless loop at the top of the first mutant's cell: stopped by the cell timeout
    loop_id, loop_mutant = next(iter(mutants.items()))
    solution_cells = {meta(c)["grade_id"]: c.source for c in read(ROOT / "solutions" / f"{stem}.ipynb").cells
                      if meta(c).get("solution")}
    looped = _solved(stem, **{loop_id: "while True:\n    pass\n" + solution_cells[loop_id]})
    nbformat.write(looped, folder / f"loop_{stem}.ipynb")
    return {"lost": lost, "loop_lost": set(loop_mutant["mutant_fails"])}


@pytest.fixture(scope="module")
def graded_all(tmp_path_factory, request):
    """Grade four submissions of every exercise with the CLI, two notebooks at a time.

    Two calls run side by side: the endless loops with a short cell timeout, everything else with
    the default one. Returns {stem: {"results": {kind: result}, "lost": ..., ...}}.
    """
    folder = tmp_path_factory.mktemp("submissions")
    # only the exercises whose tests were selected (`pytest -k 07_` grades exercise 07 only)
    selected = {item.callspec.params["graded"] for item in request.session.items
                if hasattr(item, "callspec") and "graded" in item.callspec.params}
    stems = [stem for stem in STEMS if (ROOT / "exercises" / f"{stem}.ipynb").exists() and stem in selected]
    expected = {stem: _submissions(stem, folder) for stem in stems}
    kinds = ("full", "blank", "mutant_tampered")

    def start(paths, name, *extra, jobs=2):
        out_json = folder / f"{name}.json"
        command = [sys.executable, "-m", "coursekit.grade", *map(str, paths), "--jobs", str(jobs),
                   "--json", str(out_json), "--csv", str(folder / f"{name}.csv"),
                   "--feedback", str(folder / "feedback"), *extra]
        return out_json, subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                          stderr=subprocess.STDOUT, text=True)

    def finish(started):
        # exit status 1 = a course test cell breaks the rules: each exercise's tests report their own
        out_json, process = started
        output, _ = process.communicate(timeout=1800)
        assert process.returncode in (0, 1) and out_json.exists(), output
        return json.loads(out_json.read_text()), output

    loops = start([folder / f"loop_{stem}.ipynb" for stem in stems], "loops", "--timeout", str(LOOP_TIMEOUT),
                  jobs=1)
    results, table = finish(start([folder / f"{kind}_{stem}.ipynb" for stem in stems for kind in kinds], "main"))
    results += finish(loops)[0]
    out = {stem: {**expected[stem], "results": {}, "folder": folder, "table": table} for stem in stems}
    for result in results:
        stem = result["assignment"]
        kind = Path(result["notebook"]).stem.removesuffix(f"_{stem}")
        out[stem]["results"][kind] = result
    return out


@pytest.fixture(params=STEMS)
def graded(request, graded_all):
    stem = request.param
    assert stem in graded_all, f"exercises/{stem}.ipynb is missing: run `make exercises`"
    return {"stem": stem, **graded_all[stem]}


def _points(result) -> dict[str, float]:
    return {p["grade_id"]: p["points"] for p in result["parts"] if p["status"] != "manual"}


def _max(result) -> dict[str, float]:
    return {p["grade_id"]: p["max_points"] for p in result["parts"] if p["status"] != "manual"}


def test_course_test_cells_follow_the_grading_rules(graded):
    """Each graded test cell passes check a top-level function by name, with plain-data inputs."""
    broken = {p["grade_id"]: p["message"] for p in graded["results"]["full"]["parts"] if p["status"] == "error"}
    assert not broken, f"solutions/{graded['stem']}.ipynb: {broken}"


def test_solution_scores_full_marks(graded):
    full = graded["results"]["full"]
    assert full["assignment"] == graded["stem"] and full["completed"] and not full["error"], full
    assert full["points"] == full["max_points"] > 0, full["parts"]
    executed = read(graded["folder"] / "feedback" / f"full_{graded['stem']}.ipynb")
    assert not [o for o in executed.cells[-1].outputs if o.output_type == "error"], "cwd/env check failed"


def test_blank_exercise_scores_zero_and_says_not_implemented(graded):
    blank = graded["results"]["blank"]
    assert blank["completed"], "the blank exercise must run to the end"
    assert blank["points"] == 0 and blank["max_points"] > 0
    for part in blank["parts"]:
        if part["status"] != "manual":
            assert "not implemented" in part["message"], part
    executed = read(graded["folder"] / "feedback" / f"blank_{graded['stem']}.ipynb")
    for cell in executed.cells:
        if grade._is_auto_test(cell):
            text = "".join(o.get("text", "") + o.get("evalue", "") for o in cell.outputs)
            assert "not implemented yet" in text
            assert "raise NotImplementedError()" in text  # tells the learner what to replace


def test_mutant_loses_exactly_its_parts_even_with_tests_edited_or_deleted(graded):
    """Credit is per case: a mutant's part may keep the cases it gets right, never all of them."""
    result = graded["results"]["mutant_tampered"]
    maximum, points = _max(result), _points(result)
    assert set(points) == set(maximum), "deleted test cells must be put back and graded"
    for gid in maximum:
        if gid in graded["lost"]:
            assert points[gid] < maximum[gid], (gid, result["parts"])
        else:
            assert points[gid] == maximum[gid], (gid, result["parts"])


def test_endless_loop_is_stopped_and_costs_its_part_only(graded):
    result = graded["results"]["loop"]
    maximum, points = _max(result), _points(result)
    for gid in maximum:
        if gid in graded["loop_lost"]:
            assert points[gid] < maximum[gid], (gid, result["parts"])
        else:
            assert points[gid] == maximum[gid], (gid, result["parts"])
    lost_messages = " ".join(p["message"] for p in result["parts"] if p["grade_id"] in graded["loop_lost"])
    assert "time limit" in lost_messages and "infinite loop" in lost_messages


def test_gradebook_files(graded):
    stem = graded["stem"]
    rows = [r for r in csv.DictReader((graded["folder"] / "main.csv").open()) if r["assignment"] == stem]
    totals = {Path(r["notebook"]).stem: r for r in rows if r["part"] == grade.TOTAL}
    assert set(totals) == {f"{kind}_{stem}" for kind in ("full", "blank", "mutant_tampered")}
    parts_per_notebook = len(graded["results"]["full"]["parts"])
    assert len(rows) == 3 * (parts_per_notebook + 1)
    assert float(totals[f"full_{stem}"]["points"]) == float(totals[f"full_{stem}"]["max_points"])
    assert float(totals[f"blank_{stem}"]["points"]) == 0
    assert f"full_{stem}.ipynb" in graded["table"]
    assert all(t["isolation"] for t in totals.values()), "the gradebook says which isolation was in force"


def test_graded_copy_is_not_written_over_the_submission(graded):
    sub = read(graded["folder"] / f"mutant_tampered_{graded['stem']}.ipynb")
    assert any(c.source == "pass" for c in sub.cells)  # the learner's file is left as it was
