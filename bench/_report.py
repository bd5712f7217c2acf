"""Tables for the benches' reports, drawn by rich: the first column (and any named as words) left-aligned, figures
right-aligned."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

console = Console(highlight=False, width=200)


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str] | None], title: str | None = None,
                words: Sequence[str] = ()) -> None:
    """A row of one cell is a section heading; ``None`` starts a new section. Columns named in ``words`` hold
    words, not figures, and are left-aligned like the first."""
    table = Table(title=title, title_justify="left")
    for i, header in enumerate(headers):
        table.add_column(Text(header), justify="left" if i == 0 or header in words else "right")
    for row in rows:
        if row is None:
            table.add_section()
        elif len(row) == 1:
            table.add_section()
            table.add_row(Text(row[0], style="bold"), *("" for _ in headers[1:]))
        else:
            table.add_row(*(Text(cell) for cell in row))  # figures, not markup
    console.print(table)
