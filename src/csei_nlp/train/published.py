"""Labelled pages as published, kept as numbers: the candidate model's real-page training data.

Why: the ranking meets real pages (menus, cookie text, third-party articles,
agencies, federations), and pages written for training do not teach a model
what those look like (models/EVAL.md: trained on written pages only, page
ROC-AUC on real pages stays near 0.70).  The text of a real page belongs to
its publisher, so the project keeps only what training needs: per page the
vectors and cue counts of the passages a scan would embed, and the URL,
language, label, genre and organisation.  No sentence of a page is stored.

``csei pages add FILE --set NAME`` builds them from a JSONL of labelled page
texts that stays with the user (``url``, ``text`` or ``html``, ``label`` 1
when the page is about one specific CSEI in its own words or a third party's;
optional ``genre``, ``org``, ``lang``).  Each page goes through the scanner's
own stages (reader, extraction, chrome removal, language, segmentation,
cascade and passage budget: :mod:`csei_nlp.pipeline`), so a page is
featurised exactly as ``csei scan`` featurises it.

Layout of ``annotations/published/``:

* ``pages.jsonl`` - one line per page: url, set, label, genre, org, lang,
  n_passages, text_sha256 (what was embedded, for provenance);
* ``features.npz`` - ``vectors`` (float16, all passages), ``cues``,
  ``doc_cues`` and ``focus`` (float32; :mod:`csei_nlp.pipeline.focus`),
  ``offsets`` (page i owns rows offsets[i]:offsets[i+1]), ``embedder``,
  ``cue_features`` and ``focus_features`` (what the numbers were made with).

Vectors are only valid for the embedder that made them, cue counts for the
cue lexicon of their time and focus numbers for their feature list: :func:`load`
leaves the pages out, with a warning, when one differs from the training run's
(re-add the pages from their JSONL to refresh them).
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..errors import CseiError
from ..fsutil import atomic_write_bytes, atomic_write_text
from ..pipeline.focus import FOCUS_FEATURES, focus_features
from .records import PUBLISHED_FEATURES_FILE as FEATURES_FILE
from .records import PUBLISHED_FOLDER as FOLDER
from .records import PUBLISHED_PAGES_FILE as PAGES_FILE
from .records import AnnotationError, digest_of_published

log = logging.getLogger(__name__)

@dataclass(slots=True)
class PublishedPages:
    """The stored pages: metadata rows and their passage features."""

    rows: list[dict[str, Any]]
    vectors: np.ndarray          # (n passages, dim) float32
    cues: np.ndarray             # (n passages, n cue features)
    doc_cues: np.ndarray         # (n pages, n cue features)
    offsets: np.ndarray          # (n pages + 1,)
    embedder: str
    cue_features: list[str]
    focus: np.ndarray            # (n pages, n focus features)
    focus_features: list[str]
    digest: str = ""

    def __len__(self) -> int:
        return len(self.rows)

    def page(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(passage vectors, passage cue rows, document cue row, focus row) of page ``i``."""
        a, b = int(self.offsets[i]), int(self.offsets[i + 1])
        return self.vectors[a:b], self.cues[a:b], self.doc_cues[i], self.focus[i]

    @property
    def y(self) -> np.ndarray:
        return np.array([int(r["label"]) for r in self.rows], dtype=int)

    @property
    def sets(self) -> np.ndarray:
        return np.array([str(r["set"]) for r in self.rows])

    @property
    def langs(self) -> list[str]:
        return [str(r.get("lang") or "und") for r in self.rows]


def empty(embedder: str, dim: int, cue_features: list[str]) -> PublishedPages:
    return PublishedPages([], np.zeros((0, dim), np.float32), np.zeros((0, len(cue_features)), np.float32),
                          np.zeros((0, len(cue_features)), np.float32), np.zeros(1, np.int64), embedder,
                          list(cue_features), np.zeros((0, len(FOCUS_FEATURES)), np.float32), list(FOCUS_FEATURES))


def folder(annotations_dir: str | Path) -> Path:
    return Path(annotations_dir) / FOLDER


