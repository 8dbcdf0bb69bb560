from __future__ import annotations

import uuid


def unique(prefix: str) -> str:
    """A name no other test (or earlier run) uses: topics, databases, consumer groups."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"
