"""The State Farm loader: the real Kaggle layout (folder and zips) on a tiny fixture the tests build,
the message when the data is missing, and the course's 80x60 mirror copy.

Every fixture image is one flat colour that encodes its class (red) and driver (green), so a test
can check from the pixels that images, labels and drivers stay aligned.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from coursekit import data, statefarm
from coursekit.statefarm import (
    CLASSES,
    KAGGLE_COMMAND,
    StateFarmImages,
    statefarm_index,
    statefarm_tensors,
)

MIRROR = os.environ.get("COURSEKIT_MIRROR")  # the fixture below hides it from the other tests
needs_mirror = pytest.mark.skipif(not MIRROR, reason="COURSEKIT_MIRROR not set")
DRIVERS = ("p002", "p012", "p081")
PER = 2  # images per driver and class


def colour(label: int, driver: str) -> tuple[int, int, int]:
    return 20 + 20 * label, 3 * int(driver[1:]), 128


def make_kaggle(folder: Path, *, test: int = 3, size=(16, 12)) -> pd.DataFrame:
    """Kaggle's layout: imgs/train/cX/*.jpg, imgs/test/*.jpg, driver_imgs_list.csv (with a row for an
    image that is not there, like the mirror's full list)."""
    rows, n = [], 0
    for driver in DRIVERS:
        for label, cls in enumerate(CLASSES):
            for _ in range(PER):
                n += 1
                path = folder / "imgs" / "train" / cls / f"img_{n}.jpg"
                path.parent.mkdir(parents=True, exist_ok=True)
                Image.new("RGB", size, colour(label, driver)).save(path, quality=95)
                rows.append((driver, cls, path.name))
    for k in range(test):
        path = folder / "imgs" / "test" / f"img_t{k}.jpg"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", size, (0, 0, 0)).save(path)
    table = pd.DataFrame(rows + [("p002", "c3", "img_not_here.jpg")], columns=["subject", "classname", "img"])
    table.to_csv(folder / "driver_imgs_list.csv", index=False)
    return table


def zip_folder(folder: Path, archive: Path, under: str = "", only: str | None = None) -> Path:
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted(folder.rglob("*")):
            rel = path.relative_to(folder).as_posix()
            if path.is_file() and (only is None or rel.startswith(only)):
                zf.write(path, under + (rel[len(only):] if only else rel))
    return archive


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "cache"))
    monkeypatch.delenv("COURSEKIT_MIRROR", raising=False)
    return tmp_path


def check_index(index: pd.DataFrame) -> None:
    assert list(index.columns) == ["path", "img", "class", "label", "driver"]
    assert len(index) == len(DRIVERS) * len(CLASSES) * PER, "every image present, none that is only listed"
    assert set(index["driver"]) == set(DRIVERS) and sorted(index["class"].unique()) == list(CLASSES)
    assert (index["label"] == index["class"].str[1:].astype(int)).all()
    assert index["path"].is_monotonic_increasing and all(Path(p).is_file() for p in index["path"])


def check_aligned(images: torch.Tensor, labels, drivers) -> None:
    """Each image's colour encodes its class and driver: the tensors must agree with it."""
    mean = images.float().mean(dim=(2, 3))
    expected = torch.tensor([colour(int(y), f"p{int(d):03d}") for y, d in zip(labels, drivers)], dtype=torch.float)
    assert (mean - expected).abs().max() < 4, "images, labels and drivers are out of step"


# ----------------------------------------------------------------------- the Kaggle layout


def test_an_unzipped_kaggle_folder_gives_index_dataset_and_cached_tensors(isolated, monkeypatch):
    make_kaggle(isolated / "kaggle")
    index = statefarm_index(root=isolated / "kaggle")
    check_index(index)
    assert index.attrs["source"] == "kaggle" and "60" in index.attrs["description"]

    image, label = StateFarmImages(index, transform=lambda x: x[:, :6, :8])[5]
    assert image.dtype == torch.uint8 and image.shape == (3, 6, 8) and label == index["label"][5]

    images, labels, drivers, rows = statefarm_tensors((6, 8), root=isolated / "kaggle", progress=False)
    assert images.shape == (60, 3, 6, 8) and images.dtype == torch.uint8
    assert labels.dtype == drivers.dtype == torch.int64
    assert rows["img"].tolist() == index["img"].tolist()
    assert set(drivers.tolist()) == {2, 12, 81}
    check_aligned(images, labels, drivers)
    assert len(list((isolated / "cache" / "statefarm" / "tensors").glob("6x8-*.pt"))) == 1

    def no_decoding(path):
        raise AssertionError("the second call must read the cached tensors, not decode images")

    monkeypatch.setattr(statefarm, "read_rgb", no_decoding)
    again = statefarm_tensors((6, 8), root=isolated / "kaggle", progress=False)
    assert torch.equal(again.images, images) and torch.equal(again.drivers, drivers)


