"""Grading outside the learner's process, piece by piece (fast, no sandbox): the plain-data format
that crosses the sandbox, the rules the course's check cells must follow, and the judging of a
learner's (untrusted) outcomes. The whole grader, and the attacks on it, are in
test_exercises.py and test_grading_attacks.py."""

from __future__ import annotations

import json
import math

import nbformat
import numpy as np
import pytest
import torch

from coursekit import plaindata, reference
from coursekit.grading import Seeded


@pytest.mark.parametrize("value", [
    None, True, 3, -2.5, math.inf, "text", 1 + 2j,
    torch.arange(6.0).reshape(2, 3), torch.tensor([1, 2], dtype=torch.int64), torch.tensor(True),
    torch.tensor([0.5], dtype=torch.bfloat16), torch.zeros(0, 3), np.arange(4, dtype=np.int16),
    np.float32(2.5), np.bool_(False),
    (1, [2.0, (3,)], {"a": torch.ones(2), 4: None}), Seeded(7),
])
def test_plain_data_round_trips(value):
    back = plaindata.loads(plaindata.dumps(value))
    assert type(back) is type(value)
    if isinstance(value, torch.Tensor):
        assert back.dtype == value.dtype and torch.equal(back, value)
    elif isinstance(value, np.ndarray):
        assert back.dtype == value.dtype and np.array_equal(back, value)
    elif isinstance(value, tuple):
        assert repr(back) == repr(value)
    else:
        assert back == value or (isinstance(value, float) and math.isnan(value))


def test_a_tensor_that_requires_grad_keeps_the_flag():
    back = plaindata.loads(plaindata.dumps(torch.ones(2, requires_grad=True) * 2))
    assert back.requires_grad and back.is_leaf and back.tolist() == [2.0, 2.0]


@pytest.mark.parametrize("value", [torch.nn.Linear(2, 2), object(), {1, 2}, np.array([object()]),
                                   lambda: 1, torch.ones(2, device="meta")])
def test_anything_else_is_refused_with_what_it_is(value):
    with pytest.raises(plaindata.NotPlainData):
        plaindata.dumps({"x": [value]})


@pytest.mark.parametrize("data", [
    b"not json", b'{"$pickle": "gASV"}', b'{"$tensor": {"dtype": "object", "shape": [1], "data": ""}}',
    b'{"$tensor": {"dtype": "float32", "shape": [4], "data": "AAAA"}}', b'{"a": 1, "b": 2}',
    b"[" * 100_000 + b"]" * 100_000,
])
def test_malformed_or_hostile_data_is_refused_not_run(data):
    with pytest.raises(plaindata.NotPlainData):
        plaindata.loads(data)


def test_oversized_data_is_refused_before_it_is_parsed():
    with pytest.raises(plaindata.NotPlainData, match="more than"):
        plaindata.loads(b"[" + b"1," * 1000 + b"1]", max_bytes=100)


# --- the rules for the course's check cells, found by running the solution notebook's cells


def _notebook(test_source: str, solution: str = "def f(x):\n    return x + 1\n"):
    def cell(source, gid, **flags):
        c = nbformat.v4.new_code_cell(source)
        c.metadata["nbgrader"] = {"grade_id": gid, "schema_version": 3, "grade": False, "solution": False,
                                  "locked": False, "task": False, **flags}
        return c

    return nbformat.v4.new_notebook(cells=[
        cell("import torch\nfrom coursekit.grading import Case, check", "setup", locked=True),
        cell(solution, "f", solution=True),
        cell(test_source, "test_f", grade=True, locked=True, points=1),
    ])


def test_a_check_cell_that_follows_the_rules_is_collected():
    parts, errors, _ = reference.collect_notebook(_notebook(
        "cases = [Case(args=(torch.ones(2),), expected=torch.full((2,), 2.0), weight=2)]\n"
        "check(f, cases, atol=0, time_limit=3, banned=('torch.softmax',))"))
    part = parts["test_f"]
    assert not part.problems and not errors
    (spec,) = part.checks
    assert spec["fn"] == "f" and spec["time_limit"] == 3 and spec["banned"] == ["torch.softmax"]
    assert spec["cases"][0].weight == 2


