"""The tagging stage: cascade, embeddings, classifiers, document roll-up.

Embedding is nearly the whole cost on a CPU (a few passages per second), so
documents earn it: the cascade embeds a document only when its cheap signals
(length, language, multilingual cue hits) say it may be about an
organisation that cooperates.  The others are kept and stored with the
reason they were not embedded, never dropped.

For embedded documents: passage probabilities per family come from the
trained models; a document's probability per label is the strongest of its
passages; the document candidate model gives P(is_csei); and the similarity
to the report's known cases is measured against their passages.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ..attach import topic_gate
from ..config import Config
from ..errors import ModelError
from ..paths import annotations_dir
from ..taxonomy import FAMILIES
from ..types import Document
from . import cues
from .classify import CANDIDATE, SUBJECT, VOICE



def n_tokens(text: str) -> int:
    """The token count cue features are normalised by (whitespace words, as in training)."""
    return max(1, len(text.split()))


def default_cache_dir(cfg: Config) -> Path:
    configured = cfg.embed.cache_dir
    if configured:
        return Path(configured).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "csei-nlp" / "embeddings"


def cascade_reason(doc: Document, cfg: Config) -> str:
    """Why ``doc`` is not worth embedding, or "" when it is.

    The rule (``[cascade]``): at least ``min_cue_hits`` cue spans, from at least
    ``min_cue_groups`` different cue groups (``pipeline.cues.CUE_GROUPS``: helix,
    legal_form, self_designation, governance, cooperation, territorial,
    social_mission, ecological_mission) and, when ``anchor_groups`` is set, one
    of them an anchor group (who the page is about: an actor type, a legal
    form, a self-designation).  One generic word ("local", "platform") is one
    group and earns no embedding.  The shipped rule sets no anchor: labelled
    real pages about one cluster often name it only by its place and its work,
    and the anchored rule lost 2.2% of them; bench/README.md has the recall and
    cost figures that chose the rule.
    """
    c = cfg.cascade
    if not c.enabled:
        return ""
    if not doc.passages:
        return "no passages"
    if len(doc.text) < c.min_chars:
        return f"shorter than {c.min_chars} characters"
    if doc.lang == "und":
        return "language undetermined"
    hits = sum(len(p.spans) for p in doc.passages)
    if hits < c.min_cue_hits:
        return f"fewer than {c.min_cue_hits} cue hits (no actor, legal-form or cooperation terms)"
    groups = {s.family for p in doc.passages for s in p.spans if s.kind == "cue"}
    if len(groups) < c.min_cue_groups:
        found = ", ".join(sorted(groups)) or "none"
        return f"cues from fewer than {c.min_cue_groups} cue groups (found: {found})"
    anchors = c.anchor_groups
    if anchors and not groups.intersection(anchors):
        return f"no cue from an anchor group (found: {', '.join(sorted(groups))})"
    return ""


def load_thresholds(cfg: Config) -> dict[str, dict[str, float]]:
    """Per-label thresholds from the model cards, without loading any model; 0.5 if absent."""
    from .classify import resolve_models_dir

    return card_thresholds(resolve_models_dir(cfg.classify.models_dir))


def card_thresholds(mdir: Path) -> dict[str, dict[str, float]]:
    """Per-label thresholds from the model cards in ``mdir``; 0.5 for a family without a (matching) card.

    Separate from :func:`load_thresholds` for the review app, which is given its models folder
    (``create_app(models_dir=...)``) rather than reading it from a configuration.
    """
    from .classify import CARD_SUFFIX

    out: dict[str, dict[str, float]] = {}
    for fam, labels in FAMILIES.items():
        card_path = mdir / f"{fam}{CARD_SUFFIX}"
        thr = [0.5] * len(labels)
        if card_path.is_file():
            card = json.loads(card_path.read_text("utf-8"))
            if list(card.get("labels", [])) == list(labels):
                thr = [float(t) for t in card["thresholds"]]
        out[fam] = dict(zip(labels, thr))
    return out


def known_case_passages(passages_dir: str | Path | None = None,
                        max_negatives: int = 60) -> tuple[list[str], list[str], list[str]]:
    """The references of the ``known_similarity`` component: (texts, doc ids, anchor texts).

    Texts and doc ids are the report's passages about cluster cases (source
    ``report:``, kind ``csei``); the anchor texts are up to ``max_negatives``
    unrelated news/product passages, which set the low end of the scale.
    ``passages_dir`` defaults to the repository's ``annotations/passages``.
    """
    pos, pos_doc, neg = [], [], []
    root = Path(passages_dir) if passages_dir else annotations_dir() / "passages"
    for path in sorted(root.glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            rec = json.loads(line)
            kind = (rec.get("doc_label") or {}).get("kind")
            if rec.get("source", "").startswith("report:") and kind == "csei":
                pos.append(rec["text"])
                pos_doc.append(rec["doc_id"])
            elif kind == "news_other" and len(neg) < max_negatives:
                neg.append(rec["text"])
    return pos, pos_doc, neg


def document_cue_features(passages: Sequence) -> np.ndarray:
    """The page's cue features over the embedded passages: all their spans, all their tokens."""
    return cues.cue_features([s for p in passages for s in p.spans], sum(n_tokens(p.text) for p in passages))


