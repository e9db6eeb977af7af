"""textual-plotext, made deterministic. Import `PlotextPlot` from here, not from textual_plotext.

plotext removes duplicate points and style codes with `list(set(...))`, whose order follows the
interpreter's string-hash seed: the same data then lands a column apart from one run to the next
(flaky snapshots, jittery redraws). An order-preserving de-duplication gives the same picture
every time; plotext's own code comments this variant out only for speed, irrelevant at our sizes.
"""

from __future__ import annotations

import plotext._utility as _plotext_utility
from textual_plotext import PlotextPlot


def _no_duplicates(data):
    return list(dict.fromkeys(data))


_plotext_utility.no_duplicates = _no_duplicates

__all__ = ["PlotextPlot"]
