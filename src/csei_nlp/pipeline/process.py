"""The per-document worker: one ``RawInput`` in, one ``Document`` out.

This is everything that can be done for a document on its own, in a worker
process: decoding, main-text extraction (HTML) or page-by-page reading (PDF),
language identification, segmentation into passages and cue matching.  It is
the crash-prone and CPU-bound part, which is why the executor runs it in
separate processes with a per-document timeout.

It never raises for a bad document: any exception becomes a ``failed``
document whose reason names what went wrong.
"""
from __future__ import annotations

import traceback
import unicodedata

from ..config import Config
from ..types import Document, Passage, RawInput, content_hash
from . import cues, language, segment
from .extract.extractors import extractor_for
from .mentions import mentioned_domains
from .site import site_key


def process(raw: RawInput, cfg: Config) -> Document:
    """Run the document-local stages; always returns a Document."""
    doc = Document.from_raw(raw)
    if raw.status != "ok":
        doc.site = site_key(raw.url, None, raw.source_ref, raw.meta.get("site"))
        return doc
    try:
        _extract(doc, raw, cfg)
        doc.site = site_key(doc.url, doc.canonical_url or doc.meta.get("og_url"), doc.source_ref,
                            raw.meta.get("site"))
        if doc.status != "ok":
            return doc
        _analyse(doc, cfg, hint=raw.lang_hint or doc.html_lang)
    except MemoryError:
        doc.fail("failed", "memory", f"{doc.source_ref}: ran out of memory while processing")
    except Exception as exc:  # noqa: BLE001 - a bad document must never stop the batch
        last = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" (in {last.name})" if last else ""
        doc.fail("failed", "error", f"{doc.source_ref}: {type(exc).__name__}: {exc}{where}")
    return doc


# A short text that every stage handles: detecting its language loads the detector's models, and
# matching its cues imports spaCy, so a fresh worker pays that before its first document's clock starts.
_WARM_UP_TEXT = ("The cooperative works with the town council, the local school and small firms on "
                 "shared projects for the people of the region.")
_warmed = False


def warm_up(cfg: Config) -> None:
    """Load what the first document would otherwise load lazily (the language detector's models,
    spaCy), so that an executor's per-document time limit measures the document alone.  Once per
    process."""
    global _warmed
    if not _warmed:
        process(RawInput(source="warm-up", media="text", data=_WARM_UP_TEXT * 3, lang_hint="en"), cfg)
        _warmed = True


def _extract(doc: Document, raw: RawInput, cfg: Config) -> None:
    extractor = extractor_for(raw.media)
    if extractor is None:
        doc.fail("skipped", "unsupported_type", f"{doc.source_ref}: no reader for media type {raw.media!r}")
        return
    res = extractor.extract(raw, cfg)
    doc.meta.update(res.meta)
    if res.status != "ok":
        doc.fail(res.status, res.reason, res.detail)
        return
    doc.text = res.text
    for name, value in res.fields.items():
        setattr(doc, name, value)
    if doc.url is None:
        doc.url = res.url
    doc.text = unicodedata.normalize("NFC", doc.text).strip()
    if res.clean_chrome:
        from .extract.chrome import clean_text

        chrome = clean_text(doc.text, cfg, consent_done=res.consent_done)
        doc.text = chrome.text
        if chrome.n_removed:
            doc.meta["chrome_lines_removed"] = chrome.n_removed
    if len(doc.text) < cfg.extract.min_chars:
        doc.fail("skipped", "no_main_text", f"{doc.source_ref}: fewer than {cfg.extract.min_chars} characters of main text")


def _analyse(doc: Document, cfg: Config, hint: str | None) -> None:
    tld = (doc.site or "").rsplit(".", 1)[-1] if doc.site and "." in doc.site else None
    lr = language.detect(doc.text, cfg, hint=hint, tld=tld)
    doc.lang, doc.lang_scores, doc.lang_mix = lr.lang, dict(lr.scores), dict(lr.mix)
    doc.content_hash = content_hash(doc.text)
    spans = cues.match(doc.text, doc.lang)
    doc.passages = []
    for i, seg in enumerate(segment.segment(doc.text, doc.lang, cfg)):
        p = Passage(doc_id=doc.id, index=i, start=seg.start, end=seg.end, text=seg.text,
                    lang=doc.lang, n_tokens=seg.n_tokens)
        p.spans = [s for s in spans if s.start >= seg.start and s.end <= seg.end]
        doc.passages.append(p)
    doc.meta["n_cue_hits"] = len(spans)
    doc.meta["mentioned_domains"] = mentioned_domains(doc.text, doc.links, doc.site)
