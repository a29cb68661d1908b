"""Mutation tests for notebook 13 (seeing what a CNN learned).

Each proof cell must pass with the notebook's own code and fail (AssertionError) when that code is replaced by a
plausible wrong one. The trained CNN is loaded (or trained, on a clean cache) once per module; each test then runs
only the implementation and proof cells it needs, on a copy of that namespace.
"""

from __future__ import annotations

import pytest

from tests.nbcells import edited_cell, exec_cells, tagged_sources

NB = "notebooks/13_seeing_what_a_cnn_learned.ipynb"


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    mp.setenv("COURSEKIT_MODE", "quick")
    mp.setenv("COURSEKIT_LIVE", "0")
    mp.setenv("MPLBACKEND", "Agg")
    try:
        yield exec_cells(NB, ["setup", "model"])
    finally:
        mp.undo()


def run(namespace: dict, tags: list[str], replace: dict[str, str] | None = None) -> dict:
    """Run the cells tagged ``tags`` (notebook order as given) in a copy of ``namespace``."""
    ns = dict(namespace)
    for tag in tags:
        source = (replace or {}).get(tag)
        if source is None:
            (source,) = tagged_sources(NB, tag)
        exec(compile(source, f"{NB}[{tag}]", "exec"), ns)
    return ns


def fails(namespace, tags, tag, old, new):
    with pytest.raises(AssertionError):
        run(namespace, tags, {tag: edited_cell(NB, tag, old, new)})


OCCLUSION = ["impl-occlusion", "proof-occlusion"]


def test_occluding_the_digit_lowers_the_score_more(trained):
    ns = run(trained, OCCLUSION)
    assert ns["wins"] >= 0.9


@pytest.mark.parametrize("old, new", [
    # the patch is never written into the image: nothing is occluded
    ("occluded[..., i:i + patch, j:j + patch] = fill", "occluded[..., i:i + patch, j:j + patch] = occluded[..., i:i + patch, j:j + patch]"),
    # rows and columns of the map swapped: drops land on the wrong patches
    ("drops[:, a, b] = base - class_scores(model, occluded, classes)",
     "drops[:, b, a] = base - class_scores(model, occluded, classes)"),
    # the score of another class
    ("return model(x)[torch.arange(len(x)), classes]", "return model(x)[torch.arange(len(x)), (classes + 1) % 10]"),
], ids=["no-patch", "transposed-map", "wrong-class"])
def test_occlusion_proof_catches(trained, old, new):
    fails(trained, OCCLUSION, "impl-occlusion", old, new)


SALIENCY = ["impl-saliency", "proof-saliency"]


def test_saliency_equals_finite_differences(trained):
    ns = run(trained, SALIENCY)
    assert ns["worst"] < 1e-5


@pytest.mark.parametrize("old, new", [
    # the softmax probability's gradient instead of the logit's
    ("scores = model(x)[torch.arange(len(x)), classes]",
     "scores = model(x).softmax(dim=1)[torch.arange(len(x)), classes]"),
    # the gradient of another class's score
    ("scores = model(x)[torch.arange(len(x)), classes]", "scores = model(x)[torch.arange(len(x)), (classes + 1) % 10]"),
    # the scores of the whole batch summed over every class
    ("scores = model(x)[torch.arange(len(x)), classes]", "scores = model(x)"),
], ids=["softmax", "wrong-class", "all-classes"])
def test_saliency_proof_catches(trained, old, new):
    fails(trained, SALIENCY, "impl-saliency", old, new)


SANITY = ["impl-saliency", "proof-sanity"]


def test_random_weights_change_the_saliency(trained):
    ns = run(trained, SANITY)
    assert ns["vs_random"].median() < 0.5


def test_sanity_proof_catches_a_model_that_was_not_randomised(trained):
    # "randomising" a copy of the trained model that keeps its weights
    fails(trained, SANITY, "proof-sanity", "random_model = textbook_cnn().eval()",
          "random_model = copy.deepcopy(model)")


MAXIMISE = ["impl-occlusion", "impl-maximise", "run-maximise", "proof-maximise"]


def small(source: str) -> str:
    return source.replace("steps = ck.by_mode(quick=100, full=300)", "steps = 60")


def test_activation_maximisation_beats_real_digits(trained):
    ns = run(trained, MAXIMISE, {"run-maximise": small(tagged_sources(NB, "run-maximise")[0])})
    assert (ns["plain_scores"] > ns["best_real"]).all()


@pytest.mark.parametrize("old, new", [
    # gradient descent: the score goes down
    ("loss = -scores.sum() + l2 * (x ** 2).sum()", "loss = scores.sum() + l2 * (x ** 2).sum()"),
    # the logit of the next class is maximised
    ("scores = model(torch.roll(x, shifts=(dy, dx), dims=(2, 3)))[rows, classes]",
     "scores = model(torch.roll(x, shifts=(dy, dx), dims=(2, 3)))[rows, (classes + 1) % 10]"),
], ids=["descent", "wrong-class"])
def test_maximisation_proof_catches(trained, old, new):
    with pytest.raises(AssertionError):
        run(trained, MAXIMISE, {"impl-maximise": edited_cell(NB, "impl-maximise", old, new),
                                "run-maximise": small(tagged_sources(NB, "run-maximise")[0])})


PCA = ["run-pca", "proof-pca"]


def test_features_separate_classes_better_than_pixels(trained):
    ns = run(trained, PCA)
    assert ns["accuracy"]["penultimate features (1024)"] > ns["accuracy"]["raw pixels (784)"]


def test_pca_proof_catches_untrained_features(trained):
    # features of the network before training
    fails(trained, PCA, "run-pca", "features = model[:-1](val_x)",
          "torch.manual_seed(1)\n    features = textbook_cnn().eval()[:-1](val_x)")
