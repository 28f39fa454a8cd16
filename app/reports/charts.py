"""Charts of the printed reports, drawn on the server as SVG by matplotlib: no browser, no
internet, vector in the PDF. Called from the CPU pool (app.cpu), never on the event loop.

matplotlib's object API (a `Figure` with its own canvas, no pyplot): no global figure state,
no GUI backend. Its font and text caches are shared by the whole process and not meant for
threads drawing at once: one lock serialises the drawing (a chart takes milliseconds).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from typing import Any

from matplotlib.backends.backend_svg import FigureCanvasSVG
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

_LOCK = threading.Lock()
INK = "#0b3d91"
GRID = "#d0d7e5"
# Fixed ids in the SVG (matplotlib salts them randomly): the same chart twice is the same text.
_STYLE: dict[str, Any] = {
    "svg.hashsalt": "sitcen",
    "svg.fonttype": "none",  # text as text: searchable, and drawn in the document's font
    "font.family": "DejaVu Sans",
    "font.size": 8,
}
_PROLOGUE = re.compile(r"^.*?(?=<svg)", re.DOTALL)


def _svg(figure: Figure) -> str:
    """The figure as an `<svg>` element to put inline in HTML (no XML prologue, no DOCTYPE)."""
    buffer = io.StringIO()
    FigureCanvasSVG(figure).print_svg(buffer)  # type: ignore[no-untyped-call]
    return _PROLOGUE.sub("", buffer.getvalue(), count=1)


def weekly_bars(labels: Sequence[str], counts: Sequence[int], title: str) -> str:
    """Incidents per week as bars, the week's first day under every few bars."""
    import matplotlib

    with _LOCK, matplotlib.rc_context(_STYLE):  # type: ignore[arg-type]
        figure = Figure(figsize=(7.2, 2.4))
        axes = figure.add_subplot()
        positions = range(len(counts))
        axes.bar(positions, counts, color=INK, width=0.75)
        step = max(1, len(labels) // 16)
        axes.set_xticks(list(positions)[::step], list(labels)[::step], rotation=45, ha="right")
        axes.set_title(title, loc="left", fontsize=9)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.grid(axis="y", color=GRID, linewidth=0.6)
        axes.set_axisbelow(True)
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        for x, n in zip(positions, counts, strict=True):
            if n:
                axes.annotate(str(n), (x, n), ha="center", va="bottom", fontsize=6.5)
        axes.set_ylim(0, max([1, *counts]) * 1.15)
        figure.tight_layout()
        return _svg(figure)


def sparkline(counts: Sequence[int]) -> str:
    """A small line of the weekly counts, the last week marked: the trend at a glance."""
    import matplotlib

    with _LOCK, matplotlib.rc_context(_STYLE):  # type: ignore[arg-type]
        figure = Figure(figsize=(1.4, 0.32))
        axes = figure.add_axes((0.02, 0.08, 0.96, 0.84))
        xs = list(range(len(counts)))
        axes.plot(xs, counts, color=INK, linewidth=1)
        if counts:
            axes.plot([xs[-1]], [counts[-1]], "o", color=INK, markersize=2)
        axes.set_ylim(-0.2, max([1, *counts]) * 1.1)
        axes.axis("off")
        figure.patch.set_alpha(0)
        return _svg(figure)
