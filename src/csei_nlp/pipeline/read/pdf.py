"""Text from PDF reports, page by page, with an honest status for every file.

Cluster reports, annual reports and policy papers arrive as PDFs, and PDFs fail
in ways that look like success: a scan gives empty text, a broken font map gives
``(cid:NN)`` strings, a two-column page comes out with its lines interleaved, a
password-protected file or a truncated download raises deep inside pdfminer.
``extract_pdf`` turns every one of those into a :class:`PdfResult` with a status
(``ok | skipped | failed``), a machine ``reason`` and a ``detail`` sentence
naming the file, and never raises for bad input.

Reading (default engine pdfplumber): pages are read one at a time and closed
after use so memory stays bounded; at most ``[pdf] max_pages`` pages are read
and the cap is recorded; the loop stops with ``timeout`` once the wall clock
passes ``[pdf] timeout_s`` (the worker process enforces a hard limit as well,
for a page that hangs inside pdfminer).

Reading order: words are grouped into rows; a page has columns when a vertical
gutter exists that no word crosses on most rows, with enough text on both sides
(see :func:`_find_gutter`).  Rows that do cross the gutter (a title, a footer,
a full-width figure caption) split the page into bands; within a band the left
column is read before the right one.  Each column is examined again, so three
columns work too.  Single-column pages are read top to bottom as they are.

Text clean-up, in this order:

* Ligature code points U+FB00-FB06 become their letters (NFKC on those code
  points only).  NFKC on the whole text is not applied: it also rewrites
  superscript footnote markers ("innovation²" -> "innovation2"), fractions,
  the ™ sign and full-width forms, which damages text we later match cues
  against.  NFC is applied to everything; it only composes letters with
  combining accents (c + U+030C -> č, common in CEE PDFs) and changes no
  meaning.
* Soft hyphens (U+00AD) are removed; at a line end they join the word.
* ``(cid:NN)`` tokens are measured per page; a page whose share of them is
  above ``[pdf] max_cid_ratio`` is unextractable and contributes no text.
  U+FFFD (replacement character) is counted per page.
* Line-end hyphens are resolved by :func:`dehyphenate` (rule in its docstring).

Engines: ``[pdf] engine = "pypdfium2"`` reads with PDFium instead: much faster,
the same statuses and clean-up, columns from PDFium's text segments.  PDFium
does not report unmapped glyphs as ``(cid:NN)`` (it emits shifted letters), so
broken font maps pass as text with that engine; bench/bench_pdf.py measures
both.
"""
from __future__ import annotations

import io
import re
import time
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from ...config import Config
from ...types import Status

ENGINES: tuple[str, ...] = ("pdfplumber", "pypdfium2")

# Layout thresholds, in PDF points or shares of rows.
_MIN_ROWS_FOR_COLUMNS = 6  # fewer rows than this: never split into columns
_EDGE_SHARE = 0.2  # gutters are looked for in the middle 60% of the text width
_MAX_CROSSING_SHARE = 0.25  # at most this share of rows may cross a gutter
_MIN_SIDE_SHARE = 0.3  # each side of a gutter holds text on at least this share of rows
_MIN_WORDS_PER_SIDE_ROW = 3.0  # table cells ("Italy", "2019") are not text columns
_MIN_GUTTER_PT = 6.0  # a gap narrower than this is a word space, not a gutter
_MAX_DEPTH = 3

_LIGATURES = {chr(cp): unicodedata.normalize("NFKC", chr(cp)) for cp in range(0xFB00, 0xFB07)}
_LIGATURE_RE = re.compile("[\ufb00-\ufb06]")
_CID_RE = re.compile(r"\(cid:\d+\)")
_SOFT_HYPHEN_EOL_RE = re.compile("\u00ad[ \t]*\n[ \t]*")
_LETTERS = r"[^\W\d_]+"
# A word fragment, a hyphen (ASCII or U+2010) at the end of a line, optionally one blank
# line (a column or band break), then the continuation.
_EOL_HYPHEN_RE = re.compile(rf"({_LETTERS})[-\u2010][ \t]*\n(?:[ \t]*\n)?[ \t]*({_LETTERS})")
_MIDLINE_COMPOUND_RE = re.compile(rf"(?<![\w-])({_LETTERS})-({_LETTERS})(?![\w-])")
_WORD_RE = re.compile(_LETTERS)

