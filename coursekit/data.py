"""Datasets: one path from the official URL (or a local mirror) to verified files in the cache.

Every dataset is a ``Dataset``: the files it needs, each with its SHA-256, and the ``Source``
(s) that provide them (a plain file or a ``.zip``, with the download's size). ``fetch(dataset)``
makes the files present in the cache and returns their folder. For each missing file it tries,
in order:

1. the mirror, ``$COURSEKIT_MIRROR/<mirror_dir>/``, holding the files themselves or the
   source archive (classrooms and CI put a copy here; no network is touched);
2. the official URL: streamed with a progress bar, with connect/read time-outs, an overall
   deadline, a byte cap, and a bounded retry of transient faults.

Whatever the route, every file is checked against its SHA-256 before it is moved into
place with an atomic rename, so the cache never holds a partial or corrupt file under a
final name; a file that fails its check is deleted and fetched again. When nothing works,
``DatasetUnavailable`` says which URL failed, which files are expected and where to put
them. There is no synthetic fall-back.

Limits of a download (each aborts that try with a message saying which limit was hit):

- deadline: ``DEADLINE_BASE`` seconds plus the catalogue's size at ``MIN_RATE`` bytes/s
  (``$COURSEKIT_MIN_RATE`` in kB/s overrides the rate for slow connections); a server that
  trickles bytes can no longer hold a learner for ever. Not retried.
- byte cap: the catalogue's size plus ``SIZE_MARGIN`` (a fraction) plus ``SIZE_SLACK`` bytes;
  a wrong URL that serves a large file cannot fill the disk. Not retried.
- silence: ``READ_TIMEOUT`` seconds without a byte. Retried, like HTTP 5xx and corrupt bytes.
- a host name that does not resolve (no network, no DNS) fails at once, not retried, and
  other files from the same host are not tried.

Concurrency: the files of one dataset are written under a per-dataset lock (``filelock``, a
``.lock`` file in the dataset's folder), so two processes (test workers, two notebooks) that
fetch the same dataset into an empty cache do not collide: the second waits, then uses the
first one's verified files. Temporary files are named ``.partial-<pid>-…``; those of a
process that no longer runs are removed by the next fetch.

The cache is ``$COURSEKIT_DATA`` if set, else the course's ``data/`` folder; if it is not
writable, the error says so and how to choose another. ``build_mirror(DIR)`` (the command
``python -m coursekit.mirror DIR``) fills ``DIR`` with every dataset in the mirror layout, for a
classroom's ``COURSEKIT_MIRROR``.

Pretrained weights (``WEIGHTS``: torchvision's ImageNet ResNet-18, for notebook 10) are entries of the
same kind, fetched, verified and mirrored the same way, but optional: they are not in ``DATASETS``, so
the datasets' download total and a default mirror leave them out (``build_mirror`` copies them when
named); ``imagenet_resnet18()`` loads them.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import os
import re
import shutil
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

DATA_ENV = "COURSEKIT_DATA"
MIRROR_ENV = "COURSEKIT_MIRROR"
MIN_RATE_ENV = "COURSEKIT_MIN_RATE"  # kB/s

CONNECT_TIMEOUT = 10.0  # seconds to open a connection
READ_TIMEOUT = 30.0  # seconds without a single byte before giving up on a transfer
ATTEMPTS = 3  # tries per URL for transient faults (time-outs, 5xx, corrupt bytes)
BACKOFF = 1.0  # seconds before the 2nd try, doubled for each further try
CHUNK = 1 << 16
MIN_RATE = 50_000.0  # bytes/s: the slowest connection a download's deadline allows for (0.4 Mbit/s)
DEADLINE_BASE = 30.0  # seconds every deadline starts with (connection set-up, a slow first byte)
SIZE_MARGIN = 0.25  # a download may exceed the catalogue's size by this fraction...
SIZE_SLACK = 1 << 20  # ...plus this many bytes, before it is cut off
STALE_AFTER = 24 * 3600.0  # seconds after which any .partial-* file counts as abandoned
LOCK_FILE = ".lock"


class DatasetUnavailable(RuntimeError):
    """The dataset is neither in the cache nor obtainable from the mirror or the network."""


class ChecksumMismatch(ValueError):
    """Bytes arrived, but they are not the bytes the course expects."""


@dataclass(frozen=True)
class Source:
    """Where files come from: ``url`` gives ``filename``; archives list the members they provide.

    ``members`` maps a member's path inside a ``.zip`` to the dataset file it becomes.
    Without ``members`` the download itself is the dataset file named ``filename``.
    ``size`` is the download's size in bytes: it sets the download's deadline and byte cap.
    """

    url: str
    filename: str
    sha256: str | None = None  # of the download itself; None where upstream pins none
    members: dict[str, str] = field(default_factory=dict)
    size: int | None = None

    def provides(self) -> list[str]:
        return list(self.members.values()) if self.members else [self.filename]


@dataclass(frozen=True)
class Dataset:
    """A named set of files (relative path -> SHA-256) and the sources that provide them.

    ``downloadable`` is False where the sources no longer serve these bytes (or there are
    none): only the mirror or a copy placed in the cache can provide them.
    """

    name: str
    cache_dir: str  # folder under the cache root
    mirror_dir: str  # folder under the mirror root
    files: dict[str, str]
    sources: tuple[Source, ...]
    homepage: str = ""
    terms: str = ""
    downloadable: bool = True

    @property
    def download_size(self) -> int:
        return sum(s.size or 0 for s in self.sources)


# ----------------------------------------------------------------------------- locations


def cache_root() -> Path:
    """The data cache: ``$COURSEKIT_DATA``, else ``data/`` beside the course's notebooks."""
    env = os.environ.get(DATA_ENV)
    if env:
        return Path(env).expanduser().resolve()
    repo = Path(__file__).resolve().parent.parent
    if (repo / "pyproject.toml").exists() and (repo / "notebooks").is_dir():
        return repo / "data"
    return Path.home() / ".cache" / "coursekit"


