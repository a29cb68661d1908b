"""torchvision's ImageNet ResNet-18 weights as a catalogue entry, their loader, and notebook 10's ImageNet cells.

No test downloads anything: the real weights are never here (no internet on the course's CI). The loader is
exercised with a *stand-in*: a real ResNet-18 state dict with random weights, saved by the test, whose hash
the catalogue is patched to expect. These tests check the plumbing (fetch, checksums, torch's loader, the
notebook's cells), never an accuracy, and nothing a learner sees calls the stand-in pretrained.
"""

from __future__ import annotations

import dataclasses
import hashlib
import socket
import time
from pathlib import Path

import pytest
import torch
import torchvision

import coursekit as ck
from coursekit import data
from tests.nbcells import exec_cells, quick_mode_and_threads, tagged_sources  # noqa: F401 (autouse fixture)

NB = "notebooks/10_cnn_architectures_and_transfer_learning.ipynb"
WEIGHTS = torchvision.models.ResNet18_Weights.IMAGENET1K_V1


@pytest.fixture
def no_network(monkeypatch):
    """Every host-name look-up fails, as on the course's CI (loopback still works)."""
    real = socket.getaddrinfo

    def no_dns(host, *args, **kwargs):
        if host in ("127.0.0.1", "localhost"):
            return real(host, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)


@pytest.fixture
def offline(tmp_path, monkeypatch, no_network):
    """An empty cache, no mirror, and no network."""
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSEKIT_MIRROR", raising=False)
    return tmp_path


def stand_in(folder: Path, name: str | None = None) -> tuple[Path, str]:
    """A ResNet-18 state dict with random (seeded) weights saved in ``folder``; returns (path, sha256).

    ``name`` None: torchvision's naming, ``resnet18-<first 8 hex digits of the sha256>.pth``."""
    torch.manual_seed(0)
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "stand-in.pth"
    torch.save(torchvision.models.resnet18().state_dict(), tmp)
    sha = hashlib.sha256(tmp.read_bytes()).hexdigest()
    path = tmp.rename(folder / (name or f"resnet18-{sha[:8]}.pth"))
    return path, sha


def patch_entry(monkeypatch, path: Path, sha: str, cache_dir: str | None = None) -> data.Dataset:
    """The catalogue's entry, pointed at the stand-in's file name and hash (and optionally another folder)."""
    real = data.RESNET18_IMAGENET
    (source,) = real.sources
    url = source.url.rsplit("/", 1)[0] + "/" + path.name
    entry = dataclasses.replace(real, files={path.name: sha}, cache_dir=cache_dir or real.cache_dir,
                                sources=(dataclasses.replace(source, url=url, filename=path.name, size=path.stat().st_size),))
    monkeypatch.setattr(data, "RESNET18_IMAGENET", entry)
    monkeypatch.setattr(data, "WEIGHTS", {entry.name: entry})
    return entry


# ---------------------------------------------------------------------------------- the entry


def test_the_catalogue_entry_is_torchvisions_resnet18_file():
    entry = data.RESNET18_IMAGENET
    (source,) = entry.sources
    ((filename, sha),) = entry.files.items()
    assert entry.name == "resnet18-imagenet" and entry.cache_dir == entry.mirror_dir == "weights/resnet18-imagenet"
    assert source.url == WEIGHTS.url and filename == source.filename == WEIGHTS.url.rsplit("/", 1)[-1]
    assert sha == "f37072fd47e89c5e827621c5baffa7500819f7896bbacec160b1a16c560e07ec"
    # torch.hub's check_hash compares the hex digits in the file name with the file's sha256
    assert sha.startswith(torch.hub.HASH_REGEX.search(filename).group(1))
    assert round(source.size / 2**20, 3) == WEIGHTS.meta["_file_size"]  # torchvision's size, in MiB
    assert "BSD-3-Clause" in entry.terms and "ImageNet" in entry.terms and "non-commercial" in entry.terms


def test_the_weights_are_listed_but_required_by_nothing_the_datasets_need():
    assert data.WEIGHTS == {"resnet18-imagenet": data.RESNET18_IMAGENET}
    assert "resnet18-imagenet" not in data.DATASETS  # not in the download total nor in a default mirror
    table = ck.data_status()
    assert table.loc["resnet18-imagenet", "status"].startswith("optional (notebook 10; not in the total): ")
    assert table.loc["resnet18-imagenet", "download (MB)"] == 46.8
    datasets = sum(s.size for ds in data.DATASETS.values() if ds.downloadable for s in ds.sources)
    assert table["download (MB)"].iloc[-1] == round(datasets / 1e6, 1)


# ------------------------------------------------------------------------------ the loader


