"""The set-up files agree with each other, and what is committed follows the course's rules."""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONDA_NAMES = {"torch": "pytorch"}  # conda-forge's names where they differ from PyPI's


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def test_environment_yml_lists_the_same_packages_as_pyproject():
    import yaml  # installed with jupyter; the course itself never needs it

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    wanted = {CONDA_NAMES.get(n, n) for n in wanted}
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda = {_name(d) for d in env["dependencies"] if isinstance(d, str)} - {"python", "pip"}
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert conda == wanted, f"only in environment.yml: {conda - wanted}; only in pyproject: {wanted - conda}"
    assert "python=3.11" in env["dependencies"]
    assert any(line.strip().startswith("-e .") for line in pip_section), "the pip section installs the course"
    assert env["name"] and env["channels"]


def test_no_exact_pins_in_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    pinned = [r for r in project["dependencies"] + project["optional-dependencies"]["dev"] if "==" in r]
    assert not pinned, f"exact pins break installs on new Pythons: {pinned}"


def _tracked(pattern: str) -> list[Path]:
    out = subprocess.run(["git", "ls-files", pattern], cwd=ROOT, capture_output=True, text=True, check=True)
    return [ROOT / p for p in out.stdout.split()]


def _committed_notebooks() -> dict[str, dict]:
    """Every notebook as git has it committed (HEAD), whatever the working tree holds: a learner
    who runs the notebooks in their clone still gets a green `make test`."""
    listing = subprocess.run(["git", "ls-tree", "-r", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True)
    blobs = {line.split("\t", 1)[1]: line.split()[2] for line in listing.stdout.splitlines()
             if line.endswith(".ipynb") and line.split()[1] == "blob"}
    batch = subprocess.run(["git", "cat-file", "--batch"], cwd=ROOT, input="\n".join(blobs.values()).encode() + b"\n",
                           capture_output=True, check=True).stdout
    out, at = {}, 0
    for name in blobs:
        end = batch.index(b"\n", at)
        size = int(batch[at:end].split()[2])
        out[name] = json.loads(batch[end + 1:end + 1 + size])
        at = end + 1 + size + 1  # the blob, then a newline
    return out


def test_notebooks_are_committed_without_outputs():
    dirty = []
    for name, nb in _committed_notebooks().items():
        for cell in nb["cells"]:
            source = "".join(cell.get("source", ""))
            checked = "NBVAL_CHECK_OUTPUT" in source or "nbval-check-output" in cell.get("metadata", {}).get("tags", [])
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")) and not checked:
                dirty.append(name)
                break
    assert dirty == [], f"strip outputs (make strip) and commit: {dirty}"


def test_no_dataset_files_are_committed():
    from coursekit.data import DATASETS

    names = {Path(f).name for d in DATASETS.values() for f in d.files}
    committed = [p for p in _tracked("*") if p.name in names or p.stat().st_size > 2_000_000]
    assert not committed, f"datasets and checkpoints belong in the cache, not in git: {committed}"


def test_every_notebook_starts_with_start_lesson():
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        first_code = next(c for c in nb["cells"] if c["cell_type"] == "code")
        assert "start_lesson(" in "".join(first_code["source"]), f"{path.name}: first code cell must call start_lesson"