def test_a_subset_and_the_test_split(isolated):
    make_kaggle(isolated / "kaggle")
    index = statefarm_index(root=isolated / "kaggle")
    sample = index[index["driver"] == "p012"]
    part = statefarm_tensors(8, index=sample, progress=False)
    assert part.images.shape == (20, 3, 8, 8) and set(part.drivers.tolist()) == {12}
    check_aligned(part.images, part.labels, part.drivers)
    test = statefarm_index(root=isolated / "kaggle", split="test")
    assert list(test.columns) == ["path", "img"] and len(test) == 3
    images, labels, drivers, _ = statefarm_tensors((6, 8), split="test", root=isolated / "kaggle", progress=False)
    assert images.shape == (3, 3, 6, 8) and set(labels.tolist()) == set(drivers.tolist()) == {-1}


def test_the_competition_zip_in_the_cache_is_found_and_unpacked_once(isolated):
    make_kaggle(isolated / "kaggle")
    folder = statefarm.kaggle_folder()
    folder.mkdir(parents=True)
    zip_folder(isolated / "kaggle", folder / "state-farm-distracted-driver-detection.zip")
    index = statefarm_index()  # found by itself: no root=
    check_index(index)
    assert index.attrs["source"] == "kaggle"
    assert all(p.startswith(str(folder / "unzipped")) for p in index["path"])
    first = Path(index["path"][0]).stat().st_mtime_ns
    assert len(statefarm_index()) == len(index)
    assert Path(index["path"][0]).stat().st_mtime_ns == first, "a second load must not unpack again"
    assert not (folder / "unzipped" / "state-farm-distracted-driver-detection" / "imgs" / "test").exists(), \
        "the test images are unpacked only when asked for"
    assert len(statefarm_index(split="test")) == 3


def test_imgs_zip_with_the_driver_list_beside_it(isolated):
    make_kaggle(isolated / "kaggle")
    elsewhere = isolated / "downloads"
    elsewhere.mkdir()
    archive = zip_folder(isolated / "kaggle", elsewhere / "imgs.zip", only="imgs/")  # train/..., test/...
    shutil.copy(isolated / "kaggle" / "driver_imgs_list.csv", elsewhere)
    index = statefarm_index(root=archive)
    check_index(index)
    images, labels, drivers, _ = statefarm_tensors((6, 8), root=archive, progress=False)
    check_aligned(images, labels, drivers)


def test_images_missing_from_the_driver_list_are_left_out_with_a_warning(isolated):
    table = make_kaggle(isolated / "kaggle")
    table[table["img"] != "img_1.jpg"].to_csv(isolated / "kaggle" / "driver_imgs_list.csv", index=False)
    with pytest.warns(UserWarning, match="1 image.*driver is unknown"):
        index = statefarm_index(root=isolated / "kaggle")
    assert "img_1.jpg" not in set(index["img"]) and len(index) == 59


def test_what_is_wrong_with_a_partial_download_is_named(isolated):
    make_kaggle(isolated / "kaggle")
    (isolated / "kaggle" / "driver_imgs_list.csv").unlink()
    with pytest.raises(data.DatasetUnavailable, match="driver_imgs_list.csv"):
        statefarm_index(root=isolated / "kaggle")
    broken = isolated / "state-farm-distracted-driver-detection.zip"
    broken.write_bytes(b"PK\x03\x04 cut short")
    with pytest.raises(data.DatasetUnavailable, match="not a readable zip"):
        statefarm_index(root=broken)
    other = isolated / "other.zip"
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(data.DatasetUnavailable, match="no train/c0..c9"):
        statefarm_index(root=other)


