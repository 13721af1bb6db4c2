"""What changed between two runs of a job: the rows an analyst reads each week.

Why: a ranked list of thousands of sites is not news; the difference from last
week is.  A candidate is *listed* when its score is at least the job's
``min_score`` (and, unless ``include_known``, it is not one of the report's
known cases).  Compared with the previous finished run:

new          listed now, absent from the previous run's candidates
rose         present before below the threshold, listed now
fell         listed before, present now below the threshold
disappeared  listed before, absent now (its pages changed or were forgotten)

Rows of the job's focus (CEE, or its countries/languages) come first within
each kind, then by score.
"""
from __future__ import annotations

from typing import Any, Callable

CHANGE_ORDER: tuple[str, ...] = ("new", "rose", "fell", "disappeared")

SNAPSHOT_KEYS = ("site", "name", "score", "rank", "country", "cee", "known", "known_name",
                 "n_documents", "languages", "urls", "tags")


def snapshot_row(c: dict[str, Any]) -> dict[str, Any]:
    """The part of a candidate kept for the next run's diff and the feed."""
    row = {k: c.get(k) for k in SNAPSHOT_KEYS}
    top = _top_evidence(c)
    row["top_evidence"] = (top.get("text") or "")[:300] if top else ""
    row["top_evidence_url"] = (top.get("url") or top.get("source") or "") if top else ""
    return row


def _top_evidence(c: dict[str, Any]) -> dict[str, Any] | None:
    best = None
    for labels in (c.get("evidence") or {}).values():
        for items in labels.values():
            for e in items:
                if best is None or e["prob"] > best["prob"]:
                    best = e
    return best


def diff_candidates(prev: dict[str, dict[str, Any]], cur: list[dict[str, Any]], *, min_score: float,
                    include_known: bool, is_focus: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Rows ``{change, focus, prev_score, ...snapshot}`` sorted kind, focus first, score."""

    def listed(r: dict[str, Any]) -> bool:
        return r["score"] >= min_score and (include_known or not r.get("known"))

    out: list[dict[str, Any]] = []
    cur_by_site = {c["site"]: snapshot_row(c) for c in cur}
    for site, now in cur_by_site.items():
        before = prev.get(site)
        change = None
        if listed(now):
            if before is None:
                change = "new"
            elif not listed(before):
                change = "rose"
        elif before is not None and listed(before):
            change = "fell"
        if change:
            out.append({**now, "change": change, "prev_score": before["score"] if before else None})
    for site, before in prev.items():
        if site not in cur_by_site and listed(before):
            out.append({**before, "change": "disappeared", "prev_score": before["score"], "score": None})
    for r in out:
        r["focus"] = bool(is_focus(r))
    out.sort(key=lambda r: (CHANGE_ORDER.index(r["change"]), not r["focus"],
                            -(r["score"] if r["score"] is not None else r["prev_score"]), r["site"]))
    return out
