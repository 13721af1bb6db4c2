"""Evaluation of the composite candidate score that ranks organisations.

The document model's ROC-AUC says how well one number separates CSEI pages
from hard negatives, but analysts see the *candidate score*: the weighted
mean of ``csei_nlp.rank.components`` over a site profile.  This module
rebuilds, for held-out documents, the profile the scanner would build and
scores it with the scanner's own code:

* documents go through :class:`csei_nlp.pipeline.tag.Tagging` (the cascade,
  the passage budget, the saved models, the known-case similarity), with cue
  spans from :func:`csei_nlp.pipeline.cues.match`;
* they are folded into one profile per organisation: a dev page's site (its
  pages together), else the document itself (near-translations annotated with
  a shared scenario are different organisations and stay apart);
* the profile is scored with :func:`csei_nlp.rank.score`.

The report passages about cluster cases are the references of the
``known_similarity`` component, so a held-out document that *is* one of them
would be compared with itself: such documents are left out and counted.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..aggregate import SiteProfile
from ..pipeline import cues
from ..pipeline.tag import Tagging, known_case_passages
from ..rank import COMPONENTS, components, score
from ..types import Document, Passage
from .data import DocRecord, is_cee_lang

PAGE_JOIN = "\n\n"


def profile_key(doc: DocRecord) -> str:
    """The organisation a document belongs to: the site for pages, else the document."""
    return doc.group if doc.origin == "page" else f"doc:{doc.doc_id}"


def pipeline_document(doc: DocRecord) -> Document:
    """A :class:`Document` as the scanner hands it to tagging: text, passages with offsets, cue spans."""
    text = PAGE_JOIN.join(doc.passages)
    out = Document(id=doc.doc_id, source=f"annotations:{doc.doc_id}", text=text, lang=doc.lang,
                   site=profile_key(doc))
    start = 0
    for i, t in enumerate(doc.passages):
        spans = cues.match(t, doc.lang)
        for s in spans:
            s.start += start
            s.end += start
        out.passages.append(Passage(doc_id=doc.doc_id, index=i, start=start, end=start + len(t), text=t,
                                    lang=doc.lang, n_tokens=max(1, len(t.split())), spans=spans))
        start += len(t) + len(PAGE_JOIN)
    return out


def fold(profiles: dict[str, SiteProfile], doc: Document) -> None:
    """Add a tagged document to its site's profile, as ``csei_nlp.aggregate.build_profiles`` does."""
    prof = profiles.setdefault(doc.site or doc.id, SiteProfile(site=doc.site or doc.id))
    prof.add_scores(doc.id, doc.lang, len(doc.text), doc.meta, doc.labels, doc.passages)


def roc_auc(y: np.ndarray, p: np.ndarray) -> float | None:
    """ROC-AUC rounded to 4 places, or None when ``y`` has only one class."""
    from sklearn.metrics import roc_auc_score

    return round(float(roc_auc_score(y, p)), 4) if len(set(y.tolist())) == 2 else None


def composite_metrics(docs: Sequence[DocRecord], tagging: Tagging, weights: dict[str, float],
                      references_dir: str | Path | None = None) -> dict[str, Any]:
    """ROC-AUC of the candidate score over organisation profiles built from ``docs``.

    ``tagging`` holds the saved models and the embedder (``Tagging(cfg, embedder,
    tagger)``); ``weights`` is the ``[score]`` config section.  Beside the
    composite score the report gives, on the same profiles, the AUC of the
    classifier component alone (the document model, best document of the
    organisation) and of each component, the mean score per document kind,
    and CEE / non-CEE figures.
    """
    refs = set(known_case_passages(references_dir)[1])
    excluded = sorted(d.doc_id for d in docs if d.doc_id in refs)
    kept = [d for d in docs if d.doc_id not in refs and d.passages]
    pdocs = [pipeline_document(d) for d in kept]
    tagging.tag(pdocs)
    profiles: dict[str, SiteProfile] = {}
    members: dict[str, list[DocRecord]] = defaultdict(list)
    for d, pd in zip(kept, pdocs):
        fold(profiles, pd)
        members[pd.site or pd.id].append(d)
    keys = sorted(profiles)
    comps = [components(profiles[k]) for k in keys]
    s = np.array([score(c, weights, profiles[k].gate) for c, k in zip(comps, keys)])
    y = np.array([max(d.is_csei for d in members[k]) for k in keys], dtype=int)
    cee = np.array([is_cee_lang(profiles[k].lang or "") for k in keys], bool)
    clf = np.array([c["classifier"][0] for c in comps])
    out: dict[str, Any] = {
        "n": len(keys), "n_pos": int(y.sum()), "n_documents": len(kept), "excluded_reference_docs": excluded,
        "cascade_skipped": sum(1 for pd in pdocs if pd.meta.get("embedded") is False),
        "roc_auc": roc_auc(y, s), "classifier_roc_auc": roc_auc(y, clf),
        "component_roc_auc": {c: roc_auc(y, np.array([x[c][0] for x in comps])) for c in COMPONENTS},
    }
    for name, m in (("cee", cee), ("non_cee", ~cee)):
        if m.any():
            out[name] = {"n": int(m.sum()), "n_pos": int(y[m].sum()), "roc_auc": roc_auc(y[m], s[m]),
                         "classifier_roc_auc": roc_auc(y[m], clf[m])}
    kinds: dict[str, list[float]] = defaultdict(list)
    for k, sk, yk in zip(keys, s, y):
        kinds["csei (positive)" if yk else members[k][0].kind].append(float(sk))
    out["mean_score_by_kind"] = {k: round(float(np.mean(v)), 3) for k, v in sorted(kinds.items())}
    return out


__all__ = ["composite_metrics", "fold", "pipeline_document", "profile_key"]
