"""``--help`` text from a command's docstring, one paragraph per block.

typer's rich help keeps the single line breaks of a docstring's later paragraphs, so text
wrapped at our line length would be wrapped twice on the terminal. Joining each
paragraph's lines first lets the terminal wrap it once.
"""

from __future__ import annotations

import inspect

__all__ = ["help_text"]


def help_text(doc: str | None) -> str:
    """``doc`` cleaned, each paragraph on one line, paragraphs kept apart."""
    paragraphs = inspect.cleandoc(doc or "").split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs)