# Conjunctions after a "suspended" hyphen ("Sozial- und Umweltinnovation", "social- and
# ecological", "sociálne- a environmentálne"): the hyphen belongs to the first word.
SUSPENDED_HYPHEN_CONJUNCTIONS: frozenset[str] = frozenset(
    """
    and or nor und oder bzw sowie noch et ou ni e o y u ed od en of og eller och samt
    ja tai sekä ning või ir arba un vai a i ali ani alebo aj či nebo ani oraz lub albo ni
    és vagy s ili te pa și sau ori и или ни та і й або
    """.split()
)


@dataclass(slots=True)
class PdfResult:
    """What :func:`extract_pdf` found in one PDF.

    ``text`` is the pages' text joined by blank lines ("" unless status is ok);
    ``pages`` holds one string per page read ("" for a page without usable text),
    also for a failed file, so a partial read can be inspected.
    """

    text: str = ""
    status: Status = "ok"
    reason: str = ""
    detail: str = ""
    pages: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class _Settings:
    max_pages: int
    timeout_s: float
    min_chars: int
    max_cid_ratio: float
    engine: str


def settings(cfg: Config) -> _Settings:
    """The ``[pdf]`` section (validated by :func:`csei_nlp.config.load`)."""
    sec = cfg.pdf
    return _Settings(max_pages=sec.max_pages, timeout_s=sec.timeout_s, min_chars=sec.min_chars_per_page,
                     max_cid_ratio=sec.max_cid_ratio, engine=sec.engine)


# --- text clean-up -----------------------------------------------------------------------


def normalize_text(text: str) -> str:
    """Ligatures to letters, NFC, soft hyphens removed (joining words at line ends)."""
    text = _LIGATURE_RE.sub(lambda m: _LIGATURES[m.group()], text)
    text = unicodedata.normalize("NFC", text)
    text = _SOFT_HYPHEN_EOL_RE.sub("", text)
    return text.replace("\u00ad", "")


def _vocabulary(texts: Iterable[str]) -> tuple[set[str], set[str]]:
    """Lower-cased words and hyphenated compounds seen away from line-end hyphens."""
    words: set[str] = set()
    compounds: set[str] = set()
    for text in texts:
        rest = _EOL_HYPHEN_RE.sub(" ", text)
        words.update(w.lower() for w in _WORD_RE.findall(rest))
        compounds.update(f"{a}-{b}".lower() for a, b in _MIDLINE_COMPOUND_RE.findall(rest))
    return words, compounds


def dehyphenate(
    text: str, vocabulary: tuple[set[str], set[str]] | None = None, stats: Counter | None = None
) -> str:
    """Resolve hyphens at line ends: join a word broken by typesetting, keep real hyphens.

    For ``head-`` at a line end followed by ``tail`` on the next line, first rule that
    applies wins (words compared lower-cased, against the whole document):

    1. ``head-tail`` occurs elsewhere in the document with its hyphen -> keep.
    2. ``tail`` is a conjunction ("und", "and", "a", "i", "oder" ...): a suspended
       hyphen as in "Sozial- und Umweltinnovation" -> keep, with the space.
    3. ``tail`` starts with a capital ("EU-Kommission", "Nord-Süd") -> keep; a word
       broken by hyphenation continues in lower case.
    4. ``headtail`` occurs elsewhere in the document -> join ("inno-/vation").
    5. ``head`` and ``tail`` both occur as standalone words -> keep
       ("social-/economy" gives "social-economy").
    6. otherwise join: at least one part is not a word of this document, so it is a
       fragment ("partici-/pation").

    Fragments next to line-end hyphens do not count as known words.  A hyphen before
    a digit ("COVID-/19") is never touched.  Rule 5 keeps a few broken words whose
    parts are words ("work-/shop" when "workshop" appears nowhere else); rejoining
    a real compound would be the worse error for cue matching.
    ``vocabulary`` comes from :func:`_vocabulary` over the whole document (pages
    are dehyphenated one at a time against it); ``stats`` counts joined/kept.
    """
    words, compounds = vocabulary if vocabulary is not None else _vocabulary([text])

    def fix(m: re.Match[str]) -> str:
        head, tail = m.group(1), m.group(2)
        lh, lt = head.lower(), tail.lower()
        if f"{lh}-{lt}" in compounds:
            keep = f"{head}-{tail}"
        elif lt in SUSPENDED_HYPHEN_CONJUNCTIONS:
            keep = f"{head}- {tail}"
        elif tail[0].isupper():
            keep = f"{head}-{tail}"
        elif lh + lt in words:
            keep = ""
        elif lh in words and lt in words:
            keep = f"{head}-{tail}"
        else:
            keep = ""
        if stats is not None:
            stats["hyphens_kept" if keep else "hyphens_joined"] += 1
        return keep or head + tail

    return _EOL_HYPHEN_RE.sub(fix, text)


