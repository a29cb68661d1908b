"""Checks for exercises: run the learner's function on a few cases and say what is wrong.

An exercise's test cell calls::

    from coursekit.grading import Case, Seeded, check
    check(softmax, [
        Case(args=(torch.tensor([1.0, 2.0, 3.0]),), expected=torch.tensor([0.0900, 0.2447, 0.6652]),
             note="a small vector"),
        Case(args=(x,), kwargs={"dim": 0}, expected=reference, note="along dim 0", weight=2),
    ], name="softmax", atol=1e-4, banned=("torch.softmax",))

``check`` runs every case and prints one line per case, passed or failed with a hint a learner
can act on, then the part's credit ("softmax: 4 of 5 cases passed - 80 % of the part"):

* wrong shape (expected vs got, with the usual cause: a missing ``keepdim=True``, a reduction
  over the wrong dim), wrong dtype or device, ``None`` returned (a missing ``return``);
* wrong values: how many elements differ, the worst one's index, expected vs got and by how
  much, NaN/inf (an overflow), and a pattern when there is one: every value off by the same
  amount (an offset), by the same factor, with the wrong sign, a sum where a mean is asked for
  (or the reverse), normalised along the wrong dim, probabilities where log-probabilities are
  asked for (or the reverse);
* an exception inside the learner's code: its type, message and the line of *their* code; a
  broadcasting error gets the missing-``keepdim`` hint;
* ``NotImplementedError``: "not implemented yet" (the exercise's stub);
* a time limit (``time_limit`` seconds, 10 by default): "an infinite loop?";
* ``banned`` library functions reached during the call (see below);
* for a case with a ``Seeded(k)`` argument: whether the function drew its random numbers from
  the generator it was given.

It returns ``None`` when every case passed and raises ``CheckFailed`` (an ``AssertionError``)
otherwise, so a test cell fails exactly when the part is not fully right. In Jupyter the error
shows as one line under the printed ones, not as a traceback that repeats them.

``expected`` is a tensor, array, number, string, ``None``, or a tuple/list/dict of them; or a
callable ``expected(result)`` that raises ``AssertionError`` with a hint, for properties that are
not a single value ("sums to one", "is a permutation").

Every case gets fresh copies of its inputs, so a function that changes its inputs in place
cannot corrupt the next case (the hint mentions it when it did). ``Seeded(k)`` stands for a new
``torch.Generator`` seeded with ``k`` in every call.

``banned`` lists dotted names of torch functions and ``nn.Module`` classes the part asks the
learner to write themselves. A call that reaches one (under any alias, at any depth, through a
module) fails the case. Functions are watched with ``torch.overrides.TorchFunctionMode``, which
sees every torch function and ``Tensor`` method that dispatches ``__torch_function__`` (all of
``torch.*``, ``torch.nn.functional``, ``Tensor.backward``, ``torch.autograd.grad``,
``torch.distributed`` collectives); plain-Python functions that do not dispatch (``torch.nn.init``,
``torch.nn.utils.clip_grad_norm_``) by their code object, with a profile hook during the call;
module classes with a global forward pre-hook; ``torch.optim`` classes with a global step pre-hook.
It does not see a module's ``forward`` called directly, or code run under
``torch._C.DisableTorchFunction``; it is a teaching rule that runs in the learner's process, not a
security boundary.

The time limit uses ``SIGALRM`` in the main thread (where a Jupyter kernel runs cells); the
alarm interrupts Python code, not a single long C call, which returns first. Elsewhere (another
thread, Windows) the function runs in a daemon thread that ``check`` stops waiting for.

When ``python -m coursekit.grade`` grades a notebook, ``check`` does not run in the learner's
process at all: the grader collects each call's cases in a trusted process (``set_collector``),
runs the learner's function on the inputs in a sandbox (``run_case``), and judges the outcomes
in the trusted process (``judge``, ``report``). See ``coursekit.grade``.
"""

from __future__ import annotations

import copy
import inspect
import math
import random
import re
import signal
import sys
import sysconfig
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

__all__ = ["Case", "Seeded", "check", "CheckFailed"]


@dataclass
class Case:
    """One call of the learner's function: ``fn(*args, **kwargs)`` should give ``expected``.

    ``weight`` is the case's share of the part's points, relative to the other cases.
    """

    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    expected: Any = None
    note: str = ""
    weight: float = 1.0


