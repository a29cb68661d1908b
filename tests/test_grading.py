"""Unit tests of coursekit.grading.check: every learner message the exercises rely on."""

import signal
import threading
import time

import numpy as np
import pytest
import torch
import torch.nn.functional as F

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


def test_a_library_not_implemented_error_is_reported_as_an_error_not_as_the_stub(capsys):
    def needs_a_missing_kernel(x):
        raise NotImplementedError("\"softmax_lastdim_kernel_impl\" not implemented for 'Long'")

    seen = fails_with(needs_a_missing_kernel, SOFTMAX_CASES, capsys, name="softmax")
    assert "not implemented yet" not in seen
    assert "raised NotImplementedError" in seen and "'Long'" in seen


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


def test_the_in_place_note_names_a_real_change_and_not_a_nan_left_alone(capsys):
    with_nan = torch.tensor([1.0, float("nan")])
    seen = fails_with(lambda t: t.sum(), [Case(args=(with_nan,), expected=torch.tensor(1.0))], capsys)
    assert "in place" not in seen
    seen = fails_with(lambda t: t.mul_(2).sum(), [Case(args=(with_nan,), expected=torch.tensor(1.0))], capsys)
    assert "changed its input in place" in seen


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


# ---------------------------------------------------------------------------------------------
# second edition: credit per case, hints that name the bug, banned calls, seeded functions


def test_credit_is_per_case_and_printed(capsys):
    cases = [Case(expected=1, note=str(i)) for i in range(4)] + [Case(expected=2, note="last")]
    with pytest.raises(CheckFailed) as info:
        check(lambda: 1, cases, name="one")
    assert info.value.fraction == pytest.approx(0.8)
    assert "one: 4 of 5 cases passed - 80 % of the part" in capsys.readouterr().out


def test_weights_set_each_case_share_of_the_part(capsys):
    cases = [Case(expected=1, weight=3, note="the heart of the part"), Case(expected=2, note="a detail")]
    with pytest.raises(CheckFailed) as info:
        check(lambda: 1, cases, name="one")
    assert info.value.fraction == pytest.approx(0.75)
    out = capsys.readouterr().out
    assert "(weight 3 of 4) - 75 % of the part" in out and "[weight 3]" in out


def test_a_failing_check_shows_its_message_once_in_ipython():
    """IPython renders CheckFailed as one line: the cases printed above are not repeated."""
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    shell = InteractiveShell.instance()
    shell.run_cell("from coursekit.grading import Case, check")
    with capture_output() as captured:
        shell.run_cell("check(lambda: 1, [Case(expected=2, note='needs two')], name='two')")
    text = captured.stdout + captured.stderr
    assert text.count("wrong value: expected 2, got 1") == 1, text
    assert "Traceback" not in text and "CheckFailed: two earns 0 % of this part" in text


LOGITS = torch.tensor([1.0, 2.0, 3.0])


def test_a_constant_offset_is_named_as_an_offset(capsys):
    """Log-sum-exp without `+ m`: every value is off by m, which is not a factor."""
    def log_softmax_without_m(x):
        m = x.amax(dim=-1, keepdim=True)
        return x - (x - m).exp().sum(dim=-1, keepdim=True).log()

    seen = fails_with(log_softmax_without_m, [Case(args=(LOGITS,), expected=torch.log_softmax(LOGITS, -1))],
                      capsys)
    assert "off by the same amount, +3" in seen and " x the expected" not in seen
    batch = torch.tensor([[1.0, 2.0, 3.0], [10.0, 0.0, 5.0]])
    seen = fails_with(log_softmax_without_m, [Case(args=(batch,), expected=torch.log_softmax(batch, -1))],
                      capsys)
    assert "the same along dim 1" in seen and "maximum you subtracted" in seen


