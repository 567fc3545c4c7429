"""The run page: a training run's loss and accuracy curves, settings and
evaluation, as one self-contained HTML file.

The curves are drawn by matplotlib (through ``matplotlib.figure.Figure``,
so no GUI backend is ever chosen; matplotlib is imported only when a page
is made) and inlined as SVG.  Text stays text (``svg.fonttype`` "none"),
ids come from a fixed salt and the date is left out, so the same history
gives the same page.  The XML prolog, namespace declarations and
``xlink:href`` (which inline SVG in HTML does without) are removed: the
page carries no web address.
"""
from __future__ import annotations

import html
import io
import re

from jazz_lstm.html import page, section, table

FIGURE_INCHES = (10.0, 3.4)
TRAIN_COLOUR = "#2563eb"
VALIDATION_COLOUR = "#f59e0b"
REQUIRED_COLUMNS = ("epoch", "loss", "accuracy")

REPORT_CSS = """
.curves svg { display: block; width: 100%; height: auto; }
"""

_SVG_MATPLOTLIB_RC = {
    "svg.hashsalt": "jazz-lstm",
    "svg.fonttype": "none",
    "font.family": "sans-serif",
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#94a3b8",
    "axes.labelcolor": "#334155",
    "xtick.color": "#64748b",
    "ytick.color": "#64748b",
    "axes.grid": True,
    "grid.color": "#e2e8f0",
    "grid.linewidth": 0.8,
}
_NO_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def run_report_html(history_rows, settings: dict, evaluation: dict | None = None,
                    title: str = "jazz-lstm run") -> str:
    """The run page as HTML text.

    history_rows: one dict per finished epoch with "epoch", "loss" and
                  "accuracy", and optionally "val_loss", "val_accuracy" and
                  "seconds" (as ``jazz_lstm.runs.read_history`` gives them)
    settings:     what the run was trained with, shown as a table
    evaluation:   figures measured on the model's solos, shown as a table
                  when given
    Raises ValueError naming the first row that lacks a column or holds a
    value that is not a number.
    """
    rows = [_checked_row(number, row) for number, row in enumerate(history_rows, start=1)]
    body = f"<h1>{html.escape(title)}</h1>\n<p class=\"subtitle\">{html.escape(_subtitle(rows))}</p>\n"
    if rows:
        body += section("Learning curves", curves_svg(rows), "curves")
        body += section("Summary", table(summary(rows)))
    if evaluation:
        body += section("Evaluation", table(sorted(evaluation.items())))
    body += section("Settings", table(sorted(settings.items())))
    return page(title, body, REPORT_CSS)


def _checked_row(number: int, row) -> dict:
    if not isinstance(row, dict):
        raise ValueError(f"history row {number} must be a dict of columns, got {type(row).__name__}")
    missing = [column for column in REQUIRED_COLUMNS if column not in row]
    if missing:
        raise ValueError(f"history row {number} lacks {', '.join(missing)}")
    for column, value in row.items():
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            raise ValueError(f"history row {number}: {column} must be a number, got {value!r}")
    return row


def _subtitle(rows) -> str:
    if not rows:
        return "No epoch has finished yet."
    last = rows[-1]
    return (f"{len(rows)} epochs · final loss {last['loss']:.4f} · "
            f"final accuracy {last['accuracy']:.3f}")


def _column(rows, name) -> tuple:
    """(epochs, values) of the rows that hold a value in column ``name``."""
    pairs = [(row["epoch"], row[name]) for row in rows if row.get(name) is not None]
    return [epoch for epoch, _ in pairs], [value for _, value in pairs]


def summary(rows) -> list:
    """(name, value) rows: final figures, best validation loss, total time."""
    last = rows[-1]
    lines = [("epochs", len(rows)), ("final loss", round(last["loss"], 4)),
             ("final accuracy", round(last["accuracy"], 4))]
    epochs, val_losses = _column(rows, "val_loss")
    if val_losses:
        best = min(range(len(val_losses)), key=val_losses.__getitem__)
        lines.append(("best validation loss", f"{val_losses[best]:.4f} at epoch {epochs[best]}"))
    _, seconds = _column(rows, "seconds")
    if seconds:
        lines.append(("training time", f"{sum(seconds):.1f} s"))
    return lines


def curves_svg(rows) -> str:
    """Loss and accuracy against epoch, training solid and validation dashed,
    as an inline <svg> element."""
    # matplotlib costs 0.31 s of start-up (python -X importtime, median of 5); only the
    # run page draws, and every command and API call loads this module.
    import matplotlib.figure

    with matplotlib.rc_context(_SVG_MATPLOTLIB_RC):
        figure = matplotlib.figure.Figure(figsize=FIGURE_INCHES, layout="constrained")
        loss_axes, accuracy_axes = figure.subplots(1, 2)
        for axes, name, label in ((loss_axes, "loss", "loss (cross-entropy)"),
                                  (accuracy_axes, "accuracy", "accuracy")):
            for prefix, colour, style, kind in (("", TRAIN_COLOUR, "-", "training"),
                                                ("val_", VALIDATION_COLOUR, "--", "validation")):
                epochs, values = _column(rows, prefix + name)
                if values:
                    axes.plot(epochs, values, style, color=colour, linewidth=1.8,
                              marker="o" if len(values) < 30 else None, markersize=3, label=kind)
            axes.set_xlabel("epoch")
            axes.set_ylabel(label)
            axes.legend(frameon=False)
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata=_NO_METADATA)
    return inline_svg(buffer.getvalue())


def inline_svg(document: str) -> str:
    """An SVG file's text as an element for an HTML page: no prolog, no
    namespace declarations, plain ``href`` for ``xlink:href``."""
    element = document[document.index("<svg"):]
    element = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", element)
    return element.replace("xlink:href=", "href=").strip()