def test_missing_data_says_how_to_get_it_from_kaggle_and_where_to_put_it(isolated):
    with pytest.raises(data.DatasetUnavailable) as err:
        statefarm_index()
    message = str(err.value)
    assert f"{KAGGLE_COMMAND} -p {statefarm.kaggle_folder()}" in message
    assert "accept" in message and "rules" in message and "Kaggle account" in message
    assert "state-farm-distracted-driver-detection.zip" in message and "root=" in message
    assert "COURSEKIT_MIRROR" in message
    with pytest.raises(data.DatasetUnavailable, match="kaggle competitions download"):
        statefarm_index(source="kaggle")
    with pytest.raises(ValueError, match="source"):
        statefarm_index(source="imagenet")


# ------------------------------------------------------------------------ the 80x60 copy


def fake_mirror(folder: Path, monkeypatch) -> Path:
    """A mirror laid out like the course's statefarm/ folder, its two small files pinned."""
    sf = folder / "statefarm"
    src = folder / "src"
    make_kaggle(src, test=0)
    lines = []
    for path in sorted((src / "imgs" / "train").rglob("*.jpg"))[::7]:  # a subset, like the real copy
        rel = path.relative_to(src / "imgs").as_posix()
        (sf / "imgs_80x60" / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, sf / "imgs_80x60" / rel)
        lines.append(f"{hashlib.sha256(path.read_bytes()).hexdigest()}  {rel}\n")
    (sf / "imgs_80x60" / "SHA256SUMS").write_text("".join(lines))
    shutil.copy(src / "driver_imgs_list.csv", sf / "driver_imgs_list.csv")
    monkeypatch.setattr(statefarm, "LIST_SHA256", data.sha256_of(sf / "driver_imgs_list.csv"))
    monkeypatch.setattr(statefarm, "SUMS_SHA256", data.sha256_of(sf / "imgs_80x60" / "SHA256SUMS"))
    monkeypatch.setenv("COURSEKIT_MIRROR", str(folder))
    return sf


def test_the_mirror_copy_is_copied_verified_and_joined_with_the_driver_list(isolated, monkeypatch):
    sf = fake_mirror(isolated / "mirror", monkeypatch)
    index = statefarm_index()
    assert index.attrs["source"] == "80x60"
    assert len(index) == len((sf / "imgs_80x60" / "SHA256SUMS").read_text().splitlines()) == 9
    assert all(p.startswith(str(isolated / "cache" / "statefarm" / "80x60")) for p in index["path"])
    images, labels, drivers, _ = statefarm_tensors((12, 16), progress=False)
    check_aligned(images, labels, drivers)
    with pytest.raises(data.DatasetUnavailable, match="no test images"):
        statefarm_index(split="test")


def test_a_corrupt_image_in_the_mirror_copy_is_refused(isolated, monkeypatch):
    sf = fake_mirror(isolated / "mirror", monkeypatch)
    victim = sorted((sf / "imgs_80x60" / "train").rglob("*.jpg"))[3]
    victim.chmod(0o644)
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(data.DatasetUnavailable) as err:
        statefarm_index()
    assert victim.name in str(err.value) and "checksum" in str(err.value)


def test_a_mirror_copy_whose_checksum_list_differs_from_the_pin_is_refused(isolated, monkeypatch):
    fake_mirror(isolated / "mirror", monkeypatch)
    monkeypatch.setattr(statefarm, "SUMS_SHA256", "0" * 64)
    with pytest.raises(data.DatasetUnavailable) as err:
        statefarm_index()
    assert "SHA256SUMS" in str(err.value) and KAGGLE_COMMAND in str(err.value)


@needs_mirror
def test_the_course_mirror_copy_has_6197_images_of_26_drivers_in_10_classes(monkeypatch):
    # The project's own cache (like the notebook), so the copy is made once per machine.
    monkeypatch.delenv("COURSEKIT_DATA", raising=False)
    monkeypatch.setenv("COURSEKIT_MIRROR", MIRROR)
    index = statefarm_index(source="80x60", progress=False)
    assert len(index) == 6197
    assert index["driver"].nunique() == 26 and index["class"].nunique() == 10
    assert index.groupby(["driver", "class"]).size().between(1, 24).all()
    images, labels, drivers, rows = statefarm_tensors(progress=False)
    assert images.shape == (6197, 3, 60, 80) and images.dtype == torch.uint8
    assert torch.equal(labels, torch.tensor(rows["label"].to_numpy()))
    assert np.array_equal(drivers.numpy(), rows["driver"].str[1:].astype(int).to_numpy())
