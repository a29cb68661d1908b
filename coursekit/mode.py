"""Quick mode (tests, CI, a first read) and full mode (the headline numbers).

The mode comes from one environment variable, ``COURSEKIT_MODE`` (``quick`` by default).
Notebooks choose sizes with ``by_mode(quick=..., full=...)`` instead of branching, and
their first code cell calls ``start_lesson``, which prints the mode, the expected run
time and the device, seeds everything, and returns the device.
"""

from __future__ import annotations

import os
import time

ENV_VAR = "COURSEKIT_MODE"
MODES = ("quick", "full")
LIVE_ENV = "COURSEKIT_LIVE"

_lesson_started: float | None = None


def current_mode() -> str:
    """``'quick'`` or ``'full'``, from ``$COURSEKIT_MODE``; anything else is an error."""
    value = os.environ.get(ENV_VAR, "quick").strip().lower() or "quick"
    if value not in MODES:
        raise ValueError(f"{ENV_VAR}={value!r}: expected one of {', '.join(MODES)}")
    return value


def is_full() -> bool:
    return current_mode() == "full"


def live_updates() -> bool:
    """May outputs redraw in place (live plots, progress bars)? No when ``$COURSEKIT_LIVE`` is ``0``.

    Headless runs (tests, the site build, ``make full``) set it: there every redraw would be saved in the
    notebook, and a progress bar would stay as the frozen widget state nbconvert stored first.
    """
    return os.environ.get(LIVE_ENV, "1") != "0"


def by_mode(quick, full):
    """Return ``quick`` or ``full`` according to the current mode."""
    return full if is_full() else quick


def start_lesson(quick: str, full: str, seed: int = 0):
    """Print mode, expected run time and device; seed everything; return the device.

    ``quick`` and ``full`` describe the expected run time in each mode, e.g.
    ``start_lesson(quick="20 s on 2 CPU cores", full="3 min on CPU, 30 s on one GPU")``.
    """
    from .device import describe_device, seed_everything

    global _lesson_started
    _lesson_started = time.perf_counter()
    info = describe_device()
    current = current_mode()
    other = "full" if current == "quick" else "quick"
    print(f"mode   : {current} (expected run time {quick if current == 'quick' else full}); "
          f"set {ENV_VAR}={other} and restart the kernel for {other} mode")
    print(info)
    print(f"seed   : {seed}")
    seed_everything(seed)
    return info.device


def seconds_since_start() -> float | None:
    """Seconds since ``start_lesson`` was called in this process (None if it was not)."""
    return None if _lesson_started is None else time.perf_counter() - _lesson_started
