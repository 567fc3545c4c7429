"""How training reports its epochs: a progress bar, plain lines, or nothing.

``fit`` calls ``start(total, initial)`` once, ``epoch(row)`` after every
epoch (a dict: epoch, loss, accuracy, seconds, and val_loss, val_accuracy
for a validated run) and ``close()`` at the end.
"""
from __future__ import annotations


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
    """A tqdm bar with the loss, accuracy and time left; ``notebook`` picks
    tqdm.auto, which draws a widget in Jupyter and text elsewhere."""

    def __init__(self, notebook: bool = False):
        self.notebook = notebook
        self.bar = None

    def start(self, total: int, initial: int) -> None:
        if self.notebook:
            from tqdm.auto import tqdm
        else:
            from tqdm import tqdm
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