def passages_to_embed(doc: Document, cfg: Config) -> list:
    """The passages of ``doc`` to embed: all, or for long documents those with most cue hits.

    Passages left out keep a ``skip_reason``; order is kept for the document
    features.  Training on labelled pages as published (``train.published``)
    calls this too, so a page is featurised as a scan featurises it.
    """
    cap = cfg.cascade.max_passages_per_doc
    if not cfg.cascade.enabled or len(doc.passages) <= cap:
        return list(doc.passages)
    keep = set(sorted(range(len(doc.passages)), key=lambda i: (-len(doc.passages[i].spans), i))[:cap])
    for i, p in enumerate(doc.passages):
        if i not in keep:
            p.skip_reason = f"passage budget: {cap} passages with most cue hits were embedded"
    doc.meta["passages_embedded"] = len(keep)
    return [p for i, p in enumerate(doc.passages) if i in keep]


def threads_per_worker(cfg: Config, workers: int) -> int:
    """Model threads for each of ``workers`` processes: ``[scan] model_threads``, else an equal share
    of the cores this process may run on, so that workers do not compete for them."""
    if cfg.scan.model_threads:
        return int(cfg.scan.model_threads)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores // max(1, workers))


def limit_threads(threads: int) -> None:
    """Cap every numeric thread pool loaded in this process (OpenBLAS, OpenMP, torch) at ``threads``.

    For a scan worker: its embedder already runs with ``threads``, but numpy's BLAS
    (the classifiers) and torch start one thread per core each, and their idle threads
    spin; two workers on two cores then spend their time taking the cores from each
    other (measured: classifying 4x slower, embedding 2x slower with 2 workers).
    """
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=threads)
    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(threads)


