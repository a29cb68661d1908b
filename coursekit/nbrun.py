"""Execute a notebook in a fresh kernel: the one nbclient call behind the site build and ``make full``.

nbclient can miss the wake-up for a cell's execute reply after a cell that creates ipywidgets
(jupyter/nbclient#312): the kernel has replied, but the client waits out the whole cell timeout
(an hour in full mode) before it reads the reply. Waiting in one-second slices, each ending in a
fresh look at the socket, reads such a reply within a second; the cell's own deadline is kept.
"""

from __future__ import annotations

from pathlib import Path
from queue import Empty
from time import monotonic

SLICE_SECONDS = 1.0


def _sliced(get_msg):
    async def get_msg_in_slices(timeout=None, **kwargs):
        deadline = None if timeout is None else monotonic() + timeout
        while True:
            left = SLICE_SECONDS if deadline is None else max(0.0, min(SLICE_SECONDS, deadline - monotonic()))
            try:
                return await get_msg(timeout=left, **kwargs)
            except Empty:
                if deadline is not None and monotonic() >= deadline:
                    raise

    return get_msg_in_slices


def execute(nb, path: Path, timeout: int) -> None:
    """Run every cell of ``nb`` (read from ``path``) in place, in ``path``'s folder; errors propagate."""
    from nbclient import NotebookClient

    class SlicedClient(NotebookClient):
        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()
            kc.shell_channel.get_msg = _sliced(kc.shell_channel.get_msg)
            return kc

    SlicedClient(nb, timeout=timeout, kernel_name="python3",
                 resources={"metadata": {"path": str(Path(path).parent)}}).execute()
