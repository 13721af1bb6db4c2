"""Which candidate organisation each document speaks for.

Candidates are organisations, not folders or web sites.  Every tagged page
has a subject (``subject_prob``: does it present one organisation, or a
topic?) and, when it presents one, a voice (``third_party_prob``: did the
organisation write it, or a newspaper, a portal, a ministry?):

``self``         the organisation's own page: it counts for its own site.
``third_party``  a page about one organisation written by someone else: it
                 counts for the organisation it describes, found by the web
                 addresses it mentions (``pipeline/mentions.py``) and, failing
                 that, by the names of the organisations in the corpus.  The
                 newspaper does not become a candidate.  A page that names no
                 address and no known organisation stays with its own site: the
                 voice model is the weakest page model, and moving an
                 organisation's own "about us" page away from its site (seen on
                 the sample) costs more than keeping an unmatched article.
``topic``        a page about a theme (news round-up, policy, programme,
                 research, report, directory): it is kept, but it neither
                 makes its site a candidate nor lends it labels.  Under a
                 candidate model trained on pages as published, only a page
                 the subject model is all but certain about is a topic; the
                 others count, with their organisation's score multiplied by
                 :func:`topic_gate` (models/REAL_PAGES.md).
``unscored``     not embedded (the cascade): counts for its site with no
                 probabilities, as before.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

SUBJECT_MIN = 0.5      # subject_prob (or candidate_prob) at or above: the page presents one organisation
SUBJECT_TOPIC_CERTAIN = 0.02  # subject_prob below: a topic, whatever candidate_prob says (role_of)
TOPIC_GATE_FLOOR = 0.8  # the least share of its score a page the subject model calls a topic keeps, under a
                        # candidate model trained on pages as published (topic_gate)
THIRD_PARTY_MIN = 0.7  # third_party_prob at or above: someone else wrote it (the voice model is the
                       # weakest page model, models/EVAL.md: moving an own page away costs more)
NAME_MIN_CHARS = 8     # shorter organisation names are too ambiguous to look for in text

ROLES = ("self", "third_party", "topic", "unscored")


@dataclass(frozen=True, slots=True)
class Attachment:
    key: str            # the candidate the document counts for (a site key)
    role: str           # one of ROLES
    matched_by: str     # "own_site" | "domain" | "name" | "mentioned_domain" | "none"

    def to_dict(self) -> dict[str, str]:
        return {"candidate": self.key, "role": self.role, "matched_by": self.matched_by}


def role_of(meta: dict[str, Any]) -> str:
    """The document's role from its page-model probabilities.

    Under a candidate model trained on written pages only (``subject_gated``, and
    stores scanned before the flag existed), a page is about one organisation when
    the subject model says so, or when the candidate model finds it about one
    specific CSEI (``candidate_prob``), which implies it, and the subject model is
    not all but certain of a topic.

    Under a candidate model trained on pages as published (``subject_gated`` false),
    that model already answers "about one specific CSEI", so every page counts for
    an organisation unless the subject model is all but certain of a topic
    (``SUBJECT_TOPIC_CERTAIN``; a general report such as the GECES excerpt: 0.002).
    The subject model learnt from written pages only and calls many real pages
    about one cluster topics (168 of the 349 labelled positives in sets a-n): held
    out, gating on it lost 5-15 positive organisations a set, and ranking every
    organisation rose from 0.793 to 0.866 ROC-AUC without it (sets o-r,
    models/REAL_PAGES.md).  What is left of its judgement is :func:`topic_gate`.
    """
    subj = meta.get("subject_prob")
    if subj is None:
        return "unscored"
    subj = float(subj)
    if meta.get("subject_gated", True):
        about_one = subj >= SUBJECT_MIN or (subj >= SUBJECT_TOPIC_CERTAIN
                                            and float(meta.get("candidate_prob") or 0.0) >= SUBJECT_MIN)
    else:
        about_one = subj >= SUBJECT_TOPIC_CERTAIN
    if not about_one:
        return "topic"
    return "third_party" if float(meta.get("third_party_prob") or 0.0) >= THIRD_PARTY_MIN else "self"


def topic_gate(subject: float, gated: bool) -> float:
    """What a page's ``candidate_prob`` and its organisation's score are multiplied by.

    ``gated`` (a candidate model trained on written pages only): the subject
    probability itself.  Otherwise a soft gate, ``min(1, TOPIC_GATE_FLOOR +
    subject)``: a page the subject model doubts keeps at least 80% of its score.
    Measured held out on sets n-r: page ROC-AUC unchanged (0.809 out of fold),
    organisations 0.861 -> 0.866 and P@10 0.75 -> 0.78 against no gate.
    """
    subject = min(1.0, max(0.0, float(subject)))
    return subject if gated else min(1.0, TOPIC_GATE_FLOOR + subject)


def _norm(text: str) -> str:
    return re.sub(r"\s+", " ", text.casefold()).strip()


class Attacher:
    """Resolves third-party pages to organisations, given the corpus' self-described sites.

    ``org_names`` maps a site with self-described pages to its display name.
    """

    def __init__(self, org_names: dict[str, str]) -> None:
        self.org_sites = set(org_names)
        self._names = sorted(((_norm(n), s) for s, n in org_names.items() if len(n.strip()) >= NAME_MIN_CHARS),
                             key=lambda t: (-len(t[0]), t[1]))

    def attach(self, site: str, meta: dict[str, Any], text: str | None) -> Attachment:
        role = role_of(meta)
        if role != "third_party":
            return Attachment(site, role, "own_site")
        mentioned = [d for d, _ in meta.get("mentioned_domains") or [] if d != site]
        for d in mentioned:
            if d in self.org_sites:
                return Attachment(d, role, "domain")
        if text:
            low = _norm(text)
            for name, s in self._names:
                if s != site and name in low:
                    return Attachment(s, role, "name")
        if mentioned:
            return Attachment(mentioned[0], role, "mentioned_domain")
        return Attachment(site, role, "none")
