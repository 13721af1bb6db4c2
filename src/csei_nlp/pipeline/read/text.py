"""Plain-text and Markdown files: decode once here so the worker gets a str.

Reports and exports saved as ``.txt``/``.md`` come in UTF-8 mostly, but also in
the legacy code pages of the region; :func:`.charset.decode_text` decodes them
with the same BOM / UTF-8 / detector order as HTML (there is no ``<meta>`` to read).
"""
from __future__ import annotations

from pathlib import Path

from ...types import RawInput
from .charset import decode_text


def read_text(path: Path, data: bytes, media: str = "text") -> RawInput:
    """One RawInput with the decoded text of a ``.txt`` or ``.md`` file."""
    text, encoding = decode_text(data)
    source = str(path)
    if not text.strip():
        return RawInput(source=source, media=media, status="skipped", reason="empty",  # type: ignore[arg-type]
                        detail=f"{source}: the file holds only whitespace")
    return RawInput(source=source, media=media, data=text, meta={"encoding": encoding})  # type: ignore[arg-type]
