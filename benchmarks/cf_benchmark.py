"""Notebook 12's rating models beside Surprise's, on MovieLens 100k's five standard folds, in one run.

The folds are the dataset's own: fold i tests lines (i-1)*20000+1 ... i*20000 of ``u.data`` and trains on
the other 80,000 (what the ``mku.sh`` script of the ml-100k zip writes to ``u{i}.test`` / ``u{i}.base``;
the notebook's ``standard_fold``). Every contender sees the same training and test ratings.

Ours are the notebook's own cells (run through ``tests.nbcells.exec_cells``, so there is one copy of the
code): the global mean, biases only, and the dot product with biases (L2 penalty on the rows a batch
uses, sigmoid range (0, 5.5), Adam + one-cycle), each three ways:

* ``recipe``: the notebook's ``DEFAULTS`` (fastbook-like settings, not tuned on these folds);
* ``nested search``: the notebook's coordinate search run *inside* each fold: a validation set carved
  from ``u{i}.base`` (20 %), the settings chosen there, a refit on all of ``u{i}.base``, one score on
  ``u{i}.test``. This is the honest five-fold figure;
* ``notebook``: the settings the notebook chooses on fold 1's validation set, reused on every fold (what
  the notebook's section 11 reports; for folds 2-5 that choice saw ratings which are in their test sets).

Surprise (scikit-surprise, the ``bench`` extra) fits ``BaselineOnly`` (ALS), ``SVD`` and ``SVD++`` two ways:
with its defaults (``random_state=0``), and tuned by its ``GridSearchCV`` (3-fold CV with
``KFold(3, random_state=0)`` on ``u{i}.base`` only, refit with the best parameters on ``u{i}.base``).
Each row of the output gives the RMSE on every fold, their mean and sample standard deviation, and the
seconds the contender took over all folds (searches included).

    python benchmarks/cf_benchmark.py                      # full-mode settings: long (see below)
    python benchmarks/cf_benchmark.py --mode quick --folds 1 2 --no-search --no-svdpp   # a smoke test
    python benchmarks/cf_benchmark.py --json cf.json       # also write the numbers

Data come only through coursekit (set COURSEKIT_MIRROR to use a local mirror).

Cost: the full run has not been timed end to end yet. From single fits on one CPU core, it needs roughly
half an hour of CPU time, most of it in Surprise's searches (72 SVD fits and 9 SVD++ fits per fold) and
our nested search (about 20 fits per fold). ``--mode quick --no-search`` took 26 min of wall-clock time on
two cores shared with about twenty other jobs, 18 of them in SVD++.
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
         "impl-dotbias", "tune"]

# Surprise's search spaces: a budget of the same order as the notebook's coordinate search (11 distinct
# settings for the dot product with biases): 18 for BaselineOnly, 24 for SVD, 3 for SVD++ (slow), each scored
# by 3-fold cross-validation instead of one validation split.
SURPRISE_GRIDS = {
    "BaselineOnly": {"bsl_options": {"method": ["als"], "n_epochs": [10, 20], "reg_u": [5, 15, 25],
                                     "reg_i": [5, 10, 20]},
                     "verbose": [False]},
    "SVD": {"n_factors": [50, 100], "n_epochs": [20, 40], "lr_all": [0.005, 0.01], "reg_all": [0.02, 0.05, 0.1],
            "random_state": [0]},
    # SVD++ is slow (tens of seconds per fit on one core): only its regularisation is searched.
    "SVD++": {"n_epochs": [20], "reg_all": [0.02, 0.05, 0.1], "random_state": [0]},
}


def notebook_namespace(mode: str) -> dict:
    """Run the notebook's cells up to its settings search (fold 1); return the namespace."""
    os.environ["COURSEKIT_MODE"] = mode
    os.environ.setdefault("COURSEKIT_LIVE", "0")
    sys.path.insert(0, str(ROOT))
    from tests.nbcells import exec_cells

    return exec_cells(NOTEBOOK, CELLS)


def our_models(ns: dict, folds: list[int], search: bool) -> dict[str, dict]:
    """{contender: {"rmse": [per fold], "seconds": total}} for the notebook's models."""
    import torch

    rmse, fit, predict, on_device = ns["rmse"], ns["fit"], ns["predict"], ns["on_device"]
    models = {"biases only": (ns["make_bias_only"], ns["BIAS_GRID"], ns["best_bias"]),
              "dot product + biases": (ns["make_dot_bias"], ns["DOT_BIAS_GRID"], ns["best_dot_bias"])}
    results: dict[str, dict] = {}

    def add(contender, value, seconds):
        row = results.setdefault(contender, {"rmse": [], "seconds": 0.0})
        row["rmse"].append(value)
        row["seconds"] += seconds

    for i in folds:
        train_rows, test_rows = ns["standard_fold"](i)
        train, (X_test, y_test) = on_device(train_rows), on_device(test_rows)
        add("ours: global mean", rmse(torch.full_like(y_test, train[1].mean().item()), y_test), 0.0)
        fit_rows, valid_rows = ns["carve_validation"](train_rows)
        for name, (make_model, grid, notebook_settings) in models.items():
            plans = [("recipe", ns["DEFAULTS"], 0.0), ("notebook", notebook_settings, 0.0)]
            if search:
                start = time.perf_counter()
                chosen, _ = ns["search"](name, make_model, grid, ns["DEFAULTS"], runs={},
                                         fit_on=on_device(fit_rows), valid=on_device(valid_rows))
                plans.append(("nested search", chosen, time.perf_counter() - start))
                print(f"fold u{i}, {name}: nested search chose {chosen}", flush=True)
            for how, settings, search_seconds in plans:
                start = time.perf_counter()
                model, _ = fit(make_model, settings, train)
                value = rmse(predict(model, X_test), y_test)
                add(f"ours: {name}, {how}", value, search_seconds + time.perf_counter() - start)
                print(f"fold u{i}, ours: {name}, {how}: RMSE {value:.4f}", flush=True)
    return results


