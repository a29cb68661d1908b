"""The dataset path under faults, against a real HTTP server on 127.0.0.1 started by the tests.

Each test builds a small ``Dataset`` whose source URL points at the server, with the cache
(``COURSEKIT_DATA``) and mirror (``COURSEKIT_MIRROR``) in temporary folders. Time limits are
injected (deadline base, minimum rate, time-outs), so no test waits more than a few seconds.
Tests that need a second process load ``coursekit/data.py`` on its own (no torch import), so a
child starts in well under a second.
"""

from __future__ import annotations

import ctypes
import gzip
import hashlib
import io
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
import zipfile
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from coursekit import data

PAYLOAD = b"real bytes of a dataset file\n" * 2000  # ~58 kB: several chunks
PAYLOAD_SHA = hashlib.sha256(PAYLOAD).hexdigest()
SECOND = b"second member\n"
DATA_PY = Path(data.__file__).resolve()


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pack/a.txt", PAYLOAD)
        zf.writestr("pack/b.txt", b"second member\n")
    return buf.getvalue()


ZIP = _zip_bytes()


class Server:
    """Routes: /good /corrupt /truncated /missing(404) /broken(500) /flaky (500 once) /stall /slow /pack.zip
    /trickle (the payload in 1 kB pieces, ``trickle_gap`` s apart) /huge (announces 1 GB) /endless (no length,
    streams until the client hangs up) /gzip (Content-Encoding: gzip) /slowpack.zip (the zip over ~1 s)"""

    def __init__(self):
        self.hits: Counter[str] = Counter()
        self.stall_seconds = 3.0
        self.trickle_gap = 0.02
        self.sent: Counter[str] = Counter()  # body bytes written per route
        hits, server = self.hits, self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, body: bytes, length: int | None = None, status: int = 200):
                self.send_response(status)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                path = self.path
                hits[path] += 1
                if path == "/good":
                    self._send(PAYLOAD)
                elif path == "/pack.zip":
                    self._send(ZIP)
                elif path == "/corrupt":
                    self._send(PAYLOAD[:-1] + b"X")
                elif path == "/truncated":
                    self._send(PAYLOAD[: len(PAYLOAD) // 2], length=len(PAYLOAD))
                    self.close_connection = True
                elif path == "/missing":
                    self._send(b"not found", status=404)
                elif path == "/broken":
                    self._send(b"oops", status=500)
                elif path == "/flaky":
                    self._send(b"oops", status=500) if hits[path] == 1 else self._send(PAYLOAD)
                elif path in ("/trickle", "/slowpack.zip"):
                    body = PAYLOAD if path == "/trickle" else ZIP
                    piece = 1000 if path == "/trickle" else len(ZIP) // 10 + 1
                    gap = server.trickle_gap if path == "/trickle" else 0.1
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    try:
                        for i in range(0, len(body), piece):
                            self.wfile.write(body[i:i + piece])
                            self.wfile.flush()
                            time.sleep(gap)
                    except OSError:
                        pass  # the client gave up
                elif path == "/huge":
                    self.send_response(200)
                    self.send_header("Content-Length", str(10**9))
                    self.end_headers()
                    try:
                        for _ in range(200):
                            self.wfile.write(b"x")
                            self.wfile.flush()
                            time.sleep(0.05)
                    except OSError:
                        pass
                elif path == "/endless":
                    self.send_response(200)  # HTTP/1.0, no Content-Length: the body ends when the server closes
                    self.end_headers()
                    block = b"y" * 65536
                    try:
                        while server.sent[path] < 200 * 10**6:
                            self.wfile.write(block)
                            server.sent[path] += len(block)
                    except OSError:
                        pass
                elif path == "/gzip":
                    body = gzip.compress(PAYLOAD)
                    self.send_response(200)
                    self.send_header("Content-Encoding", "gzip")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                elif path in ("/stall", "/slow"):
                    # Headers and a first chunk, then silence: a server that hangs mid-transfer.
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(PAYLOAD)))
                    self.end_headers()
                    self.wfile.write(PAYLOAD[:1000])
                    self.wfile.flush()
                    time.sleep(server.stall_seconds if path == "/stall" else 30)
                else:
                    self._send(b"?", status=404)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Cache and mirror in tmp; fast time-outs and back-off so fault tests take seconds."""
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "cache"))
    for var in ("COURSEKIT_MIRROR", "COURSEKIT_MIN_RATE", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setattr(data, "CONNECT_TIMEOUT", 2.0)
    monkeypatch.setattr(data, "READ_TIMEOUT", 0.5)
    monkeypatch.setattr(data, "BACKOFF", 0.05)
    return tmp_path


def plain(url: str, sha: str = PAYLOAD_SHA, size: int | None = len(PAYLOAD)) -> data.Dataset:
    return data.Dataset(name="toy", cache_dir="toy", mirror_dir="toy", files={"file.txt": sha},
                        sources=(data.Source(url, "file.txt", size=size),))


def packed(url: str) -> data.Dataset:
    return data.Dataset(
        name="toy", cache_dir="toy", mirror_dir="toy",
        files={"a.txt": PAYLOAD_SHA, "b.txt": hashlib.sha256(b"second member\n").hexdigest()},
        sources=(data.Source(url, "pack.zip", sha256=hashlib.sha256(ZIP).hexdigest(),
                             members={"pack/a.txt": "a.txt", "pack/b.txt": "b.txt"}, size=len(ZIP)),))


# A child process loads data.py by itself: no package import, so no torch, and a fast start.
CHILD_PRELUDE = textwrap.dedent(f"""
    import importlib.util, sys
    spec = importlib.util.spec_from_file_location("ckdata", {str(DATA_PY)!r})
    data = importlib.util.module_from_spec(spec)
    sys.modules["ckdata"] = data
    spec.loader.exec_module(data)
