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