def test_a_small_error_that_varies_is_not_called_an_offset(capsys):
    """An error far below the values' size but different for every value (a wrong formula) gets no
    offset hint: "the same amount" is judged against the error itself, not against the values."""
    expected = torch.tensor([[100.0, 200.0, 300.0], [400.0, 500.0, 600.0]], dtype=torch.float64)
    error = torch.tensor([[1e-2, -3e-2, 5e-2], [0.0, 2e-2, -1e-2]], dtype=torch.float64)
    seen = fails_with(lambda: expected + error, [Case(expected=expected)], capsys, atol=1e-10, rtol=1e-10)
    assert "off by the same amount" not in seen and "the same along dim" not in seen
    row_offsets = torch.tensor([[1e-2], [-2e-2]], dtype=torch.float64)  # one per row, still named
    seen = fails_with(lambda: expected + row_offsets, [Case(expected=expected)], capsys, atol=1e-10, rtol=1e-10)
    assert "the same along dim 1" in seen


def test_no_ratio_is_built_from_zeros(capsys):
    """Probabilities returned for log-probabilities: said so, never '-0 x the expected one'."""
    big = torch.tensor([1e4, 0.0, -1e4])
    seen = fails_with(lambda x: torch.softmax(x, -1),
                      [Case(args=(big,), expected=torch.tensor([0.0, -1e4, -2e4])),
                       Case(args=(LOGITS,), expected=torch.log_softmax(LOGITS, -1))], capsys)
    assert "-0 x" not in seen and "0 x the expected" not in seen
    fail_lines = [line for line in seen.splitlines() if line.startswith("  FAIL")]
    assert len(fail_lines) == 2
    assert all("probabilities where log-probabilities are asked for" in line for line in fail_lines)


def test_a_softmax_over_the_wrong_dim_gets_a_wrong_dim_hint(capsys):
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    seen = fails_with(lambda x: torch.softmax(x, 0), [Case(args=(x,), expected=torch.softmax(x, -1))], capsys)
    assert "sums to 1 along dim 0, the expected one along dim 1" in seen and "wrong dim" in seen


def test_a_sum_over_the_wrong_dim_gets_a_wrong_dim_hint(capsys):
    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    seen = fails_with(lambda x: x.sum(dim=0), [Case(args=(x,), expected=x.sum(dim=1))], capsys)
    assert "reduced over dim 0" in seen and "over dim 1: the wrong dim?" in seen


def test_a_missing_keepdim_that_breaks_broadcasting_gets_the_keepdim_hint(capsys):
    def softmax_without_keepdim(x):
        exps = (x - x.amax(dim=-1)).exp()
        return exps / exps.sum(dim=-1)

    x = torch.randn(4, 5, generator=torch.Generator().manual_seed(0))
    seen = fails_with(softmax_without_keepdim, [Case(args=(x,), expected=torch.softmax(x, -1))], capsys)
    assert "your code raised RuntimeError" in seen and "keepdim=True" in seen


def test_a_sum_where_a_mean_is_asked_for_is_named(capsys):
    logits, targets = torch.randn(3, 10, generator=torch.Generator().manual_seed(0)), torch.tensor([0, 4, 9])
    seen = fails_with(lambda z, y: F.cross_entropy(z, y, reduction="sum"),
                      [Case(args=(logits, targets), expected=F.cross_entropy(logits, targets))], capsys)
    assert "3 x the expected one" in seen and "a sum where a mean is asked for" in seen
    seen = fails_with(lambda z, y: F.cross_entropy(z, y),
                      [Case(args=(logits, targets), expected=F.cross_entropy(logits, targets, reduction="sum"))],
                      capsys)
    assert "a mean where a sum is asked for" in seen


# --- banned functions: every name of CHECK_API.md's list, reached directly, by alias, through modules

G = torch.Generator().manual_seed(0)
IMG, FILTERS = torch.randn(1, 1, 6, 6, generator=G), torch.randn(2, 1, 3, 3, generator=G)
SEQ = torch.randn(2, 3, 4, generator=G)


def _all_reduce(t):
    import torch.distributed as dist
    try:
        dist.all_reduce(t)  # no process group here: raises after the call was seen
    except (RuntimeError, ValueError):
        pass
    return torch.zeros(1)


def _uses_backward(x):
    x = x.clone().requires_grad_(True)
    (x ** 2).sum().backward()
    return x.grad


