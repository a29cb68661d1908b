"""Notebook 12's rating models and Surprise's classic ones, on the same MovieLens 100k split, in one run.

Ours are the notebook's own cells (run through ``tests/nbcells.exec_cells``, so there is one copy of the
code): the global mean, biases only, the dot product, the dot product with biases (L2 penalty, sigmoid
range), a neural net on concatenated embeddings, and their 2:1 blend, trained with the notebook's settings
for the chosen mode. Surprise (scikit-surprise) fits ``BaselineOnly``, ``SVD`` and ``SVD++`` with its
defaults (``random_state=0``) on exactly the same 80,000 training ratings and predicts the same 20,000
held-out ones. Surprise is not a course dependency: the script imports it if it can, else looks in
``--surprise-site`` (a folder made with ``pip install --target DIR scikit-surprise``), else prints the
published numbers instead, marked as such.

    python benchmarks/cf_benchmark.py                      # full-mode settings (about 1-2 min on CPU)
    python benchmarks/cf_benchmark.py --mode quick         # the notebook's quick settings
    python benchmarks/cf_benchmark.py --surprise-site /tmp/surprise-site --no-svdpp
    python benchmarks/cf_benchmark.py --json cf.json       # also write the numbers

Data come only through coursekit (set COURSEKIT_MIRROR to use a local mirror).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "notebooks/12_collaborative_filtering.ipynb"
CELLS = ["setup", "data", "split", "train-mean", "impl-sigmoid-range", "impl-train", "impl-bias-only",
         "train-bias", "impl-dot", "train-dot", "impl-dotbias", "train-dotbias", "train-nn", "blend"]

# Published RMSEs on MovieLens 100k (REFERENCES.md). Different splits: about +-0.005 between splits.
PUBLISHED = [
    ("Surprise BaselineOnly, 5-fold CV (published)", 0.944),
    ("Surprise SVD, 5-fold CV (published)", 0.934),
    ("Surprise SVD++, 5-fold CV (published)", 0.919),
    ("Surprise SVD, random 80/20 split, Surprise's own split (measured for REFERENCES)", 0.935),
    ("fastbook ch. 8 dot product + biases, wd 0.1 (published MSE 0.822)", 0.822 ** 0.5),
    ("fastbook ch. 8 neural net (published MSE 0.865)", 0.865 ** 0.5),
]


def import_surprise(site: str | None):
    """The surprise module, or None (with the reason printed)."""
    try:
        import surprise  # noqa: F401
    except ImportError:
        if site and Path(site).is_dir():
            sys.path.append(site)  # appended: the course's own numpy/torch keep precedence
        try:
            import surprise  # noqa: F401
        except ImportError as err:
            print(f"Surprise is not importable ({err}); printing its published numbers instead.")
            return None
    import surprise

    return surprise


def our_models(mode: str) -> dict:
    """Run the notebook's cells; return its namespace (split, predictions, timings)."""
    os.environ["COURSEKIT_MODE"] = mode
    os.environ.setdefault("COURSEKIT_LIVE", "0")
    sys.path.insert(0, str(ROOT))
    from tests.nbcells import exec_cells

    start = time.perf_counter()
    ns = exec_cells(NOTEBOOK, CELLS)
    print(f"notebook 12's models trained in {time.perf_counter() - start:.0f} s ({mode} mode)")
    return ns


def surprise_models(surprise, ns: dict, svdpp: bool) -> dict[str, tuple]:
    """Fit Surprise's algorithms on the notebook's training ratings; predict its held-out ones."""
    import numpy as np
    import pandas as pd

    user_ids, movie_ids = ns["user_ids"], ns["movie_ids"]

    def frame(X, y):  # back from embedding rows to MovieLens ids
        X, y = X.cpu().numpy(), y.cpu().numpy()
        return pd.DataFrame({"user": user_ids[X[:, 0]], "item": movie_ids[X[:, 1]], "rating": y})

    train, valid = frame(ns["X_train"], ns["y_train"]), frame(ns["X_valid"], ns["y_valid"])
    trainset = surprise.Dataset.load_from_df(train, surprise.Reader(rating_scale=(1, 5))).build_full_trainset()
    algorithms = [("Surprise BaselineOnly", surprise.BaselineOnly(verbose=False)),
                  ("Surprise SVD (100 factors, 20 epochs)", surprise.SVD(random_state=0)),
                  ("Surprise SVD++ (20 factors, 20 epochs)", surprise.SVDpp(random_state=0))]
    results = {}
    for name, algo in algorithms if svdpp else algorithms[:2]:
        start = time.perf_counter()
        algo.fit(trainset)
        pred = np.array([algo.predict(u, i).est for u, i in zip(valid.user, valid.item)])
        seconds = time.perf_counter() - start
        error = pred - valid.rating.to_numpy()
        results[name] = (float(np.sqrt((error**2).mean())), float((error**2).mean()), seconds)
        print(f"{name}: RMSE {results[name][0]:.4f} ({seconds:.1f} s)", flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["quick", "full"], default="full", help="the notebook's settings")
    parser.add_argument("--surprise-site", default=os.environ.get("SURPRISE_SITE", "/tmp/surprise-site"),
                        help="a folder holding scikit-surprise (pip install --target DIR scikit-surprise)")
    parser.add_argument("--no-svdpp", action="store_true", help="skip SVD++ (the slowest)")
    parser.add_argument("--json", type=Path, help="also write the table as JSON")
    args = parser.parse_args(argv)

    ns = our_models(args.mode)
    rmse, mse, y_valid = ns["rmse"], ns["mse"], ns["y_valid"]
    rows = [{"model": f"ours: {name}", "RMSE": rmse(pred, y_valid), "MSE": mse(pred, y_valid),
             "seconds": ns["seconds"][name], "source": f"notebook 12, {args.mode} mode, this split"}
            for name, pred in ns["valid_preds"].items()]

    surprise = import_surprise(args.surprise_site)
    if surprise is not None:
        for name, (r, m, s) in surprise_models(surprise, ns, not args.no_svdpp).items():
            rows.append({"model": name, "RMSE": r, "MSE": m, "seconds": s,
                         "source": f"scikit-surprise {surprise.__version__}, defaults, this split"})
    for name, r in PUBLISHED:
        rows.append({"model": name, "RMSE": r, "MSE": r * r, "seconds": None, "source": "published, other splits"})

    print(f"\nMovieLens 100k, one random 80/20 split (seed 42): {len(ns['y_train']):,} training and "
          f"{len(y_valid):,} held-out ratings; device {ns['device']}\n")
    print("| model | held-out RMSE | MSE | train s | source |")
    print("|---|---:|---:|---:|---|")
    for row in rows:
        seconds = "" if row["seconds"] is None else f"{row['seconds']:.1f}"
        print(f"| {row['model']} | {row['RMSE']:.4f} | {row['MSE']:.4f} | {seconds} | {row['source']} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
