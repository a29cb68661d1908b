"""Lecture mode: a reveal.js deck per lecture notebook, viewable offline.

    python -m coursekit.slides [NOTEBOOKS...] [--out build/slides]     # what `make slides` runs
    python -m coursekit.slides --annotate NOTEBOOKS...                 # draft slide types to review

Each deck is nbconvert's slides export of the notebook *with its outputs* (the executed copies of
``coursekit.executed``: no second run when ``make test`` has just run the notebooks). reveal.js and
MathJax are copied next to the decks from two Python packages of the instructor extra
(``sphinx-revealjs`` bundles reveal.js, ``jupyter-server-mathjax`` bundles MathJax 2), and the template
loads nothing from the network, so ``build/slides/`` works from a USB stick in a room without Wi-Fi.

Slides come from each cell's ``metadata.slideshow.slide_type`` (JupyterLab's property inspector, or
RISE, edits it). The course's convention, which ``problems`` checks:

* the title cell starts a ``slide``; every ``## `` section starts a ``slide``, every ``### `` a ``subslide``;
* a proof cell (tag ``proof-...``) is a ``subslide`` or a ``fragment``, and so is a figure;
* set-up and plumbing (the ``start_lesson`` cell, a cell of imports only) is ``skip``;
* one idea per slide: at most ``MAX_CELLS_PER_SLIDE`` visible cells before the next (sub)slide;
* a cell that only draws a diagram is tagged ``hide-input``: its slide shows the picture, not the code (the site folds the code away).
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
import tempfile
from importlib import resources
from pathlib import Path

SLIDE_TYPES = {"slide", "subslide", "fragment", "-", "skip", "notes"}
MAX_CELLS_PER_SLIDE = 4
HIDE_INPUT = "hide-input"  # a cell tag: slides show its output only; the site (MyST-NB) folds its code away
ASSETS = "_assets"

TEMPLATE = r"""{%- extends 'reveal/index.html.j2' -%}
{#- Nothing from a CDN: no jQuery, RequireJS, Mermaid or widget manager; reveal.js by plain script tags. -#}
{%- block html_head_js_jquery -%}{%- endblock html_head_js_jquery -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_css -%}
<style>
  /* a tall cell scrolls inside its slide instead of running off the bottom */
  .reveal .slides > section, .reveal .slides > section > section { height: 100%; overflow-y: auto; }
  .reveal .jp-OutputArea-output img { max-height: 60vh; }
  /* about 80 characters fit a slide's line and the code style allows 100: wrap instead of cutting off */
  .reveal .jp-InputArea-editor pre, .reveal .jp-InputArea pre { white-space: pre-wrap; overflow-wrap: anywhere; }
</style>
<script type="text/x-mathjax-config">
  // the bundled MathJax carries the STIX-Web fonts only: use them instead of asking for TeX fonts
  MathJax.Hub.Config({"HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null},
                      SVG: {font: "STIX-Web"}});
</script>
{%- endblock html_head_css -%}
{% block footer_js %}
<script src="{{ resources.reveal.url_prefix }}/dist/reveal.js"></script>
<script src="{{ resources.reveal.url_prefix }}/plugin/notes/notes.js"></script>
<script>
  Reveal.initialize({controls: true, progress: true, history: true, slideNumber: "c/t",
                     transition: "{{ resources.reveal.transition | default('slide', true) }}",
                     width: 1100, height: 760, plugins: [RevealNotes]});
  Reveal.on("slidechanged", function (event) {
    if (window.MathJax && MathJax.Hub) { MathJax.Hub.Queue(["Rerender", MathJax.Hub, event.currentSlide]); }
  });
</script>
{% endblock footer_js %}
"""


def slide_type(cell) -> str | None:
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def _source(cell) -> str:
    return cell.source if isinstance(cell.source, str) else "".join(cell.source)


def is_plumbing(cell) -> bool:
    """A set-up cell with nothing to present: the ``start_lesson`` call, or imports only."""
    if cell.cell_type != "code":
        return False
    source = _source(cell)
    if "start_lesson(" in source:
        return True
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return bool(body) and all(isinstance(node, ast.Import | ast.ImportFrom) for node in body)


def problems(nb) -> list[str]:
    """Where ``nb`` breaks the course's slide convention (empty when it follows it)."""
    found, shown = [], 0
    for i, cell in enumerate(nb.cells):
        kind, source = slide_type(cell), _source(cell)
        first = source.lstrip().split("\n", 1)[0]
        where = f"cell {i} ({first[:50]!r})"
        tags = cell.get("metadata", {}).get("tags", [])
        if kind not in SLIDE_TYPES:
            found.append(f"{where}: no slide type (metadata.slideshow.slide_type)" if kind is None
                         else f"{where}: unknown slide type {kind!r}")
            continue
        if i == 0 and kind != "slide":
            found.append(f"{where}: the title cell starts a slide, not {kind!r}")
        if cell.cell_type == "markdown" and any(line.startswith("## ") for line in source.strip().split("\n")[1:]):
            found.append(f"{where}: a ## section starts inside the cell: split the cell there, so that it starts a slide")
        if cell.cell_type == "markdown" and first.startswith("## ") and kind != "slide":
            found.append(f"{where}: a ## section starts a slide, not {kind!r}")
        if cell.cell_type == "markdown" and first.startswith("### ") and kind not in ("slide", "subslide"):
            found.append(f"{where}: a ### heading starts a subslide, not {kind!r}")
        if is_plumbing(cell) and kind != "skip":
            found.append(f"{where}: set-up code is skipped in the slides, not {kind!r}")
        if any(t.startswith("proof-") for t in tags) and kind not in ("subslide", "fragment", "slide"):
            found.append(f"{where}: a proof cell is a subslide or a fragment, not {kind!r}")
        if kind in ("slide", "subslide"):
            shown = 0
        if kind not in ("skip", "notes"):
            shown += 1
            if shown == MAX_CELLS_PER_SLIDE + 1:
                found.append(f"{where}: more than {MAX_CELLS_PER_SLIDE} cells on one slide (one idea per slide)")
    return found


def propose(nb) -> int:
    """Give every cell without a slide type one that follows the convention; returns how many it set.

    A first draft for a notebook's author to review in JupyterLab, never an overwrite: cells that have a
    type keep it. Title and ``##`` are slides, ``###`` subslides, set-up cells skipped, proof cells
    fragments, prose that follows code opens a subslide, and a fifth visible cell starts a new one.
    """
    shown, code_since_prose, changed = 0, False, 0
    for i, cell in enumerate(nb.cells):
        kind = slide_type(cell)
        if kind is None:
            first = _source(cell).lstrip().split("\n", 1)[0]
            proof = any(t.startswith("proof-") for t in cell.get("metadata", {}).get("tags", []))
            if i == 0 or (cell.cell_type == "markdown" and first.startswith(("# ", "## "))):
                kind = "slide"
            elif cell.cell_type == "markdown" and first.startswith("### "):
                kind = "subslide"
            elif is_plumbing(cell):
                kind = "skip"
            elif proof:
                kind = "fragment" if shown < MAX_CELLS_PER_SLIDE else "subslide"
            elif cell.cell_type == "markdown" and code_since_prose:
                kind = "subslide"
            else:
                kind = "-" if shown < MAX_CELLS_PER_SLIDE else "subslide"
            cell.setdefault("metadata", {})["slideshow"] = {"slide_type": kind}
            changed += 1
        if kind in ("slide", "subslide"):
            shown, code_since_prose = 0, False
        if kind not in ("skip", "notes"):
            shown += 1
            code_since_prose = code_since_prose or cell.cell_type == "code"
    return changed


def annotate(path: Path) -> list[str]:
    """Write ``propose``'s slide types into the notebook at ``path``, changing nothing else in the file
    (the JSON is re-written in nbformat's own layout); returns what ``problems`` still finds."""
    import json

    import nbformat

    raw = json.loads(path.read_text(encoding="utf-8"))
    nb = nbformat.from_dict(raw)
    propose(nb)
    for cell, proposed in zip(raw["cells"], nb.cells, strict=True):
        cell.setdefault("metadata", {})["slideshow"] = dict(proposed.metadata["slideshow"])
    path.write_text(json.dumps(raw, indent=1, sort_keys=True, ensure_ascii=False) + "\n", encoding="utf-8")
    return problems(nbformat.reads(path.read_text(encoding="utf-8"), as_version=4))


def _package_dir(package: str, sub: str) -> Path:
    try:
        path = Path(str(resources.files(package) / sub))
    except ModuleNotFoundError:
        raise SystemExit(f"the slides need {package.replace('_', '-')}, part of the instructor tooling: "
                         "`.venv/bin/pip install -e '.[instructor]'` (make test installs it)") from None
    if not path.is_dir():
        raise SystemExit(f"{package} has no {sub}/ (a new layout?): pin the version in pyproject.toml")
    return path


def copy_assets(out: Path) -> None:
    """reveal.js (its dist/ and speaker-notes plugin) and MathJax 2, beside the decks."""
    reveal = _package_dir("sphinx_revealjs", "_static/revealjs")
    target = out / ASSETS / "reveal.js"
    for sub in ("dist", "plugin/notes"):
        shutil.copytree(reveal / sub, target / sub, dirs_exist_ok=True)
    shutil.copy2(reveal / "LICENSE", target / "LICENSE")
    shutil.copytree(_package_dir("jupyter_server_mathjax", "static"), out / ASSETS / "mathjax", dirs_exist_ok=True)


def build_deck(nb, name: str, out: Path) -> Path:
    """Write ``out/<name>.slides.html`` from ``nb`` (a notebook node, outputs included)."""
    from nbconvert import SlidesExporter
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor, TagRemovePreprocessor

    with tempfile.TemporaryDirectory() as templates:
        (Path(templates) / "course_reveal").mkdir()
        (Path(templates) / "course_reveal" / "index.html.j2").write_text(TEMPLATE)
        (Path(templates) / "course_reveal" / "conf.json").write_text(
            '{"base_template": "reveal", "mimetypes": {"text/html": true}}')
        exporter = SlidesExporter(template_name="course_reveal", extra_template_basedirs=[templates],
                                  reveal_url_prefix=f"{ASSETS}/reveal.js", reveal_theme="white",
                                  mathjax_url=f"{ASSETS}/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe")
        # a progress bar's redraws are saved as separate stream outputs: one line per bar, not fifty
        exporter.register_preprocessor(CoalesceStreamsPreprocessor(), enabled=True)
        # a diagram's drawing code would fill the slide and hide the picture: its cell is tagged hide-input
        exporter.register_preprocessor(TagRemovePreprocessor(remove_input_tags={HIDE_INPUT}), enabled=True)
        html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
    target = out / f"{name}.slides.html"
    target.write_text(html, encoding="utf-8")
    return target


def build(notebooks: list[Path], out: Path) -> list[Path]:
    from .executed import with_outputs

    out.mkdir(parents=True, exist_ok=True)
    copy_assets(out)
    decks = []
    for path in notebooks:
        nb = with_outputs(path)
        found = problems(nb)
        decks.append(build_deck(nb, path.stem, out))
        note = f"  ({len(found)} cells off the slide convention: {found[0]}, ...)" if found else ""
        print(f"{decks[-1]}{note}", flush=True)
    return decks


def main(argv=None) -> int:
    from .executed import ROOT, lecture_notebooks

    parser = argparse.ArgumentParser(prog="python -m coursekit.slides", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "slides")
    parser.add_argument("--annotate", action="store_true",
                        help="give the cells of NOTEBOOKS that have no slide type one (a draft to review), "
                             "then stop; cells with a type keep it")
    args = parser.parse_args(argv)
    if args.annotate:
        for path in args.notebooks:
            found = annotate(path)
            print(f"{path}: slide types proposed" + (f"; still off the convention: {found}" if found else ""))
        return 0
    build(args.notebooks or lecture_notebooks(), args.out)
    print(f"open {args.out}/<notebook>.slides.html in a browser (S: speaker notes, Esc: overview)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
