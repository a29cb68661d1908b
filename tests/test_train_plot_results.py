"""The training loop, checkpoint cache, plots and the results table that `make full` writes."""

from __future__ import annotations

import json

import matplotlib
import nbformat
import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

import coursekit as ck
from coursekit import full, train

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def tmp_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSEKIT_DATA", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSEKIT_RESULTS", str(tmp_path / "results.jsonl"))
    monkeypatch.delenv("COURSEKIT_MODE", raising=False)
    return tmp_path


def blobs(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    x = torch.randn(n, 2, generator=g) + torch.stack([y * 4.0, y * 4.0], dim=1)
    return x, y


def test_tensor_batches_visit_every_example_once_per_epoch():
    x = torch.arange(10).float().unsqueeze(1)
    batches = ck.TensorBatches(x, torch.arange(10), batch_size=3)
    assert len(batches) == 4
    seen = torch.cat([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(10))


def test_fit_learns_a_separable_problem_and_keeps_history():
    ck.seed_everything(0)
    model = nn.Linear(2, 2)
    history = ck.fit(model, blobs(), blobs(seed=1), epochs=5, batch_size=32, plot=False, progress=False,
                     optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert history["val_acc"][-1] > 0.95
    assert history.epochs["train_loss"].iloc[-1] < history.epochs["train_loss"].iloc[0]
    assert len(history.steps) == 5 * 13
    assert 0 < history["train_seconds"][-1] <= history["seconds"][-1]
    assert ck.evaluate(model, blobs(seed=1))["acc"] == pytest.approx(history["val_acc"][-1])


@pytest.mark.parametrize("live, bar_shown", [("0", False), ("1", True)])
def test_fit_shows_its_progress_bar_only_where_output_is_watched(monkeypatch, capsys, live, bar_shown):
    # A headless run (COURSEKIT_LIVE=0) would save the bar as a frozen "0/N" in the executed notebook.
    monkeypatch.setenv("COURSEKIT_LIVE", live)
    model = nn.Linear(2, 2)
    ck.fit(model, blobs(), epochs=1, batch_size=32, plot=False, optimizer=torch.optim.SGD(model.parameters(), lr=0.1))
    assert ("epoch 1/1" in capsys.readouterr().err) == bar_shown


def test_evaluate_restores_training_mode():
    model = nn.Sequential(nn.Linear(2, 2), nn.Dropout(0.5))
    model.train()
    ck.evaluate(model, blobs())
    assert model.training


def test_cached_or_train_trains_once_then_loads_identical_weights(tmp_cache):
    calls = []

    def train_fn(model):
        calls.append(1)
        with torch.no_grad():
            model.weight.fill_(0.5)

    first, loaded = ck.cached_or_train("toy", nn.Linear(3, 1), train_fn)
    assert not loaded and len(calls) == 1
    second, loaded = ck.cached_or_train("toy", nn.Linear(3, 1), train_fn)
    assert loaded and len(calls) == 1
    assert torch.equal(first.weight, second.weight)
    assert train.checkpoint_path("toy").name == "toy-quick.pt"


def test_sheet_shows_values_shades_cells_and_leaves_blanks_blank():
    df = pd.DataFrame([[1.0, np.nan], [-2.0, 3.5]], columns=["a", "b"])
    html = ck.sheet(df, fmt="{:.1f}").to_html()
    assert "3.5" in html and "-2.0" in html and "nan" not in html.lower()
    assert html.count("background-color") >= 3
    blank_cell_style = ck.sheet(df)._compute().ctx[(0, 1)]
    assert ("background-color", "white") in blank_cell_style, "a blank cell must not be painted"


def test_live_plot_leaves_one_figure_headless():
    plot = ck.LivePlot()
    for step in range(5):
        plot.log(step, train_loss=1 / (step + 1))
    plot.log(4, val_loss=0.5, val_acc=0.9)
    fig = plot.close()
    assert len(fig.axes) == 2  # "loss" panel (train and val) and "acc" panel
    assert {t.get_text() for t in fig.axes[0].get_legend().get_texts()} == {"train_loss", "val_loss"}


def test_record_writes_mode_device_and_seconds(tmp_cache):
    ck.record("toy_accuracy", 0.97, seconds=1.5)
    row = json.loads((tmp_cache / "results.jsonl").read_text())
    assert row["name"] == "toy_accuracy"
    assert row["mode"] == "quick" and row["value"] == 0.97 and row["seconds"] == 1.5 and row["device"]


def test_make_full_runner_executes_notebooks_and_tabulates_their_figures(tmp_cache, monkeypatch):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import coursekit as ck\nck.record('answer', 42, unit='units', seconds=0.1)")])
    broken = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1/0")])
    for name, book in [("01_toy.ipynb", nb), ("02_broken.ipynb", broken)]:
        nbformat.write(book, tmp_cache / name)
    monkeypatch.setenv("COURSEKIT_MODE", "quick")  # the runner keeps a mode the caller set
    table_path = tmp_cache / "RESULTS.md"
    code = full.main([str(tmp_cache / "01_toy.ipynb"), str(tmp_cache / "02_broken.ipynb"),
                         "--table", str(table_path), "--jsonl", str(tmp_cache / "rows.jsonl")])
    assert code == 1, "a failing notebook makes `make full` fail"
    text = table_path.read_text()
    assert "| 01_toy | cpu" in text and "| answer | 42 units |" in text
    assert "02_broken (FAILED)" in text


def test_notebook_runner_reads_a_reply_whose_wake_up_was_missed_within_a_slice():
    # jupyter/nbclient#312: the reply is in the socket but the long wait never wakes; a slice's fresh
    # look must find it instead of waiting out the cell's whole timeout.
    import asyncio
    from queue import Empty

    from coursekit.nbrun import SLICE_SECONDS, _sliced

    waits = []

    async def missed_once(timeout=None):
        waits.append(timeout)
        if len(waits) == 1:
            raise Empty
        return {"msg": "execute_reply"}

    assert asyncio.run(_sliced(missed_once)(timeout=3600)) == {"msg": "execute_reply"}
    assert len(waits) == 2 and max(waits) <= SLICE_SECONDS

    async def never(timeout=None):
        raise Empty

    with pytest.raises(Empty):  # the cell's own deadline still holds
        asyncio.run(_sliced(never)(timeout=0.05))
