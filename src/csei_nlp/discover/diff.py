"""What changed between two runs of a job: the rows an analyst reads each week.

Why: a ranked list of thousands of sites is not news; the difference from last
week is.  A candidate is *listed* when its score is at least the job's
``min_score`` (and, unless ``include_known``, it is not one of the report's
known cases).  Compared with the previous finished run:

new          listed now, absent from the previous run's candidates
rose         present before below the threshold, listed now
fell         listed before, present now below the threshold
disappeared  listed before, absent now (its pages changed or were forgotten)

Scores that moved without crossing the threshold are not rows of the diff, but
they are not hidden either: :func:`score_moves` counts them and keeps the
largest, for the digest's summary (after new models, most scores move a little).

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


def _listed(r: dict[str, Any], min_score: float, include_known: bool) -> bool:
    return r["score"] >= min_score and (include_known or not r.get("known"))


def diff_candidates(prev: dict[str, dict[str, Any]], cur: list[dict[str, Any]], *, min_score: float,
                    include_known: bool, is_focus: Callable[[dict[str, Any]], bool]) -> list[dict[str, Any]]:
    """Rows ``{change, focus, prev_score, ...snapshot}`` sorted kind, focus first, score."""

    def listed(r: dict[str, Any]) -> bool:
        return _listed(r, min_score, include_known)

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


MOVE_EPS = 5e-5  # scores are compared as written to the CSV (4 decimals): smaller differences are no move


def score_moves(prev: dict[str, dict[str, Any]], cur: list[dict[str, Any]], *, min_score: float,
                include_known: bool, top: int = 10) -> dict[str, Any]:
    """Score changes of candidates present in both runs that stayed on their side of the threshold.

    Returns ``{compared, moved, up, down, listed_moved, unlisted_moved, largest}``; ``largest`` holds
    the ``top`` biggest moves ``{site, name, prev_score, score, delta, listed}``, biggest first.
    """
    moves: list[dict[str, Any]] = []
    compared = 0
    for c in cur:
        before = prev.get(c["site"])
        if before is None or before.get("score") is None:
            continue
        compared += 1
        now_listed = _listed(c, min_score, include_known)
        if now_listed != _listed(before, min_score, include_known):
            continue  # crossed the threshold: a "rose"/"fell" row of the diff
        delta = c["score"] - before["score"]
        if abs(delta) < MOVE_EPS:
            continue
        moves.append({"site": c["site"], "name": c.get("name"), "prev_score": before["score"],
                      "score": c["score"], "delta": delta, "listed": now_listed})
    moves.sort(key=lambda m: (-abs(m["delta"]), m["site"]))
    return {"compared": compared, "moved": len(moves),
            "up": sum(1 for m in moves if m["delta"] > 0), "down": sum(1 for m in moves if m["delta"] < 0),
            "listed_moved": sum(1 for m in moves if m["listed"]),
            "unlisted_moved": sum(1 for m in moves if not m["listed"]), "largest": moves[:top]}
