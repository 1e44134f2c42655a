"""Text shown through rich is escaped here: rich reads ``[...]`` as markup, so a value holding
brackets (``clamp(x, lo, hi): x limited to [lo, hi]``, a path, a rule's name) would lose them."""
from __future__ import annotations

from rich.markup import escape


def plain(value: object) -> str:
    """``value`` as text rich prints as it is."""
    return escape(str(value))
