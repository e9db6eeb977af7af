"""A `DataTable` that also moves with j / k, as lists do in terminal tools (less, vim, mutt)."""

from __future__ import annotations

from textual.binding import Binding
from textual.message import Message
from textual.widgets import DataTable


class ListTable(DataTable):
    """Also says when its width changed (`Resized`), for screens that fit a column to it."""

    BINDINGS = [
        Binding("j", "cursor_down", "Down", show=False),
        Binding("k", "cursor_up", "Up", show=False),
    ]

    class Resized(Message):
        def __init__(self, table: ListTable) -> None:
            super().__init__()
            self.table = table

        @property
        def control(self) -> ListTable:
            return self.table

    def on_resize(self) -> None:
        self.post_message(self.Resized(self))

    def measure_now(self) -> None:
        """Measure the rows added or changed since the last measure now, not when the table is next idle.

        DataTable measures its rows (column widths, its height) in its idle handler; rows added before a
        screen's first frame were measured only after it, so that frame showed the table without rows
        (one line high) and a second full frame followed with them. This is the idle handler's work
        (Textual 8.2), done at once; the idle handler then finds nothing left to do.
        """
        if self._updated_cells:
            updated_cells = self._updated_cells.copy()
            self._updated_cells.clear()
            self._update_column_widths(updated_cells)
        if self._require_update_dimensions:
            self._require_update_dimensions = False
            new_rows = self._new_rows.copy()
            self._new_rows.clear()
            self._update_dimensions(new_rows)