@dataclass(frozen=True)
class Seeded:
    """Stands for a fresh ``torch.Generator().manual_seed(seed)`` in every call of a case."""

    seed: int

    def generator(self) -> torch.Generator:
        return torch.Generator().manual_seed(int(self.seed))


class CheckFailed(AssertionError):
    """Raised by ``check`` when a case failed.

    ``.failures`` lists (case number, note, hint); ``.fraction`` is the share of the part earned.
    """

    def __init__(self, message: str, failures: list[tuple[int, str, str]], fraction: float = 0.0,
                 headline: str = ""):
        super().__init__(message)
        self.failures = failures
        self.fraction = fraction
        self.headline = headline or message

    def _render_traceback_(self) -> list[str]:
        # IPython shows this instead of a traceback: the cases were printed just above.
        return [f"CheckFailed: {self.headline}"]


class _TimeUp(BaseException):
    """Raised inside the learner's code when the time is up (a BaseException, so that a
    learner's ``except Exception`` cannot swallow it)."""


class _Mismatch(Exception):
    """The result differs from the expected one; the message is the learner's hint."""


# ---------------------------------------------------------------------------------------------
# one case's outcome, as plain data (it crosses the sandbox boundary when a notebook is graded)


@dataclass
class Outcome:
    """What calling the learner's function on one case gave.

    ``status``: ``returned`` (``result`` holds the value), ``raised`` (``error``/``message``/
    ``where`` describe the exception), ``timeout``, ``missing`` (no such function), ``skipped``
    (an earlier case stopped the check) or ``lost`` (the grader got nothing: ``message`` says why).
    ``repeat`` is the result of a second call with the same seeds after the global random number
    generators moved on (only for cases with a ``Seeded`` argument); ``banned`` lists the banned
    functions the call reached.
    """

    status: str
    result: Any = None
    error: str = ""
    message: str = ""
    where: str = ""
    banned: list = field(default_factory=list)
    repeat: Any = None
    seeded: bool = False
    changed_inputs: bool = False
    seconds: float = 0.0


# ---------------------------------------------------------------------------------------------
# running the learner's code


def _fresh(obj):
    """A copy of a case's input that the learner may change freely (``Seeded`` -> a generator)."""
    if isinstance(obj, Seeded):
        return obj.generator()
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


def _has_seeded(obj) -> bool:
    if isinstance(obj, Seeded):
        return True
    if isinstance(obj, (tuple, list)):
        return any(_has_seeded(x) for x in obj)
    if isinstance(obj, dict):
        return any(_has_seeded(x) for x in obj.values())
    return False


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


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    message = text.splitlines()[0] if text else ""
    return message[:300] + "..." if len(message) > 300 else message


# --- banned functions


