"""The dataset path under faults, against a real HTTP server on 127.0.0.1 started by the tests.

Each test builds a small ``Dataset`` whose source URL points at the server, with the cache
(``COURSEKIT_DATA``) and mirror (``COURSEKIT_MIRROR``) in temporary folders.
"""

from __future__ import annotations

import hashlib
import io
import os
import signal
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


def _zip_bytes() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("pack/a.txt", PAYLOAD)
        zf.writestr("pack/b.txt", b"second member\n")
    return buf.getvalue()


ZIP = _zip_bytes()


class Server:
    """Routes: /good /corrupt /truncated /missing(404) /broken(500) /flaky (500 once) /stall /slow /pack.zip"""

    def __init__(self):
        self.hits: Counter[str] = Counter()
        self.stall_seconds = 3.0
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
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
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
    monkeypatch.delenv("COURSEKIT_MIRROR", raising=False)
    monkeypatch.setattr(data, "CONNECT_TIMEOUT", 2.0)
    monkeypatch.setattr(data, "READ_TIMEOUT", 0.5)
    monkeypatch.setattr(data, "BACKOFF", 0.05)
    return tmp_path


def plain(url: str, sha: str = PAYLOAD_SHA) -> data.Dataset:
    return data.Dataset(name="toy", cache_dir="toy", mirror_dir="toy", files={"file.txt": sha},
                        sources=(data.Source(url, "file.txt"),))


def cached(tmp_path: Path) -> list[str]:
    folder = tmp_path / "cache" / "toy"
    # The lock file is the only thing besides data that stays (it must: waiters share its inode).
    return sorted(p.name for p in folder.iterdir() if p.name != data.LOCK_FILE) if folder.exists() else []


def test_good_download_is_verified_and_cached(server, isolated):
    root = data.fetch(plain(server.url + "/good"), progress=False)
    assert (root / "file.txt").read_bytes() == PAYLOAD
    data.fetch(plain(server.url + "/good"), progress=False)
    assert server.hits["/good"] == 1, "a verified cached file must not be downloaded again"


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
    ds = data.Dataset(
        name="toy", cache_dir="toy", mirror_dir="toy",
        files={"a.txt": PAYLOAD_SHA, "b.txt": hashlib.sha256(b"second member\n").hexdigest()},
        sources=(data.Source(server.url + "/pack.zip", "pack.zip", sha256=hashlib.sha256(ZIP).hexdigest(),
                             members={"pack/a.txt": "a.txt", "pack/b.txt": "b.txt"}),))
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
    script = textwrap.dedent(f"""
        from coursekit import data
        data.READ_TIMEOUT = 60
        ds = data.Dataset(name="toy", cache_dir="toy", mirror_dir="toy", files={{"file.txt": {PAYLOAD_SHA!r}}},
                          sources=(data.Source({server.url + "/slow"!r}, "file.txt"),))
        data.fetch(ds, progress=False)
    """)
    env = {**os.environ, "COURSEKIT_DATA": str(isolated / "cache")}
    env.pop("COURSEKIT_MIRROR", None)
    proc = subprocess.Popen([sys.executable, "-c", script], env=env)
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
