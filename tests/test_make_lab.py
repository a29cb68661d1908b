"""`make lab` (the README's first command) really serves the course's notebooks, as learners get it:
without nbgrader's grading UI, even in an environment where `make test` installed the instructor extra."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_make_lab_starts_jupyterlab_serving_the_notebooks(tmp_path):
    port, token = free_port(), "coursekit-test"
    args = f"--no-browser --ServerApp.ip=127.0.0.1 --port={port} --IdentityProvider.token={token}"
    if os.geteuid() == 0:
        args += " --allow-root"
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"), "JUPYTER_CONFIG_DIR": str(tmp_path)}
    proc = subprocess.Popen(["make", "--no-print-directory", "lab", f"LAB_ARGS={args}"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        listing = None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                r = requests.get(f"{base}/api/contents/notebooks", params={"token": token}, timeout=5)
                if r.status_code == 200:
                    listing = r.json()
                    break
            except requests.ConnectionError:
                pass
            time.sleep(0.5)
        assert listing is not None, "JupyterLab did not answer: " + (proc.stdout.read1().decode() if proc.poll() else "")
        names = {item["name"] for item in listing["content"]}
        expected = {p.name for p in (ROOT / "notebooks").glob("*.ipynb")}
        assert "00_setup.ipynb" in names and expected <= names
        lab = requests.get(f"{base}/lab", params={"token": token}, timeout=10)
        assert lab.status_code == 200 and "JupyterLab" in lab.text
        kernels = requests.get(f"{base}/api/kernelspecs", params={"token": token}, timeout=10).json()
        assert "python3" in kernels["kernelspecs"]
        # The lab's page config is what its front end loads: nbgrader's extension is listed as disabled
        # there, in the list form the front end reads (a mapping stops JupyterLab with a blank page).
        config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', lab.text, re.S).group(1))
        disabled = config.get("disabledExtensions")
        assert isinstance(disabled, list), f"JupyterLab's front end needs a list of disabled extensions: {disabled!r}"
        assert "@jupyter/nbgrader" in disabled, f"nbgrader's lab extension is enabled: {disabled}"
        # ... and its server side is not loaded: no formgrader, no assignment list, no validation.
        for route in ("formgrader", "assignments", "nbgrader_version"):
            status = requests.get(f"{base}/{route}", params={"token": token}, timeout=10).status_code
            assert status == 404, f"/{route} answers {status}: nbgrader's server extension is loaded"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