""")


def child_env(tmp_path: Path, **extra) -> dict:
    env = {**os.environ, "COURSEKIT_DATA": str(tmp_path / "cache"), **extra}
    env.pop("COURSEKIT_MIRROR", None) if "COURSEKIT_MIRROR" not in extra else None
    return env


def cached(tmp_path: Path) -> list[str]:
    folder = tmp_path / "cache" / "toy"
    # The lock file is the only thing besides data that stays (it must: waiters share its inode).
    return sorted(p.name for p in folder.iterdir() if p.name != data.LOCK_FILE) if folder.exists() else []


def test_good_download_is_verified_and_cached(server, isolated):
    root = data.fetch(plain(server.url + "/good"), progress=False)
    assert (root / "file.txt").read_bytes() == PAYLOAD
    data.fetch(plain(server.url + "/good"), progress=False)
    assert server.hits["/good"] == 1, "a verified cached file must not be downloaded again"


def test_cached_files_are_readable_by_other_users(server, isolated):
    """A cache is shared (a sandboxed grader runs as another uid, a class server serves many):
    files must not keep mkstemp's private 0600 mode."""
    old = os.umask(0o022)
    try:
        root = data.fetch(plain(server.url + "/good"), progress=False)
    finally:
        os.umask(old)
    assert (root / "file.txt").stat().st_mode & 0o777 == 0o644


def test_corrupt_bytes_are_removed_retried_then_reported(server, isolated):
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch(plain(server.url + "/corrupt"), progress=False)
    assert server.hits["/corrupt"] == data.ATTEMPTS
    assert "checksum mismatch" in str(err.value)
    assert cached(isolated) == [], "no corrupt file (final or partial) may stay in the cache"


def test_truncated_transfer_is_retried_and_never_accepted(server, isolated):
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch(plain(server.url + "/truncated"), progress=False)
    assert server.hits["/truncated"] == data.ATTEMPTS
    assert "truncated" in str(err.value)
    assert cached(isolated) == []


def test_http_404_fails_at_once_with_the_url(server, isolated):
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch(plain(server.url + "/missing"), progress=False)
    assert server.hits["/missing"] == 1, "a 404 will not change on retry"
    assert "HTTP 404" in str(err.value) and server.url + "/missing" in str(err.value)


def test_http_500_is_retried_then_reported(server, isolated):
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch(plain(server.url + "/broken"), progress=False)
    assert server.hits["/broken"] == data.ATTEMPTS
    assert "500" in str(err.value)


