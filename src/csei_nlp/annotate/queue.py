"""Which passage an annotator labels next: an active-learning queue.

Each batch mixes two kinds of picks (see PITFALLS.md, annotation section):

* **uncertainty** picks, per family in turn: the passages whose label
  probabilities sit closest to the decision threshold (multi-label margin:
  ``1 - 2 * min_label |p - 0.5|``), where the classifiers have the least
  confidence;
* **random** picks (a configurable share), so that the labelled set stays a
  fair sample and the cold start (no model yet: every pick is random) does not
  lock the data into the model's current blind spots.

Both are stratified: picks rotate across languages, and no source site gives
more than ``per_site`` passages to one batch.  A configurable share of items
is marked ``overlap``: two annotators label those blind, for the agreement
report.  Everything an annotator does is an appended event (``label``,
``skip``, ``ignore``, ``flag``, ``undo``, and a ``label`` that corrects an
earlier one); the queue's state is derived from those events, so two people
working at once lose nothing.  An annotator's latest live label of a passage
is their answer, wherever answers are read (agreement, the log's ``resolve``,
training, exports).

The queries (and the transactions and the queue lock) are in
:mod:`csei_nlp.store.queue`; this module decides what they store.
"""
from __future__ import annotations

import json
import random
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Config
from ..store import queue as qstore
from ..store.appdb import AppDB, now
from ..store.queue import (NotAnswered, NotOffered, adjudications, current_answer, live_labels, retracted_labels,
                           stats)
from ..taxonomy import FAMILIES
from ..types import source_ref, stable_id
from . import log as annolog, suggest

__all__ = ["QueueParams", "margin_uncertainty", "refill", "next_item", "passage_with_context", "clean_labels",
           "record", "edit", "undo", "adjudicate", "live_labels", "adjudications", "stats", "NotOffered",
           "NotAnswered", "retracted_labels", "current_answer", "suggestions_withheld", "my_labels", "flags",
           "ACTIONS", "FLAG_REASONS"]

MIN_PASSAGE_CHARS = 60
ASSIGNMENT_TTL_S = 30 * 60
MAX_COMMENT_CHARS = 2000

#: what an annotator may do with an offered passage
ACTIONS = ("label", "skip", "ignore", "flag")
#: why a passage is flagged (shown to admins with the annotator's comment)
FLAG_REASONS: dict[str, str] = {
    "bad_text": "bad text (garbled, boilerplate, wrong language)",
    "not_passage": "not a passage (a menu, a list, a fragment)",
    "unsure": "unsure: needs a second look",
}


@dataclass(frozen=True)
class QueueParams:
    batch_size: int = 40
    random_share: float = 0.3
    overlap: float = 0.2
    per_site: int = 3
    seed: int = 0

    @classmethod
    def from_config(cls, cfg: Config) -> "QueueParams":
        a = cfg.annotate
        return cls(batch_size=a.batch_size, random_share=a.random_share, overlap=a.overlap,
                   per_site=a.per_site, seed=a.seed)


def margin_uncertainty(labels: dict[str, float]) -> float | None:
    """1 at the threshold (p = 0.5), 0 when every label is certain; None without probabilities."""
    if not labels:
        return None
    return 1.0 - 2.0 * min(abs(float(p) - 0.5) for p in labels.values())


def _unit(*parts: object) -> float:
    """A stable pseudo-random number in [0, 1) from its parts."""
    return int(stable_id(*parts, length=12), 16) / float(16 ** 12)


