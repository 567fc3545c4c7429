"""How training reports its epochs: a progress bar, plain lines, or nothing.

``fit`` calls ``start(total, initial)`` once, ``epoch((epoch, loss,
accuracy, seconds))`` after every epoch and ``close()`` at the end.
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
        epoch, loss, accuracy, seconds = row
        self.echo(f"epoch {epoch}/{self.total}  loss {loss:.4f}  accuracy {accuracy:.3f}"
                  f"  {seconds:.3f}s")


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
        _, loss, accuracy, _ = row
        self.bar.set_postfix(loss=f"{loss:.3f}", acc=f"{accuracy:.3f}", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
