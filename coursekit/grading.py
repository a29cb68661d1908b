"""Checks for exercises: run the learner's function on a few cases and say what is wrong.

An exercise's test cell calls::

    from coursekit.grading import check, Case
    check(softmax, [
        Case(args=(torch.tensor([1.0, 2.0, 3.0]),), expected=torch.tensor([0.0900, 0.2447, 0.6652]),
             note="a small vector"),
        Case(args=(x,), kwargs={"dim": 0}, expected=reference, note="along dim 0"),
    ], name="softmax", atol=1e-4)

``check`` runs every case and prints one line per case, passed or failed with a hint a learner
can act on:

* wrong shape (expected vs got), wrong dtype or device, ``None`` returned (a missing ``return``);
* wrong values: how many elements differ, the worst one's index, expected vs got and by how
  much, and whether NaN/inf appeared (an overflow, usually);
* an exception inside the learner's code: its type, message and the line of *their* code;
* ``NotImplementedError``: "not implemented yet" (the exercise's stub);
* a time limit (``time_limit`` seconds, 10 by default): "an infinite loop?".

It returns ``None`` when every case passed and raises ``AssertionError`` summarising the failures
otherwise, so an nbgrader/coursekit test cell fails exactly when the part is wrong.

``expected`` is a tensor, array, number, or a tuple/list/dict of them; or a callable
``expected(result)`` that raises ``AssertionError`` with a hint, for properties that are not a
single value ("sums to one", "is a permutation").

Every case gets fresh copies of its inputs, so a function that changes its inputs in place
cannot corrupt the next case (the reported hint mentions it when it did).

The time limit uses ``SIGALRM`` in the main thread (where a Jupyter kernel runs cells); the
alarm interrupts Python code, not a single long C call, which returns first. Elsewhere (another
thread, Windows) the function runs in a daemon thread that ``check`` stops waiting for; the
runaway thread keeps its CPU until the process ends, but the check never hangs.
"""

from __future__ import annotations

import copy
import math
import signal
import sys
import sysconfig
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

__all__ = ["Case", "check", "CheckFailed"]


@dataclass
class Case:
    """One call of the learner's function: ``fn(*args, **kwargs)`` should give ``expected``."""

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None
    note: str = ""


class CheckFailed(AssertionError):
    """Raised by ``check`` when a case failed; ``.failures`` lists (case number, note, hint)."""

    def __init__(self, message: str, failures: list[tuple[int, str, str]]):
        super().__init__(message)
        self.failures = failures


class _TimeUp(BaseException):
    """Raised inside the learner's code when the time is up (a BaseException, so that a
    learner's ``except Exception`` cannot swallow it)."""


class _Mismatch(Exception):
    """The result differs from the expected one; the message is the learner's hint."""


# ---------------------------------------------------------------------------------------------
# running the learner's code


def _fresh(obj):
    """A copy of a case's input that the learner may change freely."""
    if isinstance(obj, torch.Tensor):
        copied = obj.detach().clone()
        if obj.requires_grad and copied.is_floating_point():
            copied.requires_grad_(True)
        return copied
    if isinstance(obj, np.ndarray):
        return obj.copy()
    if isinstance(obj, tuple) and not hasattr(obj, "_fields"):
        return tuple(_fresh(x) for x in obj)
    if isinstance(obj, list):
        return [_fresh(x) for x in obj]
    if isinstance(obj, dict):
        return {k: _fresh(v) for k, v in obj.items()}
    try:
        return copy.deepcopy(obj)
    except Exception:  # an object that cannot be copied (a generator, a lock): pass it as it is
        return obj


def _call_with_time_limit(fn: Callable, args: tuple, kwargs: dict, seconds: float):
    """``fn(*args, **kwargs)``; raises ``_TimeUp`` after ``seconds``."""
    use_alarm = (
        hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
        and seconds > 0
    )
    if use_alarm:
        def on_alarm(signum, frame):
            raise _TimeUp()

        previous_handler = signal.signal(signal.SIGALRM, on_alarm)
        previous_timer = signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return fn(*args, **kwargs)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous_handler)
            if previous_timer[0] > 0:  # someone else's alarm was pending: give it back
                signal.setitimer(signal.ITIMER_REAL, *previous_timer)

    # fallback: a daemon thread we stop waiting for
    outcome: dict = {}

    def target():
        try:
            outcome["value"] = fn(*args, **kwargs)
        except BaseException as exc:  # reported to the caller's thread below
            outcome["error"] = exc

    worker = threading.Thread(target=target, daemon=True, name="coursekit-check")
    worker.start()
    worker.join(seconds if seconds > 0 else None)
    if worker.is_alive():
        raise _TimeUp()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


