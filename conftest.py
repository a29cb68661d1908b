"""Print how long each notebook took under nbval, slowest first, so slow ones show up."""

from collections import defaultdict

_durations: dict[str, float] = defaultdict(float)


def pytest_runtest_logreport(report):
    if report.nodeid.split("::")[0].endswith(".ipynb"):
        _durations[report.nodeid.split("::")[0]] += report.duration


def pytest_terminal_summary(terminalreporter):
    if not _durations:
        return
    terminalreporter.section("notebook durations")
    for path, seconds in sorted(_durations.items(), key=lambda kv: -kv[1]):
        flag = "  <-- over the 60 s quick-mode budget" if seconds > 60 else ""
        terminalreporter.write_line(f"{seconds:7.1f} s  {path}{flag}")
