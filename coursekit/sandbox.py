"""Run one untrusted command isolated from the grader, from other submissions and from the network.

The grader runs each submission's notebook through ``start`` and ends it with ``stop``. The
isolation is the strongest the platform offers, and ``Isolation.describe()`` says which one was
in force (the gradebook records it):

* **bubblewrap** (Debian's ``bubblewrap`` package, ``bwrap``): new PID, network, IPC and UTS
  namespaces (no network; the grader's processes are invisible and cannot be signalled), the
  whole file system read-only, ``/tmp`` empty, the course's solutions, its ``.git`` and the
  other submissions hidden behind empty folders, one writable scratch folder; the command dies
  with the grader;
* as root, the command then drops to a fresh unprivileged user id (``setpriv``, one per
  submission), so process limits apply (Linux does not enforce ``RLIMIT_NPROC`` for uid 0),
  and it cannot write anything the grading account owns;
* resource limits in every case: CPU seconds, memory (``RLIMIT_DATA`` for the heap and
  ``RLIMIT_AS`` for the address space), processes/threads, file size, no core dumps;
* without bubblewrap, a plain subprocess with the same limits (and the uid drop when root) in a
  session of its own, behind a small "nanny" process so that a submission that kills its
  parent kills only the nanny. It can then read whatever the grading account can read (the
  solutions included, if they are readable), and without root it runs as the grading user.
"""

from __future__ import annotations

import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path


@dataclass
class Limits:
    cpu_seconds: int = 900
    memory_bytes: int = 4 * 2**30  # heap and anonymous memory (RLIMIT_DATA)
    address_space_overhead: int = 6 * 2**30  # torch maps ~3.5 GB of libraries: RLIMIT_AS = memory + this
    processes: int = 256  # processes and threads of the submission's own user id
    file_bytes: int = 256 * 2**20

    def describe(self) -> str:
        return (f"cpu {self.cpu_seconds} s, memory {self.memory_bytes / 2**30:g} GiB, "
                f"{self.processes} processes, files {self.file_bytes / 2**20:g} MiB")


@dataclass
class Isolation:
    bwrap: str | None
    root: bool
    setpriv: str | None
    notes: list[str] = field(default_factory=list)

    @property
    def drops_uid(self) -> bool:
        return self.root and self.setpriv is not None

    def describe(self, limits: Limits) -> str:
        if self.bwrap:
            what = "bubblewrap (no network, own PID namespace, read-only file system, solutions hidden)"
        else:
            what = "subprocess without bubblewrap (network and files of the grading account reachable)"
        who = "unprivileged uid per submission" if self.drops_uid else "the grading user's uid"
        return f"{what}; {who}; limits: {limits.describe()}"


@lru_cache(maxsize=1)
def probe() -> Isolation:
    """What this machine offers (checked once: bubblewrap must also really start)."""
    root = os.geteuid() == 0
    setpriv = shutil.which("setpriv")
    bwrap = shutil.which("bwrap")
    notes = []
    choice = os.environ.get("COURSEKIT_SANDBOX", "")  # for tests: the fallbacks on a machine that has more
    if choice in ("subprocess", "subprocess-same-user"):
        bwrap, notes = None, [f"bubblewrap not used: COURSEKIT_SANDBOX={choice}"]
        if choice == "subprocess-same-user":
            root = False
    elif bwrap:
        trial = subprocess.run([bwrap, *_bwrap_base(), "--", "true"], capture_output=True, text=True, timeout=60)
        if trial.returncode != 0:
            notes.append(f"bubblewrap is installed but cannot start here: {trial.stderr.strip()[:200]}")
            bwrap = None
    else:
        notes.append("bubblewrap is not installed (Debian/Ubuntu: apt-get install bubblewrap)")
    return Isolation(bwrap=bwrap, root=root, setpriv=setpriv, notes=notes)


def _needs_tmp() -> bool:
    """Is the Python environment or the course itself under /tmp (then /tmp stays visible)?"""
    here = Path(__file__).resolve().parent
    return any(_inside(p, Path("/tmp")) for p in (Path(sys.prefix).resolve(), here))


def _bwrap_base(keep_tmp: bool = False) -> list[str]:
    args = ["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc",
            *([] if keep_tmp else ["--tmpfs", "/tmp"]), "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--die-with-parent", "--new-session"]
    if os.geteuid() != 0:
        args.append("--unshare-user")
    return args


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
        return True
    except ValueError:
        return False


