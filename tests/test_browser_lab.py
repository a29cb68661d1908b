"""The course in a real browser: widget notebooks in JupyterLab, the slides and the course site.

nbval proves that every cell runs; it cannot see whether a slider renders or a figure shows. Here
headless Chromium opens each lecture notebook that *displays* a widget (decided by what a run of it
displayed, the ipywidgets view type in its outputs, never by a word in its text; progress bars alone do
not count, see ``displays_lesson_widget``) in JupyterLab set up
as learners get it, waits for the kernel to be idle, runs every cell, and checks in the page that every
cell ran without an error, every widget view rendered and every figure loaded. A screenshot of each
notebook is kept in ``build/browser/`` (CI keeps it as the test's artefact).

The run that decides which notebooks display widgets is the one nbval made during ``make test``
(``coursekit.executed`` saves it); run alone, this file executes the notebooks it has no valid copy of
first. It needs Debian's ``chromium`` (``make browser`` installs it with apt when it is missing and it can)
and ``playwright`` (the instructor extra). It is skipped only where chromium cannot be installed, and
then says why.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from coursekit.executed import WIDGET_MIME, cached, ensure, lecture_notebooks

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--no-first-run"]
SHOTS = ROOT / "build" / "browser"
RUN_ALL_TIMEOUT_S = 600  # nbval's per-cell limit in `make test`; a quick-mode lecture takes under a minute


# tqdm's text form of a progress bar ("epoch 1/3:  40%|####      | 32/79 [...]").
PROGRESS_BAR = re.compile(r"\d+%\|.*\| *\d+/")


def displays_lesson_widget(executed) -> bool:
    """Whether a run displayed a widget other than a progress bar: a slider, a dropdown, a live plot.
    A notebook whose only widgets are tqdm's progress bars is left out: re-running it here would cost
    CI minutes to check tqdm, not the course (its bars render in the notebooks that are run here)."""
    return any(WIDGET_MIME in output.get("data", {})
               and not PROGRESS_BAR.search(str(output["data"].get("text/plain", "")))
               for cell in executed.cells if cell.cell_type == "code" for output in cell.get("outputs", []))


def _widget_notebooks() -> list[str]:
    """The lectures whose run displayed a lesson widget, read from the executed copies. Collection never
    runs a notebook (a deselected test costs nothing): one without a valid copy is listed, and its test
    runs it first and decides then (after nbval in `make test` every copy is valid)."""
    chosen = []
    for path in lecture_notebooks():
        executed = cached(path)
        if executed is None or displays_lesson_widget(executed):
            chosen.append(path.name)
    return chosen


WIDGET_NOTEBOOKS = _widget_notebooks()
PANEL = "window.jupyterapp.shell.currentWidget"  # the notebook panel on show


@pytest.fixture(scope="session")
def chromium() -> str:
    if not Path(CHROMIUM).exists():
        out = subprocess.run(["make", "--no-print-directory", "browser"], cwd=ROOT, capture_output=True, text=True)
        if not Path(CHROMIUM).exists():
            said = (out.stdout + out.stderr).strip()[-400:]
            other = shutil.which("chromium")
            pytest.skip(f"Debian's chromium ({CHROMIUM}) cannot be installed here: "
                        + (said or f"the chromium on PATH ({other}) is not Debian's package (Ubuntu's is a snap)"))
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium):
    from playwright.sync_api import sync_playwright  # the instructor extra; make test installs it

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=chromium, args=FLAGS)
        yield launched
        launched.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a copy of notebooks/ (it autosaves; the committed notebooks stay without outputs),
    configured as `make lab` configures it for learners."""
    port, token = free_port(), "coursekit-browser-test"
    root = tmp_path_factory.mktemp("course")
    shutil.copytree(ROOT / "notebooks", root / "notebooks")
    cmd = [str(Path(sys.executable).parent / "jupyter"), "lab", "--no-browser", f"--port={port}",
           "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           "--LabApp.expose_app_in_browser=True"] + (["--allow-root"] if os.geteuid() == 0 else [])
    env = {**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path_factory.mktemp("runtime")),
           "JUPYTER_CONFIG_DIR": str(tmp_path_factory.mktemp("config")),
           "JUPYTER_CONFIG_PATH": str(ROOT / "etc" / "jupyter-learner")}
    env.pop("COURSEKIT_LIVE", None)  # live plots redraw in place, as a learner sees them
    env.pop("COURSEKIT_INSTRUCTOR", None)
    log = (tmp_path_factory.mktemp("log") / "lab.log").open("w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if requests.get(f"{url}/api/status", params={"token": token}, timeout=2).ok:
                break
        except requests.ConnectionError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"JupyterLab did not start: {Path(log.name).read_text()[-2000:]}")
    yield url, token
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()


def open_notebook(browser, lab, name: str):
    url, token = lab
    page = browser.new_page(viewport={"width": 1300, "height": 1600})
    page.goto(f"{url}/lab/workspaces/{name.split('_')[0]}/tree/notebooks/{name}?reset&token={token}")
    page.wait_for_function("window.jupyterapp && window.jupyterapp.commands.hasCommand('notebook:run-all-cells')",
                           timeout=120_000)
    # Run All only once the notebook is open and its kernel has started and gone idle.
    page.wait_for_function(f"""() => {{
        const panel = {PANEL};
        const kernel = panel && panel.sessionContext && panel.sessionContext.session
                       && panel.sessionContext.session.kernel;
        return panel && panel.context && panel.context.isReady && panel.sessionContext.isReady
               && kernel && kernel.status === 'idle';
    }}""", timeout=120_000)
    return page