def _clips(grads):
    from torch.nn.utils import clip_grad_norm_  # an alias taken before the call

    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads):
        p.grad = g.clone()
    clip_grad_norm_(params, 1.0)
    return torch.stack([p.grad.norm() for p in params])


def _steps(optimizer_class, **settings):
    w = torch.ones(2, requires_grad=True)
    optimizer = optimizer_class([w], **settings)
    (w ** 2).sum().backward()
    optimizer.step()
    return w.detach()


BANNED_USES = {
    "torch.nn.functional.conv2d": lambda: F.conv2d(IMG, FILTERS),
    "torch.nn.functional.max_pool2d": lambda: F.max_pool2d(IMG, 2),
    "torch.nn.functional.conv_transpose2d": lambda: F.conv_transpose2d(IMG, FILTERS.transpose(0, 1)),
    "torch.softmax": lambda: torch.softmax(IMG, -1),
    "torch.nn.functional.softmax": lambda: F.softmax(IMG, -1),
    "torch.Tensor.softmax": lambda: IMG.softmax(-1),
    "torch.nn.functional.cross_entropy": lambda: F.cross_entropy(IMG.flatten(1), torch.tensor([3])),
    "torch.nn.functional.scaled_dot_product_attention": lambda: F.scaled_dot_product_attention(SEQ, SEQ, SEQ),
    "torch.nn.MultiheadAttention": lambda: torch.nn.MultiheadAttention(4, 1)(SEQ, SEQ, SEQ)[0],
    "torch.nn.LSTMCell": lambda: torch.nn.LSTMCell(4, 2)(SEQ[0])[0],
    "torch.Tensor.backward": lambda: _uses_backward(IMG),
    "torch.autograd.grad": lambda: torch.autograd.grad((IMG.clone().requires_grad_(True) ** 2).sum(),
                                                       IMG.clone().requires_grad_(True), allow_unused=True),
    "torch.distributed.all_reduce": lambda: _all_reduce(torch.ones(2)),
    # plain-Python helpers that never dispatch __torch_function__ (the second behind @no_grad)
    "torch.nn.init.xavier_uniform_": lambda: torch.nn.init.xavier_uniform_(torch.empty(3, 4)),
    "torch.nn.utils.clip_grad_norm_": lambda: _clips([torch.ones(3)]),
    "torch.optim.SGD": lambda: _steps(torch.optim.SGD, lr=0.1),
    "torch.optim.Optimizer": lambda: _steps(torch.optim.Adam, lr=0.1),  # a base class bans its subclasses
}
SHOWN_AS = {"torch.optim.Optimizer": "torch.optim.Adam (a torch.optim.Optimizer)"}  # the optimizer that ran is named


@pytest.mark.parametrize("name", list(BANNED_USES))
def test_a_banned_call_fails_the_case_and_is_named(name, capsys):
    property_ok = lambda result: None  # noqa: E731 - any result would do: only the ban fails the case
    seen = fails_with(BANNED_USES[name], [Case(expected=property_ok)], capsys, banned=(name,))
    assert f"uses {SHOWN_AS.get(name, name)}, which this part asks you to write yourself" in seen


def test_a_banned_function_is_seen_when_called_as_its_aten_operator(capsys):
    weight = torch.randn(1, 2, 2, 2)
    for call in (lambda: torch.ops.aten.conv_transpose2d.input(IMG, weight),  # an explicit overload
                 lambda: torch.ops.aten.conv_transpose2d(IMG, weight)):       # the overload packet
        seen = fails_with(call, [Case(expected=lambda r: None)], capsys,
                          banned=("torch.nn.functional.conv_transpose2d",))
        assert "uses torch.nn.functional.conv_transpose2d" in seen