class Tagging:
    """Applies the cascade, the embedder and the trained models to batches of documents.

    Where documents are tagged (a scan worker, a Ray actor), :meth:`take_stats` hands
    what was timed and counted to the driver's instance, which :meth:`absorb` s it
    for the run manifest.
    """

    def __init__(self, cfg: Config, embedder: Any = None, tagger: Any = None,
                 embedder_info: dict[str, Any] | None = None) -> None:
        self.cfg = cfg
        self.embedder = embedder
        self.tagger = tagger
        self.embedder_info = embedder_info or ({"id": embedder.id, "dim": embedder.dim} if embedder else None)
        self.anchors: dict[str, Any] | None = None  # the known-case scale, once measured
        self.timings: dict[str, float] = {"embed_s": 0.0, "classify_s": 0.0}
        self.counts: dict[str, int] = {"embedded_documents": 0, "cascade_skipped": 0, "embedded_passages": 0}

    @classmethod
    def from_config(cls, cfg: Config, out_dir: str | Path | None = None, *, load_embedder: bool = True,
                    threads: int | None = None, tagger: Any = None) -> "Tagging":
        """Load models first (cheap, fails fast), then the embedder they were trained with.

        ``load_embedder=False`` (a scan's driver, which tags nothing itself) only checks that
        the embedder could be loaded; ``threads``: the embedder's CPU threads; ``tagger``:
        classifiers already loaded (a worker forked from the driver reuses the driver's).
        """
        if not cfg.classify.enabled:
            return cls(cfg)
        from .classify import Tagger
        from .embed import CachedEmbedder, check_embedder, embedder_id, get_embedder

        tagger = tagger or Tagger.from_config(cfg)
        if not load_embedder:
            check_embedder(cfg)
            return cls(cfg, tagger=tagger, embedder_info={"id": embedder_id(cfg), "dim": tagger.embedder_dim})
        embedder = get_embedder(cfg, threads=threads)
        if threads:
            limit_threads(threads)
        if embedder.dim != tagger.embedder_dim:
            raise ModelError(f"the embedder gives {embedder.dim}-d vectors, the models expect "
                             f"{tagger.embedder_dim}-d; retrain with `csei train`")
        if cfg.embed.cache:
            from .embed.seed import SEED_FOLDER

            embedder = CachedEmbedder(embedder, default_cache_dir(cfg),
                                      [annotations_dir(cfg.web.annotations_dir) / SEED_FOLDER])
        return cls(cfg, embedder, tagger)

    @property
    def enabled(self) -> bool:
        return self.tagger is not None

    @cached_property
    def thresholds(self) -> dict[str, dict[str, float]]:
        if self.tagger is None:
            return load_thresholds(self.cfg)
        return {f: dict(zip(self.tagger.labels[f], map(float, self.tagger.thresholds[f])))
                for f in self.tagger.families}

    def describe(self) -> dict[str, Any]:
        if not self.enabled:
            return {"classify": False}
        return {"classify": True, "embedder": dict(self.embedder_info or {}),
                "models": self.tagger.describe(), "counts": dict(self.counts),
                "known_anchors": self.anchors}

    def take_stats(self) -> dict[str, Any]:
        """The timings and counts since the last call (then reset), and the known-case anchors."""
        out = {"timings": dict(self.timings), "counts": dict(self.counts), "anchors": self.anchors}
        self.timings = dict.fromkeys(self.timings, 0.0)
        self.counts = dict.fromkeys(self.counts, 0)
        return out

    def absorb(self, stats: dict[str, Any]) -> None:
        """Add what another instance (a worker's) measured: :meth:`take_stats`'s dict."""
        for k, v in stats.get("timings", {}).items():
            self.timings[k] = self.timings.get(k, 0.0) + v
        for k, v in stats.get("counts", {}).items():
            self.counts[k] = self.counts.get(k, 0) + v
        if self.anchors is None and stats.get("anchors"):
            self.anchors = stats["anchors"]

    # ------------------------------------------------------------------
    def tag(self, docs: Sequence[Document]) -> None:
        """Fill passage labels, document labels/tags and meta for ``docs`` (status ok)."""
        if not docs:
            return
        chosen: list[Document] = []
        for d in docs:
            reason = cascade_reason(d, self.cfg) if self.enabled else "classification disabled"
            if reason:
                d.meta["embedded"] = False
                d.meta["not_embedded_reason"] = reason
                if self.enabled:
                    # Not worth embedding means not a candidate page: scored 0, with the reason.
                    d.meta["candidate_prob"] = 0.0
                for p in d.passages:
                    p.skip_reason = reason
                self.counts["cascade_skipped"] += 1
            else:
                chosen.append(d)
        if not chosen:
            return
        per_doc = [passages_to_embed(d, self.cfg) for d in chosen]
        passages = [p for ps in per_doc for p in ps]
        texts = [p.text for p in passages]
        t0 = time.perf_counter()
        vecs = self.embedder.embed_passages(texts)
        t1 = time.perf_counter()
        cue_rows = np.vstack([cues.cue_features(p.spans, n_tokens(p.text)) for p in passages])
        probs = self.tagger.predict_passages(texts, vecs, cue_rows)
        known = self._known_similarity(vecs)
        row = 0
        doc_feats = []
        for d, ps in zip(chosen, per_doc):
            n = len(ps)
            sl = slice(row, row + n)
            row += n
            fam_probs = {f: probs[f][sl] for f in self.tagger.families}
            for i, p in enumerate(ps):
                p.embedded = True
                p.labels = {f: {lab: round(float(fam_probs[f][i, j]), 4)
                                for j, lab in enumerate(self.tagger.labels[f])}
                            for f in self.tagger.families}
            d.labels = {f: {lab: round(float(fam_probs[f][:, j].max()), 4)
                            for j, lab in enumerate(self.tagger.labels[f])}
                        for f in self.tagger.families}
            d.tags = {f: [lab for lab, pr in d.labels[f].items() if pr >= self.thresholds[f][lab]]
                      for f in self.tagger.families}
            dc = document_cue_features(ps)
            doc_feats.append(self.tagger.document_features(vecs[sl], fam_probs, dc, [p.text for p in ps]))
            d.meta["embedded"] = True
            d.vectors = vecs[sl]
            d.meta["known_similarity"] = round(float(known[sl].max()), 4) if n else 0.0
        page = self.tagger.predict_pages(np.vstack(doc_feats))
        # A candidate model trained on labelled pages as published answers "about one specific CSEI"
        # itself; one trained on written pages only is gated by the subject model (models/EVAL.md).
        gate = bool(self.tagger.cards[CANDIDATE].get("subject_gate", True))
        for k, d in enumerate(chosen):
            subject = float(page[SUBJECT][k])
            # The gate multiplies the page's candidate_prob here and its organisation's score in
            # rank.score; attach.role_of reads subject_gated to decide which pages are topics.
            site_gate = topic_gate(subject, gate)
            d.meta["candidate_prob"] = round(float(page[CANDIDATE][k]) * site_gate, 4)
            d.meta["subject_prob"] = round(subject, 4)
            d.meta["subject_gated"] = gate
            d.meta["site_gate"] = round(site_gate, 4)
            d.meta["third_party_prob"] = round(float(page[VOICE][k]), 4)
        self.timings["embed_s"] += t1 - t0
        self.timings["classify_s"] += time.perf_counter() - t1
        self.counts["embedded_documents"] += len(chosen)
        self.counts["embedded_passages"] += len(passages)

    # ------------------------------------------------------------------
    @cached_property
    def _known(self) -> tuple[np.ndarray, float, float]:
        """Vectors of the report's known-case passages and the two scale anchors.

        ``hi``: how close a known case's passages are to the *other* cases
        (leave-one-case-out), ``lo``: how close unrelated news/product text is.
        Similarities are mapped linearly from [lo, hi] to [0, 1], which keeps
        the component comparable across embedders.
        """
        pos, pos_doc, neg = known_case_passages()
        if not pos:
            return np.zeros((0, self.embedder.dim), np.float32), 0.0, 1.0
        P = self.embedder.embed_passages(pos)
        docs = np.array(pos_doc)
        sims = P @ P.T
        sims[docs[:, None] == docs[None, :]] = -1.0
        hi = float(np.mean(sims.max(axis=1)))
        lo = float(np.mean((self.embedder.embed_passages(neg) @ P.T).max(axis=1))) if neg else hi - 0.2
        if hi - lo < 1e-3:
            lo = hi - 0.2
        self.anchors = {"lo": round(lo, 4), "hi": round(hi, 4), "n_known_passages": len(pos)}
        return P, lo, hi

    def _known_similarity(self, vecs: np.ndarray) -> np.ndarray:
        P, lo, hi = self._known
        if not len(P) or not len(vecs):
            return np.zeros(len(vecs), np.float32)
        # float64: a float32 product's last bits depend on how many rows it is given (BLAS blocking), and
        # a document must get the same figure whether it is tagged alone (a worker) or in a batch
        raw = (np.asarray(vecs, np.float64) @ np.asarray(P, np.float64).T).max(axis=1)
        return np.clip((raw - lo) / (hi - lo), 0.0, 1.0)