def _stratified(items: list[dict[str, Any]], n: int, per_site: int, taken_sites: dict[str, int]) -> list[dict[str, Any]]:
    """Up to ``n`` items, best first within each language, rotating across languages."""
    by_lang: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        by_lang[it["lang"]].append(it)
    langs = sorted(by_lang, key=lambda l: (-len(by_lang[l]), l))
    cursors = {l: 0 for l in langs}
    out: list[dict[str, Any]] = []
    while len(out) < n and langs:
        for lang in list(langs):
            lst, i = by_lang[lang], cursors[lang]
            while i < len(lst) and taken_sites[lst[i]["site"]] >= per_site:
                i += 1
            if i >= len(lst):
                langs.remove(lang)
                continue
            it = lst[i]
            cursors[lang] = i + 1
            taken_sites[it["site"]] += 1
            out.append(it)
            if len(out) >= n:
                break
    return out


def _pool(store_path: Path, exclude: set[str]) -> list[dict[str, Any]]:
    pool = []
    for doc_id, idx, lang, labels, n_chars, site, source, offset, url in qstore.passage_pool(store_path):
        pid = f"{doc_id}:{idx}"
        if pid in exclude or (n_chars or 0) < MIN_PASSAGE_CHARS:
            continue
        lab = json.loads(labels or "{}")
        unc = {f: margin_uncertainty(lab.get(f) or {}) for f in FAMILIES}
        pool.append({"passage_id": pid, "doc_id": doc_id, "lang": lang or "und", "site": site or "",
                     "source": source_ref(source, offset), "url": url,
                     "unc": unc})
    return pool


def refill(db: AppDB, store_path: Path, params: QueueParams) -> int:
    """Append one batch to the queue; returns how many items it added (0: pool exhausted)."""
    # One transaction under the queue lock: two people refilling at once add one batch, not two clashing ones.
    return qstore.append_batch(db, lambda queued, position, batch: _plan_batch(store_path, params, queued,
                                                                               position, batch))


def _plan_batch(store_path: Path, params: QueueParams, queued: set[str], position: int,
                batch: int) -> list[dict[str, Any]]:
    """The rows of the next batch: passages not yet ``queued``, numbered after ``position``."""
    pool = _pool(store_path, queued)
    if not pool:
        return []
    n = params.batch_size
    has_model = any(v is not None for it in pool for v in it["unc"].values())
    n_random = n if not has_model else max(1, round(n * params.random_share))
    taken_sites: dict[str, int] = defaultdict(int)
    # Random picks first, so the per-site budget cannot be used up by uncertainty picks.
    rest = list(pool)
    rnd = random.Random(params.seed * 1_000_003 + batch)
    rnd.shuffle(rest)
    randoms = [(it, "random", 0.0) for it in _stratified(rest, n_random, params.per_site, taken_sites)]
    chosen: set[str] = {it["passage_id"] for it, _, _ in randoms}
    picked: list[tuple[dict[str, Any], str, float]] = []
    if has_model:
        per_family = max(1, (n - n_random) // len(FAMILIES))
        for fam in FAMILIES:
            cands = sorted((it for it in pool if it["unc"][fam] is not None and it["passage_id"] not in chosen),
                           key=lambda it: (-it["unc"][fam], it["passage_id"]))
            for it in _stratified(cands, per_family, params.per_site, taken_sites):
                chosen.add(it["passage_id"])
                picked.append((it, f"uncertainty:{fam}", float(it["unc"][fam])))
    # Interleave: random picks spread through the batch, not bunched at its end.
    mixed: list[tuple[dict[str, Any], str, float]] = []
    step = max(1, round(len(picked) / max(1, len(randoms)))) if picked else 1
    pi = iter(picked)
    for r in randoms:
        for _ in range(step):
            nxt = next(pi, None)
            if nxt:
                mixed.append(nxt)
        mixed.append(r)
    mixed.extend(pi)
    created = now()
    rows = []
    for k, (it, strategy, u) in enumerate(mixed, 1):
        rows.append({"passage_id": it["passage_id"], "doc_id": it["doc_id"], "site": it["site"],
                     "lang": it["lang"], "source": it["source"], "strategy": strategy, "uncertainty": u,
                     "position": position + k, "batch": batch, "created": created,
                     "overlap": _unit("overlap", params.seed, it["passage_id"]) < params.overlap})
    return rows


# --- state derived from events ------------------------------------------------

def next_item(db: AppDB, store_path: Path, user: dict[str, Any], params: QueueParams) -> dict[str, Any] | None:
    """The queue item this user should label next (and assign it), or None when all is done."""
    for attempt in range(3):
        item = _pick(db, user)
        if item is not None:
            return item
        if attempt == 2 or refill(db, store_path, params) == 0:
            return _pick(db, user)
    return None


def _pick(db: AppDB, user: dict[str, Any]) -> dict[str, Any] | None:
    return qstore.pick(db, user["id"], _ago(ASSIGNMENT_TTL_S), _choose)


def _choose(items: list[Mapping[str, Any]], mine: dict[str, str], labelled: dict[str, int],
            held: set[str]) -> Mapping[str, Any] | None:
    """The first item in queue order this user has not answered (labelled, ignored or flagged), that
    still needs a label and that nobody else holds (unless it is double-annotated); items they skipped
    come back last."""
    best, best_key = None, None
    for it in items:
        pid = it["passage_id"]
        if mine.get(pid) in qstore.ANSWERS:
            continue
        need = 2 if it["overlap"] else 1
        if labelled.get(pid, 0) >= need:
            continue
        if not it["overlap"] and pid in held and mine.get(pid) != "skip":
            continue
        key = (mine.get(pid) == "skip", it["position"])  # skipped ones come back last
        if best_key is None or key < best_key:
            best, best_key = it, key
            if not key[0]:
                break
    return best


def _ago(seconds: int) -> str:
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) - timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def _split(passage_id: str) -> tuple[str, int] | None:
    """``(doc_id, index)`` of a passage id ``<doc_id>:<index>``, or None for anything else."""
    doc_id, _, idx = passage_id.rpartition(":")
    return (doc_id, int(idx)) if doc_id and idx.isdigit() else None