_LIBRARY_DIRS = tuple(
    {str(Path(p).resolve()) for key in ("stdlib", "platstdlib", "purelib", "platlib")
     if (p := sysconfig.get_paths().get(key))}
    | {str(Path(__file__).resolve().parent), str(Path(sys.prefix).resolve())}
)


def _where(exc: BaseException) -> str:
    """The line of the learner's code where ``exc`` was raised (library frames skipped)."""
    frames = traceback.extract_tb(exc.__traceback__)
    theirs = [f for f in frames if not str(Path(f.filename).resolve()).startswith(_LIBRARY_DIRS)]
    if not theirs:  # raised by the call itself: a parameter list that does not fit the case
        return " when called with this case's arguments"
    frame = theirs[-1]
    line = (frame.line or "").strip()
    return f" at line {frame.lineno} of {frame.name}()" + (f": {line}" if line else "")


def _describe_exception(exc: BaseException) -> str:
    message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if len(message) > 300:
        message = message[:300] + "..."
    return f"your code raised {type(exc).__name__}{_where(exc)}" + (f" -> {message}" if message else "")


# ---------------------------------------------------------------------------------------------
# comparing a result with the expected one


def _fmt(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    try:
        return f"{float(value):.6g}"
    except (TypeError, ValueError):
        return repr(value)


def _kind(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"a numpy array of shape {value.shape}"
    return f"{type(value).__name__} {_short_repr(value)}"


def _short_repr(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _compare_arrays(got: np.ndarray, exp: np.ndarray, atol: float, rtol: float) -> None:
    """Values only (shapes already equal): raise ``_Mismatch`` saying where and by how much."""
    if exp.dtype == bool or np.issubdtype(exp.dtype, np.integer):
        bad = got != exp
    else:
        got_f, exp_f = got.astype(np.float64), exp.astype(np.float64)
        bad = ~np.isclose(got_f, exp_f, rtol=rtol, atol=atol, equal_nan=True)
    n_bad = int(bad.sum())
    if n_bad == 0:
        return
    got_f, exp_f = got.astype(np.float64), exp.astype(np.float64)
    with np.errstate(invalid="ignore"):
        error = np.where(bad, np.abs(got_f - exp_f), -1.0)
    error = np.where(bad & np.isnan(error), np.inf, error)  # NaN/inf results count as the worst
    worst = np.unravel_index(int(np.argmax(error)), exp.shape) if exp.ndim else ()
    index = tuple(int(i) for i in worst)
    where = f"at index {index if len(index) != 1 else index[0]}" if exp.ndim else ""
    off = abs(float(got_f[worst]) - float(exp_f[worst])) if exp.ndim else abs(float(got_f) - float(exp_f))
    hint = (f"wrong values: {n_bad} of {exp.size} element{'s' if exp.size != 1 else ''} differ; "
            f"worst {where}{': ' if where else ''}expected {_fmt(exp_f[worst])}, got {_fmt(got_f[worst])}"
            + (f" (off by {_fmt(off)})" if math.isfinite(off) else ""))
    n_nan, n_inf = int(np.isnan(got_f).sum()), int(np.isinf(got_f).sum())
    if n_nan or n_inf:
        parts = [f"{n} {what}" for n, what in ((n_nan, "NaN"), (n_inf, "inf")) if n]
        hint += f"; your result has {' and '.join(parts)}: an overflow (exp of a large number?) or 0/0?"
    elif not np.issubdtype(exp.dtype, np.integer) and exp.dtype != bool:
        finite = np.isfinite(exp_f) & (exp_f != 0)
        if finite.sum() >= 2:  # all off by the same factor (and not a rounding error)
            ratio = got_f[finite] / exp_f[finite]
            if np.allclose(ratio, ratio.flat[0], rtol=1e-3) and abs(ratio.flat[0] - 1) > 0.01:
                factor = float(ratio.flat[0])
                cause = "a wrong sign?" if abs(factor + 1) < 1e-3 else "a missing normalisation or factor?"
                hint += f"; every value is {_fmt(factor)} x the expected one: {cause}"
    raise _Mismatch(hint)


def _shape_hint(got: tuple, exp: tuple) -> str:
    hint = f"wrong shape: expected {exp}, got {got}"
    if math.prod(got) == math.prod(exp) and got != exp:
        hint += " (same number of elements: transposed, or reshaped differently?)"
    elif len(got) == len(exp) - 1:
        hint += " (one dimension short: keepdim=True in a reduction?)"
    elif len(got) < len(exp):
        hint += " (dimensions missing: reduced over the wrong dim, or too many?)"
    elif len(got) > len(exp):
        hint += " (extra dimensions: a broadcast you did not mean, or a reduction missing?)"
    else:
        hint += " (reduced or broadcast along the wrong dim?)"
    return hint


def _compare_tensor(got, exp: torch.Tensor, atol: float, rtol: float) -> None:
    if not isinstance(got, torch.Tensor):
        if isinstance(got, np.ndarray):
            raise _Mismatch("expected a torch tensor, got a numpy array: use torch.from_numpy or "
                            "stay in torch")
        raise _Mismatch(f"expected a tensor of shape {tuple(exp.shape)}, got {_kind(got)}")
    if tuple(got.shape) != tuple(exp.shape):
        raise _Mismatch(_shape_hint(tuple(got.shape), tuple(exp.shape)))
    if got.dtype != exp.dtype:
        raise _Mismatch(f"wrong dtype: expected {exp.dtype}, got {got.dtype} "
                        f"(a constant of another type, or a missing .float()/.long()?)")
    if got.device.type != exp.device.type:
        raise _Mismatch(f"wrong device: expected {exp.device}, got {got.device} "
                        f"(create new tensors on x.device)")
    to_np = lambda t: t.detach().cpu().resolve_conj().resolve_neg().numpy()  # noqa: E731
    _compare_arrays(to_np(got), to_np(exp), atol, rtol)


def _compare_ndarray(got, exp: np.ndarray, atol: float, rtol: float) -> None:
    if isinstance(got, torch.Tensor):
        raise _Mismatch("expected a numpy array, got a torch tensor (use .numpy())")
    if not isinstance(got, np.ndarray):
        raise _Mismatch(f"expected a numpy array of shape {exp.shape}, got {_kind(got)}")
    if got.shape != exp.shape:
        raise _Mismatch(_shape_hint(got.shape, exp.shape))
    if got.dtype != exp.dtype:
        raise _Mismatch(f"wrong dtype: expected {exp.dtype}, got {got.dtype}")
    _compare_arrays(got, exp, atol, rtol)


def _compare_number(got, exp, atol: float, rtol: float) -> None:
    if isinstance(got, (torch.Tensor, np.ndarray)):
        size = got.size if isinstance(got, np.ndarray) else got.numel()
        if size != 1:
            raise _Mismatch(f"expected a single number, got {_kind(got)}")
        got = got.item()
    if not isinstance(got, (int, float, bool, np.number, np.bool_)):
        raise _Mismatch(f"expected a number, got {_kind(got)}")
    if isinstance(exp, (bool, np.bool_)) or isinstance(exp, (int, np.integer)):
        if got != exp:
            raise _Mismatch(f"wrong value: expected {_fmt(exp)}, got {_fmt(got)}")
        return
    _compare_arrays(np.asarray(float(got)), np.asarray(float(exp)), atol, rtol)


def _compare(got, exp, atol: float, rtol: float, path: str = "") -> None:
    """Raise ``_Mismatch`` with a hint when ``got`` is not ``exp``."""
    try:
        if got is None and exp is not None and not callable(exp):
            raise _Mismatch("your function returned None: a missing `return`?")
        if isinstance(exp, torch.Tensor):
            _compare_tensor(got, exp, atol, rtol)
        elif isinstance(exp, np.ndarray):
            _compare_ndarray(got, exp, atol, rtol)
        elif isinstance(exp, (int, float, np.number, bool, np.bool_)):
            _compare_number(got, exp, atol, rtol)
        elif isinstance(exp, (tuple, list)):
            if not isinstance(got, (tuple, list)):
                raise _Mismatch(f"expected a {type(exp).__name__} of {len(exp)} items, got {_kind(got)}")
            if len(got) != len(exp):
                raise _Mismatch(f"expected {len(exp)} items, got {len(got)}")
            for i, (g, e) in enumerate(zip(got, exp, strict=True)):
                _compare(g, e, atol, rtol, f"{path}[{i}]")
        elif isinstance(exp, dict):
            if not isinstance(got, dict):
                raise _Mismatch(f"expected a dict, got {_kind(got)}")
            if set(got) != set(exp):
                raise _Mismatch(f"expected keys {sorted(map(str, exp))}, got {sorted(map(str, got))}")
            for key in exp:
                _compare(got[key], exp[key], atol, rtol, f"{path}[{key!r}]")
        elif callable(exp):
            try:
                exp(got)
            except AssertionError as failure:
                raise _Mismatch(str(failure) or "the result does not have the expected property") from None
        elif got != exp:
            raise _Mismatch(f"expected {_short_repr(exp)}, got {_short_repr(got)}")
    except _Mismatch as mismatch:
        if path and not str(mismatch).startswith("in result"):
            raise _Mismatch(f"in result{path}: {mismatch}") from None
        raise


def _changed(before, after) -> bool:
    """Did the learner's function change an input in place? (tensors and arrays only)"""
    try:
        if isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor):
            return before.shape != after.shape or not torch.equal(before.detach(), after.detach())
        if isinstance(before, np.ndarray) and isinstance(after, np.ndarray):
            return before.shape != after.shape or not np.array_equal(before, after, equal_nan=True)
    except Exception:
        return False
    return False


# ---------------------------------------------------------------------------------------------
# the check


def check(fn: Callable, cases: list[Case], name: str | None = None, atol: float = 1e-6,
          rtol: float = 1e-5, time_limit: float = 10.0) -> None:
    """Run ``fn`` on every case; print a line per case; raise ``AssertionError`` if any failed."""
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        raise CheckFailed(f"{name}: expected a function, got {_kind(fn)}", [(0, "", "not a function")])
    failures: list[tuple[int, str, str]] = []
    lines: list[str] = []
    stopped = ""
    for number, case in enumerate(cases, 1):
        label = f"case {number}" + (f" ({case.note})" if case.note else "")
        args, kwargs = _fresh(tuple(case.args)), _fresh(dict(case.kwargs))
        inputs_before = _fresh((args, kwargs))
        hint = ""
        try:
            result = _call_with_time_limit(fn, args, kwargs, time_limit)
        except _TimeUp:
            hint = (f"took longer than {time_limit:g} s: an infinite loop? "
                    f"(a `while` whose condition never changes?)")
            stopped = "the remaining cases were skipped after the time limit"
        except NotImplementedError:
            hint = (f"not implemented yet: replace `raise NotImplementedError()` in {name} "
                    f"with your code")
            stopped = "the remaining cases were skipped: nothing to run yet"
        except Exception as exc:
            hint = _describe_exception(exc)
        else:
            try:
                _compare(result, case.expected, atol, rtol)
            except _Mismatch as mismatch:
                hint = str(mismatch)
            except Exception as exc:  # the comparison itself broke on an unexpected result
                hint = f"could not compare your result ({_kind(result)}) with the expected one: {exc}"
        if hint:
            flat_before = list(inputs_before[0]) + list(inputs_before[1].values())
            flat_after = list(args) + list(kwargs.values())
            if any(_changed(b, a) for b, a in zip(flat_before, flat_after, strict=True)):
                hint += " [note: your function changed its input in place]"
            failures.append((number, case.note, hint))
            lines.append(f"  FAIL {label}: {hint}")
        else:
            lines.append(f"  ok   {label}")
        if stopped:
            break

    passed = len(lines) - len(failures)
    if not failures:
        print(f"{name}: all {len(cases)} case{'s' if len(cases) != 1 else ''} passed")
        for line in lines:
            print(line)
        return None
    print(f"{name}: {passed} of {len(cases)} cases passed")
    for line in lines:
        print(line)
    if stopped:
        print(f"  ({stopped})")
    summary = "; ".join(f"case {n}" + (f" ({note})" if note else "") + f": {hint}"
                        for n, note, hint in failures)
    message = (f"{name}: {failures[0][2]}" if stopped and len(failures) == 1
               else f"{name}: {len(failures)} of {len(cases)} cases failed - {summary}")
    # The lines printed above say which cases failed and why; fix those and run the check again.
    raise CheckFailed(message, failures)