def test_a_transient_500_is_survived_by_the_retry(server, isolated):
    root = data.fetch(plain(server.url + "/flaky"), progress=False)
    assert (root / "file.txt").read_bytes() == PAYLOAD
    assert server.hits["/flaky"] == 2


def test_a_stalled_server_times_out_instead_of_hanging(server, isolated):
    start = time.monotonic()
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch(plain(server.url + "/stall"), progress=False)
    assert "timed out" in str(err.value)
    assert time.monotonic() - start < 10, "read time-out must bound each attempt"
    assert cached(isolated) == []


def test_no_network_and_no_cache_gives_one_clear_error(isolated):
    # Port 9 on loopback: nothing listens, so the connection is refused like an offline machine's.
    ds = plain("http://127.0.0.1:9/dataset.zip")
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch(ds, progress=False)
    message = str(err.value)
    assert "http://127.0.0.1:9/dataset.zip" in message  # the URL
    assert "file.txt" in message and PAYLOAD_SHA in message  # the expected files
    assert str(isolated / "cache" / "toy") in message  # where to put them
    assert "COURSEKIT_MIRROR" in message
    assert "cannot connect" in message


def test_mirror_is_used_before_the_network(server, isolated, monkeypatch):
    mirror = isolated / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "file.txt").write_bytes(PAYLOAD)
    monkeypatch.setenv("COURSEKIT_MIRROR", str(mirror))
    root = data.fetch(plain(server.url + "/good"), progress=False)
    assert (root / "file.txt").read_bytes() == PAYLOAD
    assert server.hits["/good"] == 0


def test_a_corrupt_mirror_copy_is_rejected_and_the_network_used(server, isolated, monkeypatch):
    mirror = isolated / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "file.txt").write_bytes(b"tampered")
    monkeypatch.setenv("COURSEKIT_MIRROR", str(mirror))
    root = data.fetch(plain(server.url + "/good"), progress=False)
    assert (root / "file.txt").read_bytes() == PAYLOAD
    assert server.hits["/good"] == 1


def test_zip_members_are_extracted_and_verified(server, isolated, monkeypatch):
    ds = packed(server.url + "/pack.zip")
    root = data.fetch(ds, progress=False)
    assert (root / "a.txt").read_bytes() == PAYLOAD
    assert cached(isolated) == ["a.txt", "b.txt"], "the archive itself is not kept"
    # The same archive in a mirror is used without the network.
    mirror = isolated / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "pack.zip").write_bytes(ZIP)
    monkeypatch.setenv("COURSEKIT_MIRROR", str(mirror))
    monkeypatch.setenv("COURSEKIT_DATA", str(isolated / "cache2"))
    data.fetch(ds, progress=False)
    assert server.hits["/pack.zip"] == 1


def test_a_corrupt_file_already_in_the_cache_is_replaced(server, isolated):
    folder = isolated / "cache" / "toy"
    folder.mkdir(parents=True)
    (folder / "file.txt").write_bytes(PAYLOAD[:100])  # e.g. a copy someone cut short by hand
    root = data.fetch(plain(server.url + "/good"), progress=False)
    assert (root / "file.txt").read_bytes() == PAYLOAD