def cid_ratio(text: str) -> float:
    """Share of ``(cid:NN)`` tokens among the visible glyphs of ``text``."""
    n_cid = len(_CID_RE.findall(text))
    if not n_cid:
        return 0.0
    rest = _CID_RE.sub("", text)
    n_other = sum(1 for ch in rest if not ch.isspace())
    return n_cid / (n_cid + n_other)


# --- layout ------------------------------------------------------------------------------


@dataclass(slots=True)
class _Box:
    """A word (pdfplumber) or a text segment (PDFium), top-down coordinates."""

    x0: float
    x1: float
    top: float
    bottom: float
    text: str
    n_words: int = 1


def _rows(boxes: list[_Box]) -> list[list[_Box]]:
    """Group boxes into rows: a box joins a row when its middle lies inside the row."""
    rows: list[list[_Box]] = []
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


def _find_gutter(rows: list[list[_Box]]) -> float | None:
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


def _column_text(rows: list[list[_Box]]) -> str:
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


def layout_text(boxes: list[_Box], depth: int = 0) -> tuple[str, int]:
    """Text of a page region in reading order, and how many columns side by side it had."""
    rows = _rows(boxes)
    gutter = _find_gutter(rows) if depth < _MAX_DEPTH else None
    if gutter is None:
        return _column_text(rows), 1
    blocks: list[str] = []
    columns = 1
    band: list[list[_Box]] = []
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


# --- engines -----------------------------------------------------------------------------


class _Encrypted(Exception):
    pass