def passage_with_context(store_path: Path, passage_id: str) -> dict[str, Any] | None:
    """The passage, its neighbours in the document, the document's source, and the passage's label
    probabilities (``labels``: family -> label -> p; empty without a classifier)."""
    key = _split(passage_id)
    if key is None:
        return None
    doc_id, idx = key
    by, doc = qstore.passage_window(store_path, doc_id, idx)
    if idx not in by or doc is None:
        return None
    me = by[idx]
    try:
        probs = json.loads(me["labels"] or "{}")
    except ValueError:
        probs = {}
    return {
        "passage_id": passage_id, "doc_id": doc_id, "index": idx, "text": me["text"], "lang": me["lang"],
        "before": by[idx - 1]["text"] if idx - 1 in by else "",
        "after": by[idx + 1]["text"] if idx + 1 in by else "",
        "site": doc["site"], "url": doc["url"], "title": doc["title"],
        "source": source_ref(doc["source"], doc["offset"]),
        "labels": probs if isinstance(probs, dict) else {},
    }


def clean_labels(labels: dict[str, list[str]]) -> dict[str, list[str]]:
    """Only known label ids, per family, sorted, no duplicates."""
    return {f: sorted(set(l for l in labels.get(f, []) if l in known)) for f, known in FAMILIES.items()}


def suggestions_withheld(db: AppDB, passage_id: str) -> str | None:
    """Why the model's suggestions stay off this passage for everyone (``"overlap"``: it is in the blind
    double-annotation sample), or None when each annotator's choice holds."""
    return suggest.withheld(qstore.is_overlap(db, passage_id))


def _suggestion_fields(suggested: dict[str, list[str]] | None, withheld: str | None) -> dict[str, Any]:
    """What a label's log line says of the model's suggestions (``suggestions_withheld`` only when they were)."""
    out: dict[str, Any] = {"suggestions_shown": suggested is not None, "suggested": suggested}
    if withheld:
        out["suggestions_withheld"] = withheld
    return out