def read(annotations_dir: str | Path) -> PublishedPages | None:
    """The stored pages, or None when there are none; AnnotationError when the files disagree."""
    root = folder(annotations_dir)
    pages_path, feats_path = root / PAGES_FILE, root / FEATURES_FILE
    if not pages_path.is_file() and not feats_path.is_file():
        return None
    if not pages_path.is_file() or not feats_path.is_file():
        raise AnnotationError(f"{root}: needs both {PAGES_FILE} and {FEATURES_FILE}; re-add the pages with "
                              "`csei pages add`")
    rows: list[dict[str, Any]] = []
    pages_bytes = pages_path.read_bytes()
    for n, line in enumerate(pages_bytes.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AnnotationError(f"{pages_path}:{n}: not JSON ({exc.msg})") from None
        if rec.get("label") not in (0, 1) or not isinstance(rec.get("n_passages"), int):
            raise AnnotationError(f"{pages_path}:{n}: needs 'label' 0/1 and an integer 'n_passages'")
        rows.append(rec)
    data = feats_path.read_bytes()
    try:
        z = np.load(io.BytesIO(data), allow_pickle=False)
        # a file from before the focus features has none: load() then asks for the pages again
        has_focus = "focus" in z.files
        out = PublishedPages(rows, z["vectors"].astype(np.float32), z["cues"].astype(np.float32),
                             z["doc_cues"].astype(np.float32), z["offsets"].astype(np.int64),
                             str(z["embedder"]), [str(x) for x in z["cue_features"]],
                             z["focus"].astype(np.float32) if has_focus else np.zeros((len(rows), 0), np.float32),
                             [str(x) for x in z["focus_features"]] if has_focus else [])
    except (OSError, ValueError, KeyError) as exc:
        raise AnnotationError(f"{feats_path}: unreadable ({exc}); re-add the pages with `csei pages add`") from None
    counts = np.diff(out.offsets)
    if len(counts) != len(rows) or any(int(c) != r["n_passages"] for c, r in zip(counts, rows)) \
            or int(out.offsets[-1]) != len(out.vectors) or len(out.doc_cues) != len(rows) \
            or len(out.focus) != len(rows):
        raise AnnotationError(f"{root}: {PAGES_FILE} and {FEATURES_FILE} do not describe the same pages")
    out.digest = digest_of_published(pages_bytes, data)
    return out


def load(annotations_dir: str | Path, embedder_id: str, cue_features: list[str]) -> PublishedPages | None:
    """The stored pages when they were made with this embedder and cue lexicon, else None (logged)."""
    pub = read(annotations_dir)
    if pub is None or not len(pub):
        return None
    where = folder(annotations_dir)
    if pub.embedder != embedder_id:
        log.warning("%s: made with the embedder %r, training uses %r: pages as published left out "
                    "(re-add them with `csei pages add`)", where, pub.embedder, embedder_id)
        return None
    if pub.cue_features != list(cue_features):
        log.warning("%s: made with another cue lexicon (%d cue features, now %d): pages as published "
                    "left out (re-add them with `csei pages add`)", where, len(pub.cue_features),
                    len(cue_features))
        return None
    if pub.focus_features != FOCUS_FEATURES:
        log.warning("%s: made without this release's page focus features (%s): pages as published left "
                    "out (re-add them with `csei pages add`)", where, ", ".join(FOCUS_FEATURES))
        return None
    return pub


def write(annotations_dir: str | Path, pub: PublishedPages) -> None:
    root = folder(annotations_dir)
    root.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    np.savez_compressed(buf, vectors=pub.vectors.astype(np.float16), cues=pub.cues.astype(np.float32),
                        doc_cues=pub.doc_cues.astype(np.float32), offsets=pub.offsets.astype(np.int64),
                        embedder=np.array(pub.embedder), cue_features=np.array(pub.cue_features),
                        focus=pub.focus.astype(np.float32), focus_features=np.array(pub.focus_features))
    atomic_write_bytes(root / FEATURES_FILE, buf.getvalue())
    atomic_write_text(root / PAGES_FILE,
                      "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in pub.rows))


@dataclass(slots=True)
class AddResult:
    added: int = 0
    replaced: int = 0
    skipped: list[str] = field(default_factory=list)   # "file:line: reason"

    def render(self) -> str:
        lines = [f"added {self.added} page(s), replaced {self.replaced}, left out {len(self.skipped)}"]
        lines += [f"  {s}" for s in self.skipped]
        return "\n".join(lines)


def _url_key(url: str) -> str:
    u = url.strip().lower().split("://", 1)[-1]
    return (u[4:] if u.startswith("www.") else u).rstrip("/")


def add_pages(src: str | Path, annotations_dir: str | Path, cfg: Config, set_name: str,
              cache_dir: str | Path | None = None) -> AddResult:
    """Featurise the labelled pages in ``src`` as the scanner would and store them under ``set_name``.

    A page whose URL is already stored is replaced.  A bad line, or a page the
    scanner would not embed (too little text, not worth embedding), is left
    out with its reason; the others are kept.
    """
    from ..pipeline import cues
    from ..pipeline.process import process
    from ..pipeline.read.jsonl import iter_jsonl
    from ..pipeline.tag import cascade_reason, document_cue_features, n_tokens, passages_to_embed
    from .data import _read_jsonl
    from .features import cue_feature_names, make_embedder

    src = Path(src)
    if not set_name or not set_name.replace("-", "").replace("_", "").isalnum():
        raise CseiError(f"--set {set_name!r}: use letters, digits, '-' or '_' (it names the set in reports)")
    res = AddResult()
    labels: dict[int, dict[str, Any]] = {}
    for where, rec in _read_jsonl(src, res.skipped):
        if rec.get("label") not in (0, 1) or not isinstance(rec.get("url"), str) \
                or not (rec.get("text") or rec.get("html")):
            res.skipped.append(f"{where}: needs 'url', 'label' 0/1 and a 'text' or 'html'")
            continue
        labels[int(where.rsplit(":", 1)[1])] = rec
    if not labels:
        raise CseiError(f"{src}: no labelled pages" + (f" ({res.skipped[0]})" if res.skipped else ""))

    emb = make_embedder(cfg, cache_dir)
    names = cue_feature_names()
    new_rows: list[dict[str, Any]] = []
    vecs: list[np.ndarray] = []
    cue_rows: list[np.ndarray] = []
    doc_cue_rows: list[np.ndarray] = []
    focus_rows: list[np.ndarray] = []
    for raw in iter_jsonl(src, cfg):
        rec = labels.get(int(raw.offset or 0))
        if rec is None:
            continue
        where = f"{src}:{raw.offset}"
        doc = process(raw, cfg)
        reason = doc.detail if doc.status != "ok" else cascade_reason(doc, cfg)
        if reason:
            res.skipped.append(f"{where}: {reason}")
            continue
        ps = passages_to_embed(doc, cfg)
        if not ps:
            res.skipped.append(f"{where}: no passages")
            continue
        vecs.append(emb.embed_passages([p.text for p in ps]))
        cue_rows.append(np.vstack([cues.cue_features(p.spans, n_tokens(p.text)) for p in ps]))
        doc_cue_rows.append(document_cue_features(ps))
        focus_rows.append(focus_features([p.text for p in ps]))
        new_rows.append({"url": rec["url"], "set": set_name, "label": int(rec["label"]),
                         "genre": str(rec.get("genre") or ""), "org": str(rec.get("org") or ""),
                         "lang": doc.lang, "n_passages": len(ps),
                         "text_sha256": hashlib.sha256("\n".join(p.text for p in ps).encode()).hexdigest()})

    old = read(annotations_dir) or empty(emb.id, emb.dim, names)
    if len(old) and (old.embedder != emb.id or old.cue_features != names):
        raise CseiError(f"{folder(annotations_dir)}: the stored pages were made with {old.embedder!r} and "
                        f"{len(old.cue_features)} cue features, this run uses {emb.id!r} and {len(names)}; "
                        "move the folder away and add every set again")
    new_keys = {_url_key(r["url"]) for r in new_rows}
    keep = [i for i, r in enumerate(old.rows) if _url_key(r["url"]) not in new_keys]
    res.replaced = len(old) - len(keep)
    res.added = len(new_rows) - res.replaced
    parts_v = [old.page(i)[0] for i in keep] + vecs
    parts_c = [old.page(i)[1] for i in keep] + cue_rows
    rows = [old.rows[i] for i in keep] + new_rows
    dc = [old.doc_cues[i] for i in keep] + doc_cue_rows
    if len(keep) and old.focus_features != FOCUS_FEATURES:
        raise CseiError(f"{folder(annotations_dir)}: the stored pages were made without this release's page "
                        "focus features; move the folder away and add every set again")
    fo = [old.focus[i] for i in keep] + focus_rows
    offsets = np.concatenate([[0], np.cumsum([len(v) for v in parts_v])]).astype(np.int64)
    dim = emb.dim
    merged = PublishedPages(
        rows, np.vstack(parts_v) if parts_v else np.zeros((0, dim), np.float32),
        np.vstack(parts_c) if parts_c else np.zeros((0, len(names)), np.float32),
        np.vstack(dc) if dc else np.zeros((0, len(names)), np.float32), offsets, emb.id, names,
        np.vstack(fo) if fo else np.zeros((0, len(FOCUS_FEATURES)), np.float32), list(FOCUS_FEATURES))
    write(annotations_dir, merged)
    return res


def summary(pub: PublishedPages) -> str:
    """Pages per set and language, positives in brackets (``csei pages list``)."""
    by_set: dict[str, Counter[str]] = {}
    pos: dict[str, Counter[str]] = {}
    for r in pub.rows:
        by_set.setdefault(r["set"], Counter())[r.get("lang") or "und"] += 1
        pos.setdefault(r["set"], Counter())[r.get("lang") or "und"] += int(r["label"])
    lines = [f"{len(pub)} page(s), {int(pub.y.sum())} about one specific CSEI; embedder {pub.embedder}"]
    for s in sorted(by_set):
        langs = ", ".join(f"{lang} {n} ({pos[s][lang]})" for lang, n in sorted(by_set[s].items()))
        lines.append(f"  {s}: {sum(by_set[s].values())} pages ({sum(pos[s].values())}): {langs}")
    return "\n".join(lines)
