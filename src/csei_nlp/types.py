"""The records that flow through the pipeline.

One input unit (a file, or one WARC record) becomes one ``RawInput`` in the
reader stage, then one ``Document`` in the worker stage.  A Document always
exists, even for a broken input: its ``status`` and ``reason`` say what went
wrong, so that every input ends up either processed or recorded as failed.

Status values:
    ok       the document has text and went through the pipeline
    skipped  nothing to do, on purpose (revisit record, non-200, empty file ...)
    failed   something was wrong with the input (corrupt PDF, timeout ...)

``reason`` is a short machine code (``no_text_layer``, ``encrypted``,
``corrupt``, ``timeout``, ``too_large``, ``empty``, ``binary``,
``unsupported_type``, ``revisit``, ``non_200``, ``truncated`` ...) and
``detail`` a human sentence that names the problem.
"""
from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

Status = Literal["ok", "skipped", "failed"]
Media = Literal["html", "pdf", "text", "markdown", "unknown"]

FAMILIES: tuple[str, ...] = ("innovation", "helix", "criteria")


def source_ref(source: str, offset: int | None = None) -> str:
    """How a document's origin is written everywhere: ``path``, or ``path@offset`` for a WARC record."""
    return source if offset is None else f"{source}@{offset}"


def stable_id(*parts: object, length: int = 16) -> str:
    """A short, stable hex id from its parts (not a security hash)."""
    h = hashlib.sha1("\x1f".join("" if p is None else str(p) for p in parts).encode("utf-8"))
    return h.hexdigest()[:length]


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_file(path: str | Path) -> str | None:
    """sha256 of a file's bytes, read in blocks; None when it cannot be read."""
    h = hashlib.sha256()
    try:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    except OSError:
        return None
    return h.hexdigest()


@dataclass(slots=True)
class RawInput:
    """One unit of input as a reader found it, before decoding and extraction.

    ``data`` is bytes for HTML and PDF (decoding is the worker's job, so that
    one charset policy serves files and WARC records alike) and str for text
    that arrives already decoded (JSONL records, text files).
    """

    source: str
    media: Media
    data: bytes | str = b""
    offset: int | None = None
    url: str | None = None
    fetch_date: str | None = None
    http_charset: str | None = None
    lang_hint: str | None = None
    status: Status = "ok"
    reason: str = ""
    detail: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def doc_id(self) -> str:
        return stable_id(self.source, self.offset)

    @property
    def source_ref(self) -> str:
        """``path`` or ``path@offset`` for a WARC record."""
        return source_ref(self.source, self.offset)


@dataclass(slots=True)
class Span:
    """A piece of evidence: characters [start, end) of the document text."""

    start: int
    end: int
    text: str
    kind: str  # e.g. "cue"
    family: str  # taxonomy family, or a cue group ("legal_form", "self_designation" ...)
    label: str
    term: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(slots=True)
class Passage:
    """A run of sentences of at most ~200 tokens, with offsets into ``Document.text``."""

    doc_id: str
    index: int
    start: int
    end: int
    text: str
    lang: str = "und"
    n_tokens: int = 0
    spans: list[Span] = field(default_factory=list)
    labels: dict[str, dict[str, float]] = field(default_factory=dict)
    embedded: bool = False
    skip_reason: str = ""

    @property
    def id(self) -> str:
        return f"{self.doc_id}:{self.index}"

    @property
    def hash(self) -> str:
        return content_hash(self.text)


@dataclass(slots=True)
class Document:
    id: str
    source: str
    offset: int | None = None
    media: Media = "unknown"
    status: Status = "ok"
    reason: str = ""
    detail: str = ""
    url: str | None = None
    site: str | None = None
    fetch_date: str | None = None
    title: str | None = None
    date: str | None = None
    canonical_url: str | None = None
    html_lang: str | None = None
    links: list[str] = field(default_factory=list)
    text: str = ""
    lang: str = "und"
    lang_scores: dict[str, float] = field(default_factory=dict)
    lang_mix: dict[str, float] = field(default_factory=dict)
    passages: list[Passage] = field(default_factory=list)
    content_hash: str = ""
    dup_of: str | None = None
    near_dup_group: str | None = None
    labels: dict[str, dict[str, float]] = field(default_factory=dict)
    tags: dict[str, list[str]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    # float32 (embedded passages, dim) array set by tagging, in passage order; written to the
    # result shards (store/shards.py), not to the SQLite store
    vectors: Any = None

    @classmethod
    def from_raw(cls, raw: RawInput) -> "Document":
        return cls(
            id=raw.doc_id,
            source=raw.source,
            offset=raw.offset,
            media=raw.media,
            status=raw.status,
            reason=raw.reason,
            detail=raw.detail,
            url=raw.url,
            fetch_date=raw.fetch_date,
            meta=dict(raw.meta),
        )

    @property
    def source_ref(self) -> str:
        return source_ref(self.source, self.offset)

    def fail(self, status: Status, reason: str, detail: str = "") -> "Document":
        """Mark this document as skipped/failed and drop any partial results."""
        self.status, self.reason, self.detail = status, reason, detail
        self.text, self.passages = "", []
        return self

    def summary(self) -> dict[str, Any]:
        """The row written to ``documents.jsonl`` (no full text, no passages)."""
        return {
            "id": self.id,
            "source": {"path": self.source, "offset": self.offset},
            "url": self.url,
            "site": self.site,
            "media": self.media,
            "status": self.status,
            "reason": self.reason,
            "lang": self.lang,
            "lang_scores": self.lang_scores,
            "lang_mix": self.lang_mix,
            "title": self.title,
            "date": self.date,
            "canonical_url": self.canonical_url,
            "html_lang": self.html_lang,
            "fetch_date": self.fetch_date,
            "n_chars": len(self.text),
            "n_passages": len(self.passages),
            "content_hash": self.content_hash,
            "dup_of": self.dup_of,
            "near_dup_group": self.near_dup_group,
            "labels": self.labels,
            "tags": self.tags,
        }

    def failure(self) -> dict[str, Any]:
        """The row written to ``failures.jsonl``."""
        return {
            "source": self.source_ref,
            "status": self.status,
            "reason": self.reason,
            "detail": self.detail,
        }