def _suggested(p: dict[str, Any], shown: bool, thresholds: dict[str, dict[str, float]] | None,
               withheld: str | None) -> dict[str, list[str]] | None:
    """The labels the model suggested on the page, from the store (not from the form);
    None when they were off, withheld, or the passage has no probabilities (nothing could be shown)."""
    sugg = suggest.for_passage(p.get("labels"), thresholds) if shown and not withheld else {}
    return suggest.ticked(sugg) if sugg else None


def record(db: AppDB, store_path: Path, annotations_dir: Path, user: dict[str, Any], passage_id: str,
           action: str, labels: dict[str, list[str]] | None, model_version: str, *, note: str = "",
           reason: str | None = None, suggestions_shown: bool = False,
           thresholds: dict[str, dict[str, float]] | None = None) -> int:
    """Save a ``label``, ``skip``, ``ignore`` or ``flag``: one event row, and for labels and flags one
    log line.

    Only for a passage the queue offered to this user (else ``NotOffered``),
    and once: answering the same passage again returns the first answer's id.
    A flag needs one of :data:`FLAG_REASONS`; ``note`` is the annotator's
    optional comment (admins see it).  ``suggestions_shown``: the page showed
    the model's suggestions (with ``thresholds``, the labels they suggested are
    recorded with the labels).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown annotation action {action!r}")
    if action == "flag" and reason not in FLAG_REASONS:
        raise ValueError(f"a flag needs a reason, one of {', '.join(FLAG_REASONS)}")
    p = passage_with_context(store_path, passage_id)
    if p is None:
        raise LookupError(f"passage {passage_id!r} is not in the store")
    labels = clean_labels(labels or {}) if action == "label" else {}
    withheld = suggestions_withheld(db, passage_id) if action == "label" else None
    suggested = _suggested(p, suggestions_shown, thresholds, withheld) if action == "label" else None
    note = (note or "").strip()[:MAX_COMMENT_CHARS]
    created = now()
    eid, new = qstore.record_action(db, passage_id, user, action, labels, created, model_version, note=note,
                                    reason=reason if action == "flag" else None, suggested=suggested,
                                    withheld=withheld)
    if new and action in ("label", "flag"):
        rec = _log_record(p, eid, action, labels, user["name"], created, model_version)
        if action == "label":
            rec.update(_suggestion_fields(suggested, withheld))
        else:
            rec["reason"] = reason
        if note:
            rec["note"] = note
        annolog.append(annotations_dir, rec)
    return eid


def edit(db: AppDB, store_path: Path, annotations_dir: Path, user: dict[str, Any], passage_id: str,
         labels: dict[str, list[str]], model_version: str, *, note: str = "", suggestions_shown: bool = False,
         thresholds: dict[str, dict[str, float]] | None = None) -> int | None:
    """Correct this user's labels of a passage they labelled, or label one they flagged or ignored
    (from "My labels").

    Appends a new label event (and log line, ``corrects`` naming the record it
    replaces: a label or flag in the log; an ignore is only in the app
    database); the old one stays, the latest answer wins wherever labels are
    read, and a flag a label replaces no longer shows on the flags page.
    Raises ``NotAnswered`` when the user has no live label, flag or ignore of
    the passage.  Returns the new event's id, or None when nothing changed.
    """
    p = passage_with_context(store_path, passage_id)
    if p is None:
        raise LookupError(f"passage {passage_id!r} is not in the store")
    labels = clean_labels(labels)
    withheld = suggestions_withheld(db, passage_id)
    suggested = _suggested(p, suggestions_shown, thresholds, withheld)
    note = (note or "").strip()[:MAX_COMMENT_CHARS]
    created = now()
    eid, prev, new = qstore.record_edit(db, passage_id, user, labels, created, model_version, note=note,
                                        suggested=suggested, withheld=withheld)
    if not new:
        return None
    rec = _log_record(p, eid, "label", labels, user["name"], created, model_version)
    rec.update(_suggestion_fields(suggested, withheld), corrects=f"app-e{prev['id']}")
    if prev["action"] != "label":
        rec["corrects_event"] = prev["action"]  # a flag or ignore the annotator now labels instead
    if note:
        rec["note"] = note
    annolog.append(annotations_dir, rec)
    return eid


def _log_record(p: dict[str, Any], eid: int, event: str, labels: dict[str, list[str]], annotator: str,
                created: str, model_version: str, retracts: str | None = None) -> dict[str, Any]:
    return {"id": f"app-e{eid}", "event": event, "passage_id": p["passage_id"], "doc_id": p["doc_id"],
            "text": p["text"], "lang": p["lang"], "source": f"store:{p['source']}", "url": p["url"],
            "labels": labels, "doc_label": None, "annotator": annotator, "time": created,
            "model_version": model_version, "retracts": retracts, "written_for_project": False, "split": None}


def undo(db: AppDB, store_path: Path, annotations_dir: Path, user: dict[str, Any], model_version: str) -> dict[str, Any] | None:
    """Retract this user's last live label, skip, ignore or flag; returns the retracted event, or None.

    Undoing a correction brings back the label it corrected.
    """
    created = now()
    done = qstore.undo_last(db, user, created, model_version)
    if done is None:
        return None
    last, uid = done
    if last["action"] in ("label", "flag"):  # the events the log holds
        p = passage_with_context(store_path, last["passage_id"])
        if p is not None:
            annolog.append(annotations_dir, _log_record(p, uid, "retract", {}, user["name"], created,
                                                        model_version, retracts=f"app-e{last['id']}"))
    return last


def _with_texts(store_path: Path, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows with ``text``: their passage's text from the scan store (None when no longer there)."""
    keys = {r["passage_id"]: _split(r["passage_id"]) for r in rows}
    texts = qstore.passage_texts(store_path, sorted({k for k in keys.values() if k is not None}))
    return [{**r, "text": texts.get(keys[r["passage_id"]]) if keys[r["passage_id"]] else None} for r in rows]


