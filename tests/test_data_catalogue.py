"""The catalogue's checksums match the real datasets, and the loaders return what they promise.

Runs against the mirror named by COURSEKIT_MIRROR (CI points it at the course's shared copies);
a learner's download goes through the same `fetch` and the same checksums.
"""

from __future__ import annotations

import hashlib
import os

import pytest

import coursekit as ck
from coursekit import data, mirror

needs_mirror = pytest.mark.skipif(not os.environ.get("COURSEKIT_MIRROR"), reason="COURSEKIT_MIRROR not set")


@needs_mirror
@pytest.mark.parametrize("name", sorted(data.DATASETS))
def test_every_catalogued_dataset_verifies_from_the_mirror(name, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path))
    root = data.fetch(data.DATASETS[name], progress=False)
    for rel, sha in data.DATASETS[name].files.items():
        assert data.sha256_of(root / rel) == sha


@needs_mirror
def test_movielens_loaders_give_the_published_counts():
    ratings, movies = ck.movielens("ml-100k")
    assert (len(ratings), ratings.userId.nunique(), ratings.movieId.nunique()) == (100_000, 943, 1682)
    assert list(ratings.columns) == ["userId", "movieId", "rating", "timestamp"]
    assert movies.set_index("movieId").loc[1, "title"] == "Toy Story (1995)"
    ratings, _ = ck.movielens("ml-latest-small")
    assert (len(ratings), ratings.userId.nunique()) == (100_836, 610)
    ratings, _ = ck.movielens("ml-latest-small-2016")
    assert (len(ratings), ratings.userId.nunique(), ratings.movieId.nunique()) == (100_004, 671, 9066)


@needs_mirror
def test_text_loaders_give_the_published_sizes():
    assert len(ck.text("ptb", "train").split()) == 887_521
    assert len(ck.text("tinyshakespeare")) == 1_115_394
    assert len(ck.gutenberg()) == 14
    assert len(ck.analogy_questions()) == 19_544
    assert len(ck.wordsim353()) == 353


def test_an_unknown_edition_or_corpus_is_named_in_the_error():
    with pytest.raises(ValueError, match="ml-100k"):
        ck.movielens("ml-1m")
    with pytest.raises(ValueError, match="ptb"):
        ck.text("text8")


# ------------------------------------------------------------------- sizes, status, mirror


def test_every_catalogued_download_has_a_size_for_its_deadline_and_cap():
    for ds in data.DATASETS.values():
        for source in ds.sources:
            assert source.size and source.size > 0, f"{ds.name}: {source.url} has no size"


@needs_mirror
def test_catalogued_sizes_match_the_mirror_copies():
    mirror = data.mirror_root()
    for ds in data.DATASETS.values():
        for source in ds.sources:
            copy = mirror / ds.mirror_dir / source.filename
            if copy.is_file() and (source.sha256 or not source.members):  # pinned bytes: the size is exact
                assert copy.stat().st_size == source.size, f"{ds.name}: {source.filename}"


def _toy(sha: str, downloadable: bool = True) -> data.Dataset:
    # Port 9 on loopback refuses connections, like an offline machine.
    return data.Dataset(name="toy", cache_dir="toy", mirror_dir="toy", files={"f.txt": sha},
                        sources=(data.Source("http://127.0.0.1:9/f.txt", "f.txt", size=5),),
                        downloadable=downloadable)


@pytest.fixture
def toy_catalogue(tmp_path, monkeypatch):
    """One toy dataset in the catalogue, an 'upstream' mirror holding it, an empty cache."""
    sha = hashlib.sha256(b"hello").hexdigest()
    monkeypatch.setattr(data, "DATASETS", {"toy": _toy(sha)})
    monkeypatch.setattr(data, "BACKOFF", 0.01)
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "cache"))
    upstream = tmp_path / "upstream"
    (upstream / "toy").mkdir(parents=True)
    (upstream / "toy" / "f.txt").write_bytes(b"hello")
    monkeypatch.delenv("COURSEKIT_MIRROR", raising=False)
    return upstream


def test_data_status_says_not_cached_yet_instead_of_a_fault(toy_catalogue, tmp_path, monkeypatch):
    table = ck.data_status()
    assert table.loc["toy", "status"] == "not cached yet (downloads on first use)"
    monkeypatch.setattr(data, "DATASETS", {"toy": _toy(data.DATASETS["toy"].files["f.txt"], downloadable=False)})
    assert "no longer downloadable" in ck.data_status().loc["toy", "status"]
    monkeypatch.setenv("COURSEKIT_MIRROR", str(toy_catalogue))
    assert ck.data_status().loc["toy", "status"] == "not cached yet (available from the mirror)"
    data.fetch(data.DATASETS["toy"], progress=False)
    assert ck.data_status().loc["toy", "status"] == "ready"
    (tmp_path / "cache" / "toy" / "f.txt").write_bytes(b"hellO")
    assert ck.data_status().loc["toy", "status"].startswith("incomplete (0/1 files verified")
    assert "statefarm" in table.index
    assert table["download (MB)"].iloc[-1] == 0.0 and table.index[-1].startswith("total")


def test_data_status_totals_the_real_catalogue():
    table = ck.data_status()
    expected = sum(s.size for ds in data.DATASETS.values() if ds.downloadable for s in ds.sources)
    assert table["download (MB)"].iloc[-1] == round(expected / 1e6, 1)
    assert 20 < expected / 1e6 < 40  # what the README states (~26 MB)


def test_the_mirror_command_lays_out_a_mirror_that_serves_offline(toy_catalogue, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("COURSEKIT_MIRROR", str(toy_catalogue))
    assert mirror.main([str(tmp_path / "class")]) == 0
    assert (tmp_path / "class" / "toy" / "f.txt").read_bytes() == b"hello"
    assert "toy  ok: 1 file(s)" in capsys.readouterr().out
    # A fresh cache, no upstream: the new folder alone serves the dataset (the URL refuses connections).
    monkeypatch.setenv("COURSEKIT_MIRROR", str(tmp_path / "class"))
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "cache2"))
    assert (data.fetch(data.DATASETS["toy"], progress=False) / "f.txt").read_bytes() == b"hello"


def test_the_mirror_command_reports_what_it_could_not_get(toy_catalogue, tmp_path, capsys):
    assert mirror.main([str(tmp_path / "class")]) == 1  # no upstream mirror, no network
    out = capsys.readouterr()
    assert "toy  FAILED: Dataset 'toy' is not available" in out.out and "missing from the mirror: toy" in out.err
    with pytest.raises(SystemExit):
        mirror.main([str(tmp_path / "class"), "--only", "nope"])
    assert "unknown dataset(s) nope; choose from toy" in capsys.readouterr().err


@needs_mirror
def test_a_mirror_built_from_the_course_mirror_serves_every_dataset(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "cache"))
    results = data.build_mirror(tmp_path / "class", progress=False)
    assert all(r.startswith("ok") for r in results.values()), results

    def offline(*args, **kwargs):
        raise AssertionError("the new mirror must serve everything without the network")

    monkeypatch.setattr(data, "download", offline)
    monkeypatch.setenv("COURSEKIT_MIRROR", str(tmp_path / "class"))
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "cache2"))
    for ds in data.DATASETS.values():
        data.fetch(ds, progress=False)