def mirror_root() -> Path | None:
    env = os.environ.get(MIRROR_ENV)
    return Path(env).expanduser().resolve() if env else None


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def is_valid(path: Path, sha256: str) -> bool:
    return path.is_file() and sha256_of(path) == sha256


def _human(n: float) -> str:
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


def partial_prefix(name: str) -> str:
    """Prefix of a temporary file for ``name``: ``.partial-<pid>-<name>.`` (the pid marks its owner)."""
    return f".partial-{os.getpid()}-{name}."


@contextlib.contextmanager
def atomic_path(final: Path):
    """Yield a temporary path beside ``final``; on success rename it into place, else delete it.

    The temporary name starts with ``.partial-<pid>-``, which nothing ever reads as data, so an
    interrupted write (even a killed process) cannot leave a file a later run would accept; the
    pid lets the next fetch remove what a dead process left.
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=partial_prefix(final.name), dir=final.parent)
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # mkstemp makes the file private (0600); a cache is shared (a sandboxed grader, a class
        # server), so give the finished file the mode an ordinary file would get.
        if tmp.is_file():
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, final)
    finally:
        tmp.unlink(missing_ok=True)


def _umask() -> int:
    """The process's umask, read without changing it where Linux allows (os.umask would, briefly)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except OSError:
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _write_verified(final: Path, sha256: str, write) -> None:
    """Write via ``write(tmp_path)``, check the SHA-256, and only then rename into place."""
    with atomic_path(final) as tmp:
        write(tmp)
        got = sha256_of(tmp)
        if got != sha256:
            raise ChecksumMismatch(f"{final.name}: checksum mismatch (sha256 {got[:16]}…, expected {sha256[:16]}…)")


# ------------------------------------------------------------- the cache: writable, locked, clean


def not_writable_message(folder: Path, err: OSError, what: str) -> str:
    reason = err.strerror or str(err)
    return "\n".join([
        f"The data cache folder {folder} is not writable ({reason}), so {what} cannot be saved there.",
        f"Choose a folder you can write to with the {DATA_ENV} environment variable, e.g.",
        f"  export {DATA_ENV}=$HOME/coursekit-data        (Windows: set {DATA_ENV}=%USERPROFILE%\\coursekit-data)",
        "before starting Jupyter or Python, or in a notebook, before the first load:",
        f"  import os; os.environ[{DATA_ENV!r}] = '/a/folder/you/own'",
        f"(A complete read-only cache is fine: only a missing file needs writing. {MIRROR_ENV} is where",
        "copies are read from, not where they are written.)",
    ])