def my_labels(db: AppDB, store_path: Path, user: dict[str, Any], before: int | None = None,
              limit: int = 20) -> dict[str, Any]:
    """One page of the passages this user answered, newest answer first: ``rows`` (their current label,
    flag or ignore event with ``text``, ``first_created``, ``edited``, ``reason_text`` for a flag),
    ``total``, and ``next_before`` for the next page (None on the last)."""
    rows, total = qstore.answers_of_user(db, user["id"], before, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    items = [{**r, "edited": r["target_id"] is not None, "reason_text": FLAG_REASONS.get(r["reason"] or "", "")}
             for r in _with_texts(store_path, rows)]
    return {"rows": items, "total": total, "next_before": rows[-1]["id"] if more and rows else None}


def flags(db: AppDB, store_path: Path, passage_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Live flags and commented answers, newest first, with their passage's text (for admins)."""
    rows = qstore.flags_and_comments(db, passage_id, limit)
    return [{**r, "reason_text": FLAG_REASONS.get(r["reason"] or "", "")} for r in _with_texts(store_path, rows)]


def adjudicate(db: AppDB, store_path: Path, annotations_dir: Path, admin: dict[str, Any], passage_id: str,
               labels: dict[str, list[str]], note: str, model_version: str) -> int:
    """An admin's resolution of a conflict; the raw labels stay untouched."""
    p = passage_with_context(store_path, passage_id)
    if p is None:
        raise LookupError(f"passage {passage_id!r} is not in the store")
    labels = clean_labels(labels)
    created = now()
    eid = qstore.add_event(db, passage_id, admin, "adjudicate", labels, created, model_version, note=note[:2000])
    rec = _log_record(p, eid, "adjudicate", labels, admin["name"], created, model_version)
    rec["note"] = note[:2000]
    annolog.append(annotations_dir, rec)
    return eid
