"""Plain-text and Markdown files: decode once here so the worker gets a str.

Reports and exports saved as ``.txt``/``.md`` come in UTF-8 mostly, but also in
the legacy code pages of the region; we decode them with the same BOM / UTF-8 /
detector order as HTML (there is no ``<meta>`` to read).
"""
from __future__ import annotations

from pathlib import Path

from ...types import RawInput
from .html import _BOMS, _detect, _strict, pretty_charset


def decode_text(data: bytes) -> tuple[str, str]:
    """``(text, encoding)`` for bytes without a declared charset. Never raises."""
    for bom, name in _BOMS:
        if data.startswith(bom):
            return data.decode(name, "replace").lstrip("\ufeff"), "utf-8" if name == "utf-8-sig" else name
    text = _strict(data, "utf-8")
    if text is not None:
        return text, "utf-8"
    name = _detect(data)
    if name:
        text = _strict(data, name)
        if text is not None:
            return text, pretty_charset(name)
    return data.decode("cp1252", "replace"), "windows-1252"


def read_text(path: Path, data: bytes, media: str = "text") -> RawInput:
    """One RawInput with the decoded text of a ``.txt`` or ``.md`` file."""
    text, encoding = decode_text(data)
    source = str(path)
    if not text.strip():
        return RawInput(source=source, media=media, status="skipped", reason="empty",  # type: ignore[arg-type]
                        detail=f"{source}: the file holds only whitespace")
    return RawInput(source=source, media=media, data=text, meta={"encoding": encoding})  # type: ignore[arg-type]
