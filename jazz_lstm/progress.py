"""How training reports its epochs: a progress bar, plain lines, one notebook line, or nothing.

``fit`` calls ``start(total, initial)`` once, ``epoch(row)`` after every
epoch (a dict: epoch, loss, accuracy, seconds, and val_loss, val_accuracy
for a validated run) and ``close()`` at the end.
"""
from __future__ import annotations

import sys

from tqdm import tqdm


class Silent:
    """Reports nothing."""

    def start(self, total: int, initial: int) -> None:
        pass

    def epoch(self, row) -> None:
        pass

    def close(self) -> None:
        pass


class Lines(Silent):
    """One line per epoch through ``echo`` (for logs and pipes)."""

    def __init__(self, echo):
        self.echo = echo
        self.total = 0

    def start(self, total: int, initial: int) -> None:
        self.total = total

    def epoch(self, row) -> None:
        validation = (f"  val_loss {row['val_loss']:.4f}  val_accuracy {row['val_accuracy']:.3f}"
                      if "val_loss" in row else "")
        self.echo(f"epoch {row['epoch']}/{self.total}  loss {row['loss']:.4f}  "
                  f"accuracy {row['accuracy']:.3f}{validation}  {row['seconds']:.3f}s")


class Bar(Silent):
    """A tqdm bar with the loss, accuracy and time left."""

    def __init__(self):
        self.bar = None

    def start(self, total: int, initial: int) -> None:
        self.bar = tqdm(total=total, initial=initial, unit="epoch", dynamic_ncols=True)

    def epoch(self, row) -> None:
        shown = {"loss": f"{row['loss']:.3f}", "acc": f"{row['accuracy']:.3f}"}
        if "val_loss" in row:
            shown.update(val_loss=f"{row['val_loss']:.3f}", val_acc=f"{row['val_accuracy']:.3f}")
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class NotebookLine(Lines):
    """``Lines`` in one notebook output, rewritten after every epoch: the saved
    notebook shows the last epoch (a widget would be saved as it first looked)."""

    def __init__(self):
        super().__init__(self.show)
        self.handle = None

    def start(self, total: int, initial: int) -> None:
        # IPython is no dependency of the package: only a notebook, which has it, gets here.
        from IPython.display import display

        super().start(total, initial)
        self.handle = display({"text/plain": f"epoch {initial}/{total}"}, raw=True,
                              display_id=True)

    def show(self, line: str) -> None:
        self.handle.update({"text/plain": line}, raw=True)


def in_notebook() -> bool:
    """Whether this Python is a Jupyter kernel (whose outputs a notebook keeps)."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return type(shell).__name__ == "ZMQInteractiveShell"


def for_api(shown: bool):
    """What ``jazz_lstm.train`` and ``resume`` report with: nothing, one notebook
    line in Jupyter, else a tqdm bar."""
    if not shown:
        return Silent()
    return NotebookLine() if in_notebook() else Bar()
