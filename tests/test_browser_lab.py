"""Opt-in: the notebooks with widgets, run in a real JupyterLab in headless Chromium.

nbval proves every cell runs; it cannot see whether a slider renders or a live plot ends as one
figure. This test opens each notebook that uses ipywidgets in JupyterLab, runs all cells, and
checks that every cell ran, no error was shown, and the widgets rendered. It needs Debian's
`chromium` and the `playwright` package, so it only runs with COURSEKIT_BROWSER_TESTS=1:

    apt-get install chromium && .venv/bin/pip install playwright
    COURSEKIT_BROWSER_TESTS=1 .venv/bin/pytest tests/test_browser_lab.py
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PANEL = "document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)')"  # the notebook on show
WIDGET_NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb") if "ipywidgets" in p.read_text())

pytestmark = pytest.mark.skipif(os.environ.get("COURSEKIT_BROWSER_TESTS") != "1",
                                reason="opt-in: set COURSEKIT_BROWSER_TESTS=1 (needs chromium and playwright)")


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Serve a copy: JupyterLab autosaves, and the committed notebooks must stay without outputs.
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", "--IdentityProvider.token=t", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True"] + (["--allow-root"] if os.geteuid() == 0 else [])
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path_factory.mktemp("rt"))}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(240):
        try:
            if requests.get(f"{url}/api/status?token=t", timeout=2).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.mark.parametrize("name", WIDGET_NOTEBOOKS)
def test_widgets_render_and_every_cell_runs_in_jupyterlab(lab, name, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run"])
        page = browser.new_page(viewport={"width": 1300, "height": 2000})
        page.goto(f"{lab}/lab/workspaces/{name.split('_')[0]}/tree/notebooks/{name}?reset&token=t")  # fresh workspace
        page.wait_for_function(
            "window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')", timeout=120_000)
        page.wait_for_selector(".jp-Notebook .jp-CodeCell", timeout=60_000)
        time.sleep(3)
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        deadline = time.time() + 300
        prompts = []
        while time.time() < deadline:
            prompts = page.evaluate(f"[...{PANEL}.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
                                    ".map(e => e.textContent.trim())")
            if prompts and all(p not in ("[ ]:", "[*]:", "") for p in prompts):
                break
            time.sleep(1)
        errors = page.evaluate(f"[...{PANEL}.querySelectorAll('.jp-OutputArea-output[data-mime-type="
                               "\"application/vnd.jupyter.stderr\"]')].map(e => e.textContent.slice(0, 300))"
                               ".filter(t => /Error|Traceback/.test(t))")
        sliders = page.evaluate(f"{PANEL}.querySelectorAll('.widget-slider, .widget-hslider, .widget-dropdown')"
                                ".length")
        page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)
        browser.close()
    assert prompts and all(p not in ("[ ]:", "[*]:") for p in prompts), f"cells left unrun: {prompts}"
    assert not errors, errors
    assert sliders > 0, "no widget rendered"
