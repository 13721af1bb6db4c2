"""PDF engines: open the bytes and yield each page's text boxes, one page at a time.

Why two: pdfplumber (pdfminer, the default) reports unmapped glyphs as
``(cid:NN)`` so broken font maps are detected; PDFium (``[pdf] engine =
"pypdfium2"``) is much faster but emits shifted letters for them, so broken
font maps pass as text with it.  bench/bench_pdf.py measures both.  Pages are
closed after use so memory stays bounded; a page that fails is yielded as its
exception so one bad content stream does not lose the file.
"""
from __future__ import annotations

import io
from collections.abc import Callable, Iterable
from typing import Any

from .layout import Box

ENGINES: tuple[str, ...] = ("pdfplumber", "pypdfium2")


class Encrypted(Exception):
    """The empty password does not open the PDF."""


def plumber_pages(data: bytes, limit: int) -> Iterable[tuple[int, Any]]:
    """Yield (n_pages, page boxes or exception) for the first ``limit`` pages."""
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        pdf = pdfplumber.open(io.BytesIO(data), password="")
    except PdfminerException as exc:
        inner = exc.args[0] if exc.args else exc
        if isinstance(inner, (PDFPasswordIncorrect, PDFEncryptionError)):
            raise Encrypted(type(inner).__name__) from None
        raise inner if isinstance(inner, BaseException) else exc from None
    except (PDFPasswordIncorrect, PDFEncryptionError) as exc:
        raise Encrypted(type(exc).__name__) from None
    with pdf:
        pages = pdf.pages
        n = len(pages)
        for i in range(min(n, limit)):
            page = pages[i]
            try:
                words = page.extract_words(keep_blank_chars=False, use_text_flow=False)
                boxes = [Box(w["x0"], w["x1"], w["top"], w["bottom"], w["text"]) for w in words]
                yield n, boxes
            except Exception as exc:  # one bad content stream must not lose the file
                yield n, exc
            finally:
                page.close()


def pdfium_pages(data: bytes, limit: int) -> Iterable[tuple[int, Any]]:
    """Like :func:`plumber_pages`, with PDFium's text segments as boxes."""
    import pypdfium2 as pdfium

    try:
        doc = pdfium.PdfDocument(data, password=None)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise Encrypted(str(exc)) from None
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
                        boxes.append(Box(l, r, height - t, height - b, text, len(text.split())))
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


def page_reader(engine: str) -> Callable[[bytes, int], Iterable[tuple[int, Any]]]:
    """The page generator of an engine named in ``ENGINES``."""
    return pdfium_pages if engine == "pypdfium2" else plumber_pages