def test_without_cache_mirror_or_network_the_loader_says_how_to_get_the_weights(offline):
    start = time.monotonic()
    with pytest.raises(data.DatasetUnavailable) as err:
        data.imagenet_resnet18(progress=False)
    assert time.monotonic() - start < 5, "no network must fail in seconds"
    message = str(err.value)
    assert WEIGHTS.url in message and data.RESNET18_IMAGENET.files["resnet18-f37072fd.pth"] in message
    assert "cannot resolve the host name 'download.pytorch.org'" in message
    assert str(offline / "cache" / "weights" / "resnet18-imagenet") in message and "COURSEKIT_MIRROR" in message
    assert "non-commercial" in message  # the terms come with the message


def test_a_file_with_other_bytes_under_the_real_name_is_never_loaded(offline):
    """Random weights placed where the real file belongs fail the checksum: removed, and the error says so."""
    folder = offline / "cache" / "weights" / "resnet18-imagenet"
    path, _ = stand_in(folder, "resnet18-f37072fd.pth")
    with pytest.raises(data.DatasetUnavailable, match="not available"):
        data.imagenet_resnet18(progress=False)
    assert not path.exists()


def test_the_loader_returns_a_working_resnet18_from_a_verified_mirror_copy(offline, monkeypatch):
    """Plumbing only (random stand-in weights): mirror -> cache -> torch's loader -> torchvision's resnet18."""
    path, sha = stand_in(offline / "mirror" / "weights" / "resnet18-imagenet")
    patch_entry(monkeypatch, path, sha)
    monkeypatch.setenv("COURSEKIT_MIRROR", str(offline / "mirror"))
    model, weights = data.imagenet_resnet18(progress=False)
    assert weights is WEIGHTS
    cached = offline / "cache" / "weights" / "resnet18-imagenet" / path.name
    assert data.sha256_of(cached) == sha
    saved = torch.load(path, weights_only=True)
    assert all(torch.equal(value, saved[name]) for name, value in model.state_dict().items())
    assert model.eval()(torch.rand(2, 3, 64, 64)).shape == (2, 1000)


def test_a_file_whose_name_prefix_disagrees_with_its_hash_is_refused(offline, monkeypatch):
    """The hash prefix in the file name (what torch.hub checks) must agree with the catalogue's sha256."""
    path, sha = stand_in(offline / "cache" / "weights" / "resnet18-imagenet", "resnet18-f37072fd.pth")
    patch_entry(monkeypatch, path, sha)  # fetch accepts the bytes; the name's prefix is another file's
    with pytest.raises(data.ChecksumMismatch, match="hash prefix in its name"):
        data.imagenet_resnet18(progress=False)


def test_torch_checks_the_name_prefix_only_when_it_downloads(tmp_path):
    """Why the loader checks the prefix itself: torch.hub reads a file already present without checking it."""
    path, sha = stand_in(tmp_path / "hub", "resnet18-00000000.pth")
    state = torch.hub.load_state_dict_from_url("https://download.invalid/resnet18-00000000.pth",
                                               model_dir=str(path.parent), check_hash=True, weights_only=True)
    assert "fc.weight" in state  # loaded although 00000000 is not its hash
    with pytest.raises(RuntimeError, match="invalid hash value"):  # but a download is checked (file:// URL)
        torch.hub.download_url_to_file(path.as_uri(), str(tmp_path / "copy.pth"), hash_prefix="00000000",
                                       progress=False)
    torch.hub.download_url_to_file(path.as_uri(), str(tmp_path / "copy.pth"), hash_prefix=sha[:8], progress=False)


def test_the_mirror_command_copies_the_weights_only_when_named(offline, monkeypatch):
    path, sha = stand_in(offline / "upstream" / "weights" / "resnet18-imagenet")
    patch_entry(monkeypatch, path, sha)
    monkeypatch.setenv("COURSEKIT_MIRROR", str(offline / "upstream"))
    monkeypatch.setattr(data, "DATASETS", {})
    assert data.build_mirror(offline / "class", progress=False) == {}  # a default mirror holds datasets only
    result = data.build_mirror(offline / "class", ["resnet18-imagenet"], progress=False)
    assert result["resnet18-imagenet"].startswith("ok: 1 file(s)")
    assert data.sha256_of(offline / "class" / "weights" / "resnet18-imagenet" / path.name) == sha


# ------------------------------------------------------------------- notebook 10's ImageNet cells


