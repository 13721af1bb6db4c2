"""Documents -> one profile per candidate organisation.

An organisation rarely says everything on one page: members are listed on
one, governance on another.  A profile therefore keeps, per label, the
strongest probability over the organisation's documents and the strongest
evidence passages (with character offsets), so that an analyst can check
every tag.  Which organisation a document counts for is decided in
``attach.py``: its own site for self-description, the organisation it
describes for a third party's page; pages about a topic lend no scores.
Every piece of evidence keeps its source and whether it is self-description
or third-party.

Exact duplicates (``dup_of``) are left out of the evidence: a page mirrored
ten times is still one piece of evidence.
"""
from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .attach import Attacher, role_of
from .store.sqlite import Store
from .types import Passage

EVIDENCE_PER_LABEL = 3
TEXT_SAMPLE_CHARS = 3000


@dataclass
class Evidence:
    prob: float
    doc_id: str
    passage: int
    url: str | None
    source: str
    start: int
    end: int
    text: str
    spans: list[dict[str, Any]]
    role: str = "self"          # self | third_party | unscored (see attach.py)
    source_site: str = ""       # the site that published the page

    def to_dict(self) -> dict[str, Any]:
        return {
            "prob": round(self.prob, 4), "doc_id": self.doc_id, "passage": self.passage,
            "url": self.url, "source": self.source, "start": self.start, "end": self.end,
            "role": self.role, "source_site": self.source_site,
            "text": self.text,
            # spans relative to the passage text, ready for highlighting
            "spans": [{**s, "start": s["start"] - self.start, "end": s["end"] - self.start}
                      for s in self.spans],
        }


@dataclass
class SiteProfile:
    site: str
    doc_ids: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    titles: list[str] = field(default_factory=list)
    languages: Counter = field(default_factory=Counter)
    label_max: dict[str, dict[str, float]] = field(default_factory=dict)
    candidate_prob: float = 0.0
    known_similarity: float = 0.0
    cue_counts: Counter = field(default_factory=Counter)
    cue_terms: dict[str, Counter] = field(default_factory=dict)
    text_sample: list[str] = field(default_factory=list)
    n_duplicates: int = 0
    subject: float = 0.0                 # best subject_prob of the pages that count for it
    gate: float = 0.0                    # best site_gate of those pages: what rank.score multiplies by
    roles: Counter = field(default_factory=Counter)   # documents per role
    third_party_sites: list[str] = field(default_factory=list)
    topic_doc_ids: list[str] = field(default_factory=list)
    _evidence: dict[tuple[str, str], list[tuple[float, int, Evidence]]] = field(default_factory=dict)

    @property
    def lang(self) -> str | None:
        return self.languages.most_common(1)[0][0] if self.languages else None

    def evidence(self) -> dict[str, dict[str, list[dict[str, Any]]]]:
        out: dict[str, dict[str, list[dict[str, Any]]]] = {}
        for (family, label), heap in sorted(self._evidence.items()):
            items = sorted(heap, key=lambda t: (-t[0], t[1]))
            out.setdefault(family, {})[label] = [e.to_dict() for _, _, e in items]
        return out

    def add_scores(self, doc_id: str, lang: str, n_chars: int, meta: dict[str, Any],
                   labels: dict[str, dict[str, float]], passages: list[Passage]) -> None:
        """Fold one tagged document's scores and cue counts into the profile.

        Shared by :func:`build_profiles` (from the store) and the evaluation of the
        candidate score (``train/composite.py``, from documents in memory).
        """
        self.doc_ids.append(doc_id)
        self.languages[lang] += n_chars
        self.roles[role_of(meta)] += 1
        self.subject = max(self.subject, float(meta.get("subject_prob") or 0.0))
        # stores scanned before site_gate existed were gated by the subject probability
        self.gate = max(self.gate, float(meta.get("site_gate", meta.get("subject_prob")) or 0.0))
        self.candidate_prob = max(self.candidate_prob, float(meta.get("candidate_prob") or 0.0))
        self.known_similarity = max(self.known_similarity, float(meta.get("known_similarity", 0.0)))
        for family, probs in labels.items():
            fam = self.label_max.setdefault(family, {})
            for label, p in probs.items():
                fam[label] = max(fam.get(label, 0.0), float(p))
        for p in passages:
            for s in p.spans:
                self.cue_counts[s.family] += 1
                self.cue_terms.setdefault(s.family, Counter())[s.term or s.text.lower()] += 1

    def add_evidence(self, family: str, label: str, ev: Evidence, seq: int) -> None:
        heap = self._evidence.setdefault((family, label), [])
        item = (ev.prob, -seq, ev)
        if len(heap) < EVIDENCE_PER_LABEL:
            heapq.heappush(heap, item)
        elif item[:2] > heap[0][:2]:
            heapq.heapreplace(heap, item)


