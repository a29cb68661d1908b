"""Unit tests of coursekit.grading.check: every learner message the exercises rely on."""

import signal
import threading
import time

import numpy as np
import pytest
import torch

from coursekit.grading import Case, CheckFailed, check


def fails_with(fn, cases, capsys, **kwargs) -> str:
    """Run check, expect an AssertionError; return what the learner sees (printed + message)."""
    with pytest.raises(AssertionError) as info:
        check(fn, cases, **kwargs)
    return capsys.readouterr().out + "\n" + str(info.value)


X = torch.tensor([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
SOFTMAX_CASES = [Case(args=(X,), expected=torch.softmax(X, dim=-1), note="rows"),
                 Case(args=(X,), kwargs={"dim": 0}, expected=torch.softmax(X, dim=0), note="columns")]


def test_passing_function_returns_none_and_says_so(capsys):
    assert check(lambda x, dim=-1: torch.softmax(x, dim), SOFTMAX_CASES, name="softmax") is None
    out = capsys.readouterr().out
    assert "softmax: all 2 cases passed" in out and out.count("ok   case") == 2


def test_wrong_shape_gives_expected_and_got(capsys):
    seen = fails_with(lambda x, dim=-1: torch.softmax(x, dim).sum(dim), SOFTMAX_CASES, capsys)
    assert "wrong shape: expected (2, 3), got (2,)" in seen
    assert "keepdim" in seen  # the usual cause, named


def test_transposed_result_is_a_shape_error_not_a_value_error(capsys):
    seen = fails_with(lambda: torch.zeros(3, 2), [Case(expected=torch.zeros(2, 3))], capsys)
    assert "wrong shape: expected (2, 3), got (3, 2)" in seen and "same number of elements" in seen


def test_wrong_values_say_where_and_by_how_much(capsys):
    expected = torch.arange(12.0).reshape(3, 4)
    got = expected.clone()
    got[2, 1] += 0.5
    got[0, 0] += 0.1
    seen = fails_with(lambda: got, [Case(expected=expected, note="grid")], capsys)
    assert "wrong values: 2 of 12 elements differ" in seen
    assert "worst at index (2, 1): expected 9, got 9.5 (off by 0.5)" in seen
    assert "case 1 (grid)" in seen


def test_nan_results_point_at_overflow(capsys):
    naive = lambda x: x.exp() / x.exp().sum()  # noqa: E731
    seen = fails_with(naive, [Case(args=(torch.tensor([1e4, 0.0]),), expected=torch.tensor([1.0, 0.0]))],
                      capsys)
    assert "got nan" in seen and "NaN" in seen and "overflow" in seen


def test_within_tolerance_passes_and_atol_is_used():
    check(lambda: torch.tensor([1.0 + 1e-7]), [Case(expected=torch.tensor([1.0]))])
    with pytest.raises(AssertionError):
        check(lambda: torch.tensor([1.01]), [Case(expected=torch.tensor([1.0]))], atol=1e-3, rtol=0)
    check(lambda: torch.tensor([1.01]), [Case(expected=torch.tensor([1.0]))], atol=0.1)


def test_wrong_dtype_and_device(capsys):
    seen = fails_with(lambda: torch.zeros(2, dtype=torch.float64), [Case(expected=torch.zeros(2))], capsys)
    assert "wrong dtype: expected torch.float32, got torch.float64" in seen
    seen = fails_with(lambda: torch.zeros(2, device="meta"), [Case(expected=torch.zeros(2))], capsys)
    assert "wrong device: expected cpu, got meta" in seen


def test_exception_names_type_message_and_their_line(capsys):
    def forward(x):
        h = x * 2
        return h @ torch.ones(5, 5)  # the learner's bug

    seen = fails_with(forward, [Case(args=(torch.ones(2, 3),), expected=torch.ones(2, 5))], capsys)
    assert "your code raised RuntimeError" in seen
    assert "of forward(): return h @ torch.ones(5, 5)" in seen  # their line, not torch's or ours
    assert "cannot be multiplied" in seen  # the message
    assert "Traceback" not in seen and "grading.py" not in seen


def test_wrong_signature_is_reported_as_such(capsys):
    seen = fails_with(lambda x: x, SOFTMAX_CASES[1:], capsys)
    assert "raised TypeError when called with this case's arguments" in seen and "dim" in seen


def test_not_implemented_is_reported_once(capsys):
    def stub(x):
        # YOUR CODE HERE
        raise NotImplementedError()

    seen = fails_with(stub, SOFTMAX_CASES, capsys, name="softmax")
    assert "not implemented yet" in seen and "NotImplementedError" in seen
    assert "case 2" not in seen  # stopped after the first case
    assert "softmax: not implemented yet" in seen


def test_infinite_loop_is_stopped_with_a_hint(capsys):
    def spin(x):
        while True:
            try:
                x = x + 1
            except Exception:  # a learner's broad except must not swallow the time limit
                pass

    start = time.perf_counter()
    seen = fails_with(spin, SOFTMAX_CASES, capsys, time_limit=0.5)
    assert time.perf_counter() - start < 5
    assert "took longer than 0.5 s: an infinite loop?" in seen


def test_time_limit_outside_the_main_thread_does_not_hang(capsys):
    """The fallback (no SIGALRM off the main thread) still reports and returns."""
    outcome = {}

    def run():
        try:
            check(lambda: time.sleep(30), [Case(expected=None)], time_limit=0.3)
        except AssertionError as error:
            outcome["message"] = str(error)

    worker = threading.Thread(target=run)
    start = time.perf_counter()
    worker.start()
    worker.join(10)
    assert not worker.is_alive() and time.perf_counter() - start < 10
    assert "took longer than 0.3 s" in outcome["message"]


def test_alarm_handler_is_restored():
    before = signal.getsignal(signal.SIGALRM)
    check(lambda: 1, [Case(expected=1)])
    assert signal.getsignal(signal.SIGALRM) is before
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_inputs_are_copied_per_case(capsys):
    x = torch.tensor([1.0, 2.0])

    def doubles_in_place(t):
        t.mul_(2)
        return t

    cases = [Case(args=(x,), expected=torch.tensor([2.0, 4.0]))] * 3
    check(doubles_in_place, cases)  # each case sees the original x
    assert torch.equal(x, torch.tensor([1.0, 2.0]))  # and the caller's tensor is untouched
    arr = np.array([1.0, 2.0])
    check(lambda a: a.__imul__(3), [Case(args=(arr,), expected=np.array([3.0, 6.0]))] * 2)
    assert np.array_equal(arr, [1.0, 2.0])


def test_missing_return_and_wrong_types(capsys):
    seen = fails_with(lambda x: None, [Case(args=(1,), expected=torch.zeros(1))], capsys)
    assert "returned None: a missing `return`?" in seen
    seen = fails_with(lambda: 2.5, [Case(expected=torch.tensor(2.5))], capsys)
    assert "expected a tensor of shape (), got float" in seen
    seen = fails_with(lambda: np.zeros(2), [Case(expected=torch.zeros(2))], capsys)
    assert "got a numpy array" in seen


def test_numbers_tuples_dicts_and_property_callables(capsys):
    check(lambda: torch.tensor(3.0), [Case(expected=3.0)])  # a 0-d tensor for a number is fine
    check(lambda: (torch.ones(2), 7), [Case(expected=(torch.ones(2), 7))])
    check(lambda: {"loss": 0.5}, [Case(expected={"loss": 0.5})])
    seen = fails_with(lambda: (torch.ones(2), 8), [Case(expected=(torch.ones(2), 7))], capsys)
    assert "in result[1]: wrong value: expected 7, got 8" in seen

    def sums_to_one(p):
        assert torch.isclose(p.sum(), torch.tensor(1.0)), f"sums to {p.sum():.3f}, not 1"

    check(lambda: torch.tensor([0.25, 0.75]), [Case(expected=sums_to_one)])
    seen = fails_with(lambda: torch.tensor([0.5, 0.75]), [Case(expected=sums_to_one)], capsys)
    assert "sums to 1.250, not 1" in seen


def test_failure_summary_lists_every_failed_case(capsys):
    cases = [Case(expected=1, note="first"), Case(expected=2, note="second"), Case(expected=1, note="third")]
    with pytest.raises(CheckFailed) as info:
        check(lambda: 1, cases, name="one")
    message = str(info.value)
    assert message.startswith("one: 1 of 3 cases failed")
    assert "case 2 (second): wrong value: expected 2, got 1" in message
    assert [n for n, _, _ in info.value.failures] == [2]
    assert isinstance(info.value, AssertionError)
    assert "one: 2 of 3 cases passed" in capsys.readouterr().out


def test_a_result_with_the_wrong_sign_is_called_a_sign_error(capsys):
    import pytest
    import torch

    from coursekit.grading import Case, check

    with pytest.raises(AssertionError):
        check(lambda x: -2 * x, [Case(args=(torch.tensor([1.0, 2.0, 3.0]),), expected=torch.tensor([2.0, 4.0, 6.0]))],
              name="grad")
    assert "wrong sign" in capsys.readouterr().out
