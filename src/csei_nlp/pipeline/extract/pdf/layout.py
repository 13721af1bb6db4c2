"""Reading order of a PDF page: words or text segments with coordinates -> text.

Why: a two-column page read line by line interleaves its columns.  Words are
grouped into rows; a page has columns when a vertical gutter exists that no
word crosses on most rows, with enough text on both sides (see
:func:`_find_gutter`).  Rows that do cross the gutter (a title, a footer, a
full-width figure caption) split the page into bands; within a band the left
column is read before the right one.  Each column is examined again, so three
columns work too.  Single-column pages are read top to bottom as they are.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Layout thresholds, in PDF points or shares of rows.
_MIN_ROWS_FOR_COLUMNS = 6  # fewer rows than this: never split into columns
_EDGE_SHARE = 0.2  # gutters are looked for in the middle 60% of the text width
_MAX_CROSSING_SHARE = 0.25  # at most this share of rows may cross a gutter
_MIN_SIDE_SHARE = 0.3  # each side of a gutter holds text on at least this share of rows
_MIN_WORDS_PER_SIDE_ROW = 3.0  # table cells ("Italy", "2019") are not text columns
_MIN_GUTTER_PT = 6.0  # a gap narrower than this is a word space, not a gutter
_MAX_DEPTH = 3


@dataclass(slots=True)
class Box:
    """A word (pdfplumber) or a text segment (PDFium), top-down coordinates."""

    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    n_words: int = 1


def _rows(boxes: list[Box]) -> list[list[Box]]:
    """Group boxes into rows: a box joins a row when its middle lies inside the row."""
    rows: list[list[Box]] = []
    bounds: list[tuple[float, float]] = []
    for b in sorted(boxes, key=lambda b: (b.top, b.x0)):
        mid = (b.top + b.bottom) / 2
        if rows and bounds[-1][0] - 1 <= mid <= bounds[-1][1] + 1:
            rows[-1].append(b)
            top, bottom = bounds[-1]
            bounds[-1] = (min(top, b.top), max(bottom, b.bottom))
        else:
            rows.append([b])
            bounds.append((b.top, b.bottom))
    for row in rows:
        row.sort(key=lambda b: b.x0)
    return rows


def _find_gutter(rows: list[list[Box]]) -> float | None:
    """x of a vertical gutter that splits these rows into two text columns, or None.

    Candidates are runs of x positions (in the middle 60% of the text width, 1 pt
    apart) crossed by at most a quarter of the rows and at least 6 pt wide; the run
    crossed least on average wins and its middle is the gutter.  It counts only when
    both sides carry text on at least 30% of the rows, with 3+ words per row on
    average (table columns of single cells fail that).
    """
    if len(rows) < _MIN_ROWS_FOR_COLUMNS:
        return None
    boxes = [b for row in rows for b in row]
    left, right = min(b.x0 for b in boxes), max(b.x1 for b in boxes)
    width = right - left
    if width < 4 * _MIN_GUTTER_PT:
        return None
    xs = np.arange(left + _EDGE_SHARE * width, right - _EDGE_SHARE * width, 1.0)
    if xs.size == 0:
        return None
    crossed = np.zeros((len(rows), xs.size), dtype=bool)
    for i, row in enumerate(rows):
        for b in row:
            lo, hi = np.searchsorted(xs, [b.x0 - 1.0, b.x1 + 1.0])
            crossed[i, lo:hi] = True
    counts = crossed.sum(axis=0)
    low = np.flatnonzero(counts <= _MAX_CROSSING_SHARE * len(rows))
    if low.size == 0:
        return None
    # Runs of low-crossing positions wide enough to be a gutter; the one crossed least wins.
    runs = [r for r in np.split(low, np.flatnonzero(np.diff(low) > 1) + 1)
            if len(r) + 2.0 >= _MIN_GUTTER_PT]
    if not runs:
        return None
    run = min(runs, key=lambda r: (counts[r].mean(), -len(r)))
    x = float(xs[run[0]] + xs[run[-1]]) / 2
    left_rows = right_rows = 0
    left_words = right_words = 0
    for row in rows:
        lw = sum(b.n_words for b in row if b.x1 <= x)
        rw = sum(b.n_words for b in row if b.x0 >= x)
        left_rows += lw > 0
        right_rows += rw > 0
        left_words += lw
        right_words += rw
    if min(left_rows, right_rows) < _MIN_SIDE_SHARE * len(rows):
        return None
    if min(left_words / left_rows, right_words / right_rows) < _MIN_WORDS_PER_SIDE_ROW:
        return None
    return x


def _column_text(rows: list[list[Box]]) -> str:
    """Rows to lines; a vertical gap above 0.7 times the smaller of the two rows' heights
    starts a paragraph (so a large title's own leading does not split it)."""
    parts: list[str] = []
    prev: tuple[float, float] | None = None  # bottom, height of the previous row
    for row in rows:
        top, bottom = min(b.top for b in row), max(b.bottom for b in row)
        if prev is not None:
            parts.append("\n\n" if top - prev[0] > 0.7 * min(prev[1], bottom - top) else "\n")
        parts.append(" ".join(b.text for b in row))
        prev = (bottom, bottom - top)
    return "".join(parts)


def layout_text(boxes: list[Box], depth: int = 0) -> tuple[str, int]:
    """Text of a page region in reading order, and how many columns side by side it had."""
    rows = _rows(boxes)
    gutter = _find_gutter(rows) if depth < _MAX_DEPTH else None
    if gutter is None:
        return _column_text(rows), 1
    blocks: list[str] = []
    columns = 1
    band: list[list[Box]] = []
    band_spans = False

    def flush() -> None:
        nonlocal columns
        if not band:
            return
        if band_spans:
            blocks.append(_column_text(band))
            return
        side_cols = 0
        for side in (
            [b for r in band for b in r if b.x1 <= gutter],
            [b for r in band for b in r if b.x0 >= gutter],
        ):
            if side:
                text, n = layout_text(side, depth + 1)
                blocks.append(text)
                side_cols += n
        columns = max(columns, side_cols)

    for row in rows:
        spans = any(b.x0 < gutter < b.x1 for b in row)
        if band and spans != band_spans:
            flush()
            band = []
        band_spans = spans
        band.append(row)
    flush()
    return "\n\n".join(b for b in blocks if b), columns
