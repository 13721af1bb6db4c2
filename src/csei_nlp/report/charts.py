"""Small inline SVG charts (no JavaScript, no CDN): horizontal bars and a histogram.

Shared by report.html (which an analyst may open offline) and the review
app's overview.  Every label is escaped; the SVG uses presentation attributes
only, which the app's Content-Security-Policy allows (no inline style).
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape

from markupsafe import Markup

BAR = "#2f6f9f"


def _link(parts: list[str], href: str | None, body: str) -> None:
    """``body``, wrapped in an SVG link to ``href`` when there is one (the filtered ranking behind a bar)."""
    parts.append(f'<a href="{escape(href, quote=True)}">{body}</a>' if href else body)


def bars(items: Sequence[tuple[str, int]], title: str, width: int = 460,
         links: Sequence[str | None] | None = None) -> Markup:
    items = list(items)[:30]
    row, left = 20, 150
    h = max(1, len(items)) * row + 30
    top = max((n for _, n in items), default=0) or 1
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" viewBox="0 0 {width} {h}" '
             f'role="img" aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>']
    for i, (label, n) in enumerate(items):
        y = 20 + i * row
        w = (width - left - 50) * n / top
        _link(parts, links[i] if links and i < len(links) else None,
              f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" font-size="12" fill="#333">'
              f'{escape(str(label))[:24]}</text>'
              f'<rect x="{left}" y="{y + 2}" width="{w:.1f}" height="{row - 6}" fill="{BAR}" rx="2"/>'
              f'<text x="{left + w + 4:.1f}" y="{y + 13}" font-size="12" fill="#333">{int(n)}</text>')
    if not items:
        parts.append('<text x="10" y="30" font-size="12" fill="#777">no data</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def histogram(bins: Sequence[int], title: str, width: int = 460, height: int = 180,
              links: Sequence[str | None] | None = None, marker: tuple[float, str] | None = None) -> Markup:
    """Vertical bars over [0, 1] in ``len(bins)`` equal bins; ``marker`` (value, label): a dashed line there."""
    n = len(bins)
    top = max(bins, default=0) or 1
    bw = (width - 40) / max(1, n)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{escape(title)}" class="chart"><title>{escape(title)}</title>']
    base = height - 25
    room = base - (30 if marker is not None else 15)  # the marker's label sits above the tallest bar
    for i, v in enumerate(bins):
        h = room * v / top
        x = 30 + i * bw
        _link(parts, links[i] if links and i < len(links) else None,
              f'<rect x="{x + 1:.1f}" y="{base - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" fill="{BAR}"/>'
              f'<text x="{x + bw / 2:.1f}" y="{base - h - 3:.1f}" font-size="11" text-anchor="middle" '
              f'fill="#333">{int(v)}</text>'
              f'<text x="{x + bw / 2:.1f}" y="{height - 8}" font-size="10" text-anchor="middle" '
              f'fill="#555">{i / n:.1f}</text>')
    if marker is not None:
        x = 30 + min(1.0, max(0.0, marker[0])) * (width - 40)
        anchor = "end" if x > width / 2 else "start"
        parts.append(f'<line x1="{x:.1f}" y1="4" x2="{x:.1f}" y2="{base}" stroke="#c0392b" stroke-dasharray="4 3"/>'
                     f'<text x="{x + (-4 if anchor == "end" else 4):.1f}" y="12" font-size="11" '
                     f'text-anchor="{anchor}" fill="#c0392b">{escape(marker[1])}</text>')
    parts.append(f'<line x1="30" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#999"/></svg>')
    return Markup("".join(parts))
