"""Text from PDF reports, page by page, with an honest status for every file.

Cluster reports, annual reports and policy papers arrive as PDFs, and PDFs fail
in ways that look like success: a scan gives empty text, a broken font map gives
``(cid:NN)`` strings, a two-column page comes out with its lines interleaved, a
password-protected file or a truncated download raises deep inside pdfminer.
``extract_pdf`` turns every one of those into a :class:`PdfResult` with a status
(``ok | skipped | failed``), a machine ``reason`` and a ``detail`` sentence
naming the file, and never raises for bad input.

Reading (default engine pdfplumber, see :mod:`.engines`): pages are read one at
a time; at most ``[pdf] max_pages`` pages are read and the cap is recorded; the
loop stops with ``timeout`` once the wall clock passes ``[pdf] timeout_s`` (the
worker process enforces a hard limit as well, for a page that hangs inside
pdfminer).  Reading order is :mod:`.layout`'s job, text clean-up
:mod:`.cleanup`'s; a page whose share of ``(cid:NN)`` tokens is above
``[pdf] max_cid_ratio`` contributes no text, and U+FFFD is counted per page.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ....config import Config
from ....types import Status
from .cleanup import (CID_RE, SUSPENDED_HYPHEN_CONJUNCTIONS, build_vocabulary, cid_ratio, dehyphenate,
                      normalize_text)
from .engines import ENGINES, Encrypted, page_reader
from .layout import layout_text

__all__ = ["ENGINES", "SUSPENDED_HYPHEN_CONJUNCTIONS", "PdfResult", "cid_ratio", "dehyphenate", "extract_pdf",
           "layout_text", "normalize_text", "settings"]


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
    reader = page_reader(s.engine)

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
    except Encrypted as exc:
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
    pages = ["" if i + 1 in cid_pages else CID_RE.sub("", p) for i, p in enumerate(raw_pages)]
    words = build_vocabulary(pages)
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