@pytest.mark.parametrize("name", WIDGET_NOTEBOOKS)
def test_widget_notebook_runs_and_renders_in_jupyterlab(browser, lab, name):
    executed = ensure(ROOT / "notebooks" / name)
    if not displays_lesson_widget(executed):
        pytest.skip(f"{name} displays no widget but progress bars when it runs (no executed copy at collection)")
    images_expected = sum("image/png" in o.get("data", {}) for c in executed.cells if c.cell_type == "code"
                          for o in c.get("outputs", []))
    page = open_notebook(browser, lab, name)
    try:
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        # Done: every code cell has an execution count and the kernel is idle again.
        page.wait_for_function(f"""() => {{
            const panel = {PANEL};
            const cells = panel.content.widgets.filter(c => c.model.type === 'code');
            return cells.every(c => c.model.executionCount !== null)
                   && panel.sessionContext.session.kernel.status === 'idle';
        }}""", timeout=RUN_ALL_TIMEOUT_S * 1000, polling=1000)
        # A widget view's output node carries no mime type in the DOM: find the views in the cells' models
        # and look at the output each one occupies (output k of a cell is its k-th .jp-OutputArea-child).
        result = page.evaluate(f"""() => {{
            const panel = {PANEL};
            const cells = panel.content.widgets.filter(c => c.model.type === 'code');
            const errors = [], views = [];
            for (const cell of cells) {{
                const children = [...cell.node.querySelectorAll('.jp-OutputArea-child')];
                cell.model.outputs.toJSON().forEach((o, k) => {{
                    if (o.output_type === 'error') errors.push(o.ename + ': ' + o.evalue);
                    if (o.data && o.data['{WIDGET_MIME}']) views.push(children[k]);
                }});
            }}
            const imgs = [...panel.content.node.querySelectorAll('.jp-RenderedImage img')];
            const first = views.find(v => v);
            if (first) first.scrollIntoView({{block: 'center'}});
            return {{
                errors,
                views: views.length,
                unrendered: views.filter(v => !v || !v.querySelector('.jupyter-widgets')
                                              || /Error displaying widget|Loading widget/.test(v.textContent)).length,
                images: imgs.length,
                broken: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).length,
            }};
        }}""")
        page.wait_for_timeout(500)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{Path(name).stem}.png"))
    finally:
        page.close()
    assert result["errors"] == [], f"{name}: cells raised {result['errors']}"
    assert result["views"] > 0, f"{name}: a run displays widgets, but none appeared in JupyterLab"
    assert result["unrendered"] == 0, f"{name}: {result['unrendered']} of {result['views']} widget views did not render"
    assert result["broken"] == 0, f"{name}: {result['broken']} figures did not load"
    assert images_expected == 0 or result["images"] > 0, f"{name}: no figure rendered"


def test_learners_lab_has_no_grading_ui(browser, lab):
    page = open_notebook(browser, lab, "00_setup.ipynb")
    try:
        commands = page.evaluate("window.jupyterapp.commands.listCommands().filter(c => /nbgrader/i.test(c))")
        text = page.evaluate("document.body.innerText")
    finally:
        page.close()
    assert commands == [], f"nbgrader's commands are loaded: {commands}"
    assert "Create Assignment" not in text and "Formgrader" not in text


def test_slides_open_offline_in_the_browser(browser, tmp_path):
    from coursekit.executed import with_outputs
    from coursekit.slides import build_deck, copy_assets, slide_type

    nb = with_outputs(ROOT / "notebooks" / "00_setup.ipynb")
    copy_assets(tmp_path)
    deck = build_deck(nb, "00_setup", tmp_path)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    failed = []
    page.on("requestfailed", lambda r: failed.append(r.url))
    page.on("pageerror", lambda e: failed.append(str(e)))
    page.route("http*://**", lambda route: (failed.append(route.request.url), route.abort()))  # offline
    try:
        page.goto(deck.as_uri())
        page.wait_for_function("window.Reveal && Reveal.isReady()", timeout=30_000)
        slides = page.evaluate("Reveal.getTotalSlides()")
        mathjax = page.evaluate("!!(window.MathJax && MathJax.Hub)")
    finally:
        page.close()
    assert failed == [], f"the deck needs what it cannot load offline: {failed}"
    assert slides == sum(slide_type(c) in ("slide", "subslide") for c in nb.cells)
    assert mathjax


def test_course_site_opens_with_figures_and_exercise_links(browser):
    from coursekit.book import OUT, build

    if not (OUT / "index.html").exists():
        build()
    page = browser.new_page(viewport={"width": 1300, "height": 1000})
    try:
        page.goto((OUT / "index.html").as_uri())
        nav = page.evaluate("[...document.querySelectorAll('nav a.reference.internal')].map(a => a.getAttribute('href'))")
        page.goto((OUT / "lectures" / "00_setup.html").as_uri())
        page.wait_for_load_state("load")
        figures = page.evaluate("[...document.querySelectorAll('.cell_output img')]"
                                ".map(i => i.complete && i.naturalWidth > 0)")
        page.goto((OUT / "lectures" / f"{lecture_notebooks()[1].stem}.html").as_uri())
        exercise = page.evaluate("[...document.querySelectorAll('a')].map(a => a.getAttribute('href'))"
                                 ".filter(h => h && h.includes('exercises/'))")
    finally:
        page.close()
    for path in lecture_notebooks():
        assert any(path.stem in href for href in nav), f"the site's navigation has no entry for {path.name}"
    assert figures and all(figures), "the setup page shows no figure (or a broken one)"
    assert exercise and (OUT / "lectures" / exercise[0].split("#")[0]).resolve().exists()