def test_an_interrupted_download_leaves_nothing_a_later_run_accepts(server, isolated):
    """Kill a process mid-transfer (no clean-up runs), then check what it left behind."""
    script = CHILD_PRELUDE + textwrap.dedent(f"""
        data.READ_TIMEOUT = 60
        ds = data.Dataset(name="toy", cache_dir="toy", mirror_dir="toy", files={{"file.txt": {PAYLOAD_SHA!r}}},
                          sources=(data.Source({server.url + "/slow"!r}, "file.txt"),))
        data.fetch(ds, progress=False)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script], env=child_env(isolated))
    deadline = time.monotonic() + 30
    while server.hits["/slow"] == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)  # the first chunk is on disk now
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    leftovers = cached(isolated)
    assert "file.txt" not in leftovers, "a half-written file must never carry the final name"
    assert leftovers and all(name.startswith(f".partial-{proc.pid}-") for name in leftovers)
    # A later run does not mistake the leftover for data: it downloads and verifies afresh,
    # and removes what the dead process left.
    root = data.fetch(plain(server.url + "/good"), progress=False)
    assert (root / "file.txt").read_bytes() == PAYLOAD
    assert server.hits["/good"] == 1
    assert cached(isolated) == ["file.txt"], "the dead process's .partial-* file must be removed"


# ------------------------------------------------------------------ deadline and byte cap


@pytest.fixture
def short_deadline(monkeypatch):
    """A deadline of 0.3 s + 58 kB at 1 MB/s ≈ 0.36 s; the trickle needs ~1.2 s."""
    monkeypatch.setattr(data, "DEADLINE_BASE", 0.3)
    monkeypatch.setattr(data, "MIN_RATE", 1e6)


def test_a_trickling_server_is_stopped_at_the_deadline_without_retry(server, isolated, short_deadline):
    # Bytes keep coming (every 20 ms), so the read time-out (silence) never fires: only the deadline can.
    start = time.monotonic()
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch(plain(server.url + "/trickle"), progress=False)
    elapsed = time.monotonic() - start
    assert elapsed < 1.0, f"the deadline (~0.36 s) must stop the try, not the end of the body ({elapsed:.1f} s)"
    assert server.hits["/trickle"] == 1, "a missed deadline is not retried (it would multiply the wait)"
    message = str(err.value)
    assert "deadline" in message and "COURSEKIT_MIN_RATE" in message
    assert cached(isolated) == []


def test_a_lower_minimum_rate_lets_a_slow_download_finish(server, isolated, short_deadline, monkeypatch):
    monkeypatch.setenv("COURSEKIT_MIN_RATE", "20")  # kB/s: 58 kB may take 0.3 + 2.9 s
    root = data.fetch(plain(server.url + "/trickle"), progress=False)
    assert (root / "file.txt").read_bytes() == PAYLOAD


def test_the_deadline_grows_with_the_size_and_the_rate_is_checked(monkeypatch):
    assert data.deadline_for(10_000_000) == pytest.approx(data.DEADLINE_BASE + 10_000_000 / data.MIN_RATE)
    monkeypatch.setenv("COURSEKIT_MIN_RATE", "10")
    assert data.deadline_for(10_000_000) == pytest.approx(data.DEADLINE_BASE + 1000)
    monkeypatch.setenv("COURSEKIT_MIN_RATE", "fast")
    with pytest.raises(ValueError, match="COURSEKIT_MIN_RATE"):
        data.deadline_for(1)
    assert data.cap_for(1000) == int(1000 * (1 + data.SIZE_MARGIN)) + data.SIZE_SLACK


def test_an_announced_body_over_the_cap_is_refused_before_reading(server, isolated):
    # The case: 1 GB announced for a 58 kB file, sent 1 byte at a time.
    start = time.monotonic()
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch(plain(server.url + "/huge"), progress=False)
    assert time.monotonic() - start < 2
    assert server.hits["/huge"] == 1, "a wrong file will not become right on retry"
    assert "1000.0 MB" in str(err.value) and "not downloaded" in str(err.value)
    assert cached(isolated) == []


def test_a_body_growing_past_the_cap_is_cut_off(server, isolated, monkeypatch):
    # No Content-Length: the size is only known while the bytes arrive.
    monkeypatch.setattr(data, "SIZE_SLACK", 0)
    cap = data.cap_for(len(PAYLOAD))
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch(plain(server.url + "/endless"), progress=False)
    assert server.hits["/endless"] == 1
    assert "sent more than" in str(err.value) and "stopped and removed" in str(err.value)
    assert cached(isolated) == []
    time.sleep(0.2)
    assert server.sent["/endless"] < cap + 8 * 2**20, "the client must hang up near the cap, not read 200 MB"


def test_a_gzip_encoded_response_is_saved_decoded_and_verified(server, isolated):
    # A server may compress although identity was asked for; Content-Length then counts the gzip bytes.
    root = data.fetch(plain(server.url + "/gzip"), progress=False)
    assert (root / "file.txt").read_bytes() == PAYLOAD


def test_a_retry_is_announced_on_stderr(server, isolated, capfd):
    data.fetch(plain(server.url + "/flaky"), progress=False)
    err = capfd.readouterr().err
    assert "retrying in 0.05 s (try 2 of 3)" in err and "500" in err


# ----------------------------------------------------------------------- name resolution


def test_an_unresolvable_host_fails_at_once_and_is_looked_up_once(isolated, monkeypatch):

    lookups = []
    real = socket.getaddrinfo

    def offline(host, *args, **kwargs):
        if str(host).endswith(".invalid"):
            lookups.append(host)
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", offline)
    ds = data.Dataset(name="toy", cache_dir="toy", mirror_dir="toy",
                      files={"one.txt": PAYLOAD_SHA, "two.txt": PAYLOAD_SHA},
                      sources=(data.Source("http://data.example.invalid/one.txt", "one.txt", size=len(PAYLOAD)),
                               data.Source("http://data.example.invalid/two.txt", "two.txt", size=len(PAYLOAD))))
    start = time.monotonic()
    with pytest.raises(data.DatasetUnavailable) as err:
        data.fetch(ds, progress=False)
    assert time.monotonic() - start < 1, "no back-off: a failed look-up is not transient"
    assert lookups == ["data.example.invalid"], "one look-up, no retries, the second file not tried"
    message = str(err.value)
    assert "cannot resolve the host name 'data.example.invalid'" in message and "not retried" in message
    assert "two.txt not tried" in message


# ---------------------------------------------------------------------------- concurrency


def test_two_processes_fetching_one_zip_dataset_download_it_once(server, isolated):
    """The issue's collision: two processes, one zip dataset, an empty cache (ml-100k failed in 6 of 16)."""
    ready = isolated / "ready"
    ready.mkdir()
    script = CHILD_PRELUDE + textwrap.dedent(f"""
        import os, pathlib, time
        ready = pathlib.Path({str(ready)!r})
        (ready / str(os.getpid())).touch()
        until = time.monotonic() + 20
        while len(list(ready.iterdir())) < 2 and time.monotonic() < until:  # start together
            time.sleep(0.005)
        ds = data.Dataset(name="toy", cache_dir="toy", mirror_dir="toy",
                          files={{"a.txt": {PAYLOAD_SHA!r}, "b.txt": {hashlib.sha256(SECOND).hexdigest()!r}}},
                          sources=(data.Source({server.url + "/slowpack.zip"!r}, "pack.zip",
                                               sha256={hashlib.sha256(ZIP).hexdigest()!r},
                                               members={{"pack/a.txt": "a.txt", "pack/b.txt": "b.txt"}},
                                               size={len(ZIP)}),))
        root = data.fetch(ds, progress=False)
        assert (root / "a.txt").read_bytes() == {PAYLOAD!r}
    """)
    procs = [subprocess.Popen([sys.executable, "-c", script], env=child_env(isolated),
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    errs = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0, 0], errs
    assert server.hits["/slowpack.zip"] == 1, "the second process must use the first one's verified files"
    assert sum("waiting for another process" in e for e in errs) == 1
    assert cached(isolated) == ["a.txt", "b.txt"]


def test_partials_of_dead_processes_are_removed_and_live_ones_kept(server, isolated):
    folder = isolated / "cache" / "toy"
    folder.mkdir(parents=True)
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        names = {
            f".partial-{dead.pid}-file.txt.x1": False,  # a killed download
            f".partial-{dead.pid}-archive.pack.zip": False,  # a killed process's archive
            f".partial-{alive.pid}-file.txt.x2": True,  # another process writing right now
            ".partial-file.txt.old": False,  # no pid (older coursekit), untouched for two days
            ".partial-file.txt.new": True,  # no pid, recent: may be live
        }
        for name in names:
            (folder / name).write_bytes(b"half")
        two_days = time.time() - 2 * 86400
        os.utime(folder / ".partial-file.txt.old", (two_days, two_days))
        data.fetch(plain(server.url + "/good"), progress=False)
        left = set(cached(isolated))
        assert left == {"file.txt"} | {n for n, keep in names.items() if keep}
    finally:
        alive.kill()
        alive.wait()


# -------------------------------------------------------------------- unwritable cache


def _drop_write_override():
    """In the child, before exec: without CAP_DAC_OVERRIDE even root obeys a folder's mode bits."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, cap, 0, 0, 0) != 0:  # PR_CAPBSET_DROP
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")


def run_unwritable(script: str, env: dict) -> subprocess.CompletedProcess:
    """Run ``script`` in a child that cannot write where the mode bits say so (root included)."""
    preexec = _drop_write_override if hasattr(os, "geteuid") and os.geteuid() == 0 else None
    try:
        return subprocess.run([sys.executable, "-c", CHILD_PRELUDE + script], env=env, capture_output=True,
                              text=True, timeout=60, preexec_fn=preexec)
    except subprocess.SubprocessError as err:
        pytest.skip(f"cannot drop the permission override for the child: {err}")


@pytest.fixture
def read_only_cache(isolated):
    if sys.platform == "win32":
        pytest.skip("POSIX permissions")
    cache = isolated / "cache"
    cache.mkdir()
    yield cache
    cache.chmod(0o755)
    for sub in cache.rglob("*"):
        sub.chmod(0o755)


UNWRITABLE_SCRIPT = textwrap.dedent("""
    try:
        data.fetch(ds, progress=False)
    except data.DatasetUnavailable as err:
        print(err)
    else:
        print("no error")
""")


def _assert_says_not_writable(result, folder):
    assert result.returncode == 0, result.stderr  # no raw PermissionError out of fetch
    out = result.stdout
    assert f"{folder} is not writable" in out and "Permission denied" in out, out
    assert "COURSEKIT_DATA" in out, "the message names the variable that chooses another folder"
    assert "connect to the internet" not in out, "the network is not the problem"


def test_an_unwritable_cache_is_named_on_the_network_route(server, isolated, read_only_cache):
    read_only_cache.chmod(0o555)
    script = f"ds = data.Dataset('toy', 'toy', 'toy', {{'file.txt': {PAYLOAD_SHA!r}}}, " \
             f"(data.Source({server.url + '/good'!r}, 'file.txt', size={len(PAYLOAD)}),))\n" + UNWRITABLE_SCRIPT
    result = run_unwritable(script, child_env(isolated))
    _assert_says_not_writable(result, read_only_cache / "toy")
    assert server.hits["/good"] == 0, "nothing is downloaded that could not be kept"


def test_an_unwritable_cache_is_named_on_the_mirror_route(server, isolated, read_only_cache):
    mirror = isolated / "mirror"
    (mirror / "toy").mkdir(parents=True)
    (mirror / "toy" / "file.txt").write_bytes(PAYLOAD)
    (read_only_cache / "toy").mkdir()  # the dataset's folder exists but is read-only
    (read_only_cache / "toy").chmod(0o555)
    script = f"ds = data.Dataset('toy', 'toy', 'toy', {{'file.txt': {PAYLOAD_SHA!r}}}, ())\n" + UNWRITABLE_SCRIPT
    result = run_unwritable(script, child_env(isolated, COURSEKIT_MIRROR=str(mirror)))
    _assert_says_not_writable(result, read_only_cache / "toy")


def test_an_unwritable_cache_is_named_on_the_mnist_route(isolated, read_only_cache):
    # The .gz files are cached and valid, but torchvision needs them decompressed beside them.
    raw = read_only_cache / "MNIST" / "raw"
    raw.mkdir(parents=True)
    gz = gzip.compress(PAYLOAD)
    (raw / "tiny-idx1-ubyte.gz").write_bytes(gz)
    raw.chmod(0o555)
    read_only_cache.chmod(0o555)
    script = textwrap.dedent(f"""
        data.MNIST = data.Dataset("mnist", "MNIST/raw", "mnist", {{"tiny-idx1-ubyte.gz": {hashlib.sha256(gz).hexdigest()!r}}}, ())
        try:
            data.mnist()
        except data.DatasetUnavailable as err:
            print(err)
    """)
    result = run_unwritable(script, child_env(isolated))
    _assert_says_not_writable(result, raw)


def test_a_complete_read_only_cache_is_still_read(server, isolated, read_only_cache):
    data.fetch(plain(server.url + "/good"), progress=False)
    (read_only_cache / "toy").chmod(0o555)
    read_only_cache.chmod(0o555)
    script = f"ds = data.Dataset('toy', 'toy', 'toy', {{'file.txt': {PAYLOAD_SHA!r}}}, ())\n" + UNWRITABLE_SCRIPT
    result = run_unwritable(script, child_env(isolated))
    assert result.stdout.strip() == "no error", result.stdout + result.stderr