def _plumber_pages(data: bytes, limit: int) -> Iterable[tuple[int, Any]]:
    """Yield (n_pages, page boxes or exception) for the first ``limit`` pages."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = pdfplumber.open(io.BytesIO(data), password="")
    except PdfminerException as exc:
        inner = exc.args[0] if exc.args else exc
        if isinstance(inner, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise _Encrypted(type(inner).__name__) from None
        raise inner if isinstance(inner, BaseException) else exc from None
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise _Encrypted(type(exc).__name__) from None
    with pdf:
        pages = pdf.pages
        n = len(pages)
        for i in range(min(n, limit)):
            page = pages[i]
            try:
                words = page.extract_words(keep_blank_chars=False, use_text_flow=False)
                boxes = [_Box(w["x0"], w["x1"], w["top"], w["bottom"], w["text"]) for w in words]
                yield n, boxes
            except Exception as exc:  # one bad content stream must not lose the file
                yield n, exc
            finally:
                page.close()


def _pdfium_pages(data: bytes, limit: int) -> Iterable[tuple[int, Any]]:
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data, password=None)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise _Encrypted(str(exc)) from None
        raise
    try:
        n = len(doc)
        for i in range(min(n, limit)):
            page = textpage = None
            try:
                page = doc[i]
                height = page.get_height()
                textpage = page.get_textpage()
                boxes = []
                for j in range(textpage.count_rects()):
                    l, b, r, t = textpage.get_rect(j)
                    # PDFium marks a hyphen it saw at a line end as U+0002.
                    text = textpage.get_text_bounded(l, b, r, t).replace("\x02", "-").strip()
                    if text:
                        boxes.append(_Box(l, r, height - t, height - b, text, len(text.split())))
                yield n, boxes
            except Exception as exc:
                yield n, exc
            finally:
                if textpage is not None:
                    textpage.close()
                if page is not None:
                    page.close()
    finally:
        doc.close()


# --- the entry point ---------------------------------------------------------------------


def _failed(reason: str, detail: str, meta: dict[str, Any], pages: list[str] | None = None,
            status: Status = "failed") -> PdfResult:
    return PdfResult(text="", status=status, reason=reason, detail=detail, pages=pages or [], meta=meta)


def extract_pdf(data: bytes, source: str, cfg: Config) -> PdfResult:
    """Extract the text of one PDF; never raises for bad input (see module docstring).

    Reasons: ``empty`` (no bytes or no pages), ``corrupt`` (not a PDF, parse error,
    every page failed), ``truncated`` (parse error in a file that has PDF objects
    but lacks its final ``%%EOF``: a cut-short download), ``encrypted`` (the empty password does not open it), ``timeout``,
    ``no_text_layer`` (no page reaches ``min_chars_per_page``: a scan),
    ``cid_garbage`` (every page with text is mostly ``(cid:NN)``).
    """
    s = settings(cfg)
    started = time.monotonic()
    meta: dict[str, Any] = {"engine": s.engine, "n_pages": 0, "pages_read": 0}
    if not data:
        return _failed("empty", f"{source}: the PDF file is empty (0 bytes)", meta, status="skipped")
    if b"%PDF-" not in data[:1024]:
        return _failed("corrupt", f"{source}: not a PDF (no %PDF- header in the first 1024 bytes)", meta)
    meta["eof_marker"] = b"%%EOF" in data[-2048:]
    reader = _pdfium_pages if s.engine == "pypdfium2" else _plumber_pages

    raw_pages: list[str] = []
    columns: list[int] = []
    errors: list[str] = []
    n_pages = 0
    timed_out = False
    try:
        for n_pages, item in reader(data, s.max_pages):
            if isinstance(item, Exception):
                errors.append(f"page {len(raw_pages) + 1}: {type(item).__name__}: {item}")
                raw_pages.append("")
                columns.append(0)
            else:
                text, n_cols = layout_text(item) if item else ("", 1)
                raw_pages.append(normalize_text(text))
                columns.append(n_cols)
            if time.monotonic() - started > s.timeout_s:
                timed_out = True
                break
    except _Encrypted as exc:
        return _failed("encrypted", f"{source}: the PDF is password-protected (the empty password "
                       f"does not open it: {exc})", meta)
    except Exception as exc:  # pdfminer/PDFium raise many types for damaged files
        what = f"{type(exc).__name__}: {exc}"[:300]
        if not meta["eof_marker"] and b"endobj" in data:
            return _failed("truncated", f"{source}: the PDF cannot be parsed and has no final %%EOF "
                           f"marker, so the file is probably cut short ({len(data):,} bytes; {what})",
                           meta)
        return _failed("corrupt", f"{source}: the PDF cannot be parsed ({what})", meta)

    read = len(raw_pages)
    meta.update(
        n_pages=n_pages,
        pages_read=read,
        truncated_pages=max(n_pages - read, 0),
        capped=n_pages > s.max_pages and not timed_out,
        columns_per_page=columns,
        columns_detected=sum(1 for c in columns if c > 1),
        page_errors=errors,
    )
    if n_pages == 0:
        return _failed("empty", f"{source}: the PDF has no pages", meta, status="skipped")

    ratios = [cid_ratio(p) for p in raw_pages]
    cid_pages = [i + 1 for i, r in enumerate(ratios) if r > s.max_cid_ratio]
    pages = ["" if i + 1 in cid_pages else _CID_RE.sub("", p) for i, p in enumerate(raw_pages)]
    words = _vocabulary(pages)
    stats: Counter = Counter()
    pages = [dehyphenate(p, words, stats).strip() for p in pages]
    n_chars = [sum(1 for ch in p if not ch.isspace()) for p in pages]
    fffd = [p.count("\ufffd") for p in pages]
    all_chars = sum(sum(1 for ch in p if not ch.isspace()) for p in raw_pages)
    meta.update(
        cid_ratio=round(cid_ratio("\n".join(raw_pages)), 4),
        cid_pages=cid_pages,
        fffd_count=sum(fffd),
        fffd_per_page=fffd,
        chars_per_page=n_chars,
        empty_pages=[i + 1 for i, c in enumerate(n_chars) if c < s.min_chars and i + 1 not in cid_pages],
        hyphens_joined=stats["hyphens_joined"],
        hyphens_kept=stats["hyphens_kept"],
    )

    if timed_out:
        return _failed("timeout", f"{source}: stopped after {read} of {n_pages} pages because reading "
                       f"took longer than timeout_s={s.timeout_s:g} s", meta, pages)
    if errors and len(errors) == read:
        return _failed("corrupt", f"{source}: no page could be read ({errors[0][:200]})", meta, pages)
    if not any(c >= s.min_chars for c in n_chars):
        if cid_pages:
            return _failed("cid_garbage", f"{source}: the text layer is unreadable: {len(cid_pages)} of "
                           f"{read} pages are mostly (cid:NN) glyph codes (font without a Unicode map)",
                           meta, pages)
        return _failed("no_text_layer", f"{source}: no text layer ({all_chars} characters on {read} "
                       f"pages, fewer than {s.min_chars} per page); probably scanned and needs OCR",
                       meta, pages)
    detail = ""
    if meta["capped"]:
        detail = f"{source}: read the first {read} of {n_pages} pages (max_pages={s.max_pages})"
    return PdfResult(
        text="\n\n".join(p for p in pages if p),
        status="ok",
        detail=detail,
        pages=pages,
        meta=meta,
    )