def _set_limits(limits: Limits) -> None:
    """In the child, before exec: the resource limits (inherited by everything it starts)."""
    def cap(kind, value):
        soft, hard = resource.getrlimit(kind)
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(kind, (value, value))

    cap(resource.RLIMIT_CPU, limits.cpu_seconds)
    cap(resource.RLIMIT_DATA, limits.memory_bytes)
    cap(resource.RLIMIT_AS, limits.memory_bytes + limits.address_space_overhead)
    cap(resource.RLIMIT_FSIZE, limits.file_bytes)
    cap(resource.RLIMIT_CORE, 0)
    if os.geteuid() == 0:  # enforced once the command has dropped to its own uid; without root: none
        cap(resource.RLIMIT_NPROC, limits.processes)


_NANNY = ("import os, signal, subprocess, sys\n"
          "child = subprocess.Popen(sys.argv[1:])\n"
          "code = child.wait()\n"
          "sys.exit(code if code >= 0 else 128 - code)\n")


@dataclass
class Sandboxed:
    """A running sandboxed command."""

    process: subprocess.Popen
    uid: int | None
    isolation: Isolation

    def poll(self):
        return self.process.poll()


def prepare_scratch(folder: Path, uid: int | None) -> None:
    """A writable folder for the submission (owned by its uid, private)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "tmp").mkdir(exist_ok=True)
    if uid is not None:
        for path in (folder, folder / "tmp"):
            os.chown(path, uid, uid)
    os.chmod(folder, 0o700)


def new_uid() -> int | None:
    """A fresh unprivileged user id for one submission (None when we cannot switch users)."""
    return 200_000 + secrets.randbelow(1_000_000_000) if probe().drops_uid else None


def start(argv: list[str], scratch: Path, *, uid: int | None, limits: Limits, env: dict[str, str],
          hide: list[Path] = (), readable: list[Path] = (), log: Path | None = None) -> Sandboxed:
    """Start ``argv`` in the sandbox, in ``scratch`` (writable); ``hide`` folders/files become
    empty, ``readable`` files stay visible even inside a hidden folder (the job's inputs)."""
    isolation = probe()
    prefix: list[str] = []
    if isolation.bwrap:
        prefix = [isolation.bwrap, *_bwrap_base(keep_tmp=_needs_tmp())]
        for path in map(Path, hide):
            if path.is_dir():
                prefix += ["--tmpfs", str(path)]
            elif path.exists():
                prefix += ["--ro-bind", "/dev/null", str(path)]
        # sources are looked up outside the sandbox: these reappear inside hidden folders
        prefix += ["--bind", str(scratch), str(scratch)]
        for path in map(Path, readable):
            if not _inside(path, scratch):
                prefix += ["--ro-bind", str(path), str(path)]
        # bubblewrap creates the folders above them as root-only: let the submission's user pass
        masked = [Path("/tmp"), *map(Path, hide)]
        for path in [scratch, *map(Path, readable)]:
            for parent in reversed(path.parents):
                if any(_inside(parent, m) for m in masked) and parent not in (path, Path("/")):
                    prefix += ["--chmod", "0711", str(parent)]
        prefix += ["--chdir", str(scratch), "--"]
    if uid is not None:
        prefix += [isolation.setpriv, f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                   "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    if not isolation.bwrap:
        prefix = [sys.executable, "-c", _NANNY, *prefix]
    out = open(log, "ab") if log else subprocess.DEVNULL
    try:
        process = subprocess.Popen(prefix + argv, cwd=scratch, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                   stderr=subprocess.STDOUT, start_new_session=True,
                                   preexec_fn=lambda: _set_limits(limits))
    finally:
        if log:
            out.close()
    return Sandboxed(process, uid, isolation)


def stop(box: Sandboxed) -> None:
    """End the command and everything it started."""
    process = box.process
    try:  # the nanny or bwrap and its session: also when the nanny itself was killed
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
    if box.uid is not None and not box.isolation.bwrap:
        # without a PID namespace, processes that left the session are found by their user id
        subprocess.run([box.isolation.setpriv, f"--reuid={box.uid}", f"--regid={box.uid}", "--clear-groups",
                        "kill", "-9", "-1"], capture_output=True, timeout=30)


def describe() -> str:
    return probe().describe(Limits())
