"""Evidence highlighting that is safe for untrusted crawled text.

Crawled text may contain markup or scripts.  Every character of it is
HTML-escaped; only the ``<mark>`` tags we add are markup.
"""
from __future__ import annotations

from collections.abc import Iterable
from html import escape
from typing import Any

from markupsafe import Markup


def highlight(text: str, spans: Iterable[dict[str, Any]], per_label: int | None = None) -> Markup:
    """Escape ``text`` and wrap each span [start, end) in ``<mark>``; overlaps merge.

    Each mark carries its cue group as a class (a colour per group, explained
    by the page's legend) and shows its label beside it.  With ``per_label``,
    only that many marks per label are shown as evidence; the rest get the
    class ``extra`` (faint until the reader asks for all of them).
    """
    ranges = sorted((max(0, int(s["start"])), min(len(text), int(s["end"])), s.get("label", ""),
                     s.get("family", "")) for s in spans if int(s["end"]) > int(s["start"]))
    merged: list[list[Any]] = []
    for start, end, label, group in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
            if label and label not in merged[-1][2]:
                merged[-1][2].append(label)
        else:
            merged.append([start, end, [label] if label else [], group])
    out, pos = [], 0
    seen: dict[str, int] = {}
    for start, end, labels, group in merged:
        out.append(escape(text[pos:start]))
        key = labels[0] if labels else ""
        seen[key] = seen.get(key, 0) + 1
        extra = per_label is not None and seen[key] > per_label
        classes = " ".join(c for c in (f"g-{escape(group)}" if group else "", "extra" if extra else "") if c)
        shown = escape(", ".join(labels).replace("_", " "))
        out.append(f'<mark class="{classes}" title="{escape(group.replace("_", " "), quote=True)}: {shown}">'
                   f'{escape(text[start:end])}</mark>')
        if labels and not extra:
            out.append(f'<small class="span-label">{shown}</small>')
        pos = end
    out.append(escape(text[pos:]))
    return Markup("".join(out))
