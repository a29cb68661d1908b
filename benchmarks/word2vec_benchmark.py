"""Notebook 17's skip-gram with negative sampling (SGNS) against gensim's ``Word2Vec``, in one run.

Both train skip-gram with negative sampling on the same sentences with the same settings: dimension 100,
window 5 (dynamic, as in word2vec), 5 noise words per pair drawn from count^0.75, min-count 5, subsampling
threshold 1e-3 (the word2vec C code's formula, which gensim also uses), learning rate 0.025 decaying
linearly, the same number of epochs, and the same number of CPU threads (``torch.set_num_threads(T)`` for
ours, ``workers=T`` for gensim). Ours is the notebook's own code (its cells run through
``tests/nbcells.exec_cells``, so there is one copy); it groups 8 pairs to share their noise words, gensim
draws them per pair.

For each corpus and seed the script prints, for both: the WordSim-353 Spearman rho (with its coverage),
the accuracy on the Google analogy questions with all four words in the vocabulary (3CosAdd, question
words excluded; coverage printed), and training throughput in corpus words per second (the corpus's
tokens times the epochs, over the training time; vocabulary building excluded), both per second of wall-clock time and
per second of the process's CPU time (all its threads): on a machine shared with other jobs the wall-clock rates
depend on what else runs, the CPU-time rates much less. Both sets of vectors are
scored by the same evaluation code; gensim's own ``evaluate_word_analogies`` and ``evaluate_word_pairs``
are printed alongside as a check of that code.

    python benchmarks/word2vec_benchmark.py                          # PTB and Gutenberg, 15 epochs, seed 0
    python benchmarks/word2vec_benchmark.py --corpus ptb --seeds 0 1 2 --threads 2
    python benchmarks/word2vec_benchmark.py --device cuda            # ours on a GPU (gensim: CPU threads)
    python benchmarks/word2vec_benchmark.py --json w2v.json

gensim is a benchmark-only dependency (``pip install -e .[bench]``). Data come only through coursekit
(set COURSEKIT_MIRROR to use a local mirror).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = "notebooks/17_word2vec.ipynb"
CELLS = ["setup", "impl-cooc", "impl-subsample", "impl-noise", "impl-loss", "impl-step", "impl-pairs", "impl-lsa", "impl-train"]
MIN_COUNT, DIM, WINDOW, NEGATIVE, SAMPLE, LR = 5, 100, 5, 5, 1e-3, 0.025


def corpus_sentences(name: str) -> list[list[str]]:
    """PTB: one sentence per line. Gutenberg: each book lower-cased to [a-z]+ words, cut in 10,000-word pieces
    (gensim's longest sentence), so that windows never run from one book into the next."""
    import coursekit as ck

    if name == "ptb":
        return [line.split() for line in ck.text("ptb").splitlines() if line.strip()]
    if name == "gutenberg":
        pieces = []
        for text in ck.gutenberg().values():
            words = re.findall(r"[a-z]+", text.lower())
            pieces += [words[i:i + 10_000] for i in range(0, len(words), 10_000)]
        return pieces
    raise ValueError(f"unknown corpus {name!r}: choose ptb or gutenberg")


class Evaluation:
    """WordSim-353 rho and 3CosAdd analogy accuracy for vectors indexed by a vocabulary (same code for both)."""

    def __init__(self, vocab: list[str]):
        import torch

        import coursekit as ck

        self.index = {w: i for i, w in enumerate(vocab)}
        ws = ck.wordsim353()
        covered = ws.word1.isin(self.index) & ws.word2.isin(self.index)
        self.ws, self.ws_coverage = ws[covered], (int(covered.sum()), len(ws))
        q = ck.analogy_questions()
        ok = q[["a", "b", "c", "d"]].isin(list(self.index)).all(axis=1)
        self.q = {c: torch.tensor([self.index[w] for w in q[ok][c]]) for c in "abcd"}
        self.q_coverage = (int(ok.sum()), len(q))

    def wordsim(self, E) -> float:
        import pandas as pd
        import torch.nn.functional as F

        a = E[[self.index[w] for w in self.ws.word1]].double()
        b = E[[self.index[w] for w in self.ws.word2]].double()
        cos = F.cosine_similarity(a, b, dim=1).numpy()
        return pd.Series(cos).rank().corr(pd.Series(self.ws.score.to_numpy()).rank())

    def analogies(self, E) -> float:
        import torch
        import torch.nn.functional as F

        X = F.normalize(E.double(), dim=1)
        a, b, c, d = (self.q[k] for k in "abcd")
        correct = 0
        for s in range(0, len(a), 2048):
            rows = slice(s, s + 2048)
            scores = (X[b[rows]] - X[a[rows]] + X[c[rows]]) @ X.T
            r = torch.arange(len(scores))
            for q in (a, b, c):
                scores[r, q[rows]] = -math.inf
            correct += int((scores.argmax(dim=1) == d[rows]).sum())
        return correct / len(a)


def ours(ns: dict, sentences, vocab, seed: int, epochs: int, device) -> tuple:
    """Train the notebook's SGNS; return (centre vectors, wall seconds, CPU seconds)."""
    import torch

    index = {w: i for i, w in enumerate(vocab)}
    counts = Counter(w for s in sentences for w in s)
    freq = torch.tensor([counts[w] for w in vocab], dtype=torch.float64)
    ids = torch.tensor([index.get(w, -1) for s in sentences for w in s])
    sentence_of = torch.repeat_interleave(torch.arange(len(sentences)), torch.tensor([len(s) for s in sentences]))
    known = ids >= 0
    if device.type == "cuda":
        torch.cuda.synchronize()
    start, cpu = time.perf_counter(), time.process_time()
    W_in, _ = ns["train_sgns"](ids[known], sentence_of[known], freq, len(ids), dim=DIM, window=WINDOW, k=NEGATIVE,
                               sample=SAMPLE, epochs=epochs, lr=LR, seed=seed, device=device, progress=False)
    # train_sgns returns CPU tensors, so the device has finished
    return W_in, time.perf_counter() - start, time.process_time() - cpu


def theirs(sentences, seed: int, epochs: int, threads: int):
    """Train gensim's Word2Vec (skip-gram, negative sampling); return (model, wall and CPU seconds of training)."""
    from gensim.models import Word2Vec

    model = Word2Vec(vector_size=DIM, window=WINDOW, negative=NEGATIVE, hs=0, sg=1, min_count=MIN_COUNT,
                     sample=SAMPLE, alpha=LR, min_alpha=LR * 1e-4, workers=threads, seed=seed)
    model.build_vocab(sentences)
    start, cpu = time.perf_counter(), time.process_time()
    model.train(sentences, total_examples=len(sentences), epochs=epochs)
    return model, time.perf_counter() - start, time.process_time() - cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", nargs="+", default=["ptb", "gutenberg"], choices=["ptb", "gutenberg"])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--threads", type=int, default=1, help="torch threads for ours = gensim workers")
    parser.add_argument("--device", default="cpu", help="where ours trains: cpu, cuda, mps")
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args(argv)

    os.environ.setdefault("COURSEKIT_LIVE", "0")
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.path.insert(0, str(ROOT))
    import gensim
    import torch

    from coursekit.device import describe_device, pick_device
    from tests.nbcells import exec_cells

    torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    ns = exec_cells(NOTEBOOK, CELLS)  # the notebook's functions; its setup cell prints the device it found
    info = describe_device(args.device)
    print(f"\nours on {device} ({info.name}); gensim {gensim.__version__} on the CPU "
          f"({platform.machine()}, {os.cpu_count()} cores visible); {args.threads} thread(s) each; "
          f"torch {torch.__version__}\n", flush=True)

    rows = []
    for corpus in args.corpus:
        sentences = corpus_sentences(corpus)
        counts = Counter(w for s in sentences for w in s)
        vocab = sorted((w for w, n in counts.items() if n >= MIN_COUNT), key=lambda w: (-counts[w], w))
        n_tokens = sum(map(len, sentences))
        ev = Evaluation(vocab)
        print(f"{corpus}: {n_tokens:,} tokens, {len(vocab):,} words with count >= {MIN_COUNT}; WordSim-353 pairs "
              f"covered {ev.ws_coverage[0]}/{ev.ws_coverage[1]}, analogy questions covered "
              f"{ev.q_coverage[0]:,}/{ev.q_coverage[1]:,}", flush=True)
        for seed in args.seeds:
            model, seconds, cpu = theirs(sentences, seed, args.epochs, args.threads)
            g_vectors = torch.tensor(model.wv.vectors[[model.wv.key_to_index[w] for w in vocab]])
            own_ws = model.wv.evaluate_word_pairs(str(_data_file("wordsim353", "wordsim353.tsv")))[1].statistic
            own_an = model.wv.evaluate_word_analogies(str(_data_file("analogy", "questions-words.txt")))[0]
            rows.append({"corpus": corpus, "seed": seed, "model": f"gensim {gensim.__version__} Word2Vec",
                         "device": "cpu", "wordsim_rho": ev.wordsim(g_vectors), "analogy": ev.analogies(g_vectors),
                         "words_per_s": n_tokens * args.epochs / seconds, "seconds": seconds,
                         "words_per_cpu_s": n_tokens * args.epochs / cpu, "cpu_seconds": cpu})
            print(f"  seed {seed} gensim: rho {rows[-1]['wordsim_rho']:.3f} (gensim's own evaluation {own_ws:.3f}), "
                  f"analogies {rows[-1]['analogy']:.2%} (gensim's own {own_an:.2%}), "
                  f"{rows[-1]['words_per_s'] / 1e3:,.0f}k words/s ({seconds:.0f} s), "
                  f"{rows[-1]['words_per_cpu_s'] / 1e3:,.0f}k words per CPU second", flush=True)
            E, seconds, cpu = ours(ns, sentences, vocab, seed, args.epochs, device)
            rows.append({"corpus": corpus, "seed": seed, "model": "ours (notebook 17)", "device": str(device),
                         "wordsim_rho": ev.wordsim(E), "analogy": ev.analogies(E),
                         "words_per_s": n_tokens * args.epochs / seconds, "seconds": seconds,
                         "words_per_cpu_s": n_tokens * args.epochs / cpu, "cpu_seconds": cpu})
            print(f"  seed {seed} ours  : rho {rows[-1]['wordsim_rho']:.3f}, analogies {rows[-1]['analogy']:.2%}, "
                  f"{rows[-1]['words_per_s'] / 1e3:,.0f}k words/s ({seconds:.0f} s), "
                  f"{rows[-1]['words_per_cpu_s'] / 1e3:,.0f}k words per CPU second", flush=True)

    import pandas as pd

    table = pd.DataFrame(rows)
    summary = table.groupby(["corpus", "model", "device"], sort=False).agg(
        rho=("wordsim_rho", "mean"), rho_sd=("wordsim_rho", "std"), analogy=("analogy", "mean"),
        analogy_sd=("analogy", "std"), words_per_s=("words_per_s", "mean"),
        words_per_cpu_s=("words_per_cpu_s", "mean"), seeds=("seed", "count")).reset_index()
    print(f"\n{args.epochs} epochs, dim {DIM}, window {WINDOW}, {NEGATIVE} noise words, min-count {MIN_COUNT}, "
          f"sample {SAMPLE:g}, {args.threads} thread(s); mean (sd) over {len(args.seeds)} seed(s)\n")
    print("| corpus | model | device | WordSim-353 ρ | analogies (3CosAdd) | words/s | words per CPU second |")
    print("|---|---|---|---:|---:|---:|---:|")
    def spread(x, fmt):
        return "" if math.isnan(x) else f" ± {x:{fmt}}"

    for r in summary.itertuples():
        print(f"| {r.corpus} | {r.model} | {r.device} | {r.rho:.3f}{spread(r.rho_sd, '.3f')} "
              f"| {r.analogy:.2%}{spread(r.analogy_sd, '.2%')} | {r.words_per_s / 1e3:,.0f}k | {r.words_per_cpu_s / 1e3:,.0f}k |")
    for corpus in args.corpus:
        mine = summary[(summary.corpus == corpus) & summary.model.str.startswith("ours")].iloc[0]
        ref = summary[(summary.corpus == corpus) & summary.model.str.startswith("gensim")].iloc[0]
        print(f"{corpus}: ours / gensim words/s = {mine.words_per_s / ref.words_per_s:.2f} (wall clock), "
              f"{mine.words_per_cpu_s / ref.words_per_cpu_s:.2f} (CPU time); "
              f"rho {mine.rho - ref.rho:+.3f}, analogies {mine.analogy - ref.analogy:+.2%}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


def _data_file(dataset: str, filename: str) -> Path:
    from coursekit import data

    return data.fetch(data.DATASETS[dataset]) / filename


if __name__ == "__main__":
    sys.exit(main())
