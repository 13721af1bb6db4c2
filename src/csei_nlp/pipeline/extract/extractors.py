"""One interface for every media type: ``extractor_for(media).extract(raw, cfg) -> Extraction``.

Why: the worker (:mod:`csei_nlp.pipeline.process`) should not know how each
kind of input becomes main text.  Each media type has one extractor object
here; supporting a new type means registering one more, not another branch in
the worker.  Extractors never raise for a bad document that they can
recognise: they return an :class:`Extraction` whose status is not ``ok``.
The libraries behind them are imported on first use, in the worker process.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ...config import Config
from ...types import RawInput, Status


@dataclass(slots=True)
class Extraction:
    """What an extractor found: main text and document fields, or why there is none.

    ``fields`` are ``Document`` attributes the input told (``title``, ``date``,
    ``canonical_url``, ``html_lang``, ``links``); ``url`` is the document's own address
    for when the input did not name one.  ``meta`` is merged into the document's meta,
    also when status is not ``ok``.  ``clean_chrome`` asks the worker to drop
    navigation/cookie lines afterwards; ``consent_done`` says the consent filter has run.
    """

    text: str = ""
    status: Status = "ok"
    reason: str = ""
    detail: str = ""
    fields: dict[str, Any] = field(default_factory=dict)
    url: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    clean_chrome: bool = True
    consent_done: bool = False


class Extractor(Protocol):
    """Turns one ``RawInput`` of its media type into an :class:`Extraction`."""

    def extract(self, raw: RawInput, cfg: Config) -> Extraction: ...


class HtmlExtractor:
    """HTML pages: charset decoding, then trafilatura with our metadata, links and consent filter."""

    def extract(self, raw: RawInput, cfg: Config) -> Extraction:
        from ..read.charset import decode_html
        from .html import ExtractionError, extract_html

        meta: dict[str, Any] = {}
        if isinstance(raw.data, bytes):
            html, meta["encoding"] = decode_html(raw.data, raw.http_charset)
        else:
            html = raw.data
        try:
            ext = extract_html(html, raw.url, cfg)
        except ExtractionError as exc:
            return Extraction(status="skipped", reason=exc.reason, detail=f"{raw.source_ref}: {exc.detail}",
                              meta=meta)
        meta.update(ext.meta)
        og_url = getattr(ext, "og_url", None)
        if og_url:
            meta["og_url"] = og_url
        fields = {"title": ext.title, "date": ext.date, "canonical_url": ext.canonical_url,
                  "html_lang": ext.html_lang, "links": list(ext.links)}
        return Extraction(text=ext.text, fields=fields, url=ext.canonical_url or og_url, meta=meta,
                          consent_done=True)


class PdfExtractor:
    """PDF files: page-by-page text with statuses (see :mod:`.pdf`); page chrome is not filtered."""

    def extract(self, raw: RawInput, cfg: Config) -> Extraction:
        from .pdf import extract_pdf

        data = raw.data if isinstance(raw.data, bytes) else raw.data.encode("latin-1")
        res = extract_pdf(data, raw.source_ref, cfg)
        if res.status != "ok":
            return Extraction(status=res.status, reason=res.reason, detail=res.detail, meta=res.meta,
                              clean_chrome=False)
        title = res.meta.get("title")
        return Extraction(text=res.text, fields={"title": title} if title else {}, meta=res.meta,
                          clean_chrome=False)


class TextExtractor:
    """Plain text and Markdown: already decoded by the reader (bytes are read as UTF-8)."""

    def extract(self, raw: RawInput, cfg: Config) -> Extraction:
        text = raw.data.decode("utf-8", "replace") if isinstance(raw.data, bytes) else raw.data
        return Extraction(text=text)


EXTRACTORS: dict[str, Extractor] = {
    "html": HtmlExtractor(),
    "pdf": PdfExtractor(),
    "text": TextExtractor(),
    "markdown": TextExtractor(),
}


def extractor_for(media: str) -> Extractor | None:
    """The extractor registered for a media type, or None when there is none."""
    return EXTRACTORS.get(media)