def ensure_writable(folder: Path, what: str) -> None:
    """Create ``folder`` and a file in it, or raise ``DatasetUnavailable`` saying it is not writable.

    Probing with a real file (not ``os.access``) also catches read-only file systems and root.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=partial_prefix("write-probe"), dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise DatasetUnavailable(not_writable_message(folder, err, what)) from err


_PARTIAL_PID = re.compile(r"^\.partial-(\d+)-")


def _pid_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process on Windows
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # e.g. EPERM: it exists, owned by someone else
        return True
    return True


def remove_stale_partials(folder: Path) -> list[Path]:
    """Delete ``.partial-*`` files and folders under ``folder`` left by processes that no longer run.

    A temporary name carries its writer's pid; one whose pid is not running, or (for other
    hosts, reused pids and names without a pid) not modified for ``STALE_AFTER`` seconds, is
    abandoned. Returns what was removed.
    """
    removed = []
    if not folder.is_dir():
        return removed
    now = time.time()
    for path in list(folder.rglob(".partial-*")):
        try:
            match = _PARTIAL_PID.match(path.name)
            old = now - path.lstat().st_mtime > STALE_AFTER
            if old or (match and not _pid_running(int(match.group(1)))):
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
                removed.append(path)
        except OSError:
            continue  # vanished meanwhile, or not ours to delete: harmless
    return removed


@contextlib.contextmanager
def dataset_lock(folder: Path, what: str, wait: float = 3600.0):
    """Hold ``folder/.lock`` (``filelock``) while writing ``folder``; say so if another process holds it.

    The operating system releases the lock when its holder dies, so a crash never blocks a
    later run; ``wait`` bounds how long a live holder is waited for.
    """
    from filelock import FileLock, Timeout

    lock = FileLock(str(folder / LOCK_FILE))
    try:
        try:
            lock.acquire(timeout=0)
        except Timeout:
            print(f"waiting for another process that is fetching {what} into {folder} …", file=sys.stderr)
            lock.acquire(timeout=wait)
    except Timeout as err:
        raise DatasetUnavailable(
            f"another process has been fetching {what} into {folder} for over {wait:.0f} s "
            f"(it holds {folder / LOCK_FILE}); wait for it or stop it, then run again") from err
    except OSError as err:
        raise DatasetUnavailable(not_writable_message(folder, err, what)) from err
    try:
        yield
    finally:
        lock.release()


# ------------------------------------------------------------------------------ download


class _PermanentError(RuntimeError):
    """A fault that another try will not fix (HTTP 4xx, a size or deadline limit)."""


class _HostUnresolvable(DatasetUnavailable):
    def __init__(self, message: str, host: str):
        super().__init__(message)
        self.host = host


def min_rate() -> float:
    """The slowest transfer (bytes/s) a deadline allows for: ``$COURSEKIT_MIN_RATE`` kB/s, else ``MIN_RATE``."""
    env = os.environ.get(MIN_RATE_ENV, "").strip()
    if not env:
        return MIN_RATE
    try:
        rate = float(env) * 1000
    except ValueError:
        rate = -1.0
    if not rate > 0:
        raise ValueError(f"{MIN_RATE_ENV}={env!r}: expected a positive number of kB/s, e.g. 10")
    return rate


def deadline_for(size: int | None) -> float | None:
    """Seconds one try of a ``size``-byte download may take (None: no overall deadline)."""
    return None if size is None else DEADLINE_BASE + size / min_rate()


def cap_for(size: int | None) -> int | None:
    """The most bytes a download of ``size`` bytes may deliver before it is cut off."""
    return None if size is None else int(size * (1 + SIZE_MARGIN)) + SIZE_SLACK


def _resolution_failed(err: BaseException) -> bool:
    """Did ``err`` (a requests/urllib3 error) come from a failed host-name look-up?"""
    import socket

    seen, stack = set(), [err]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, socket.gaierror) or type(e).__name__ == "NameResolutionError":
            return True
        stack += [getattr(e, "reason", None), e.__cause__, e.__context__]
        stack += [a for a in getattr(e, "args", ()) if isinstance(a, BaseException)]
    return "Failed to resolve" in str(err) or "Name or service not known" in str(err)


def download(url: str, dest: Path, sha256: str | None = None, *, size: int | None = None,
             progress: bool = True, deadline: float | None = None, max_bytes: int | None = None) -> Path:
    """Stream ``url`` into ``dest`` atomically, verifying its SHA-256 when one is given.

    ``size`` (the expected bytes) sets the try's deadline (``deadline_for``) and byte cap
    (``cap_for``) unless ``deadline``/``max_bytes`` are given. Transient faults (connection
    errors, silence past ``READ_TIMEOUT``, HTTP 5xx, truncated or corrupt bytes) are retried
    ``ATTEMPTS`` times with exponential back-off, saying so on stderr; a 4xx, a body over the
    cap, a missed deadline and an unresolvable host name are final at once.
    """
    import requests
    from tqdm.auto import tqdm

    deadline = deadline_for(size) if deadline is None else deadline
    cap = cap_for(size) if max_bytes is None else max_bytes
    read_timeout = READ_TIMEOUT if deadline is None else min(READ_TIMEOUT, deadline)
    host = urlsplit(url).hostname or url
    errors = []
    for attempt in range(1, ATTEMPTS + 1):
        start = time.monotonic()
        received = 0
        try:
            with atomic_path(dest) as tmp:
                # identity: the bytes on the wire are the file, so Content-Length, cap and checksum agree
                with requests.get(url, stream=True, timeout=(CONNECT_TIMEOUT, read_timeout),
                                  headers={"Accept-Encoding": "identity"}) as response:
                    if 400 <= response.status_code < 500:
                        raise _PermanentError(f"HTTP {response.status_code} {response.reason}")
                    response.raise_for_status()
                    expected = int(response.headers.get("Content-Length") or 0) or None
                    if cap is not None and expected is not None and expected > cap:
                        raise _PermanentError(
                            f"the server announces {_human(expected)} for a file the catalogue lists at "
                            f"{_human(size or 0)} (cap {_human(cap)}): a wrong URL or another file; not downloaded")
                    raw = response.raw
                    # read1 returns whatever has arrived, so the deadline is checked even while bytes trickle
                    read = getattr(raw, "read1", None) or raw.read
                    with open(tmp, "wb") as out, tqdm(
                        total=expected, unit="B", unit_scale=True, desc=dest.name,
                        disable=not progress, leave=False,
                    ) as bar:
                        while chunk := read(CHUNK, decode_content=True):
                            received += len(chunk)
                            if cap is not None and received > cap:
                                raise _PermanentError(
                                    f"the server sent more than {_human(cap)} for a file the catalogue lists "
                                    f"at {_human(size or 0)}: a wrong URL or another file; stopped and removed")
                            out.write(chunk)
                            bar.update(len(chunk))
                            if deadline is not None and time.monotonic() - start > deadline:
                                raise _PermanentError(_deadline_message(deadline, size, received))
                        out.flush()
                        os.fsync(out.fileno())
                    wire = raw.tell() if hasattr(raw, "tell") else received
                if expected is not None and wire != expected:
                    raise OSError(f"transfer truncated: {wire} of {expected} bytes")
                if sha256 is not None:
                    got = sha256_of(tmp)
                    if got != sha256:
                        raise ChecksumMismatch(
                            f"checksum mismatch (sha256 {got[:16]}…, expected {sha256[:16]}…); file removed")
            return dest
        except _PermanentError as err:
            errors.append(f"try {attempt}: {err}")
            break
        except Exception as err:  # requests, urllib3 (raw reads) and OS errors: classified below
            if not _is_transfer_error(err):
                raise
            if _resolution_failed(err):
                raise _HostUnresolvable(
                    f"could not download {url}: cannot resolve the host name {host!r} (no network, or no "
                    "DNS); not retried", host) from err
            if deadline is not None and time.monotonic() - start > deadline:
                errors.append(f"try {attempt}: {_deadline_message(deadline, size, received)}")
                break
            errors.append(f"try {attempt}: {_short(err)}")
            if attempt < ATTEMPTS:
                wait = BACKOFF * 2 ** (attempt - 1)
                print(f"{dest.name}: {_short(err)}; retrying in {wait:g} s (try {attempt + 1} of {ATTEMPTS})",
                      file=sys.stderr)
                time.sleep(wait)
    raise DatasetUnavailable(f"could not download {url}: " + "; ".join(errors))


def _is_transfer_error(err: Exception) -> bool:
    import requests
    import urllib3

    return isinstance(err, (requests.RequestException, urllib3.exceptions.HTTPError, OSError, ChecksumMismatch))


def _deadline_message(deadline: float, size: int | None, received: int) -> str:
    rate = f"{size / (deadline - DEADLINE_BASE) / 1000:g} kB/s" if size and deadline > DEADLINE_BASE else "?"
    return (f"not finished within its deadline of {deadline:.1f} s ({_human(received)} arrived; the deadline "
            f"allows {DEADLINE_BASE:g} s + {_human(size or 0)} at {rate}); on a slow connection allow a "
            f"lower rate with {MIN_RATE_ENV}=<kB/s>, e.g. {MIN_RATE_ENV}=10")


def _short(err: Exception) -> str:
    import requests

    if isinstance(err, requests.ConnectTimeout):
        return "connection timed out"
    text = str(err)
    # A stall mid-body surfaces as urllib3's ReadTimeoutError (or requests wrapping it).
    if isinstance(err, requests.ReadTimeout) or "Read timed out" in text or "timed out" in text.lower():
        return "server stopped sending (read timed out)"
    if "IncompleteRead" in text or "Connection broken" in text or "ProtocolError" in type(err).__name__:
        return "transfer truncated (connection broken)"
    if isinstance(err, requests.ConnectionError):
        return "cannot connect (no network, or the host is down)"
    return text


# --------------------------------------------------------------------------------- fetch


def _unpack(archive: Path, source: Source, dataset: Dataset, root: Path, wanted: set[str]) -> None:
    """Extract the wanted members of a downloaded/mirrored source into the cache, verified."""
    if not source.members:
        _write_verified(root / source.filename, dataset.files[source.filename],
                        lambda tmp: shutil.copyfile(archive, tmp))
        return
    for member, target in source.members.items():
        if target not in wanted:
            continue

        def write(tmp, member=member):
            with zipfile.ZipFile(archive) as zf, zf.open(member) as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)

        _write_verified(root / target, dataset.files[target], write)


def _from_mirror(dataset: Dataset, root: Path, missing: set[str], notes: list[str]) -> None:
    mirror = mirror_root()
    if mirror is None:
        notes.append(f"mirror: not set (${MIRROR_ENV})")
        return
    folder = mirror / dataset.mirror_dir
    bad = []
    for rel in sorted(missing):
        candidate = folder / rel
        if candidate.is_file():
            try:
                _write_verified(root / rel, dataset.files[rel], lambda tmp, c=candidate: shutil.copyfile(c, tmp))
                missing.discard(rel)
            except (ChecksumMismatch, OSError) as err:
                bad.append(f"mirror: {candidate} is unusable ({err})")
    notes += bad[:10] + ([f"mirror: … and {len(bad) - 10} more unusable files"] if len(bad) > 10 else [])
    for source in dataset.sources:
        if not missing.intersection(source.provides()):
            continue
        archive = folder / source.filename
        if not archive.is_file() or not source.members:
            continue
        if source.sha256 and sha256_of(archive) != source.sha256:
            notes.append(f"mirror: {archive} fails its checksum")
            continue
        try:
            _unpack(archive, source, dataset, root, missing)
            missing.difference_update(source.provides())
        except (ChecksumMismatch, zipfile.BadZipFile, OSError, KeyError) as err:
            notes.append(f"mirror: cannot use {archive} ({err})")
    if missing:
        notes.append(f"mirror: {folder} lacks {len(missing)} file(s)" if len(missing) > 10
                     else f"mirror: {folder} lacks " + ", ".join(sorted(missing)))


def _from_network(dataset: Dataset, root: Path, missing: set[str], notes: list[str], progress: bool) -> None:
    unresolved: set[str] = set()
    for source in dataset.sources:
        if not missing.intersection(source.provides()):
            continue
        host = urlsplit(source.url).hostname
        if host in unresolved:
            notes.append(f"download: {source.url} not tried (its host {host!r} did not resolve)")
            continue
        # A per-process archive name inside the (locked) dataset folder: two datasets sharing an
        # archive name, or a process that dies mid-way, cannot disturb another's archive.
        target = root / f"{partial_prefix('archive')}{source.filename}" if source.members else None
        try:
            if source.members:
                download(source.url, target, source.sha256, size=source.size, progress=progress)
                _unpack(target, source, dataset, root, set(missing))
            else:
                download(source.url, root / source.filename, dataset.files[source.filename],
                         size=source.size, progress=progress)
            missing.difference_update(source.provides())
        except _HostUnresolvable as err:
            unresolved.add(err.host)
            notes.append(f"download: {err}")
        except (DatasetUnavailable, ChecksumMismatch, zipfile.BadZipFile, KeyError, OSError) as err:
            notes.append(f"download: {err}")
        finally:
            if target is not None:
                target.unlink(missing_ok=True)


def _invalid(dataset: Dataset, root: Path, names) -> set[str]:
    return {rel for rel in names if not is_valid(root / rel, dataset.files[rel])}


def fetch(dataset: Dataset, *, progress: bool = True) -> Path:
    """Make every file of ``dataset`` present and verified in the cache; return its folder.

    A complete cache is only read (it may be read-only). Otherwise the dataset's folder must be
    writable; its lock is taken, abandoned ``.partial-*`` files are removed, and what another
    process fetched meanwhile is used as it is.
    """
    root = cache_root() / dataset.cache_dir
    missing = _invalid(dataset, root, dataset.files)
    if not missing:
        remove_stale_partials(root)  # best effort: a read-only cache just keeps them
        return root
    what = f"dataset {dataset.name!r}"
    ensure_writable(root, what)
    with dataset_lock(root, what, wait=_lock_wait(dataset)):
        remove_stale_partials(root)
        missing = _invalid(dataset, root, missing)  # another process may have fetched them meanwhile
        for rel in missing:  # a file that fails its checksum is never used: remove it and fetch anew
            (root / rel).unlink(missing_ok=True)
        if not missing:
            return root
        notes: list[str] = []
        _from_mirror(dataset, root, missing, notes)
        if missing:
            _from_network(dataset, root, missing, notes, progress)
        if missing:
            raise DatasetUnavailable(_explain(dataset, root, missing, notes))
    return root


def _lock_wait(dataset: Dataset) -> float:
    """Long enough for another process to finish every try of every source, then some."""
    per_try = sum(deadline_for(s.size) or READ_TIMEOUT * 10 for s in dataset.sources)
    return 600.0 + ATTEMPTS * (per_try + BACKOFF * 2 ** ATTEMPTS)


def _explain(dataset: Dataset, root: Path, missing: set[str], notes: list[str]) -> str:
    lines = [f"Dataset {dataset.name!r} is not available: {len(missing)} file(s) missing."]
    lines += ["What was tried:"] + [f"  - {n}" for n in notes]
    if dataset.sources:
        lines += ["Official source(s):"] + [f"  - {s.url}" for s in dataset.sources]
    shown = sorted(missing)[:10]
    lines += ["Expected files (sha256):"] + [f"  - {rel}  {dataset.files[rel]}" for rel in shown]
    if len(missing) > len(shown):
        lines.append(f"  - … and {len(missing) - len(shown)} more")
    fix = ("connect to the internet and run again, or download the source(s) above yourself and"
           if dataset.sources and dataset.downloadable else "get the files (the official URL no longer serves them) and")
    lines += [
        f"To fix: {fix}",
        f"put the files (or the archive) in {root}/ , or set {MIRROR_ENV} to a folder holding",
        f"{dataset.mirror_dir}/ with them.",
    ]
    if dataset.terms:
        lines.append(f"Terms of use: {dataset.terms}")
    return "\n".join(lines)


def _mirror_has(dataset: Dataset) -> bool:
    mirror = mirror_root()
    if mirror is None:
        return False
    folder = mirror / dataset.mirror_dir
    have = {rel for rel in dataset.files if (folder / rel).is_file()}
    for source in dataset.sources:
        if source.members and (folder / source.filename).is_file():
            have.update(source.provides())
    return have >= set(dataset.files)


def dataset_state(dataset: Dataset) -> str:
    """``ready``, ``not cached yet (…where it will come from…)`` or ``incomplete (…)``."""
    root = cache_root() / dataset.cache_dir
    present = [rel for rel in dataset.files if (root / rel).is_file()]
    valid = sum(is_valid(root / rel, dataset.files[rel]) for rel in present)
    if valid == len(dataset.files):
        return "ready"
    if not present:
        if _mirror_has(dataset):
            return "not cached yet (available from the mirror)"
        if dataset.downloadable and dataset.sources:
            return "not cached yet (downloads on first use)"
        return f"not cached yet (no longer downloadable: needs a mirror with {dataset.mirror_dir}/)"
    return f"incomplete ({valid}/{len(dataset.files)} files verified; the next load repairs it)"


def status() -> "pandas.DataFrame":  # noqa: F821
    """One row per dataset: its state in words, its download size, and its folder; then the total.

    States: ``ready``; ``not cached yet (available from the mirror / downloads on first use)``
    (nothing wrong: the first load fetches it); ``incomplete (…)`` (a file missing or failing
    its checksum: the next load repairs it). State Farm (Kaggle) has its own row, with no download
    size (Kaggle's download is the learner's own; the mirror's 80x60 copy is not a download).
    Pretrained weights (``WEIGHTS``) come last, marked optional and left out of the total.
    """
    import pandas as pd

    rows = [{"dataset": ds.name, "status": dataset_state(ds), "download (MB)": round(ds.download_size / 1e6, 1),
             "folder": str(cache_root() / ds.cache_dir)} for ds in DATASETS.values()]
    from .statefarm import status_row

    rows.append(status_row())
    rows += [{"dataset": ds.name, "status": f"optional (notebook 10; not in the total): {dataset_state(ds)}",
              "download (MB)": round(ds.download_size / 1e6, 1), "folder": str(cache_root() / ds.cache_dir)}
             for ds in WEIGHTS.values()]
    total = sum(ds.download_size for ds in DATASETS.values() if ds.downloadable)
    rows.append({"dataset": "total (downloaded on first use)", "status": "",
                 "download (MB)": round(total / 1e6, 1), "folder": str(cache_root())})
    return pd.DataFrame(rows).set_index("dataset")


# ------------------------------------------------------------------------------ catalogue

_MNIST_URL = "https://ossci-datasets.s3.amazonaws.com/mnist/"  # torchvision's own first mirror
_MNIST_GZ = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}
_MNIST_SIZE = {"train-images-idx3-ubyte.gz": 9_912_422, "train-labels-idx1-ubyte.gz": 28_881,
               "t10k-images-idx3-ubyte.gz": 1_648_877, "t10k-labels-idx1-ubyte.gz": 4_542}
MNIST = Dataset(
    name="mnist",
    cache_dir="MNIST/raw",  # the layout torchvision.datasets.MNIST expects under its root
    mirror_dir="mnist",
    files=dict(_MNIST_GZ),
    sources=tuple(Source(_MNIST_URL + f, f, size=_MNIST_SIZE[f]) for f in _MNIST_GZ),
    homepage="http://yann.lecun.com/exdb/mnist/",
    terms="Y. LeCun and C. Cortes; commonly cited as CC BY-SA 3.0",
)

_ML_TERMS = ("GroupLens research licence: cite Harper & Konstan (2015); no redistribution or "
             "commercial use without permission; see the README in the download")


def _grouplens(name: str, files: dict[str, str], homepage: str, size: int, zip_stem: str | None = None,
               downloadable: bool = True) -> Dataset:
    """A MovieLens edition: one GroupLens zip whose members sit in a folder named like the zip."""
    stem, folder = zip_stem or name, f"movielens/{name}"
    return Dataset(name=name, cache_dir=folder, mirror_dir=folder, files=dict(files),
                   sources=(Source(f"https://files.grouplens.org/datasets/movielens/{stem}.zip", f"{stem}.zip",
                                   members={f"{stem}/{f}": f for f in files}, size=size),),
                   homepage=homepage, terms=_ML_TERMS, downloadable=downloadable)


_ML100K = {
    "u.data": "06416e597f82b7342361e41163890c81036900f418ad91315590814211dca490",
    "u.item": "553841ebc7de3a0fd0d6b62a204ea30c1e651aacfb2814c7a6584ac52f2c5701",
    "u.user": "f120e114da2e8cf314fd28f99417c94ae9ddf1cb6db8ce0e4b5995d40e90e62c",
    "u.genre": "9757e0d3e6b298159a80dd48eaf938114690e911e39af97a76949ef1663610bb",
    "README": "4883b8cf340ed0059971b33f56ad3adc88a40792108ebca3d24aafc4c82e8b52",
}
# GroupLens pins no checksum for its zips; the sizes are GroupLens' listing (ml-100k, "4.9 MB") or a
# copy of the zip (ml-latest-small, 994,178 bytes). Only the deadline and the cap use them, with margin.
ML_100K = _grouplens("ml-100k", _ML100K, "https://grouplens.org/datasets/movielens/100k/", size=4_900_000)

_MLSMALL = {
    "ratings.csv": "aa289ca83157595d0df6aea1be6a4ded676ddc4385472e8313a8ed9805352646",
    "movies.csv": "5a5f32dd9bb3797b8e728a1b98958789d2b13f294a69fdfbc5727f8a9611aa07",
    "tags.csv": "92a9f8bb7916dceef6151209845788c3643f794dfa79d1feaec7121b5960399d",
    "links.csv": "97ad18e4e56a09363c65676b6cb3482ce3e2cea2372a24620c1599c843325f31",
    "README.txt": "63d22ac138e80fae37021797ed8e1b9424b5239dc576a137422adf783ae3f404",
}
ML_LATEST_SMALL = _grouplens("ml-latest-small", _MLSMALL, "https://grouplens.org/datasets/movielens/latest/",
                             size=994_178)

_MLSMALL_2016 = {
    "ratings.csv": "821795331fd974bbe7a8416f2a7eec2b548a485dedb47a073580b0a9a8a0a8d2",
    "movies.csv": "a87480009b75ecd8d1e8f70700c534b6aefd57eed31b087ce8268ef6061a166c",
    "tags.csv": "e0659bc6a79fb226cfaaedb9bc022fa611337d273badcc18325bebdc26a5e442",
    "links.csv": "772cb400f68f03cc61b112a544601d25571b168788dab7dc96f462d93059c49f",
    "README.txt": "59be481ddf3fab0f9f7cf2f73e0db4d0920a413a313c911b62bd01ee8816ea2f",
}
# The 2016-10-17 edition (100,004 ratings, 671 users) that fast.ai's 2017 lesson used. GroupLens
# replaced it in 2018 at the same URL, so a download now gets the newer edition, fails the
# checksums, and ends in the clear error; a mirror (or a saved copy placed in the cache) works.
ML_LATEST_SMALL_2016 = _grouplens(
    "ml-latest-small-2016", _MLSMALL_2016,
    "https://grouplens.org/datasets/movielens/latest/ (2016 edition, no longer served)",
    size=994_178, zip_stem="ml-latest-small", downloadable=False)  # the size of what the URL serves now

_PTB = {
    "ptb.train.txt": "fcea919f6cf83f35d4d00c6cbf08040d13d4155226340912e2fef9c9c4102cbf",
    "ptb.valid.txt": "c9fe6985fe0d4ccb578183407d7668fc6066c20700cb4cf87d8ff1cc34df1bf2",
    "ptb.test.txt": "dd65dff31e70846b2a6030a87482edcd5d199130cdcfa1f3dccbb033728deee0",
}
PTB = Dataset(
    name="ptb",
    cache_dir="text/ptb",
    mirror_dir="text/ptb",
    files=dict(_PTB),
    sources=(Source("http://d2l-data.s3-accelerate.amazonaws.com/ptb.zip", "ptb.zip",
                    sha256="310d8f602882a5716613815ed75596e5764ea84ed04c5630eebaaf2b943ec5aa",
                    members={f"ptb/{f}": f for f in _PTB}, size=1_981_551),),
    homepage="https://www.fit.vutbr.cz/~imikolov/rnnlm/ (Mikolov's PTB language-model split)",
    terms="Penn Treebank text (LDC99T42); research and teaching use",
)

_GUTENBERG_BOOKS = {
    "austen-emma.txt": "71b0923d75fcf2f1faa897b22da8de8e2476d7478a2b22388eb58a3420e00215",
    "austen-persuasion.txt": "cec097657cbfeb62aafe178973f514fa07ab66a5e28ea025ebd5d51ca870e40f",
    "austen-sense.txt": "57b169c7cfa502896dee25bd66616f61cc1d21084caf31f015176ee46fda9718",
    "bible-kjv.txt": "3f56c9f0bbc796312aacc5fcb49a799f5c5f729f00db3f86bff26319a93bfede",
    "blake-poems.txt": "840897a66e23a47dd1fd56b864f421b2be0af074dc081244f7995bf26939eee9",
    "chesterton-ball.txt": "c6b6d4e8c09a3f49a09f37f4e47663d4d6f048b62d86c70ccafdfd8f27059a58",
    "chesterton-brown.txt": "67027976205b4b30e367c704807f56c8ffac3e8ea6037d993e57ab1fe28447ec",
    "chesterton-thursday.txt": "8b431a2a8db84089cd6f83fa66610c3b12c04114609df6e90137c0c58f2c5493",
    "melville-moby_dick.txt": "dc2466ee3c2e6e2ea1f86233d142e4b5578fdc1d6f0ca657bee7572202a980c7",
    "milton-paradise.txt": "49028a77c557de1459e96c026edbe72997be2d9015925f7baefb793cd6fe706f",
    "shakespeare-caesar.txt": "7c46bd32fc84d9596bcad55b61ec3c1a390239acb190b286422855aafc2774b3",
    "shakespeare-hamlet.txt": "1eceab7027ad7e0cc25c6b6aadcb2e6bb070395cb2085f775ac732d63d5db240",
    "shakespeare-macbeth.txt": "d4a204352cfe5924cbae76f764225d120e9f7617d39cb8c949dedd3f306353ac",
    "whitman-leaves.txt": "93ebaf1dccc8f1514b4b1c2f52e64e81829113fc58cff63fb51ada0c72f99c3e",
}
GUTENBERG = Dataset(
    name="gutenberg",
    cache_dir="text/gutenberg",
    mirror_dir="text/gutenberg",
    files=dict(_GUTENBERG_BOOKS),
    # NLTK's 2008 packaging of its Project Gutenberg selection, pinned to the commit that added it.
    sources=(Source("https://raw.githubusercontent.com/nltk/nltk/c90be5e1b36a576057c8bef2ba948cafd28e863d/"
                    "nltk_data/corpora/gutenberg.zip", "gutenberg.zip",
                    sha256="a21023d902540d221d1d5f73c4308deaf6950d96cf0b68e08388d2a944f5d1f2",
                    members={f"gutenberg/{f}": f for f in _GUTENBERG_BOOKS}, size=3_736_748),),
    homepage="https://www.nltk.org/nltk_data/",
    terms="public domain",
)


def _single(name: str, folder: str, url: str, filename: str, sha: str, size: int, terms: str,
            homepage: str = "") -> Dataset:
    return Dataset(name=name, cache_dir=folder, mirror_dir=folder, files={filename: sha},
                   sources=(Source(url, filename, size=size),), homepage=homepage or url, terms=terms)


ANALOGY = _single(
    "analogy", "text/analogy",
    "https://raw.githubusercontent.com/tmikolov/word2vec/20c129af10659f7c50e86e3be406df663beff438/questions-words.txt",
    "questions-words.txt", "8c29b3332afc46f3fb8be04cb5297bf96f39aa7131272dff57869b4485b22a36", 603_955,
    "Apache License 2.0 (word2vec); cite Mikolov et al. 2013",
    "https://code.google.com/archive/p/word2vec/")
WORDSIM353 = _single(
    "wordsim353", "text/wordsim353",
    "https://raw.githubusercontent.com/piskvorky/gensim/37f90ec121eb7cd401448a947e80953e0c53ccdc/"
    "gensim/test/test_data/wordsim353.tsv",
    "wordsim353.tsv", "f92a022fc2537793a15bc3a8c162ebcd74990e033a228bb6388cb71e4c0b1e1d", 7_186,
    "free for research; cite Finkelstein et al. 2002",
    "http://www.cs.technion.ac.il/~gabr/resources/data/wordsim353/")
TINY_SHAKESPEARE = _single(
    "tinyshakespeare", "text/tinyshakespeare",
    "https://raw.githubusercontent.com/karpathy/char-rnn/6f9487a6fe5b420b7ca9afb0d7c078e37c1d1b4e/"
    "data/tinyshakespeare/input.txt",
    "input.txt", "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed", 1_115_394,
    "public domain text")
TIME_MACHINE = _single(
    "timemachine", "text/timemachine", "http://d2l-data.s3-accelerate.amazonaws.com/timemachine.txt",
    "timemachine.txt", "8424dbd9532ac81f7e5f0b6add90e6952baea29158309d7d1bf3884f4e12c516", 178_979,
    "public domain (Project Gutenberg)")

DATASETS: dict[str, Dataset] = {d.name: d for d in (
    MNIST, ML_100K, ML_LATEST_SMALL, ML_LATEST_SMALL_2016, PTB, GUTENBERG, ANALOGY, WORDSIM353, TINY_SHAKESPEARE, TIME_MACHINE)}

# Pretrained weights: fetched, verified and mirrored like a dataset, but optional (only notebook 10's
# ImageNet section uses them), so they sit in their own catalogue: the course's data (DATASETS, the
# download total, a default mirror) does not need them. The URL and file name are torchvision's
# (ResNet18_Weights.IMAGENET1K_V1); the file name carries the first 8 hex digits of the SHA-256,
# which torch.hub checks when it downloads; the size is 44.661 MiB in torchvision's metadata.
RESNET18_IMAGENET = _single(
    "resnet18-imagenet", "weights/resnet18-imagenet", "https://download.pytorch.org/models/resnet18-f37072fd.pth",
    "resnet18-f37072fd.pth", "f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec", 46_830_571,
    "torchvision's BSD-3-Clause licence (https://github.com/pytorch/vision/blob/main/LICENSE); trained on "
    "ImageNet, whose terms allow non-commercial research and education only "
    "(https://image-net.org/download.php); torchvision notes that pretrained weights may carry the terms of "
    "their training data (https://docs.pytorch.org/vision/stable/models.html)",
    "https://docs.pytorch.org/vision/stable/models/generated/torchvision.models.resnet18.html")
WEIGHTS: dict[str, Dataset] = {RESNET18_IMAGENET.name: RESNET18_IMAGENET}


# -------------------------------------------------------------------------------- loaders


def mnist(train: bool = True, transform=None, *, progress: bool = True):
    """MNIST as ``torchvision.datasets.MNIST``, fetched and verified through ``fetch``."""
    raw = fetch(MNIST, progress=progress)
    for gz in MNIST.files:  # torchvision reads the decompressed IDX files beside the .gz
        idx = raw / gz[: -len(".gz")]
        if not idx.is_file():
            ensure_writable(raw, "MNIST's decompressed files (for torchvision)")
            with atomic_path(idx) as tmp, gzip.open(raw / gz, "rb") as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst)
    from torchvision.datasets import MNIST as TorchvisionMNIST

    return TorchvisionMNIST(root=str(raw.parent.parent), train=train, transform=transform, download=False)


def mnist_tensors(train: bool = True, device=None, *, limit: int | None = None):
    """MNIST as two tensors, ``images`` (N, 1, 28, 28) float32 in [0, 1] and ``labels`` (N,) int64.

    The whole split fits in memory (188 MB for training), so models can train from tensors on
    the device without a per-batch DataLoader. ``limit`` keeps the first N examples.
    """
    ds = mnist(train=train)
    images = ds.data[:limit].unsqueeze(1).float().div_(255)
    labels = ds.targets[:limit].clone()
    if device is not None:
        images, labels = images.to(device), labels.to(device)
    return images, labels


def movielens(name: str = "ml-100k"):
    """``(ratings, movies)`` DataFrames with the same columns for every edition.

    ``ml-100k`` (100,000 ratings), ``ml-latest-small`` (current, 100,836) or
    ``ml-latest-small-2016`` (the 100,004 ratings of fast.ai's 2017 lesson).

    ratings: ``userId, movieId, rating, timestamp``; movies: ``movieId, title`` (+ ``genres``).
    """
    import pandas as pd

    if name == "ml-100k":
        root = fetch(ML_100K)
        ratings = pd.read_csv(root / "u.data", sep="\t", names=["userId", "movieId", "rating", "timestamp"])
        genres = pd.read_csv(root / "u.genre", sep="|", names=["genre", "id"]).dropna()["genre"].tolist()
        movies = pd.read_csv(root / "u.item", sep="|", encoding="latin-1", header=None,
                             names=["movieId", "title", "release", "video_release", "imdb_url", *genres])
        flags = movies[genres].to_numpy().astype(bool)
        movies["genres"] = ["|".join(g for g, f in zip(genres, row, strict=True) if f) for row in flags]
        movies = movies[["movieId", "title", "genres"]]
    elif name in ("ml-latest-small", "ml-latest-small-2016"):
        root = fetch(ML_LATEST_SMALL if name == "ml-latest-small" else ML_LATEST_SMALL_2016)
        ratings = pd.read_csv(root / "ratings.csv")
        movies = pd.read_csv(root / "movies.csv")
    else:
        raise ValueError(f"unknown MovieLens edition {name!r}; choose ml-100k, ml-latest-small or ml-latest-small-2016")
    return ratings, movies


def text(name: str, split: str = "train") -> str:
    """A corpus as one string: ``ptb`` (split train/valid/test), ``timemachine``, ``tinyshakespeare``."""
    if name == "ptb":
        if split not in ("train", "valid", "test"):
            raise ValueError(f"PTB split must be train, valid or test, not {split!r}")
        return (fetch(PTB) / f"ptb.{split}.txt").read_text()
    if name == "timemachine":
        return (fetch(TIME_MACHINE) / "timemachine.txt").read_text()
    if name == "tinyshakespeare":
        return (fetch(TINY_SHAKESPEARE) / "input.txt").read_text()
    raise ValueError(f"unknown corpus {name!r}; choose ptb, timemachine or tinyshakespeare "
                     "(gutenberg() returns the Gutenberg books)")


def gutenberg() -> dict[str, str]:
    """NLTK's 14-book Project Gutenberg selection: file name -> text."""
    root = fetch(GUTENBERG)
    return {f: (root / f).read_text(encoding="latin-1") for f in GUTENBERG.files}


def analogy_questions():
    """Google's word-analogy set as a DataFrame: ``section, a, b, c, d`` (a:b :: c:d), lower-cased."""
    import pandas as pd

    rows, section = [], None
    for line in (fetch(ANALOGY) / "questions-words.txt").read_text().splitlines():
        if line.startswith(":"):
            section = line[1:].strip()
        elif line.strip():
            a, b, c, d = line.lower().split()
            rows.append((section, a, b, c, d))
    return pd.DataFrame(rows, columns=["section", "a", "b", "c", "d"])


def wordsim353():
    """WordSim-353 similarity judgements: ``word1, word2, score`` (0-10)."""
    import pandas as pd

    path = fetch(WORDSIM353) / "wordsim353.tsv"
    df = pd.read_csv(path, sep="\t", comment="#", header=None, names=["word1", "word2", "score"])
    df["word1"], df["word2"] = df["word1"].str.lower(), df["word2"].str.lower()
    return df


def imagenet_resnet18(*, progress: bool = True):
    """``(model, weights)``: ``torchvision.models.resnet18`` with torchvision's ImageNet weights.

    The file comes through ``fetch(RESNET18_IMAGENET)`` (the cache, then ``$COURSEKIT_MIRROR/
    weights/resnet18-imagenet/``, then download.pytorch.org), verified against its full SHA-256;
    torch's own loader (``torch.hub.load_state_dict_from_url``, ``weights_only``) then reads it from
    that folder. torch checks the 8-hex-digit prefix in the file name only when it downloads a file
    itself, so that check is made here. ``weights.transforms()`` is the ImageNet preprocessing (its
    ``mean`` and ``std``). Raises ``DatasetUnavailable`` (how to get the file) when it cannot be had.
    """
    import torch
    import torchvision

    weights = torchvision.models.ResNet18_Weights.IMAGENET1K_V1
    entry = RESNET18_IMAGENET
    (source,) = entry.sources
    folder = fetch(entry, progress=progress)
    prefix = torch.hub.HASH_REGEX.search(source.filename)
    if prefix is None or not entry.files[source.filename].startswith(prefix.group(1)):
        raise ChecksumMismatch(f"{source.filename}: the hash prefix in its name does not match the catalogue's "
                               f"sha256 {entry.files[source.filename][:16]}…")
    state = torch.hub.load_state_dict_from_url(source.url, model_dir=str(folder), file_name=source.filename,
                                               check_hash=True, map_location="cpu", progress=progress,
                                               weights_only=True)
    model = torchvision.models.resnet18()
    model.load_state_dict(state)
    return model, weights


# ------------------------------------------------------------------------ classroom mirror


def build_mirror(folder: str | os.PathLike, names=None, *, progress: bool = True) -> dict[str, str]:
    """Fetch every catalogued dataset (or those in ``names``, which may also name ``WEIGHTS``) and lay
    its verified files out in ``folder`` in the mirror layout (``<mirror_dir>/<file>``), ready to serve
    as ``$COURSEKIT_MIRROR``.

    Files go through ``fetch`` (the cache, then the mirror/network, checksums) and are copied
    with a second checksum; a file already valid in ``folder`` is kept. Returns ``{name: result}``
    (``"ok: …"`` or the reason it failed); one dataset failing does not stop the others.
    """
    folder = Path(folder).expanduser().resolve()
    catalogue = {**DATASETS, **WEIGHTS}  # weights only when named: a default mirror is the datasets
    chosen = list(DATASETS) if not names else list(names)
    unknown = [n for n in chosen if n not in catalogue]
    if unknown:
        raise ValueError(f"unknown dataset(s) {', '.join(unknown)}; choose from {', '.join(catalogue)}")
    results = {}
    for name in chosen:
        ds = catalogue[name]
        try:
            root = fetch(ds, progress=progress)
            target = folder / ds.mirror_dir
            ensure_writable(target, f"the mirror copy of {name!r}")
            for rel, sha in ds.files.items():
                if not is_valid(target / rel, sha):
                    _write_verified(target / rel, sha, lambda tmp, src=root / rel: shutil.copyfile(src, tmp))
            size = sum((target / rel).stat().st_size for rel in ds.files)
            results[name] = f"ok: {len(ds.files)} file(s), {_human(size)} in {target}"
        except (DatasetUnavailable, ChecksumMismatch, OSError) as err:
            results[name] = "FAILED: " + str(err).splitlines()[0]
    return results

