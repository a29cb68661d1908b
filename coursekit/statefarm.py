"""State Farm Distracted Driver Detection (Kaggle, 2016): an index, a torch Dataset, cached tensors.

Photos of drivers taken from the passenger side, in ten classes ``c0``..``c9`` (``CLASS_NAMES``),
each labelled with its driver (``p002``..``p081``, 26 drivers in the training set). Two copies
are understood, with the same layout and the same API:

``"kaggle"``: the competition's own data, which only a Kaggle user who accepted the rules may
    download (it cannot be redistributed, so the course ships none of it)::

        kaggle competitions download -c state-farm-distracted-driver-detection -p data/statefarm

    Point the loader at the unzipped folder (``imgs/train/c0..c9/*.jpg``, ``imgs/test/*.jpg``,
    ``driver_imgs_list.csv``; ``train/`` and ``test/`` directly in it also work) or at the zip
    (``state-farm-distracted-driver-detection.zip``, or ``imgs.zip`` with ``driver_imgs_list.csv``
    beside it) with ``root=``, or leave it in ``<cache>/statefarm/`` (``kaggle_folder()``), where it
    is found by itself. A zip is unpacked once into the cache (only the split asked for).
    22,424 labelled 640×480 training images, 79,726 unlabelled test images.
``"80x60"``: the course's mirror copy, ``$COURSEKIT_MIRROR/statefarm/``: the full driver list and
    6,197 of the training images (24 per driver and class, all 26 drivers) down-scaled to 80×60
    by a third party. Copied into the cache and verified: the driver list and the ``SHA256SUMS``
    file against checksums pinned here, every image against ``SHA256SUMS``. No test images.

``source="auto"`` (the default) takes the Kaggle data where it is found, else the 80×60 copy.
When neither exists, ``DatasetUnavailable`` says how to get the Kaggle data and where to put it.
Images keep the resolution of the copy; resizing is the transform's job (``statefarm_tensors``
takes a ``size``), so code written for one copy runs on the other.

API (notebook 11)::

    index = statefarm_index()                  # DataFrame, one row per image, sorted by path
    index.columns -> path, img, class, label, driver     (test split: path, img)
    index.attrs["source"], index.attrs["description"]

    ds = StateFarmImages(index, transform=None, size=None)  # torch Dataset: (uint8 (3, H, W), label)
    x, y = ds[0]          # size=(H, W) decodes at that size; transform gets the uint8 tensor (v2 transforms)

    images, labels, drivers, index = statefarm_tensors(size=(60, 80))
    # images uint8 (N, 3, 60, 80); labels int64 0..9; drivers int64 driver number (p002 -> 2);
    # index: the rows in the same order. Cached in <cache>/statefarm/tensors/: the second call
    # loads one file. A subset (index=...) or another size is cached separately.

    read_rgb(path, size=None) -> uint8 (3, H, W)   # one image, as StateFarmImages reads it (Pillow)
    CLASSES = ("c0", ..., "c9"); CLASS_NAMES = {"c0": "safe driving", ...}

Memory: ``statefarm_tensors`` holds N·3·H·W bytes (6,197 images at 60×80: 89 MB; all 22,424
Kaggle images at 224×224: 3.4 GB).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from . import data
from .data import DatasetUnavailable

KAGGLE_SLUG = "state-farm-distracted-driver-detection"
KAGGLE_URL = f"https://www.kaggle.com/c/{KAGGLE_SLUG}"
KAGGLE_COMMAND = f"kaggle competitions download -c {KAGGLE_SLUG}"
ZIP_NAMES = (f"{KAGGLE_SLUG}.zip", "imgs.zip")
LIST_NAME = "driver_imgs_list.csv"
CACHE_DIR = "statefarm"
MIRROR_DIR = "statefarm"
SOURCES = ("auto", "kaggle", "80x60")

CLASSES = tuple(f"c{i}" for i in range(10))
CLASS_NAMES = {  # as on the competition's data page
    "c0": "safe driving", "c1": "texting - right", "c2": "talking on the phone - right",
    "c3": "texting - left", "c4": "talking on the phone - left", "c5": "operating the radio",
    "c6": "drinking", "c7": "reaching behind", "c8": "hair and makeup", "c9": "talking to passenger",
}

# The mirror's 80x60 copy: the two small files are pinned here, each image by SHA256SUMS.
LIST_SHA256 = "891ca8e2bfd7a3522ac2098a1bc93825c581d07104d211c329de0b16c83ca5ee"
SUMS_SHA256 = "2b30bc19988b2bc61f37be189a461bb9f320ad3b2ed86f16912bae9e561ada63"
THUMBS = "imgs_80x60"
TERMS = "Kaggle competition data (State Farm): competition rules apply; no redistribution"

_TRAIN_MEMBER = re.compile(r"^(?P<prefix>(?:.*/)?)train/(?P<cls>c\d)/(?P<img>[^/]+\.jpe?g)$", re.IGNORECASE)
_SUMS_PATH = re.compile(r"^train/c\d/[^/]+\.jpe?g$", re.IGNORECASE)


def kaggle_folder() -> Path:
    """Where the Kaggle download goes so the loader finds it by itself: ``<cache>/statefarm``."""
    return data.cache_root() / CACHE_DIR


# ------------------------------------------------------------------------- the Kaggle layout


@dataclass(frozen=True)
class _Kaggle:
    train: Path  # folder holding c0..c9
    test: Path | None
    driver_list: Path  # csv, or csv.zip
    origin: Path  # what the user has: a folder or a zip


def _driver_list_near(*folders: Path) -> Path | None:
    for folder in folders:
        for name in (LIST_NAME, LIST_NAME + ".zip"):
            if (folder / name).is_file():
                return folder / name
    return None


def _kaggle_in_folder(folder: Path, split: str) -> _Kaggle | None:
    """The Kaggle layout in ``folder`` (unzipped, or one of its zips); None if there is none."""
    for base in (folder / "imgs", folder):
        if (base / "train").is_dir() and any((base / "train" / c).is_dir() for c in CLASSES):
            driver_list = _driver_list_near(folder, base)
            if driver_list is None:
                raise DatasetUnavailable(
                    f"{base / 'train'} holds the State Farm images but {LIST_NAME}, which names each image's "
                    f"driver, is not beside it. Download it too ({KAGGLE_COMMAND} -f {LIST_NAME}) into {folder}.")
            test = base / "test" if (base / "test").is_dir() else None
            return _Kaggle(base / "train", test, driver_list, folder)
    for name in ZIP_NAMES:
        if (folder / name).is_file():
            return _kaggle_from_zip(folder / name, split)
    return None


def _kaggle_from_zip(archive: Path, split: str) -> _Kaggle:
    """Unpack the split's images (and the driver list) of a Kaggle zip into the cache, once."""
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as err:
        raise DatasetUnavailable(f"{archive} is not a readable zip ({err}): an interrupted download? "
                                 f"Delete it and download again ({KAGGLE_COMMAND}).") from err
    with zf:
        names = zf.namelist()
        train = [m for m in (_TRAIN_MEMBER.match(n) for n in names) if m]
        if not train:
            nested = [n for n in names if n.endswith(".zip")]
            hint = (f" It holds {', '.join(nested[:3])}: unzip {archive.name} first and point to the folder."
                    if nested else "")
            raise DatasetUnavailable(f"{archive} has no train/c0..c9/*.jpg images, so it is not the State Farm "
                                     f"data.{hint}")
        prefix = train[0]["prefix"]
        in_zip_list = [n for n in names if n.rsplit("/", 1)[-1] in (LIST_NAME, LIST_NAME + ".zip")]
        beside = _driver_list_near(archive.parent)
        if not in_zip_list and beside is None:
            raise DatasetUnavailable(
                f"{archive} holds the images but not {LIST_NAME} (each image's driver). Download it too "
                f"({KAGGLE_COMMAND} -f {LIST_NAME}) into {archive.parent}.")
        stat = archive.stat()
        dest = data.cache_root() / CACHE_DIR / "unzipped" / archive.stem
        data.ensure_writable(dest, f"the images unpacked from {archive.name}")
        with data.dataset_lock(dest, f"the images of {archive.name}"):
            data.remove_stale_partials(dest)
            if in_zip_list:
                member = in_zip_list[0]
                driver_list = dest / member.rsplit("/", 1)[-1]
                _extract_once(zf, [member], dest, driver_list, f"{stat.st_size} {stat.st_mtime_ns} {member}",
                              strip="/".join(member.split("/")[:-1]) + "/" if "/" in member else "")
            else:
                driver_list = beside
            parts = {"train": prefix + "train/"}
            if split == "test":
                parts["test"] = prefix + "test/"
            folders = {}
            for part, start in parts.items():
                members = [n for n in names if n.startswith(start) and not n.endswith("/")]
                target = dest / "imgs" / part
                _extract_once(zf, members, dest, target, f"{stat.st_size} {stat.st_mtime_ns} {len(members)}",
                              strip=start, folder=True)
                folders[part] = target if members else None
    return _Kaggle(folders["train"], folders.get("test"), driver_list, archive)


