"""Training data: annotated passages and labelled dev pages, validated on load.

Two sources, used at two levels:

* ``annotations/passages/*.jsonl`` - passages with passage-level labels per
  family and a document label (``is_csei``, ``kind``).  They train and test the
  passage models (innovation, helix, criteria) and, grouped by ``doc_id``,
  are documents for the candidate model.
* ``annotations/pages/`` - whole HTML pages with page-level labels
  (``labels.jsonl``).  Page labels say what a page shows somewhere, not which
  passage shows it, so they are never copied onto the page's passages: pages
  are used only as documents (candidate model, and page-level evaluation of
  the passage models where ``tags_are_targets`` is true).

Every malformed record raises :class:`AnnotationError` naming file and line.
"""
from __future__ import annotations

import hashlib
import json
import logging
import re
from pathlib import Path
from typing import Any

from ..config import Config
from ..errors import CseiError
from ..taxonomy import CEE_COUNTRIES, FAMILIES, LANGUAGE_COUNTRIES
from .feedback import DECISIONS_FILE, app_passages, decision_docs
from .records import (PUBLISHED_FOLDER, PUBLISHED_PAGES_FILE, AnnotationError, Dataset, DocRecord, PassageRecord,
                      published_digest)

log = logging.getLogger(__name__)

SPLITS = ("train", "dev", "test")
# The dev pages call the innovation family "dimensions".
PAGE_FAMILY_KEYS = {"innovation": "dimensions", "helix": "helix", "criteria": "criteria"}


def is_cee_lang(lang: str) -> bool:
    countries = LANGUAGE_COUNTRIES.get(lang, [])
    return bool(countries) and countries[0] in CEE_COUNTRIES


# Kinds whose documents present one organisation; the others are about a topic.
ORGANISATION_KINDS = frozenset({"csei", "industrial_cluster", "single_se", "federation"})
TOPIC_KINDS = frozenset({"policy_page", "academic", "news_other"})
WEBPAGE_GENRES = {
    # genre: (is_csei, subject, voice) as written in annotations/webpages/*.jsonl
    "csei_home": (1, 1, 0), "csei_about_short": (1, 1, 0), "csei_members": (1, 1, 0),
    "csei_news": (1, 1, 1), "csei_profile": (1, 1, 1),
    "industrial_cluster": (0, 1, 0), "single_coop": (0, 1, 0), "federation": (0, 1, 0),
    "agency": (0, 1, 0), "local_partnership_no_se": (0, 1, 0),
    "eu_project": (0, 0, None), "magazine": (0, 0, None), "policy": (0, 0, None),
    "academic": (0, 0, None), "directory": (0, 0, None), "event": (0, 0, None),
    "news_roundup": (0, 0, None), "ordinary": (0, None, None),
}


def kind_subject(kind: str, source: str = "") -> tuple[int | None, int | None]:
    """(subject, voice) of an annotated document from its kind (see ``DocRecord``)."""
    if kind in ORGANISATION_KINDS:
        return 1, (1 if source.startswith("report:") else 0)
    if kind in TOPIC_KINDS:
        return 0, None
    return None, None


def _fail(where: str, msg: str) -> AnnotationError:
    return AnnotationError(f"{where}: {msg}")


def _check_labels(where: str, labels: Any, key_map: dict[str, str] | None = None) -> dict[str, list[str]]:
    if not isinstance(labels, dict):
        raise _fail(where, f"'labels' must be an object with keys {', '.join(FAMILIES)}")
    out: dict[str, list[str]] = {}
    for fam, known in FAMILIES.items():
        key = key_map[fam] if key_map else fam
        vals = labels.get(key, [])
        if not isinstance(vals, list) or not all(isinstance(v, str) for v in vals):
            raise _fail(where, f"labels '{key}' must be a list of label ids")
        bad = [v for v in vals if v not in known]
        if bad:
            raise _fail(where, f"unknown {fam} label(s) {bad}; known: {', '.join(known)}")
        out[fam] = sorted(set(vals))
    return out