@pytest.mark.parametrize("test_source, problem", [
    ("check(lambda x: f(x), [Case(args=(1,), expected=2)])", "not a lambda"),
    ("def g(x):\n    return f(x)\n\n\ncheck(g, [Case(args=(1,), expected=2)])", "defined in the test cell"),
    ("check(f, [Case(args=(torch.nn.Linear(1, 1),), expected=2)])", "an nn.Module"),
    ("check(f, [Case(args=(1,), expected=object())])", "not plain data"),
    ("check(f, [Case(args=(1,), expected=2)], banned=('torch.nn.functional.no_such_thing',))",
     "not a name torch knows"),
    ("x = 1", "never called check"),
    ("assert f(1) == 3", "the test cell raised AssertionError"),
    ("assert f(1) == 2\ncheck(f, [Case(args=(1,), expected=2)])", "line 1 of the test cell is a bare assert"),
])
def test_a_check_cell_that_breaks_a_rule_is_reported(test_source, problem):
    parts, _, _ = reference.collect_notebook(_notebook(test_source))
    assert any(problem in p for p in parts["test_f"].problems), parts["test_f"].problems


# --- judging outcomes that came from the learner's process (untrusted)


def _collected():
    parts, _, _ = reference.collect_notebook(_notebook(
        "check(f, [Case(args=(torch.ones(2),), expected=torch.full((2,), 2.0), weight=3),\n"
        "          Case(args=(torch.zeros(1),), expected=torch.ones(1), note='zero')], banned=('torch.softmax',))"))
    return parts["test_f"]


def _returned(value, **extra):
    return {"status": "returned", "result": plaindata.encode(value), "repeat": None, **extra}


def test_credit_is_pooled_by_weight_and_lines_are_those_of_check():
    verdict = reference.judge_part(_collected(), "test_f", {
        ("test_f", 0, 0): _returned(torch.full((2,), 2.0)),
        ("test_f", 0, 1): _returned(torch.zeros(1)),
    }, "not run")
    assert verdict["fraction"] == pytest.approx(0.75)
    assert verdict["lines"][0] == "f: 1 of 2 cases passed (weight 3 of 4) - 75 % of the part"
    assert "FAIL case 2 (zero): wrong value" in verdict["lines"][2]


@pytest.mark.parametrize("outcome, said", [
    ({"status": "exploded"}, "could not read what your notebook sent back"),
    ({"status": "returned", "result": {"$pickle": "gASV"}}, "could not read your result"),
    ({"status": "returned", "result": plaindata.encode(torch.full((2,), 2.0)), "banned": ["torch.softmax", "x"]},
     "uses torch.softmax, which this part asks you to write yourself"),
    ({"status": "raised", "error": "NotImplementedError"}, "not implemented yet"),
    ({"status": "timeout"}, "took longer than 10 s"),
    ("not even a dict", "could not read"),
])
def test_untrusted_outcomes_are_read_field_by_field(outcome, said):
    verdict = reference.judge_part(_collected(), "test_f", {("test_f", 0, 0): outcome}, "not run")
    assert verdict["fraction"] == 0 and said in "\n".join(verdict["lines"]), verdict["lines"]


def test_missing_outcomes_say_why_they_are_missing(tmp_path):
    events = tmp_path / "events.jsonl"
    events.write_text("garbage\n" + json.dumps({"event": "case", "part": "test_f", "check": 0, "case": 0,
                                                "outcome": _returned(torch.full((2,), 2.0))}) + "\n")
    outcomes = reference.read_events(events)
    verdict = reference.judge_part(_collected(), "test_f", outcomes, "not run: the notebook's process was killed")
    assert verdict["fraction"] == pytest.approx(0.75)
    assert "not run: the notebook's process was killed" in verdict["lines"][2]