def surprise_models(ns: dict, folds: list[int], search: bool, svdpp: bool) -> dict[str, dict]:
    """The same folds for Surprise's BaselineOnly, SVD and SVD++, with defaults and with GridSearchCV."""
    import numpy as np
    import pandas as pd
    import surprise
    from surprise.model_selection import GridSearchCV, KFold

    classes = {"BaselineOnly": surprise.BaselineOnly, "SVD": surprise.SVD, "SVD++": surprise.SVDpp}
    defaults = {"BaselineOnly": {"verbose": False}, "SVD": {"random_state": 0}, "SVD++": {"random_state": 0}}
    if not svdpp:
        classes.pop("SVD++")
    X, y = ns["X"].numpy(), ns["y"].numpy()
    frame = pd.DataFrame({"user": ns["user_ids"][X[:, 0]], "item": ns["movie_ids"][X[:, 1]], "rating": y})
    reader = surprise.Reader(rating_scale=(1, 5))
    results: dict[str, dict] = {}
    for i in folds:
        train_rows, test_rows = (rows.numpy() for rows in ns["standard_fold"](i))
        train, test = frame.iloc[train_rows], frame.iloc[test_rows]
        data = surprise.Dataset.load_from_df(train, reader)
        trainset = data.build_full_trainset()
        for name, cls in classes.items():
            plans = [("defaults", None)] + ([("GridSearchCV", SURPRISE_GRIDS[name])] if search else [])
            for how, grid in plans:
                start = time.perf_counter()
                params = defaults[name]
                if grid is not None:
                    gs = GridSearchCV(cls, grid, measures=["rmse"], cv=KFold(3, random_state=0), n_jobs=1)
                    gs.fit(data)
                    params = gs.best_params["rmse"]
                    if name == "BaselineOnly":
                        params = {**params, "verbose": False}
                algo = cls(**params)
                algo.fit(trainset)
                pred = np.array([algo.predict(u, m).est for u, m in zip(test.user, test.item)])
                value = float(np.sqrt(((pred - test.rating.to_numpy()) ** 2).mean()))
                contender = f"Surprise {name}, {how}"
                row = results.setdefault(contender, {"rmse": [], "seconds": 0.0})
                row["rmse"].append(value)
                row["seconds"] += time.perf_counter() - start
                chosen = "" if grid is None else f" (chose {gs.best_params['rmse']})"
                print(f"fold u{i}, {contender}: RMSE {value:.4f}{chosen}", flush=True)
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=["quick", "full"], default="full", help="the notebook's settings")
    parser.add_argument("--folds", type=int, nargs="+", default=[1, 2, 3, 4, 5], choices=[1, 2, 3, 4, 5])
    parser.add_argument("--no-search", action="store_true", help="skip the nested search and GridSearchCV")
    parser.add_argument("--no-svdpp", action="store_true", help="skip SVD++ (the slowest)")
    parser.add_argument("--no-surprise", action="store_true", help="only the notebook's models")
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    ns = notebook_namespace(args.mode)
    print(f"notebook 12 ({args.mode} mode): settings chosen on fold 1's validation set: dot product + biases "
          f"{ns['best_dot_bias']}, biases only {ns['best_bias']}", flush=True)
    results = our_models(ns, args.folds, not args.no_search)
    if not args.no_surprise:
        try:
            import surprise
        except ImportError as err:  # a clear message instead of a silent table without the baselines
            raise SystemExit(f"Surprise is not installed ({err}): pip install -e '.[bench]', or --no-surprise") from err
        print(f"scikit-surprise {surprise.__version__}", flush=True)
        results.update(surprise_models(ns, args.folds, not args.no_search, not args.no_svdpp))

    import numpy as np

    folds = ", ".join(f"u{i}" for i in args.folds)
    print(f"\nMovieLens 100k, standard folds {folds}: test RMSE; device {ns['device']}, notebook settings "
          f"{args.mode}; {time.perf_counter() - start:.0f} s in all\n")
    print("| contender | " + " | ".join(f"u{i}" for i in args.folds) + " | mean ± sd | seconds (all folds) |")
    print("|---|" + "---:|" * len(args.folds) + "---|---:|")
    rows = []
    for contender, row in sorted(results.items(), key=lambda kv: np.mean(kv[1]["rmse"])):
        values = np.array(row["rmse"])
        sd = values.std(ddof=1) if len(values) > 1 else float("nan")
        rows.append({"contender": contender, "folds": args.folds, "rmse": row["rmse"], "mean": values.mean(),
                     "sd": sd, "seconds": row["seconds"]})
        print(f"| {contender} | " + " | ".join(f"{v:.4f}" for v in values)
              + f" | {values.mean():.4f} ± {sd:.4f} | {row['seconds']:.0f} |")
    if args.json:
        args.json.write_text(json.dumps({"mode": args.mode, "device": str(ns["device"]), "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
