"""The borderless tables the interactive mode prints: label and value, or named columns.

Cells given as strings are plain text, never rich markup: a rule, a path or a usage line such
as ``/compact [focus]`` may hold brackets.
"""

from __future__ import annotations

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text


def two_columns(
    rows: list[tuple[str, RenderableType | str]], *, title: str = "", label_style: str = "dim"
) -> Table:
    """A label (in ``label_style``) and a value per row, under an optional bold title."""
    table = Table(
        title=Text(title, style="bold") if title else None,
        title_justify="left",
        box=None,
        show_header=False,
        pad_edge=False,
        padding=(0, 2, 0, 0),
    )
    table.add_column(style=label_style, no_wrap=True)
    table.add_column()
    for label, value in rows:
        add_row(table, label, value)
    return table


def columns(*names: str, wrap: str = "", numbers: tuple[str, ...] = ()) -> Table:
    """A table with bold column headers; only the column ``wrap`` wraps its text, the
    ``numbers`` columns are right-aligned."""
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 2, 0, 0))
    for name in names:
        table.add_column(name, no_wrap=name != wrap, justify="right" if name in numbers else "left")
    return table


def add_row(table: Table, *cells: RenderableType | str) -> None:
    table.add_row(*(Text(cell) if isinstance(cell, str) else cell for cell in cells))
