"""Pictures every lesson needs: image grids, a live training plot, and spreadsheet-style sheets.

``LivePlot`` redraws one figure in place while a model trains (in JupyterLab you watch the
curves grow); it redraws at most every ``every`` seconds, and ``close()`` leaves exactly one
final static figure in the cell's output, which is what a headless run (nbval, CI) records.
``sheet`` shows a matrix or DataFrame as a shaded table of numbers, like a spreadsheet.
"""

from __future__ import annotations

import math
import time
from collections import defaultdict

import matplotlib.pyplot as plt
import numpy as np

from .mode import live_updates


def show_images(images, labels=None, ncols: int = 8, cmap: str = "gray", size: float = 1.2, title=None):
    """Show a grid of images (N, H, W), (N, 1, H, W) or (N, 3, H, W); returns the figure."""
    images = np.asarray(images.detach().cpu() if hasattr(images, "detach") else images)
    if images.ndim == 4:
        images = images[:, 0] if images.shape[1] == 1 else images.transpose(0, 2, 3, 1)
    n = len(images)
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and shell.__class__.__name__ == "ZMQInteractiveShell"


class LivePlot:
    """Curves of named metrics against training steps, redrawn in place.

    ``log(step, loss=...)`` adds points, ``log(step, val_loss=..., val_acc=...)`` too; metrics
    whose names share a suffix after ``train_``/``val_`` share one panel. ``close()`` draws the
    final figure. Set ``COURSEKIT_LIVE=0`` to draw only at the end.
    """

    def __init__(self, every: float = 1.0, title: str | None = None):
        self.every = every
        self.title = title
        self.history: dict[str, list[tuple[float, float]]] = defaultdict(list)
        self._last = 0.0
        self._handle = None
        self._live = _in_notebook() and live_updates()

    @staticmethod
    def _panel(name: str) -> str:
        for prefix in ("train_", "val_", "test_"):
            if name.startswith(prefix):
                return name[len(prefix):]
        return name

    def log(self, step: float, **metrics: float) -> None:
        for name, value in metrics.items():
            self.history[name].append((float(step), float(value)))
        if self._live and time.monotonic() - self._last >= self.every:
            self._draw()

    def figure(self):
        panels: dict[str, list[str]] = defaultdict(list)
        for name in self.history:
            panels[self._panel(name)].append(name)
        fig, axes = plt.subplots(1, max(len(panels), 1), figsize=(4.5 * max(len(panels), 1), 3.2), squeeze=False)
        for ax, (panel, names) in zip(axes.flat, panels.items(), strict=False):
            for name in names:
                steps, values = zip(*self.history[name], strict=True)
                ax.plot(steps, values, label=name, marker="o" if len(steps) < 30 else None, ms=3)
            ax.set_xlabel("step")
            ax.set_title(panel)
            ax.legend(fontsize=8)
            ax.grid(alpha=0.3)
        if self.title:
            fig.suptitle(self.title)
        fig.tight_layout()
        return fig

    def _draw(self) -> None:
        from IPython.display import display

        fig = self.figure()
        if self._handle is None:
            self._handle = display(fig, display_id=True)
        else:
            self._handle.update(fig)
        plt.close(fig)
        self._last = time.monotonic()

    def close(self):
        """Draw the final figure once (replacing the live one) and return it."""
        if self._live:
            self._draw()
            return None
        fig = self.figure()
        if _in_notebook():
            from IPython.display import display

            display(fig)
            plt.close(fig)
        return fig


def sheet(data, fmt: str = "{:.2f}", cmap: str = "RdBu_r", vmin=None, vmax=None, caption: str | None = None,
          font_size: str = "10px", center_zero: bool = True):
    """Show a 2-D array or DataFrame as a shaded sheet of numbers (a pandas ``Styler``).

    Blank cells (NaN) stay blank. With ``center_zero`` the colour scale is symmetric around 0,
    so signs read at a glance; pass ``cmap="Greys", center_zero=False`` for pixel grids.
    """
    import pandas as pd

    df = data if isinstance(data, pd.DataFrame) else pd.DataFrame(
        np.asarray(data.detach().cpu() if hasattr(data, "detach") else data))
    values = df.select_dtypes("number").to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    if vmin is None or vmax is None:
        lo, hi = (finite.min(), finite.max()) if finite.size else (0.0, 1.0)
        if center_zero:
            bound = max(abs(lo), abs(hi)) or 1.0
            lo, hi = -bound, bound
        vmin = lo if vmin is None else vmin
        vmax = hi if vmax is None else vmax
    styler = (df.style.format(fmt, na_rep="")
              .background_gradient(cmap=cmap, vmin=vmin, vmax=vmax, axis=None)
              .highlight_null(color="white")  # the colormap would paint NaN black
              .set_properties(**{"font-size": font_size, "text-align": "center", "padding": "1px 3px"}))
    if caption:
        styler = styler.set_caption(caption)
    return styler
