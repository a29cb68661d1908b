"""The catalogue's checksums match the real datasets, and the loaders return what they promise.

Runs against the mirror named by COURSEKIT_MIRROR (CI points it at the course's shared copies);
a learner's download goes through the same `fetch` and the same checksums.
"""

from __future__ import annotations

import os

import pytest

import coursekit as ck
from coursekit import data

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