def _read_jsonl(path: Path, skipped: list[str] | None = None) -> list[tuple[str, dict[str, Any]]]:
    """``(file:line, object)`` per non-blank line.  A bad line raises AnnotationError, or with
    ``skipped`` is appended there as ``"file:line: reason"`` and left out."""
    rows = []
    try:
        lines = path.read_text("utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise AnnotationError(f"{path}: cannot read: {exc}") from None
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{n}"
        try:
            obj = json.loads(line)
            if not isinstance(obj, dict):
                raise _fail(where, "each line must be a JSON object")
        except json.JSONDecodeError as exc:
            err = _fail(where, f"not valid JSON ({exc.msg} at column {exc.colno})")
            if skipped is None:
                raise err from None
            skipped.append(str(err))
            continue
        except AnnotationError as err:
            if skipped is None:
                raise
            skipped.append(str(err))
            continue
        rows.append((where, obj))
    return rows


def _req_str(where: str, obj: dict[str, Any], key: str) -> str:
    v = obj.get(key)
    if not isinstance(v, str) or not v.strip():
        raise _fail(where, f"missing or empty '{key}' (a non-empty string)")
    return v


def _parse_passage(where: str, obj: dict[str, Any]) -> PassageRecord:
    dl = obj.get("doc_label")
    if not isinstance(dl, dict) or dl.get("is_csei") not in (0, 1, True, False):
        raise _fail(where, "'doc_label' must be an object with is_csei 0 or 1")
    split = obj.get("split")
    if split is not None and split not in SPLITS:
        raise _fail(where, f"'split' must be null or one of {', '.join(SPLITS)}, got {split!r}")
    group = obj.get("group")
    if group is not None and (not isinstance(group, str) or not group.strip()):
        raise _fail(where, f"'group' must be absent, null or a non-empty string, got {group!r}")
    return PassageRecord(
        id=_req_str(where, obj, "id"),
        doc_id=_req_str(where, obj, "doc_id"),
        text=_req_str(where, obj, "text"),
        lang=_req_str(where, obj, "lang"),
        source=str(obj.get("source") or ""),
        labels=_check_labels(where, obj.get("labels")),
        is_csei=int(dl["is_csei"]),
        kind=str(dl.get("kind") or ""),
        annotator=str(obj.get("annotator") or ""),
        split=split,
        group=group.strip() if group else None,
        where=where,
    )


def load_passages(passages_dir: Path) -> list[PassageRecord]:
    """All ``*.jsonl`` in ``passages_dir``; ids must be unique across files."""
    out: list[PassageRecord] = []
    seen: dict[str, str] = {}
    doc_label: dict[str, tuple[int, str, str]] = {}
    doc_group: dict[str, tuple[str | None, str]] = {}
    for path in sorted(Path(passages_dir).glob("*.jsonl")):
        for where, obj in _read_jsonl(path):
            rec = _parse_passage(where, obj)
            if rec.id in seen:
                raise _fail(where, f"duplicate passage id {rec.id!r} (first at {seen[rec.id]})")
            seen[rec.id] = where
            prev = doc_label.get(rec.doc_id)
            if prev and prev[0] != rec.is_csei:
                raise _fail(where, f"doc {rec.doc_id!r} has is_csei={rec.is_csei} here but "
                                   f"{prev[0]} at {prev[2]}")
            doc_label.setdefault(rec.doc_id, (rec.is_csei, rec.kind, where))
            g = doc_group.setdefault(rec.doc_id, (rec.group, where))
            if g[0] != rec.group:
                raise _fail(where, f"doc {rec.doc_id!r} has group {rec.group!r} here but {g[0]!r} at {g[1]}")
            out.append(rec)
    return out


def load_pages(pages_dir: Path) -> list[DocRecord]:
    """The labelled pages in ``pages_dir/labels.jsonl`` (HTML is read later)."""
    labels = Path(pages_dir) / "labels.jsonl"
    if not labels.is_file():
        return []
    docs = []
    for where, obj in _read_jsonl(labels):
        pid = _req_str(where, obj, "id")
        file = Path(_req_str(where, obj, "file")).name
        html = Path(pages_dir) / file
        if not html.is_file():
            raise _fail(where, f"page file {html} does not exist")
        if obj.get("is_csei") not in (0, 1, True, False):
            raise _fail(where, "'is_csei' must be 0 or 1")
        targets = _check_labels(where, obj, PAGE_FAMILY_KEYS) if obj.get("tags_are_targets") else None
        subj, voice = kind_subject(str(obj.get("kind") or ""))
        docs.append(DocRecord(
            subject=subj, voice=voice,
            doc_id=f"page:{pid}",
            group=f"site:{obj.get('site') or pid}",
            lang=_req_str(where, obj, "lang"),
            is_csei=int(obj["is_csei"]),
            kind=str(obj.get("kind") or ""),
            origin="page",
            targets=targets,
            html_path=html,
            meta={"url": obj.get("url"), "encoding": obj.get("encoding"), "where": where},
        ))
    return docs


def load_webpages(webpages_dir: Path) -> list[DocRecord]:
    """Pages written for the project in the shapes real pages take (``annotations/webpages``).

    Each line is one page as a crawl export gives it (url + text with its menus,
    cookie text and footers), with its genre; ``is_csei``, subject and voice
    follow from the genre (``WEBPAGE_GENRES``) and are checked against the
    record's own fields.
    """
    docs: list[DocRecord] = []
    seen: dict[str, str] = {}
    for path in sorted(Path(webpages_dir).glob("*.jsonl")):
        for where, obj in _read_jsonl(path):
            pid = _req_str(where, obj, "id")
            if pid in seen:
                raise _fail(where, f"duplicate page id {pid!r} (first at {seen[pid]})")
            seen[pid] = where
            genre = _req_str(where, obj, "genre")
            if genre not in WEBPAGE_GENRES:
                raise _fail(where, f"unknown genre {genre!r}; known: {', '.join(WEBPAGE_GENRES)}")
            is_csei, subject, voice = WEBPAGE_GENRES[genre]
            if int(obj.get("is_csei", is_csei)) != is_csei:
                raise _fail(where, f"is_csei={obj.get('is_csei')} contradicts genre {genre!r}")
            if subject == 1 and voice is not None:
                voice = 1 if obj.get("voice") == "third_party" else 0
            labels = _check_labels(where, obj.get("labels") or {})
            group = obj.get("group")
            if group is not None and (not isinstance(group, str) or not group.strip()):
                raise _fail(where, f"'group' must be absent or a non-empty string, got {group!r}")
            docs.append(DocRecord(
                # near-translations share a scenario group and stay in one split
                doc_id=f"web:{pid}", group=f"grp:{group}" if group else f"web:{pid}", lang=_req_str(where, obj, "lang"),
                is_csei=is_csei, kind="csei" if is_csei else genre, origin="webpage",
                targets=labels if subject == 1 else None, subject=subject, voice=voice, genre=genre,
                meta={"url": obj.get("url"), "text": _req_str(where, obj, "text"), "where": where,
                      "about": obj.get("about")},
            ))
    return docs


REAL_PAGE_PASSAGES = 8  # the first passages of a real page are what the page models see of it in training
REAL_PAGES_SEED = "csei-real-v1"  # orders the benchmark pages; the first ``real_pages_limit`` are used


def load_real_pages(dirs: list[str], limit: int, cfg: Config, seed: str = REAL_PAGES_SEED) -> list[DocRecord]:
    """Real ordinary web pages (news, blogs, shops, institutions) as negatives.

    They come from folders of saved HTML (``[train] real_pages``; by default the
    trafilatura and Scrapinghub benchmark pages in ``../shared/data``, whose
    licences allow testing and benchmarking but not republishing: their text is
    read at training time and never copied into the project).  A deterministic
    sample of ``limit`` pages is taken; their subject is unknown, so they train
    the candidate model only.
    """
    import gzip

    from ..pipeline import language

    files: list[Path] = []
    for d in dirs:
        root = Path(d).expanduser()
        if root.is_dir():
            files += sorted(p for p in root.iterdir() if p.name.endswith((".html", ".html.gz", ".htm")))
    files.sort(key=lambda p: hashlib.sha256(f"{seed}\x1f{p.name}".encode()).hexdigest())
    docs: list[DocRecord] = []
    for path in files:
        if len(docs) >= limit:
            break
        try:
            data = path.read_bytes()
            if path.name.endswith(".gz"):
                data = gzip.decompress(data)
            text = page_text(data, None, cfg)
        except Exception as exc:  # a broken benchmark page is left out, never fatal
            log.warning("%s: left out of the real negatives (%s)", path, exc)
            continue
        if len(text) < 300:
            continue
        lang = language.detect(text, cfg).lang
        if lang == "und":
            continue
        passages = segment_text(text, lang, cfg)[:REAL_PAGE_PASSAGES]
        if not passages:
            continue
        digest = hashlib.sha256(data).hexdigest()
        docs.append(DocRecord(doc_id=f"real:{path.parent.parent.name}/{path.name}", group=f"real:{digest[:16]}",
                              lang=lang, is_csei=0, kind="real_page", origin="real", passages=passages,
                              genre="real_page", meta={"sha256": digest}))
    return docs


# --- page text ----------------------------------------------------------------

_BLANK = re.compile(r"\n\s*\n|\n")


def page_text(html_bytes: bytes, url: str | None, cfg: Config) -> str:
    """Main text of a page, with the pipeline's own decoder and extractor when present."""
    try:
        from ..pipeline.read.charset import decode_html

        html, _ = decode_html(html_bytes, None)
    except ImportError:
        html = html_bytes.decode("utf-8", errors="replace")
    from ..pipeline.extract.chrome import clean_text
    from ..pipeline.extract.html import extract_html

    return clean_text(extract_html(html, url, cfg).text, cfg, consent_done=True).text


def segment_text(text: str, lang: str, cfg: Config) -> list[str]:
    """Passages of a text, with the pipeline's segmenter when present."""
    try:
        from ..pipeline.segment import segment

        return [p.text for p in segment(text, lang, cfg) if p.text.strip()]
    except ImportError:
        pass
    # Fallback: paragraphs packed up to the configured token budget (whitespace tokens).
    limit = int(cfg.segment.max_tokens)
    out, cur, n = [], [], 0
    for para in (p.strip() for p in _BLANK.split(text)):
        if not para:
            continue
        k = len(para.split())
        if cur and n + k > limit:
            out.append(" ".join(cur))
            cur, n = [], 0
        cur.append(para)
        n += k
    if cur:
        out.append(" ".join(cur))
    return out


def fill_page_passages(docs: list[DocRecord], cfg: Config) -> None:
    """Extract and segment each page; a page that fails keeps no passages (logged)."""
    from ..pipeline.extract.chrome import clean_text

    for d in docs:
        if d.origin == "decision" and not d.passages:
            d.passages = segment_text(d.meta["text"], d.lang, cfg)
            continue
        if d.origin == "webpage" and not d.passages:
            d.passages = segment_text(clean_text(d.meta["text"], cfg).text, d.lang, cfg)
            continue
        if d.origin != "page" or d.passages or d.html_path is None:
            continue
        try:
            text = page_text(d.html_path.read_bytes(), d.meta.get("url"), cfg)
        except Exception as exc:  # an extraction bug must not stop training
            log.warning("%s: text extraction failed (%s); the page is left out", d.html_path, exc)
            text = ""
        d.passages = segment_text(text, d.lang, cfg) if text else []
        if not d.passages:
            log.warning("%s: no text extracted; the page is left out", d.html_path)


# --- dataset ------------------------------------------------------------------

def passage_docs(passages: list[PassageRecord]) -> list[DocRecord]:
    """One document per ``doc_id``; its split group is ``grp:<group>`` when annotated, else ``doc:<doc_id>``."""
    by_doc: dict[str, list[PassageRecord]] = {}
    for p in passages:
        by_doc.setdefault(p.doc_id, []).append(p)
    docs = []
    for doc_id, ps in by_doc.items():
        if ps[0].kind == "unlabelled":  # app annotations of a page nobody labelled as a whole
            continue
        hints = {p.split for p in ps if p.split}
        if len(hints) > 1:
            raise _fail(ps[0].where, f"doc {doc_id!r} has passages in several splits: {sorted(hints)}")
        subj, voice = kind_subject(ps[0].kind, ps[0].source)
        docs.append(DocRecord(
            subject=subj, voice=voice,
            doc_id=doc_id, group=ps[0].split_group, lang=ps[0].lang, is_csei=ps[0].is_csei,
            kind=ps[0].kind, origin="passages", passages=[p.text for p in ps],
            split_hint=hints.pop() if hints else None,
        ))
    return docs


def data_hash(passages: list[PassageRecord], pages: list[DocRecord]) -> str:
    """sha256 over the sorted records (passages as annotated; pages as label + html digest)."""
    h = hashlib.sha256()
    rows = [json.dumps({"id": p.id, "doc_id": p.doc_id, "text": p.text, "lang": p.lang,
                        "labels": p.labels, "is_csei": p.is_csei, "kind": p.kind, "split": p.split,
                        **({"group": p.group} if p.group else {})},
                       sort_keys=True, ensure_ascii=False) for p in passages]
    for d in pages:
        if d.html_path:
            digest = hashlib.sha256(d.html_path.read_bytes()).hexdigest()
        elif d.origin == "real":
            digest = d.meta["sha256"]
        else:
            digest = hashlib.sha256(d.meta.get("text", "").encode()).hexdigest()
        rows.append(json.dumps({"id": d.doc_id, "group": d.group, "lang": d.lang, "is_csei": d.is_csei,
                                "kind": d.kind, "targets": d.targets, "html": digest},
                               sort_keys=True, ensure_ascii=False))
    for r in sorted(rows):
        h.update(r.encode("utf-8"))
        h.update(b"\n")
    return h.hexdigest()


def load_dataset(annotations_dir: str | Path, cfg: Config | None = None,
                 with_pages: bool = True) -> Dataset:
    """Passages from ``<dir>/passages/*.jsonl`` and pages from ``<dir>/pages/``.

    Page texts are extracted only when ``cfg`` is given (it is needed for the
    extractor and segmenter settings).
    """
    root = Path(annotations_dir)
    if not root.is_dir():
        raise AnnotationError(f"{root}: annotations folder not found")

    passages = load_passages(root / "passages")
    pages = load_pages(root / "pages") if with_pages else []
    webpages = load_webpages(root / "webpages") if with_pages else []
    if not passages:
        raise AnnotationError(f"{root / 'passages'}: no annotated passages (*.jsonl) found")
    # What people did in `csei serve`: train split only (see train/feedback.py).
    passages += app_passages(root)
    decisions = decision_docs(root)
    real: list[DocRecord] = []
    if cfg is not None:
        fill_page_passages(pages + webpages + decisions, cfg)
        if with_pages and cfg.train.real_pages_limit > 0:
            real = load_real_pages(real_pages_dirs(cfg), int(cfg.train.real_pages_limit), cfg)
    files = sorted(str(p.relative_to(root)) for p in (root / "passages").glob("*.jsonl"))
    files += sorted(str(p.relative_to(root)) for p in (root / "app").glob("passages-*.jsonl"))
    if pages:
        files.append("pages/labels.jsonl")
    files += sorted(str(p.relative_to(root)) for p in (root / "webpages").glob("*.jsonl")) if webpages else []
    if real:
        files.append(f"real pages: {len(real)} ({', '.join(real_pages_dirs(cfg))})")
    if decisions:
        files.append(DECISIONS_FILE)
    docs = passage_docs(passages) + pages + webpages + real + decisions
    digest = data_hash(passages, pages + webpages + real + decisions)
    pub = published_digest(root)
    if pub:  # the candidate model learns from the pages as published too (train/published.py)
        digest = hashlib.sha256(f"{digest}+{pub}".encode()).hexdigest()
        files.append(f"{PUBLISHED_FOLDER}/{PUBLISHED_PAGES_FILE}")
    return Dataset(passages=passages, docs=docs, data_hash=digest, files=files)


def real_pages_dirs(cfg: Config) -> list[str]:
    """``[train] real_pages`` folders; relative paths are taken from the project root."""
    from ..paths import project_root

    out = []
    for d in cfg.train.real_pages:
        p = Path(d).expanduser()
        out.append(str(p if p.is_absolute() else (project_root() / p).resolve()))
    return out