def test_banned_calls_are_seen_through_aliases_and_modules(capsys):
    from torch.nn.functional import conv2d as my_conv  # an alias taken before the check

    seen = fails_with(lambda: my_conv(IMG, FILTERS), [Case(expected=lambda r: None)], capsys,
                      banned=("torch.nn.functional.conv2d",))
    assert "uses torch.nn.functional.conv2d" in seen
    layer = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU())  # F.conv2d inside a module
    seen = fails_with(lambda: layer(IMG), [Case(expected=lambda r: None)], capsys,
                      banned=("torch.nn.functional.conv2d",))
    assert "uses torch.nn.functional.conv2d" in seen
    attention = torch.nn.Sequential(torch.nn.Linear(4, 4))
    attention.inner = torch.nn.MultiheadAttention(4, 1)  # a banned module nested inside another
    seen = fails_with(lambda: attention.inner(SEQ, SEQ, SEQ)[0], [Case(expected=lambda r: None)], capsys,
                      banned=("torch.nn.MultiheadAttention",))
    assert "uses torch.nn.MultiheadAttention" in seen


def test_banned_watch_covers_only_the_learners_call(capsys):
    expected = F.conv2d(IMG, FILTERS)  # the reference may use it, before and after the check
    loops = lambda: torch.stack([(IMG[0, 0, i:i + 3, j:j + 3] * FILTERS[:, 0]).sum(dim=(1, 2))  # noqa: E731
                                 for i in range(4) for j in range(4)], dim=-1).reshape(1, 2, 4, 4)
    check(loops, [Case(expected=expected)], atol=1e-5, banned=("torch.nn.functional.conv2d",))
    assert F.conv2d(IMG, FILTERS).shape == (1, 2, 4, 4)


def test_a_banned_python_helper_is_seen_only_when_called_and_the_profiler_is_restored(capsys):
    import sys

    def by_hand(grads):  # what the part asks for: no clip_grad_norm_
        total = torch.linalg.vector_norm(torch.stack([g.norm() for g in grads]))
        return [g * min(1.0, 1.0 / float(total)) for g in grads]

    before = sys.getprofile()
    check(by_hand, [Case(([torch.ones(4)],), expected=[torch.full((4,), 0.5)])], atol=1e-6,
          banned=("torch.nn.utils.clip_grad_norm_", "torch.optim.SGD"))
    assert sys.getprofile() is before
    seen = fails_with(lambda: _clips([torch.ones(4)]), [Case(expected=lambda r: None)], capsys,
                      banned=("torch.nn.utils.clip_grad_norm_",))
    assert "uses torch.nn.utils.clip_grad_norm_" in seen and sys.getprofile() is before


def test_a_banned_name_that_does_not_exist_is_the_authors_error():
    with pytest.raises(ValueError, match="not a name torch knows"):
        check(lambda: 1, [Case(expected=1)], banned=("torch.nn.functional.convolve9d",))


# --- Seeded: the function must draw from the generator it is given


def test_a_function_using_its_generator_passes_a_seeded_case():
    from coursekit.grading import Seeded

    expected = torch.rand(3, 4, generator=torch.Generator().manual_seed(3)) >= 0.5
    check(lambda shape, p, generator: torch.rand(shape, generator=generator) >= p,
          [Case(args=((3, 4), 0.5, Seeded(3)), expected=expected)])


def test_a_function_using_the_global_generator_fails_a_seeded_case(capsys):
    from coursekit.grading import Seeded

    torch.manual_seed(3)  # even lined up with the expected values, the global RNG is caught
    expected = torch.rand(3, 4) >= 0.5
    torch.manual_seed(3)
    state = torch.random.get_rng_state()
    seen = fails_with(lambda shape, p, generator: torch.rand(shape) >= p,
                      [Case(args=((3, 4), 0.5), kwargs={"generator": Seeded(3)}, expected=expected)], capsys)
    assert "draw your random numbers from the generator you were given" in seen
    assert torch.equal(torch.random.get_rng_state(), state)  # the learner's global RNG is left as it was


def test_the_collector_receives_the_calls_instead_of_running_them():
    from coursekit import grading

    seen = []
    grading.set_collector(lambda fn, cases, **options: seen.append((fn, cases, options)))
    try:
        check(len, [Case(expected=1)], name="len", banned=("torch.softmax",))
    finally:
        grading.set_collector(None)
    assert seen[0][0] is len and seen[0][2]["banned"] == ("torch.softmax",) and seen[0][2]["name"] == "len"
