"""Pseudo-labelling variants for notebook 11, measured on the validation drivers (not a speed test).

Notebook 11's section 8 reports, in prose, how much pseudo-labelling gains on drivers that were never
pseudo-labelled under several variants (soft labels, ensembles, cleaned pseudo-labels, a noised student,
other unlabelled pools), and the gain the same photos' *true* labels would give. This script makes
those measurements reproducible. It runs the notebook's own cells (data, driver split, sample, inputs,
``train``, ``cnn``, ``augmentation``, ``PseudoLabelMixer``, read by their tags), then per seed:

1. trains the teacher(s) on the labelled photos (the quick-mode sample, or every photo of the training
   drivers with ``--labelled all``);
2. pseudo-labels the pool (``--pool drivers``: the 3 drivers the notebook treats as unlabelled;
   ``rest``: the training drivers' photos outside the sample; ``both``), optionally cleaned
   (``--clean K``: each photo's probabilities averaged over its K nearest photos of the same driver in
   pixels, then rescaled per driver until every class gets an equal share, unless ``--no-balance``);
3. trains a labelled-only baseline and one student per kind of label (``--labels``: ``hard`` the
   teacher's, ``oracle`` the true labels, ``shuffled`` the teacher's permuted, ``soft`` the cleaned
   probabilities) on mixed batches of 48 with ``--fraction`` of each batch from the pool, continuing from
   the teacher (or from scratch with ``--start scratch``), and reports each student's gain over the
   baseline on the 5 validation drivers.

The test drivers are never loaded. It prints one line per seed and the mean ± sd over seeds.

    python benchmarks/pseudo_label_variants.py                                  # the notebook's quick recipe, 3 seeds
    python benchmarks/pseudo_label_variants.py --clean 10 --student-epochs 10 --seeds 0 1 2 3 4 5 6 7 8 9
    python benchmarks/pseudo_label_variants.py --clean 10 --fraction 1/3 --teachers 3 --labels hard,soft
    python benchmarks/pseudo_label_variants.py --start scratch --student-epochs 5 --augment '{"rotate": 5}'
    python benchmarks/pseudo_label_variants.py --labelled all --teacher-epochs 12 --clean 10 --student-epochs 6
    python benchmarks/pseudo_label_variants.py --seeds 0 --teacher-epochs 1 --student-epochs 1   # smoke run
"""

from __future__ import annotations

import argparse
import json
import time
from fractions import Fraction

from notebook_cells import namespace

CELLS = ["setup", "data", "impl-partition", "partition", "sample", "inputs", "impl-train", "impl-mixer"]
DEFINITIONS_ONLY = ["impl-splits", "scan"]  # cells that also train: only their functions are taken