def name_from_titles(titles: list[str]) -> str | None:
    """A display name from page titles.

    Titles are cut at the usual separators ("About us | Klaster X"); the part
    repeated across the pages is the organisation's name, and with a single
    page the longest part usually is.
    """
    if not titles:
        return None
    counts: Counter = Counter()
    for t in titles:
        parts = [t]
        for sep in (" | ", " – ", " — ", " - ", " :: ", " · "):
            if sep in t:
                parts = [x.strip() for x in t.split(sep) if x.strip()]
                break
        counts.update(list(dict.fromkeys(parts)))  # each part once per title, in order: ties go to the first seen
    return max(counts.items(), key=lambda kv: (kv[1], len(kv[0])))[0]


def build_profiles(store: Store, thresholds: dict[str, dict[str, float]]) -> dict[str, SiteProfile]:
    """Fold every ok document of the store into the profile of the organisation it counts for.

    Records each document's attachment (``candidate``, ``role``, ``matched_by``)
    in its meta, so that documents.jsonl, the report and the app can show it.
    """
    titles: dict[str, list[str]] = {}
    for row in store.document_rows(status="ok"):
        if role_of(row["meta"] or {}) == "self" and not row["dup_of"]:
            titles.setdefault(row["site"] or "unknown", []).extend([row["title"]] if row["title"] else [])
    attacher = Attacher({s: name_from_titles(t) or "" for s, t in titles.items()})
    profiles: dict[str, SiteProfile] = {}
    attachments: dict[str, dict[str, str]] = {}
    seq = 0
    for row in store.document_rows(status="ok", with_text=True):
        site = row["site"] or "unknown"
        meta = row["meta"] or {}
        att = attacher.attach(site, meta, row["text"])
        attachments[row["id"]] = att.to_dict()
        prof = profiles.setdefault(att.key, SiteProfile(site=att.key))
        if att.role == "topic":
            prof.topic_doc_ids.append(row["id"])
            continue
        if row["dup_of"]:
            prof.n_duplicates += 1
            continue
        if att.key != site:  # a third party's page about this organisation
            prof.third_party_sites.append(site)
        if row["url"]:
            prof.urls.append(row["url"])
        if row["title"] and att.key == site:  # the name comes from the organisation's own pages
            prof.titles.append(row["title"])
        if len(prof.text_sample) < 5:
            prof.text_sample.append((row["text"] or "")[:TEXT_SAMPLE_CHARS])
        passages = store.passages_of(row["id"])
        prof.add_scores(row["id"], row["lang"], len(row["text"] or ""), meta,
                        row["labels"] or {}, passages)
        for p in passages:
            for family, labels in p.labels.items():
                for label, prob in labels.items():
                    if prob < thresholds.get(family, {}).get(label, 0.5):
                        continue
                    seq += 1
                    ev = Evidence(prob=float(prob), doc_id=row["id"], passage=p.index, url=row["url"],
                                  source=row["source"], start=p.start, end=p.end, text=p.text,
                                  spans=[s.to_dict() for s in p.spans], role=att.role, source_site=site)
                    prof.add_evidence(family, label, ev, seq)
    store.update_meta(attachments)
    return {k: v for k, v in profiles.items() if v.doc_ids}