def _resolve(dotted: str):
    """The object a dotted name such as ``torch.nn.functional.conv2d`` stands for."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for attribute in parts[cut:]:
                obj = getattr(obj, attribute)
        except AttributeError:
            break
        return obj
    raise ValueError(f"banned: {dotted!r} is not a name torch knows (write it as a dotted name, "
                     f"e.g. 'torch.nn.functional.conv2d')")


class _BannedWatch:
    """While active, records the banned functions and module classes that get called."""

    def __init__(self, names):
        self.functions: dict[int, str] = {}
        self.packets: dict[int, str] = {}  # id of a torch.ops.aten operator -> the banned name it implements
        self.keep_alive = []
        self.classes: list[tuple[type, str]] = []
        self.optimizers: list[tuple[type, str]] = []
        self.codes: dict = {}  # code object of a plain-Python function -> its banned name
        for name in names:
            obj = _resolve(name)
            if isinstance(obj, type):
                if issubclass(obj, torch.nn.Module):
                    self.classes.append((obj, name))
                elif issubclass(obj, torch.optim.Optimizer):
                    self.optimizers.append((obj, name))
                else:
                    raise ValueError(f"banned: {name} is a class but neither an nn.Module nor a torch.optim.Optimizer")
            elif callable(obj):
                self.functions[id(obj)] = name
                self.keep_alive.append(obj)
                # the same operator called as torch.ops.aten.<name>(.overload) reaches the mode as an OpOverload
                packet = getattr(torch.ops.aten, getattr(obj, "__name__", "") or "_", None)
                if isinstance(packet, torch._ops.OpOverloadPacket):
                    self.packets[id(packet)] = name
                    self.keep_alive.append(packet)
                # Python helpers that never dispatch __torch_function__ (torch.nn.init, clip_grad_norm_):
                # watch the code of the function itself, under its decorators (@no_grad wrappers share theirs).
                code = getattr(inspect.unwrap(obj), "__code__", None)
                if code is not None:
                    self.codes[code] = name
            else:
                raise ValueError(f"banned: {name} is not a function, a module class or an optimizer class")
        self.used: list[str] = []
        self._mode = None
        self._hook = None
        self._optimizer_hook = None
        self._profilers = None

    def _saw(self, name: str) -> None:
        if name not in self.used:
            self.used.append(name)

    def __enter__(self):
        from torch.overrides import TorchFunctionMode

        watch = self

        class Mode(TorchFunctionMode):
            def __torch_function__(self, func, types, args=(), kwargs=None):
                name = watch.functions.get(id(func)) or watch.packets.get(id(getattr(func, "overloadpacket", func)))
                if name:
                    watch._saw(name)
                return func(*args, **(kwargs or {}))

        if self.functions:
            self._mode = Mode()
            self._mode.__enter__()
        if self.classes:
            def pre_hook(module, inputs):
                for cls, name in self.classes:
                    if isinstance(module, cls):
                        self._saw(name)

            self._hook = torch.nn.modules.module.register_module_forward_pre_hook(pre_hook)
        if self.optimizers:
            from torch.optim.optimizer import register_optimizer_step_pre_hook

            def step_pre_hook(optimizer, args, kwargs):
                for cls, name in self.optimizers:
                    if isinstance(optimizer, cls):
                        kind, shown = type(optimizer), name
                        if kind is not cls:  # a banned base class: name the optimizer that actually ran
                            where = "torch.optim." if kind.__module__.startswith("torch.optim") else ""
                            shown = f"{where}{kind.__qualname__} (a {name})"
                        self._saw(shown)

            self._optimizer_hook = register_optimizer_step_pre_hook(step_pre_hook)
        if self.codes:
            codes = self.codes

            def profile(frame, event, arg):
                if event == "call" and frame.f_code in codes:
                    self._saw(codes[frame.f_code])

            # the thread the call may run in (see _call_with_time_limit) starts inside the watch
            self._profilers = (sys.getprofile(), threading.getprofile())
            sys.setprofile(profile)
            threading.setprofile(profile)
        return self

    def __exit__(self, *exc_info):
        if self._profilers is not None:
            sys.setprofile(self._profilers[0])
            threading.setprofile(self._profilers[1])
        if self._optimizer_hook is not None:
            self._optimizer_hook.remove()
        if self._hook is not None:
            self._hook.remove()
        if self._mode is not None:
            self._mode.__exit__(*exc_info)
        return False


def check_banned_names(names) -> None:
    """Raise ``ValueError`` (for the exercise's author) if a banned name cannot be watched."""
    _BannedWatch(names)


# --- the call


def _seed_everything(seed: int) -> None:
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    random.seed(seed)


def _call_once(fn, case: Case, time_limit: float, banned) -> tuple[Any, tuple, tuple, list[str]]:
    args, kwargs = _fresh(tuple(case.args)), _fresh(dict(case.kwargs))
    watch = _BannedWatch(banned) if banned else None
    if watch:
        with watch:
            result = _call_with_time_limit(fn, args, kwargs, time_limit)
    else:
        result = _call_with_time_limit(fn, args, kwargs, time_limit)
    return result, args, kwargs, (watch.used if watch else [])


def run_case(fn, case: Case, time_limit: float = 10.0, banned=()) -> Outcome:
    """Call ``fn`` on one case (fresh inputs, a time limit, banned calls watched)."""
    if fn is None or not callable(fn):
        return Outcome("missing", message="not a function" if fn is not None else "not defined")
    seeded = _has_seeded((case.args, case.kwargs))
    started = time.perf_counter()
    args = kwargs = ()
    try:
        if seeded:
            # the global generators at a state of their own, restored afterwards
            with torch.random.fork_rng(devices=[]):
                np_state, py_state = np.random.get_state(), random.getstate()
                try:
                    _seed_everything(1234)
                    result, args, kwargs, used = _call_once(fn, case, time_limit, banned)
                    _seed_everything(98765)  # "the global RNG has moved on"
                    repeat = _call_once(fn, case, time_limit, ())[0]
                finally:
                    np.random.set_state(np_state)
                    random.setstate(py_state)
        else:
            result, args, kwargs, used = _call_once(fn, case, time_limit, banned)
            repeat = None
    except _TimeUp:
        return Outcome("timeout", seconds=time.perf_counter() - started, seeded=seeded)
    except Exception as exc:  # the learner's error, reported as a hint
        return Outcome("raised", error=type(exc).__name__, message=_first_line(exc), where=_where(exc),
                       seconds=time.perf_counter() - started, seeded=seeded)
    changed = False
    if not seeded:
        flat_before = list(case.args) + list(case.kwargs.values())
        flat_after = list(args) + list(kwargs.values())
        changed = any(_changed(b, a) for b, a in zip(flat_before, flat_after))
    return Outcome("returned", result=result, banned=list(used), repeat=repeat, seeded=seeded,
                   changed_inputs=changed, seconds=time.perf_counter() - started)


def _changed(before, after) -> bool:
    """Did the learner's function change an input in place? (tensors and arrays only)"""
    try:
        if isinstance(before, torch.Tensor) and isinstance(after, torch.Tensor):
            if before.shape != after.shape or before.dtype != after.dtype:
                return True
            if before.is_floating_point() or before.is_complex():  # a NaN left alone is unchanged
                return not torch.equal(before.isnan(), after.isnan()) or not torch.equal(
                    before.detach().nan_to_num(0.0), after.detach().nan_to_num(0.0))
            return not torch.equal(before.detach(), after.detach())
        if isinstance(before, np.ndarray) and isinstance(after, np.ndarray):
            return before.shape != after.shape or not np.array_equal(before, after, equal_nan=True)
    except Exception:
        return False
    return False


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
    try:
        text = repr(value)
    except Exception:
        text = f"<{type(value).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def _input_shapes(inputs) -> list[tuple[int, ...]]:
    """Shapes of the tensors and arrays among a case's inputs (nested containers included)."""
    shapes = []

    def visit(obj):
        if isinstance(obj, (torch.Tensor, np.ndarray)):
            shapes.append(tuple(int(n) for n in obj.shape))
        elif isinstance(obj, (tuple, list)):
            for x in obj:
                visit(x)
        elif isinstance(obj, dict):
            for x in obj.values():
                visit(x)

    visit(inputs)
    return shapes


def _sizes(inputs) -> dict[int, str]:
    """Counts a sum-instead-of-mean could have multiplied by: dim sizes and element counts."""
    out: dict[int, str] = {}
    for shape in _input_shapes(inputs):
        for d, n in enumerate(shape):
            out.setdefault(n, f"the size of dim {d} of an input of shape {shape}")
        if len(shape) > 1:
            out.setdefault(math.prod(shape), f"the number of elements of an input of shape {shape}")
    return {n: why for n, why in out.items() if n >= 2}


def _constant(values: np.ndarray, atol: float, rtol: float) -> float | None:
    """The common value of ``values`` if they are all (nearly) equal, else None."""
    if values.size == 0 or not np.all(np.isfinite(values)):
        return None
    centre = float(np.median(values))
    if np.allclose(values, centre, atol=atol, rtol=rtol):
        return centre
    return None


def _normalised_axes(values: np.ndarray) -> dict[int, str]:
    """Axes along which ``values`` is a distribution: sums to 1, or log-sum-exp of 0."""
    out: dict[int, str] = {}
    if values.ndim < 2 or not np.all(np.isfinite(values)):
        return out
    for axis in range(values.ndim):
        if values.shape[axis] < 2:
            continue
        if np.all(values >= 0) and np.allclose(values.sum(axis=axis), 1.0, atol=1e-4):
            out[axis] = "sums to 1"
        elif np.all(values <= 0):
            top = values.max(axis=axis, keepdims=True)
            lse = (top + np.log(np.exp(values - top).sum(axis=axis, keepdims=True))).squeeze(axis)
            if np.allclose(lse, 0.0, atol=1e-4):
                out[axis] = "has a log-sum-exp of 0"
    return out


def _pattern_hint(got: np.ndarray, exp: np.ndarray, atol: float, rtol: float, inputs) -> str:
    """A cause that the whole set of wrong values points to, or ""."""
    scale = float(np.max(np.abs(exp))) if exp.size else 0.0
    tiny = max(atol, 1e-3 * scale)
    # normalised along the wrong dim (softmax / log-softmax over another axis)
    if exp.ndim >= 2 and exp.shape == got.shape:
        wanted, have = _normalised_axes(exp), _normalised_axes(got)
        if wanted and have and not set(wanted) & set(have):
            a, b = min(wanted), min(have)
            return (f"your result {have[b]} along dim {b}, the expected one along dim {a} "
                    f"(dim {a - exp.ndim}): a reduction over the wrong dim?")
    # probabilities where log-probabilities are asked for, and the reverse
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        if np.all(exp <= 0) and np.any(exp < 0) and np.allclose(got, np.exp(exp), atol=max(atol, 1e-6), rtol=1e-4):
            return "your values are exp() of the expected ones: probabilities where log-probabilities are asked for?"
        if (np.all(exp > 0) and np.all(got <= 0) and np.any(got < 0)
                and np.allclose(got, np.log(exp), atol=max(atol, 1e-6), rtol=1e-4)):
            return "your values are log() of the expected ones: log-probabilities where probabilities are asked for?"
    diff = got - exp
    if exp.size >= 2:
        # "the same amount" up to a small part of the difference itself: measured against the values, a
        # small error that varies (a wrong formula) would pass for a constant one
        finite = np.abs(diff[np.isfinite(diff)])
        even = max(atol, 1e-3 * float(finite.max()) if finite.size else 0.0, 1e-6 * scale)
        # a constant offset: the same amount added to every value
        offset = _constant(diff, atol=even, rtol=1e-3)
        if offset is not None and abs(offset) > max(atol, rtol * scale):
            return (f"every value is off by the same amount, {offset:+.6g} (got = expected {'+' if offset > 0 else '-'} "
                    f"{abs(offset):.6g}): a constant term missing or added?")
        # an offset that is constant along one dim (one per row: a per-row term such as a max)
        for axis in range(exp.ndim if exp.ndim >= 2 else 0):
            spread = diff - diff.mean(axis=axis, keepdims=True)
            if np.all(np.isfinite(diff)) and np.allclose(spread, 0, atol=even, rtol=0) and np.ptp(diff) > even:
                return (f"your values are off by an amount that is the same along dim {axis} (a different one "
                        f"for each slice across it): a term per row/column missing, such as the maximum you "
                        f"subtracted?")
    # a common factor, from the entries that are not ~0 (a ratio built from ~0 means nothing)
    usable = np.isfinite(exp) & np.isfinite(got) & (np.abs(exp) > tiny)
    if usable.sum() >= 1:
        ratios = got[usable] / exp[usable]
        factor = _constant(ratios, atol=0, rtol=1e-3)
        if factor is not None and abs(factor) > 1e-3 and abs(factor - 1) > 1e-2:
            sizes = _sizes(inputs)
            k = round(factor) if factor > 1 else (round(1 / factor) if factor > 0 else 0)
            if factor > 1 and k in sizes and abs(factor - k) < 1e-3 * k:
                return (f"your result is {k} x the expected one, and {k} is {sizes[k]}: a sum where a mean "
                        f"is asked for?")
            if 0 < factor < 1 and k in sizes and abs(1 / factor - k) < 1e-3 * k:
                return (f"your result is the expected one divided by {k}, and {k} is {sizes[k]}: a mean "
                        f"where a sum is asked for?")
            if usable.sum() >= 2:
                if abs(factor + 1) < 1e-3:
                    return "every value has the wrong sign: a sign error?"
                return (f"every value is {_fmt(factor)} x the expected one: a missing normalisation or "
                        f"factor?")
    return ""


def _compare_arrays(got: np.ndarray, exp: np.ndarray, atol: float, rtol: float, inputs=()) -> None:
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
    off = abs(float(got_f[worst]) - float(exp_f[worst]))
    if exp.size == 1:
        hint = f"wrong value: expected {_fmt(exp_f[worst])}, got {_fmt(got_f[worst])}"
    else:
        hint = (f"wrong values: {n_bad} of {exp.size} elements differ; "
                f"worst {where}: expected {_fmt(exp_f[worst])}, got {_fmt(got_f[worst])}")
    hint += f" (off by {_fmt(off)})" if math.isfinite(off) else ""
    n_nan, n_inf = int(np.isnan(got_f).sum()), int(np.isinf(got_f).sum())
    if n_nan or n_inf:
        parts = [f"{n} {what}" for n, what in ((n_nan, "NaN"), (n_inf, "inf")) if n]
        hint += f"; your result has {' and '.join(parts)}: an overflow (exp of a large number?) or 0/0?"
    elif not np.issubdtype(exp.dtype, np.integer) and exp.dtype != bool:
        pattern = _pattern_hint(got_f, exp_f, atol, rtol, inputs)
        if pattern:
            hint += f"; {pattern}"
    raise _Mismatch(hint)


def _shape_hint(got: tuple, exp: tuple, inputs=()) -> str:
    hint = f"wrong shape: expected {exp}, got {got}"
    # a reduction over another dim of an input than the one asked for
    for shape in _input_shapes(inputs):
        dropped_exp = [d for d in range(len(shape)) if shape[:d] + shape[d + 1:] == exp
                       or shape[:d] + (1,) + shape[d + 1:] == exp]
        dropped_got = [d for d in range(len(shape)) if shape[:d] + shape[d + 1:] == got
                       or shape[:d] + (1,) + shape[d + 1:] == got]
        if dropped_exp and dropped_got and not set(dropped_exp) & set(dropped_got):
            return hint + (f" (your result looks reduced over dim {dropped_got[0]} of the input of shape {shape}, "
                           f"the expected one over dim {dropped_exp[0]}: the wrong dim?)")
    if math.prod(got) == math.prod(exp) and got != exp:
        if len(got) == len(exp) - 1 or len(got) == len(exp) + 1:
            hint += " (a size-1 dim missing or extra: keepdim=True in a reduction, or a squeeze?)"
        else:
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


def _to_numpy(t: torch.Tensor) -> np.ndarray:
    plain = torch.Tensor.as_subclass(t, torch.Tensor) if type(t) is not torch.Tensor else t
    plain = plain.detach().cpu().resolve_conj().resolve_neg()
    if plain.dtype == torch.bfloat16:
        plain = plain.float()
    return np.asarray(plain.numpy())


def _compare_tensor(got, exp: torch.Tensor, atol: float, rtol: float, inputs) -> None:
    if not isinstance(got, torch.Tensor):
        if isinstance(got, np.ndarray):
            raise _Mismatch("expected a torch tensor, got a numpy array: use torch.from_numpy or "
                            "stay in torch")
        raise _Mismatch(f"expected a tensor of shape {tuple(exp.shape)}, got {_kind(got)}")
    if tuple(got.shape) != tuple(exp.shape):
        raise _Mismatch(_shape_hint(tuple(got.shape), tuple(exp.shape), inputs))
    if got.dtype != exp.dtype:
        raise _Mismatch(f"wrong dtype: expected {exp.dtype}, got {got.dtype} "
                        f"(a constant of another type, or a missing .float()/.long()?)")
    if got.device.type != exp.device.type:
        raise _Mismatch(f"wrong device: expected {exp.device}, got {got.device} "
                        f"(create new tensors on x.device)")
    _compare_arrays(_to_numpy(got), _to_numpy(exp), atol, rtol, inputs)


def _compare_ndarray(got, exp: np.ndarray, atol: float, rtol: float, inputs) -> None:
    if isinstance(got, torch.Tensor):
        raise _Mismatch("expected a numpy array, got a torch tensor (use .numpy())")
    if not isinstance(got, np.ndarray):
        raise _Mismatch(f"expected a numpy array of shape {exp.shape}, got {_kind(got)}")
    if got.shape != exp.shape:
        raise _Mismatch(_shape_hint(got.shape, exp.shape, inputs))
    if got.dtype != exp.dtype:
        raise _Mismatch(f"wrong dtype: expected {exp.dtype}, got {got.dtype}")
    _compare_arrays(np.asarray(got), exp, atol, rtol, inputs)


def _compare_number(got, exp, atol: float, rtol: float, inputs) -> None:
    if isinstance(got, (torch.Tensor, np.ndarray)):
        size = got.size if isinstance(got, np.ndarray) else got.numel()
        if size != 1:
            raise _Mismatch(f"expected a single number, got {_kind(got)}")
        got = _to_numpy(got).item() if isinstance(got, torch.Tensor) else got.item()
    if not isinstance(got, (int, float, bool, np.number, np.bool_)):
        raise _Mismatch(f"expected a number, got {_kind(got)}")
    if isinstance(exp, (bool, np.bool_)) or isinstance(exp, (int, np.integer)):
        if got != exp:
            raise _Mismatch(f"wrong value: expected {_fmt(exp)}, got {_fmt(got)}")
        return
    _compare_arrays(np.asarray(float(got)), np.asarray(float(exp)), atol, rtol, inputs)


def _compare(got, exp, atol: float, rtol: float, path: str = "", inputs=()) -> None:
    """Raise ``_Mismatch`` with a hint when ``got`` is not ``exp``."""
    try:
        if got is None and exp is not None and not callable(exp):
            raise _Mismatch("your function returned None: a missing `return`?")
        if isinstance(exp, torch.Tensor):
            _compare_tensor(got, exp, atol, rtol, inputs)
        elif isinstance(exp, np.ndarray):
            _compare_ndarray(got, exp, atol, rtol, inputs)
        elif isinstance(exp, (int, float, np.number, bool, np.bool_)):
            _compare_number(got, exp, atol, rtol, inputs)
        elif isinstance(exp, (tuple, list)):
            if not isinstance(got, (tuple, list)):
                raise _Mismatch(f"expected a {type(exp).__name__} of {len(exp)} items, got {_kind(got)}")
            if len(got) != len(exp):
                raise _Mismatch(f"expected {len(exp)} items, got {len(got)}")
            for i, (g, e) in enumerate(zip(got, exp)):
                _compare(g, e, atol, rtol, f"{path}[{i}]", inputs)
        elif isinstance(exp, dict):
            if not isinstance(got, dict):
                raise _Mismatch(f"expected a dict, got {_kind(got)}")
            if set(got) != set(exp):
                raise _Mismatch(f"expected keys {sorted(map(str, exp))}, got {sorted(map(str, got))}")
            for key in exp:
                _compare(got[key], exp[key], atol, rtol, f"{path}[{key!r}]", inputs)
        elif callable(exp):
            try:
                exp(got)
            except AssertionError as failure:
                raise _Mismatch(str(failure) or "the result does not have the expected property") from None
        elif type(got) is not type(exp) or got != exp:
            raise _Mismatch(f"expected {_short_repr(exp)}, got {_short_repr(got)}")
    except _Mismatch as mismatch:
        if path and not str(mismatch).startswith("in result"):
            raise _Mismatch(f"in result{path}: {mismatch}") from None
        raise


# ---------------------------------------------------------------------------------------------
# judging outcomes and reporting them


_BROADCAST = re.compile(r"size of tensor a \((\d+)\) must match the size of tensor b \((\d+)\)|"
                        r"operands could not be broadcast together")


def is_stub(error: str, message: str) -> bool:
    """Is this the exercise's stub, ``raise NotImplementedError()``? A NotImplementedError with a message
    comes from a library (torch says which operation or dtype it lacks) and is reported as an error."""
    return error == "NotImplementedError" and not message


def judge(case: Case, outcome: Outcome, name: str, atol: float, rtol: float, time_limit: float) -> str:
    """The hint for one case ("" when it passed)."""
    status = outcome.status
    if status == "missing":
        return (f"`{name}` is {outcome.message or 'not defined'} at this point of your notebook: did the cell "
                f"that defines it run without an error?")
    if status == "skipped":
        return "skipped (see the case above)"
    if status == "lost":
        return outcome.message or "no result came back from your notebook"
    if status == "timeout":
        return (f"took longer than {time_limit:g} s: an infinite loop? "
                f"(a `while` whose condition never changes?)")
    if status == "raised":
        if is_stub(outcome.error, outcome.message):
            return f"not implemented yet: replace `raise NotImplementedError()` in {name} with your code"
        hint = (f"your code raised {outcome.error}{outcome.where}"
                + (f" -> {outcome.message}" if outcome.message else ""))
        if _BROADCAST.search(outcome.message):
            hint += (" [shapes that do not broadcast: a reduction without keepdim=True? x.sum(dim=d) drops "
                     "dim d; keepdim=True keeps it as size 1, which broadcasts]")
        return hint
    hint = ""
    if outcome.banned:
        used = ", ".join(outcome.banned)
        hint = f"uses {used}, which this part asks you to write yourself"
    elif outcome.seeded:
        try:
            _compare(outcome.repeat, outcome.result, 0.0, 0.0)
        except _Mismatch:
            hint = ("draw your random numbers from the generator you were given (generator=...): the same "
                    "seed gave different results once the global random number generator had moved on")
        except Exception:
            hint = "draw your random numbers from the generator you were given (generator=...)"
    if not hint:
        try:
            _compare(outcome.result, case.expected, atol, rtol, inputs=(case.args, case.kwargs))
        except _Mismatch as mismatch:
            hint = str(mismatch)
        except Exception as exc:  # the comparison itself broke on an unexpected result
            hint = (f"could not compare your result ({_kind(outcome.result)}) with the expected one: "
                    f"{type(exc).__name__}: {_first_line(exc)}")
    if hint and outcome.changed_inputs:
        hint += " [note: your function changed its input in place]"
    return hint


def stops_the_check(outcome: Outcome) -> str:
    """Why the cases after this one are skipped ("" when they are not)."""
    if outcome.status == "timeout":
        return "the remaining cases were skipped after the time limit"
    if outcome.status == "missing":
        return "the remaining cases were skipped: there is no function to call"
    if outcome.status == "raised" and is_stub(outcome.error, outcome.message):
        return "the remaining cases were skipped: nothing to run yet"
    return ""


@dataclass
class Report:
    """A check's verdict: the printed lines, the credit, and the failures."""

    name: str
    lines: list[str]
    failures: list[tuple[int, str, str]]
    passed_weight: float
    total_weight: float
    n_cases: int

    @property
    def fraction(self) -> float:
        return self.passed_weight / self.total_weight if self.total_weight > 0 else 0.0


def _label(number: int, case: Case) -> str:
    weight = "" if case.weight == 1 else f" [weight {case.weight:g}]"
    return f"case {number}" + (f" ({case.note})" if case.note else "") + weight


def report(name: str, cases: list[Case], hints: list[str | None], stopped: str = "") -> Report:
    """Turn per-case hints ("" passed, None not run) into the lines ``check`` prints."""
    lines, failures = [], []
    passed_weight = total_weight = 0.0
    for number, (case, hint) in enumerate(zip(cases, hints), 1):
        weight = float(case.weight)
        total_weight += weight
        if hint is None:
            failures.append((number, case.note, "not run"))
            continue
        if hint:
            failures.append((number, case.note, hint))
            lines.append(f"  FAIL {_label(number, case)}: {hint}")
        else:
            passed_weight += weight
            lines.append(f"  ok   {_label(number, case)}")
    n = len(cases)
    n_passed = n - len(failures)
    weights = any(c.weight != 1 for c in cases)
    if not failures:
        head = f"{name}: all {n} case{'s' if n != 1 else ''} passed"
    else:
        percent = 100 * passed_weight / total_weight if total_weight else 0.0
        head = (f"{name}: {n_passed} of {n} cases passed"
                + (f" (weight {passed_weight:g} of {total_weight:g})" if weights else "")
                + f" - {percent:.0f} % of the part")
    out = [head, *lines]
    if stopped and failures:
        out.append(f"  ({stopped})")
    return Report(name, out, failures, passed_weight, total_weight, n)


# ---------------------------------------------------------------------------------------------
# the check


_collector: Callable | None = None


def set_collector(collector: Callable | None) -> None:
    """Make ``check`` hand its arguments to ``collector`` instead of running them (the grader's
    trusted process uses this to collect the cases of the course's test cells)."""
    global _collector
    _collector = collector


def check(fn: Callable, cases: list[Case], *, name: str | None = None, atol: float = 1e-6,
          rtol: float = 1e-5, time_limit: float = 10.0, banned=()) -> None:
    """Run ``fn`` on every case; print a line per case; raise ``CheckFailed`` if any failed."""
    banned = tuple(banned)
    if _collector is not None:
        return _collector(fn, list(cases), name=name, atol=atol, rtol=rtol, time_limit=time_limit,
                          banned=banned)
    if banned:
        check_banned_names(banned)
    name = name or getattr(fn, "__name__", "your function")
    if not callable(fn):
        raise CheckFailed(f"{name}: expected a function, got {_kind(fn)}", [(0, "", "not a function")])
    hints: list[str | None] = [None] * len(cases)
    stopped = ""
    for i, case in enumerate(cases):
        outcome = run_case(fn, case, time_limit, banned)
        hints[i] = judge(case, outcome, name, atol, rtol, time_limit)
        stopped = stops_the_check(outcome)
        if stopped:
            break
    verdict = report(name, cases, hints, stopped)
    print("\n".join(verdict.lines))
    if not verdict.failures:
        return None
    failures = [f for f in verdict.failures if f[2] != "not run"]
    summary = "; ".join(f"case {n}" + (f" ({note})" if note else "") + f": {hint}" for n, note, hint in failures)
    message = (f"{name}: {failures[0][2]}" if stopped and len(failures) == 1
               else f"{name}: {len(verdict.failures)} of {len(cases)} cases failed - {summary}")
    headline = (f"{name} earns {100 * verdict.fraction:.0f} % of this part: fix the failing case"
                f"{'s' if len(verdict.failures) > 1 else ''} listed above and run the check again")
    raise CheckFailed(message, verdict.failures, verdict.fraction, headline)