IMAGENET_CELLS = ["setup", "imagenet-load", "imagenet-data", "imagenet-run", "proof-imagenet-frozen", "imagenet-plot"]
TINY = {  # quick mode's settings -> a few photos and steps, so that the cells run in seconds
    "quick=[10, 30], full": 'quick=[2, "all"], full',
    'quick=["frozen"], full': 'quick=["frozen", "fine-tuned", "scratch"], full',  # full mode's methods too
    "quick=25, full=300": "quick=1, full=300",
    "quick=(120, 160), full=(240, 320)": "quick=(24, 32), full=(240, 320)",
    "quick=200, full=None), sized(quick=500, full=None)": "quick=20, full=None), sized(quick=20, full=None)",
    "for _ in range(300):": "for _ in range(5):",
}


def tiny_imagenet_cells(**wrong) -> dict[str, str]:
    """The section's data and run cells with ``TINY`` (and ``wrong``) applied; every edit must apply."""
    cells = {tag: tagged_sources(NB, tag)[0] for tag in ("imagenet-data", "imagenet-run")}
    for old, new in {**TINY, **wrong}.items():
        hits = [tag for tag, source in cells.items() if old in source]
        assert hits, f"{NB} no longer contains {old!r}: update this test"
        cells = {tag: source.replace(old, new) for tag, source in cells.items()}
    return cells


@pytest.fixture
def stand_in_weights(tmp_path, monkeypatch):
    """The loader's catalogue entry pointed at random stand-in weights in a scratch folder (an absolute
    cache_dir), so that the learner's cache never holds them; the State Farm photos come from the usual cache
    or mirror."""
    if ck.data_status().loc["statefarm", "status"].startswith("not available"):
        pytest.skip("no State Farm copy (Kaggle's or the course mirror's 80x60)")
    path, sha = stand_in(tmp_path / "stand-in")
    patch_entry(monkeypatch, path, sha, cache_dir=str(path.parent))
    return path


def test_imagenet_cells_run_end_to_end_on_random_stand_in_weights_plumbing_only(stand_in_weights):
    """Plumbing, not accuracy: with random weights in place of ImageNet's, the section's cells run, split by
    driver, score every method at every size, and keep the frozen body unchanged."""
    ns = exec_cells(NB, IMAGENET_CELLS, replace=tiny_imagenet_cells())
    assert ns["imagenet_skipped"] == ""
    results = ns["sf_results"]
    assert sorted(results["method"].unique()) == ["fine-tuned", "frozen", "scratch"]
    assert list(results["size"].unique()) == [2, "all"] and results["test accuracy"].between(0, 1).all()
    drivers = ns["sf_drivers"]
    splits = [set(drivers[ns[name]].tolist()) for name in ("sf_pool", "sf_val", "sf_test")]
    assert not (splits[0] & splits[1] or splits[0] & splits[2] or splits[1] & splits[2])


def test_full_mode_on_a_cpu_keeps_the_imagenet_part_at_quick_modes_sizes(stand_in_weights, monkeypatch):
    """Full mode's sizes (whole-network training at 240x320) are for a GPU: on a CPU they would take about a day."""
    monkeypatch.setenv("COURSEKIT_MODE", "full")
    cells = tiny_imagenet_cells()
    ns = exec_cells(NB, ["setup", "imagenet-load", "imagenet-data"], replace={"imagenet-data": cells["imagenet-data"]})
    assert ns["device"].type == "cpu" and not ns["gpu_sized"]
    assert ns["sf_input"] == (24, 32) and ns["sf_steps"] == 1  # TINY's stand-ins for quick mode's values
    assert tuple(ns["statefarm"].images.shape[2:]) == (60, 80)  # the photos are stored as in quick mode too


def test_imagenet_frozen_proof_catches_a_backbone_in_train_mode(stand_in_weights):
    """Features computed with batch norm in train mode move its running statistics: the proof must fail."""
    cells = tiny_imagenet_cells(**{"backbone.eval()  #": "backbone.train()  #", 'quick=[2, "all"], full': "quick=[2], full"})
    with pytest.raises(AssertionError, match="frozen ImageNet body changed"):
        exec_cells(NB, IMAGENET_CELLS[:-1], replace=cells)


def test_imagenet_cells_print_one_line_each_when_the_weights_are_missing(tmp_path, monkeypatch, no_network, capsys):
    real = data.RESNET18_IMAGENET  # the real entry, its cache in a scratch folder: nothing there, no network
    monkeypatch.setattr(data, "RESNET18_IMAGENET", dataclasses.replace(real, cache_dir=str(tmp_path / "weights")))
    ns = exec_cells(NB, IMAGENET_CELLS)
    assert ns["imagenet_skipped"].startswith("Dataset 'resnet18-imagenet' is not available")
    out = capsys.readouterr().out
    # the reason once, in the first cell; one short line in each of the four cells after it
    assert out.count("ImageNet path skipped: ") == 1 and out.count("cannot resolve the host name") == 1
    assert out.count("ImageNet section skipped: no weights (the first cell of section 6 says why)\n") == 4