def notebook_namespace() -> dict:
    return namespace("11_statefarm_sample_and_pseudo_labels.ipynb", CELLS, DEFINITIONS_ONLY,
                     needs=["train", "cnn", "augmentation", "PseudoLabelMixer", "accuracy_on", "as_input", "x_val", "y_val"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--labelled", choices=["sample", "all"], default="sample")
    parser.add_argument("--pool", choices=["drivers", "rest", "both"], default="drivers")
    parser.add_argument("--teacher-epochs", type=int, default=5)
    parser.add_argument("--teachers", type=int, default=1, help="an ensemble: the teachers' probabilities averaged")
    parser.add_argument("--student-epochs", type=int, default=2, help="passes' worth of labelled photos")
    parser.add_argument("--fraction", type=lambda text: float(Fraction(text)), default=0.25,
                        help="share of each batch of 48 from the pool, e.g. 1/4 or 1/3")
    parser.add_argument("--start", choices=["teacher", "scratch"], default="teacher")
    parser.add_argument("--dropout", type=float, default=0.0, help="the student's dropout (a noised student)")
    parser.add_argument("--clean", type=int, default=0, metavar="K", help="average over K same-driver neighbours")
    parser.add_argument("--no-balance", action="store_true", help="with --clean: skip the equal class shares")
    parser.add_argument("--augment", default='{"brightness": 0.3}', help="the student's augmentation (JSON)")
    parser.add_argument("--teacher-augment", default=None, help="the teacher's (JSON; default: --augment)")
    parser.add_argument("--labels", default="hard,oracle,shuffled", help="comma-separated: hard,oracle,shuffled,soft")
    args = parser.parse_args()

    import matplotlib

    matplotlib.use("Agg")
    import numpy as np
    import torch
    import torch.nn.functional as F

    nb = notebook_namespace()
    cnn, train, mixer_class, accuracy_on = nb["cnn"], nb["train"], nb["PseudoLabelMixer"], nb["accuracy_on"]
    labels, drivers, device = nb["labels"], nb["drivers"], nb["device"]
    x_val, y_val = nb["x_val"], nb["y_val"]
    kinds = args.labels.split(",")
    augment = nb["augmentation"](**json.loads(args.augment))
    teacher_augment = nb["augmentation"](**json.loads(args.teacher_augment or args.augment))

    train_rows = torch.nonzero(nb["is_train"]).flatten()
    rest_rows = train_rows[~torch.isin(train_rows, nb["sample"])]
    unlabelled_rows = torch.nonzero(nb["is_unlabelled"]).flatten()
    pool_rows = {"drivers": unlabelled_rows, "rest": rest_rows, "both": torch.cat([rest_rows, unlabelled_rows])}[args.pool]
    assert not torch.isin(pool_rows, nb["sample"]).any() and not torch.isin(pool_rows, nb["val"]).any()
    x_pool, y_pool = nb["as_input"](pool_rows), labels[pool_rows].to(device)
    x_lab, y_lab = nb["x_sample"], nb["y_sample"]
    if args.labelled == "all":
        x_lab, y_lab = nb["as_input"](train_rows), labels[train_rows].to(device)
    print(f"labelled: {len(x_lab):,} photos; pool ({args.pool}): {len(pool_rows):,} photos of "
          f"{drivers[pool_rows].unique().numel()} drivers; scored on {len(x_val):,} photos of the validation drivers")

    def probabilities(models, x):
        with torch.no_grad():
            for m in models:
                m.eval()
            return torch.stack([torch.cat([m(b).softmax(1) for b in x.split(1024)]) for m in models]).mean(0)

    def cleaned(p):
        # neighbour consensus within a driver (pixels, cosine of centred photos), then equal class shares per driver
        d = drivers[pool_rows].to(p.device)
        pixels = x_pool.flatten(1)
        pixels = pixels - pixels.mean(1, keepdim=True)
        pixels = pixels / pixels.norm(dim=1, keepdim=True)
        similarity = pixels @ pixels.T
        similarity[d[:, None] != d[None, :]] = -2
        q = p[similarity.topk(args.clean, dim=1).indices].mean(1)
        if not args.no_balance:
            for driver in d.unique():
                r = q[d == driver]
                for _ in range(50):  # Sinkhorn-Knopp: columns to equal shares, rows back to distributions
                    r = r / r.sum(0, keepdim=True) / r.shape[1]
                    r = r / r.sum(1, keepdim=True)
                q[d == driver] = r
        return q

    def student(teacher, pseudo, fraction, seed, soft=False):
        torch.manual_seed(seed)
        model = cnn(dropout=args.dropout).to(device)
        lr = 1e-3
        if args.start == "teacher":
            model.load_state_dict(teacher.state_dict())
        else:
            lr = 3e-3
        optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
        steps = args.student_epochs * -(-len(x_lab) // 48)
        labelled = (x_lab, F.one_hot(y_lab, 10).float()) if soft else (x_lab, y_lab)
        mixer = mixer_class(labelled, pseudo if fraction else labelled, 48, (fraction, fraction), steps,
                            torch.Generator().manual_seed(seed), augment=augment)
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=steps)
        nb["ck"].fit(model, mixer, None, epochs=1, optimizer=optimizer, scheduler=scheduler, plot=False, progress=False,
                     metrics={})
        return model

    cpu0, rows = time.process_time(), []
    for seed in args.seeds:
        teachers = [train(cnn, x_lab, y_lab, args.teacher_epochs, 3e-3, seed=seed * 10 + k if k else seed,
                          augment=teacher_augment)[0] for k in range(args.teachers)]
        p_val, p_pool = probabilities(teachers, x_val), probabilities(teachers, x_pool)
        row = {"seed": seed, "teacher": float((p_val.argmax(1) == y_val).float().mean()),
               "pseudo-labels right": float((p_pool.argmax(1) == y_pool).float().mean())}
        soft = cleaned(p_pool) if args.clean else p_pool
        hard = soft.argmax(1)
        if args.clean:
            row["cleaned right"] = float((hard == y_pool).float().mean())
        baseline = accuracy_on(student(teachers[0], None, 0, 100 + seed), x_val, y_val)
        row["labelled only"] = baseline
        shuffled = hard[torch.randperm(len(hard), generator=torch.Generator().manual_seed(seed))]
        for kind in kinds:
            pseudo = (x_pool, {"hard": hard, "oracle": y_pool, "shuffled": shuffled, "soft": soft}[kind])
            model = student(teachers[0], pseudo, args.fraction, 100 + seed, soft=kind == "soft")
            row[f"gain: {kind}"] = accuracy_on(model, x_val, y_val) - baseline
        rows.append(row)
        print(", ".join(f"{k} {v:+.3f}" if k.startswith("gain") else f"{k} {v:.3f}" if k != "seed" else f"seed {v}"
                        for k, v in row.items()), flush=True)
    print(f"\nmean ± sd over {len(rows)} seed(s), accuracy on the validation drivers ({time.process_time() - cpu0:.0f} s CPU):")
    for key in [k for k in rows[0] if k != "seed"]:
        values = np.array([row[key] for row in rows])
        sd = values.std(ddof=1) if len(values) > 1 else 0.0
        scale = 100 if key.startswith("gain") else 1
        print(f"  {key}: {values.mean() * scale:+.1f} ± {sd * scale:.1f} points" if key.startswith("gain")
              else f"  {key}: {values.mean():.3f} ± {sd:.3f}")


if __name__ == "__main__":
    main()
