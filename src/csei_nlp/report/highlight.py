"""Evidence highlighting that is safe for untrusted crawled text.

Crawled text may contain markup or scripts.  Every character of it is
HTML-escaped; only the ``<mark>`` tags we add are markup.
"""
from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from markupsafe import Markup


def highlight(text: str, spans: Iterable[dict[str, Any]]) -> Markup:
    """Escape ``text`` and wrap each span [start, end) in ``<mark>``; overlaps merge."""
    ranges = sorted((max(0, int(s["start"])), min(len(text), int(s["end"])), s.get("label", ""))
                    for s in spans if int(s["end"]) > int(s["start"]))
    merged: list[list[Any]] = []
    for start, end, label in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            if label and label not in merged[-1][2]:
                merged[-1][2].append(label)
        else:
            merged.append([start, end, [label] if label else []])
    out, pos = [], 0
    for start, end, labels in merged:
        out.append(escape(text[pos:start]))
        title = escape(", ".join(labels), quote=True)
        out.append(f'<mark title="{title}">{escape(text[start:end])}</mark>')
        pos = end
    out.append(escape(text[pos:]))
    return Markup("".join(out))
