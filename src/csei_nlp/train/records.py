"""The record types of training data, shared by the annotation readers (``data``) and the
app feedback reader (``feedback``) so that neither has to import the other's module.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import CseiError

__all__ = ["AnnotationError", "Dataset", "DocRecord", "PassageRecord", "published_digest"]

# Labelled pages as published (``train.published``): ANNOTATIONS/published/{pages.jsonl, features.npz}.
# Named here, beside the records, because the dataset's hash (``data``) covers them too.
PUBLISHED_FOLDER = "published"
PUBLISHED_PAGES_FILE = "pages.jsonl"
PUBLISHED_FEATURES_FILE = "features.npz"


def published_digest(annotations_dir: str | Path) -> str:
    """sha256 of the stored pages' two files, "" when there are none."""
    root = Path(annotations_dir) / PUBLISHED_FOLDER
    pages, feats = root / PUBLISHED_PAGES_FILE, root / PUBLISHED_FEATURES_FILE
    if not pages.is_file() or not feats.is_file():
        return ""
    return digest_of_published(pages.read_bytes(), feats.read_bytes())


def digest_of_published(pages: bytes, features: bytes) -> str:
    """The digest of the two files' contents, for a reader that already holds them."""
    return hashlib.sha256(pages + features).hexdigest()


class AnnotationError(CseiError):
    """An annotation file is malformed; the message names the file and line."""


@dataclass(slots=True)
class PassageRecord:
    id: str
    doc_id: str
    text: str
    lang: str
    source: str
    labels: dict[str, list[str]]
    is_csei: int
    kind: str
    annotator: str = ""
    split: str | None = None
    group: str | None = None  # scenario shared by near-translations in several languages
    where: str = ""  # file:line, for messages

    @property
    def split_group(self) -> str:
        """The unit the splits keep together: the scenario group when set, else the document."""
        return f"grp:{self.group}" if self.group else f"doc:{self.doc_id}"


@dataclass(slots=True)
class DocRecord:
    """A document for the candidate model.

    ``group`` keeps related documents in one split: the site for dev pages (both
    pages of one organisation stay together), the annotated scenario group for
    near-translations (``grp:<group>``), else the document itself (``doc:<doc_id>``).  ``passages`` are the texts
    (annotated passages, or a page's extracted text segmented).  ``targets`` are
    page-level family labels when they are valid targets, else None.
    """

    doc_id: str
    group: str
    lang: str
    is_csei: int
    kind: str
    origin: str  # "passages" | "page"
    passages: list[str] = field(default_factory=list)
    targets: dict[str, list[str]] | None = None
    split_hint: str | None = None
    html_path: Path | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    # Page subject: 1 when the page presents one organisation, 0 when it is about a topic,
    # None when unknown (real pages kept as negatives).  Voice: 1 third party, 0 self-description.
    subject: int | None = None
    voice: int | None = None
    genre: str = ""

    @property
    def stratum(self) -> str:
        """What the splits deal out together: the language, kept apart per data source."""
        if self.origin in ("webpage", "real"):
            return f"{self.origin}:{self.lang}"
        return self.lang


@dataclass(slots=True)
class Dataset:
    passages: list[PassageRecord]
    docs: list[DocRecord]
    data_hash: str
    files: list[str]
