"""The course as a static web site: every lecture with its executed outputs, and its exercise.

    python -m coursekit.book [--out build/book]     # what `make book` runs

Sphinx with MyST-NB and the Sphinx Book Theme (the engine and look of Jupyter Book 1; see the
instructors' guide for why not Jupyter Book 2). The notebooks arrive already executed, from
``coursekit.executed`` (the run nbval made in ``make test``, or one made now for a notebook without a
valid copy), so MyST-NB never executes anything (``nb_execution_mode = "off"`` in ``book/conf.py``).

The source tree is assembled in ``build/book-src/``: an index with the lectures and the exercises in
the navigation, each lecture followed by a link to its exercise notebook, the instructors' guide, and
MathJax (from ``jupyter-server-mathjax``) so that formulas render without a network.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from .executed import ROOT, lecture_notebooks

OUT = ROOT / "build" / "book"
SRC = ROOT / "build" / "book-src"
CONF = ROOT / "book"


def _title(nb, fallback: str) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("# "):
                    return line[2:].strip()
    return fallback


def assemble(src: Path = SRC) -> Path:
    """Write the site's sources: index.md, lectures/ (executed), exercises/, instructors.md, _static/."""
    import nbformat

    from .executed import with_outputs
    from .slides import _package_dir

    if src.exists():
        shutil.rmtree(src)
    (src / "lectures").mkdir(parents=True)
    (src / "exercises").mkdir()
    lectures, exercises = [], []
    for path in lecture_notebooks():
        nb = with_outputs(path)
        exercise = ROOT / "exercises" / path.name
        if exercise.exists():
            shutil.copy2(exercise, src / "exercises" / path.name)
            exercises.append(f"exercises/{path.stem}")
            nb.cells.append(nbformat.v4.new_markdown_cell(
                f"**Exercise**: [{_title(nb, path.stem)}: the exercise notebook](../exercises/{path.name}) "
                f"(run it in JupyterLab: `make lab` copies it to `work/{path.name}`)."))
        nbformat.write(nb, src / "lectures" / path.name)
        lectures.append(f"lectures/{path.stem}")
    guide = ROOT / "docs" / "instructors.md"
    if guide.exists():
        shutil.copy2(guide, src / "instructors.md")
    shutil.copytree(_package_dir("jupyter_server_mathjax", "static"), src / "_static" / "mathjax")

    def toctree(caption: str, entries: list[str]) -> str:
        return "\n".join(["```{toctree}", f":caption: {caption}", ":maxdepth: 1", "", *entries, "```", ""])

    (src / "index.md").write_text("\n".join([
        "# Deep learning, proved cell by cell", "",
        "A deep-learning course in PyTorch: numbered lectures that teach from the single neuron to "
        "convolutional networks, optimizers, collaborative filtering, recurrent networks, attention and "
        "beyond. Every claim a lecture makes is backed by a *proof cell*, an `assert` that fails if the "
        "claim is false. These pages show each lecture as it ran in quick mode; to run and change the "
        "code, clone the course and run `make lab`.", "",
        toctree("Lectures", lectures),
        toctree("Exercises", exercises),
        toctree("For instructors", ["instructors"] if guide.exists() else []),
    ]))
    return src


def build(out: Path = OUT) -> Path:
    src = assemble()
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-q", "-c", str(CONF), str(src), str(out)]
    subprocess.run(cmd, check=True)
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m coursekit.book", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    out = build(args.out)
    print(f"the course site: {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