def _extract_once(zf: zipfile.ZipFile, members: list[str], dest: Path, target: Path, stamp: str,
                  strip: str, folder: bool = False) -> None:
    """Extract ``members`` (names minus ``strip``) to ``target`` unless a matching stamp says it is done.

    Writes into a ``.partial-<pid>-…`` folder and renames it into place, then writes the stamp:
    an interrupted unpacking is redone, never half-used.
    """
    stamp_file = dest / f".unpacked-{target.name}"
    if target.exists() and stamp_file.is_file() and stamp_file.read_text() == stamp:
        return
    from tqdm.auto import tqdm

    tmp = dest / f"{data.partial_prefix(target.name)}dir"
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        for name in tqdm(members, desc=f"unpacking {target.name}", unit="file", leave=False,
                         disable=len(members) < 100):
            rel = name[len(strip):]
            if not rel or rel.startswith("/") or ".." in rel.split("/"):
                continue  # never write outside the target
            out = tmp / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(name) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst)
        stamp_file.unlink(missing_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink(missing_ok=True)
        os.replace(tmp if folder else tmp / target.name, target)
        stamp_file.write_text(stamp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _find_kaggle(root, split: str) -> tuple[_Kaggle | None, list[str]]:
    """The Kaggle data: at ``root`` if given, else in the cache's or the mirror's statefarm/ folder."""
    if root is not None:
        path = Path(root).expanduser().resolve()
        if path.is_file():
            return _kaggle_from_zip(path, split), [str(path)]
        if path.is_dir():
            return _kaggle_in_folder(path, split), [str(path)]
        raise DatasetUnavailable(f"{path} does not exist.\n\n" + _missing_message([str(path)]))
    looked = [str(kaggle_folder())]
    found = _kaggle_in_folder(kaggle_folder(), split) if kaggle_folder().is_dir() else None
    mirror = data.mirror_root()
    if found is None and mirror is not None:
        looked.append(str(mirror / MIRROR_DIR))
        if (mirror / MIRROR_DIR).is_dir():
            found = _kaggle_in_folder(mirror / MIRROR_DIR, split)
    return found, looked


def _missing_message(looked: list[str], detail: str = "") -> str:
    folder = kaggle_folder()
    lines = ["The State Farm Distracted Driver Detection data is not available here."]
    if looked:
        lines += ["Looked for the Kaggle data in:"] + [f"  - {p}" for p in looked]
    if detail:
        lines += [detail]
    lines += [
        "It is Kaggle's competition data and may not be redistributed, so you download it yourself,",
        "with a (free) Kaggle account:",
        f"  1. Sign in at https://www.kaggle.com, open {KAGGLE_URL}/rules and accept the",
        "     competition's rules (Kaggle refuses the download until you have).",
        "  2. Install Kaggle's command-line tool (pip install kaggle) and set up its API token as",
        "     https://github.com/Kaggle/kaggle-api describes (kaggle.com > Settings > API).",
        "  3. Download into the course's data cache (several GB):",
        f"       {KAGGLE_COMMAND} -p {folder}",
        f"     and leave it there: {ZIP_NAMES[0]} is read as it is (so are imgs.zip with",
        f"     {LIST_NAME}, or a folder unzipped from them holding imgs/train/c0..c9/*.jpg and {LIST_NAME}).",
        f"  (Or download them from {KAGGLE_URL}/data in a browser and put them in that folder.)",
        "Kept elsewhere? Pass it: statefarm_index(root='/path/to/the/folder/or/zip').",
        f"Classrooms and CI: {data.MIRROR_ENV} set to a folder holding {MIRROR_DIR}/ (the course's 80x60 copy)",
        "works without Kaggle. Keep the data out of any repository.",
    ]
    return "\n".join(lines)


# ------------------------------------------------------------------------ the 80x60 copy


def _thumb_lists() -> data.Dataset:
    return data.Dataset(
        name="statefarm-80x60", cache_dir=f"{CACHE_DIR}/80x60", mirror_dir=MIRROR_DIR,
        files={LIST_NAME: LIST_SHA256, f"{THUMBS}/SHA256SUMS": SUMS_SHA256}, sources=(),
        homepage=KAGGLE_URL, terms=TERMS, downloadable=False)


def _read_sums(path: Path) -> dict[str, str]:
    """``SHA256SUMS`` (``<sha256>  train/cX/img.jpg`` lines) as {relative path: sha256}."""
    sums = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        sha, _, rel = line.strip().partition(" ")
        rel = rel.strip().lstrip("*")
        if not re.fullmatch(r"[0-9a-f]{64}", sha) or not _SUMS_PATH.match(rel):
            raise DatasetUnavailable(f"{path}, line {n}: not '<sha256>  train/cX/<name>.jpg': {line[:80]!r}")
        sums[rel] = sha
    return sums


def _thumbs(verify_images: bool, progress: bool) -> tuple[Path, dict[str, str]]:
    """Fetch the 80x60 copy (lists always; images when ``verify_images``); return its folder and sums."""
    lists = _thumb_lists()
    try:
        root = data.fetch(lists, progress=progress)
    except DatasetUnavailable as err:
        if "not writable" in str(err):
            raise
        tried = [line.strip()[2:] for line in str(err).splitlines() if line.strip().startswith("- mirror:")]
        raise DatasetUnavailable(_missing_message(
            [], "Nor is the course's 80x60 copy (" + "; ".join(tried) + ")")) from err
    sums = _read_sums(root / THUMBS / "SHA256SUMS")
    if verify_images:
        images = data.Dataset(name="statefarm-80x60 images", cache_dir=lists.cache_dir, mirror_dir=MIRROR_DIR,
                              files={f"{THUMBS}/{rel}": sha for rel, sha in sums.items()}, sources=(),
                              homepage=KAGGLE_URL, terms=TERMS, downloadable=False)
        try:
            data.fetch(images, progress=progress)
        except DatasetUnavailable as err:
            if "not writable" in str(err):
                raise
            raise DatasetUnavailable(
                f"The course's 80x60 State Farm copy did not verify, so it is not used:\n{err}\n\nWhoever "
                f"provides {data.MIRROR_ENV} can restore it; or use Kaggle's data: {KAGGLE_COMMAND} -p "
                f"{kaggle_folder()}") from err
    return root, sums


# ----------------------------------------------------------------------------- the index


def _read_driver_list(path: Path):
    import pandas as pd

    table = pd.read_csv(path, dtype=str)  # a .csv.zip is read through pandas' compression support
    need = {"subject", "classname", "img"}
    if not need <= set(table.columns):
        raise DatasetUnavailable(f"{path} has columns {list(table.columns)}, not {sorted(need)}: "
                                 f"is it Kaggle's {LIST_NAME}?")
    return table.rename(columns={"subject": "driver", "classname": "class"})[["class", "img", "driver"]]


def _join(present, driver_list, where: str):
    """Images present ⋈ the driver list; images without a driver are dropped, with a warning."""
    merged = present.merge(driver_list, on=["class", "img"], how="left", validate="one_to_one")
    unlisted = merged["driver"].isna()
    if unlisted.any():
        warnings.warn(f"{int(unlisted.sum())} image(s) in {where} are not in {LIST_NAME} under that class "
                      f"(e.g. {merged.loc[unlisted, 'class'].iloc[0]}/{merged.loc[unlisted, 'img'].iloc[0]}): "
                      "left out, since their driver is unknown", stacklevel=3)
        merged = merged[~unlisted]
    merged["label"] = merged["class"].map({c: i for i, c in enumerate(CLASSES)}).astype("int64")
    return merged.sort_values("path").reset_index(drop=True)[["path", "img", "class", "label", "driver"]]


def _scan(folder: Path, classes: bool):
    import pandas as pd

    rows = []
    for cls in (CLASSES if classes else (None,)):
        sub = folder / cls if cls else folder
        if not sub.is_dir():
            continue
        for entry in os.scandir(sub):
            if entry.is_file() and entry.name.lower().endswith((".jpg", ".jpeg")):
                rows.append((entry.path, entry.name, cls))
    return pd.DataFrame(rows, columns=["path", "img", "class"])


def statefarm_index(root=None, *, split: str = "train", source: str = "auto", progress: bool = True):
    """One row per image: ``path, img, class, label, driver`` (train) or ``path, img`` (test).

    ``root``: the Kaggle data's folder or zip (else found in ``kaggle_folder()`` or the mirror).
    ``source``: ``"auto"`` (Kaggle data if found, else the 80x60 copy), ``"kaggle"`` or ``"80x60"``.
    ``split``: ``"train"`` (labelled, with drivers) or ``"test"`` (Kaggle's unlabelled images).
    Sorted by path. ``index.attrs["source"]`` is ``"kaggle"`` or ``"80x60"``;
    ``index.attrs["description"]`` says which copy and how many images.
    """
    kind, where, table = _index(root, split, source, progress, verify_images=True)
    table.attrs["source"] = kind
    table.attrs["description"] = where
    return table


def _index(root, split, source, progress, verify_images):
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    if source not in SOURCES:
        raise ValueError(f"source must be one of {', '.join(SOURCES)}, not {source!r}")
    if root is not None and source == "80x60":
        raise ValueError("root= points at the Kaggle data; the 80x60 copy comes from the mirror (leave root out)")
    looked: list[str] = []
    if source in ("auto", "kaggle"):
        found, looked = _find_kaggle(root, split)
        if found is not None:
            return "kaggle", *_kaggle_index(found, split)
        if root is not None:
            raise DatasetUnavailable(_missing_message(
                looked, f"{root} holds no imgs/train/c0..c9 (or train/c0..c9) folder and none of {', '.join(ZIP_NAMES)}."))
        if source == "kaggle":
            raise DatasetUnavailable(_missing_message(looked))
    if split == "test":
        raise DatasetUnavailable(_missing_message(looked, "The course's 80x60 copy has no test images: only the "
                                                         "Kaggle download has them."))
    root80, sums = _thumbs(verify_images, progress)
    import pandas as pd

    present = pd.DataFrame([(str(root80 / THUMBS / rel), rel.split("/")[2], rel.split("/")[1]) for rel in sums],
                           columns=["path", "img", "class"])
    table = _join(present, _read_driver_list(root80 / LIST_NAME), str(root80 / THUMBS))
    return "80x60", (f"State Farm, the course's 80x60 copy ({len(table):,} of the 22,424 training images, "
                     f"{table['driver'].nunique()} drivers) in {root80}"), table


def _kaggle_index(found: _Kaggle, split: str):
    if split == "test":
        if found.test is None:
            raise DatasetUnavailable(f"{found.origin} has no test/ images (imgs/test/*.jpg in Kaggle's download)")
        table = _scan(found.test, classes=False)[["path", "img"]].sort_values("path").reset_index(drop=True)
        return f"State Farm, Kaggle test images ({len(table):,}) from {found.origin}", table
    table = _join(_scan(found.train, classes=True), _read_driver_list(found.driver_list), str(found.train))
    return (f"State Farm, Kaggle training images ({len(table):,}, {table['driver'].nunique()} drivers) "
            f"from {found.origin}"), table


# ------------------------------------------------------------------------ Dataset, tensors


def read_rgb(path, size: tuple[int, int] | None = None) -> "torch.Tensor":  # noqa: F821
    """One image file as a uint8 tensor (3, H, W), RGB; resized to ``size`` = (H, W) if given.

    Decoded with Pillow (torchvision 0.29 deprecated its own image decoders). With a ``size``,
    a JPEG is first decoded at the smallest DCT scale that still covers it (Pillow's ``draft``),
    several times faster for full-size Kaggle images, then resized with antialiasing.
    """
    import numpy as np
    import torch
    from PIL import Image

    with Image.open(path) as image:
        if size is not None and image.format == "JPEG":
            image.draft("RGB", (size[1], size[0]))
        image = image.convert("RGB")
        if size is not None and image.size != (size[1], size[0]):
            image = image.resize((size[1], size[0]), Image.Resampling.BILINEAR)
        return torch.from_numpy(np.array(image)).permute(2, 0, 1).contiguous()


class StateFarmImages:
    """A torch ``Dataset`` over an index: item ``i`` is ``(transform(image), label)``.

    The image is a uint8 tensor (3, H, W), as stored or decoded at ``size`` = (H, W) (faster than
    resizing afterwards for full-size images); ``transform`` is any callable on it, e.g.
    ``v2.Compose([v2.RandomResizedCrop((60, 80), scale=(0.8, 1)), v2.ToDtype(torch.float32, scale=True)])``
    with ``from torchvision.transforms import v2``. Rows without a label (the test split) give
    label -1. Works with ``DataLoader`` workers.
    """

    def __init__(self, index, transform=None, *, size: tuple[int, int] | None = None):
        self.paths = index["path"].tolist()
        self.labels = index["label"].astype("int64").tolist() if "label" in index else [-1] * len(self.paths)
        self.transform = transform
        self.size = size  # (H, W) to decode at (see read_rgb); None: as stored

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i):
        image = read_rgb(self.paths[i], self.size)
        return (self.transform(image) if self.transform is not None else image), self.labels[i]


class StateFarmTensors(NamedTuple):
    images: "torch.Tensor"  # noqa: F821  uint8 (N, 3, H, W)
    labels: "torch.Tensor"  # noqa: F821  int64 (N,), 0..9 for c0..c9; -1 for test images
    drivers: "torch.Tensor"  # noqa: F821  int64 (N,), the driver's number (p002 -> 2); -1 for test images
    index: "pandas.DataFrame"  # noqa: F821  the rows, in the same order


def _size(size) -> tuple[int, int]:
    if isinstance(size, int):
        size = (size, size)
    if len(size) != 2 or not all(isinstance(s, int) and s > 0 for s in size):
        raise ValueError(f"size must be (height, width) in pixels or one int, not {size!r}")
    return tuple(size)


def _driver_numbers(drivers) -> list[int]:
    return [int(d[1:]) if isinstance(d, str) and re.fullmatch(r"p\d+", d) else -1 for d in drivers]


def statefarm_tensors(size=(60, 80), *, split: str = "train", root=None, source: str = "auto", index=None,
                      num_workers: int = 0, progress: bool = True) -> StateFarmTensors:
    """Every image of the index as one uint8 tensor (N, 3, *size), with labels and driver numbers.

    ``size``: (height, width) in pixels (or one int for a square), resized with antialiasing;
    the default (60, 80) is the 80x60 copy's own size, so it is then decoded as stored.
    ``index``: a subset of ``statefarm_index(...)`` rows (default: all of them).
    The result is cached in ``<cache>/statefarm/tensors/``, keyed by size and the images' names
    and sizes, so the second call reads one file. ``num_workers`` (DataLoader processes) speeds up
    the first decoding of full-size Kaggle images.
    """
    import pandas as pd
    import torch
    from torch.utils.data import DataLoader
    from tqdm.auto import tqdm

    size = _size(size)
    if index is None:
        # The tensor cache was built from verified images, so a hit needs only the lists verified.
        kind, _, index = _index(root, split, source, progress, verify_images=False)
        verify = kind == "80x60"
    else:
        verify = False
        if not isinstance(index, pd.DataFrame) or "path" not in index:
            raise ValueError("index must be a DataFrame from statefarm_index() (it needs a 'path' column)")
    index = index.reset_index(drop=True)
    key = hashlib.sha256(f"{size} {SUMS_SHA256 if verify else ''}".encode())
    for path in index["path"]:
        key.update(f"{Path(path).parent.name}/{Path(path).name}:{os.path.getsize(path) if not verify else 0}\n"
                   .encode())
    cache = data.cache_root() / CACHE_DIR / "tensors" / f"{size[0]}x{size[1]}-{len(index)}-{key.hexdigest()[:16]}.pt"
    if cache.is_file():
        saved = torch.load(cache, weights_only=True)
        if saved["img"] == index["img"].tolist():
            return StateFarmTensors(saved["images"], saved["labels"], saved["drivers"], index)
    if verify:  # building from the 80x60 copy: verify every image first
        _thumbs(verify_images=True, progress=progress)
    loader = DataLoader(StateFarmImages(index, size=size), batch_size=256, num_workers=num_workers)
    images = torch.empty((len(index), 3, *size), dtype=torch.uint8)
    labels = torch.empty(len(index), dtype=torch.int64)
    start = 0
    for batch, y in tqdm(loader, desc="decoding State Farm images", unit="batch", disable=not progress, leave=False):
        images[start:start + len(batch)] = batch
        labels[start:start + len(batch)] = y
        start += len(batch)
    drivers = torch.tensor(_driver_numbers(index["driver"]) if "driver" in index else [-1] * len(index),
                           dtype=torch.int64)
    try:
        data.ensure_writable(cache.parent, "the State Farm tensor cache")
        with data.atomic_path(cache) as tmp:
            torch.save({"images": images, "labels": labels, "drivers": drivers, "img": index["img"].tolist()}, tmp)
    except DatasetUnavailable as err:
        warnings.warn(f"not cached (the next call decodes again): {str(err).splitlines()[0]}", stacklevel=2)
    return StateFarmTensors(images, labels, drivers, index)


# ------------------------------------------------------------------------------- status


def status_row() -> dict:
    """``data_status()``'s row for State Farm: which copy a load would use, without decoding anything."""
    folder = kaggle_folder()
    row = {"dataset": "statefarm", "download (MB)": "", "folder": str(folder)}
    found = _kaggle_candidate()
    if found is not None:
        return {**row, "status": f"Kaggle data found ({found}; read on first load)"}
    state = data.dataset_state(_thumb_lists())
    if state == "ready":
        return {**row, "status": "ready (the course's 80x60 copy)", "folder": str(folder / "80x60")}
    if state.startswith("not cached yet (available"):
        return {**row, "status": "not cached yet (80x60 copy available from the mirror)"}
    return {**row, "status": "not available: needs the Kaggle download (see coursekit.statefarm)"}


def _kaggle_candidate() -> Path | None:
    """Where Kaggle data seems to be, by names only (status must not unpack a zip)."""
    places = [kaggle_folder()] + ([data.mirror_root() / MIRROR_DIR] if data.mirror_root() else [])
    for place in places:
        for candidate in [place / "imgs" / "train", place / "train"] + [place / name for name in ZIP_NAMES]:
            if candidate.exists():
                return candidate
    return None
