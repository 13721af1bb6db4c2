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
``skip``, ``undo``); the queue's state is derived from those events, so two
people working at once lose nothing.
"""
from __future__ import annotations

import json
import random
import sqlite3
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select

from ..taxonomy import FAMILIES
from ..types import source_ref, stable_id
from ..web.db import AppDB, annotation_events as ev, assignments, now, queue_items, settings
from . import log as annolog

MIN_PASSAGE_CHARS = 60
ASSIGNMENT_TTL_S = 30 * 60


@dataclass(frozen=True)
class QueueParams:
    batch_size: int = 40
    random_share: float = 0.3
    overlap: float = 0.2
    per_site: int = 3
    seed: int = 0

    @classmethod
    def from_config(cls, cfg: dict[str, dict[str, Any]]) -> "QueueParams":
        a = cfg["annotate"]
        return cls(batch_size=a["batch_size"], random_share=a["random_share"], overlap=a["overlap"],
                   per_site=a["per_site"], seed=a["seed"])


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
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, timeout=30)
    try:
        rows = conn.execute(
            """SELECT p.doc_id, p.idx, p.lang, p.labels, length(p.text), d.site, d.source, d.offset, d.url
               FROM passages p JOIN documents d ON d.id = p.doc_id
               WHERE d.status = 'ok' AND d.dup_of IS NULL""").fetchall()
    finally:
        conn.close()
    pool = []
    for doc_id, idx, lang, labels, n_chars, site, source, offset, url in rows:
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
    with db.engine.begin() as c:
        _queue_lock(c)
        return _refill(c, store_path, params)


def _refill(c: Any, store_path: Path, params: QueueParams) -> int:
    queued = {r[0] for r in c.execute(select(queue_items.c.passage_id))}
    last = c.execute(select(func.max(queue_items.c.position), func.max(queue_items.c.batch))).first()
    position, batch = (last[0] or 0), (last[1] or 0) + 1
    pool = _pool(store_path, queued)
    if not pool:
        return 0
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
    if rows:
        c.execute(queue_items.insert(), rows)
    return len(rows)


# --- state derived from events ------------------------------------------------

def _live_events(c: Any, *conds: Any) -> Any:
    undone = select(ev.c.target_id).where(ev.c.action == "undo", ev.c.target_id.is_not(None))
    return select(ev).where(ev.c.action.in_(("label", "skip")), ev.c.id.not_in(undone), *conds)


def _queue_lock(c: Any) -> None:
    """Serialise queue hand-outs (SQLite: BEGIN IMMEDIATE already does; PostgreSQL: row lock)."""
    if c.dialect.name == "postgresql":
        c.execute(select(settings.c.value).where(settings.c.key == "queue_lock").with_for_update())


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
    uid = user["id"]
    with db.engine.begin() as c:
        _queue_lock(c)
        live = _live_events(c).subquery()
        mine = {r.passage_id: r.action for r in c.execute(
            select(live.c.passage_id, live.c.action).where(live.c.user_id == uid).order_by(live.c.id))}
        labelled = dict(c.execute(select(live.c.passage_id, func.count(func.distinct(live.c.user_id)))
                                  .where(live.c.action == "label").group_by(live.c.passage_id)).all())
        cutoff = _ago(ASSIGNMENT_TTL_S)
        held = {r[0] for r in c.execute(select(assignments.c.passage_id).where(
            and_(assignments.c.user_id != uid, assignments.c.assigned >= cutoff)))}
        items = c.execute(select(queue_items).order_by(queue_items.c.position)).mappings().all()
        best, best_key = None, None
        for it in items:
            pid = it["passage_id"]
            if mine.get(pid) == "label":
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
        if best is None:
            return None
        existing = c.execute(select(assignments.c.id).where(
            assignments.c.passage_id == best["passage_id"], assignments.c.user_id == uid)).first()
        if existing:
            c.execute(assignments.update().where(assignments.c.id == existing[0]).values(assigned=now()))
        else:
            c.execute(assignments.insert().values(passage_id=best["passage_id"], user_id=uid, assigned=now()))
        return dict(best)


def _ago(seconds: int) -> str:
    from datetime import datetime, timedelta, timezone

    return (datetime.now(timezone.utc) - timedelta(seconds=seconds)).isoformat(timespec="microseconds")


def passage_with_context(store_path: Path, passage_id: str) -> dict[str, Any] | None:
    """The passage, its neighbours in the document, and the document's source."""
    doc_id, _, idx = passage_id.rpartition(":")
    if not doc_id or not idx.isdigit():
        return None
    conn = sqlite3.connect(f"file:{store_path}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT idx, text, lang, spans FROM passages WHERE doc_id=? AND idx BETWEEN ? AND ? "
                            "ORDER BY idx", (doc_id, int(idx) - 1, int(idx) + 1)).fetchall()
        doc = conn.execute("SELECT id, source, offset, url, site, title, lang FROM documents WHERE id=?",
                           (doc_id,)).fetchone()
    finally:
        conn.close()
    by = {r["idx"]: r for r in rows}
    if int(idx) not in by or doc is None:
        return None
    me = by[int(idx)]
    return {
        "passage_id": passage_id, "doc_id": doc_id, "index": int(idx), "text": me["text"], "lang": me["lang"],
        "before": by[int(idx) - 1]["text"] if int(idx) - 1 in by else "",
        "after": by[int(idx) + 1]["text"] if int(idx) + 1 in by else "",
        "site": doc["site"], "url": doc["url"], "title": doc["title"],
        "source": source_ref(doc["source"], doc["offset"]),
    }


def clean_labels(labels: dict[str, list[str]]) -> dict[str, list[str]]:
    """Only known label ids, per family, sorted, no duplicates."""
    return {f: sorted(set(l for l in labels.get(f, []) if l in known)) for f, known in FAMILIES.items()}


def record(db: AppDB, store_path: Path, annotations_dir: Path, user: dict[str, Any], passage_id: str,
           action: str, labels: dict[str, list[str]] | None, model_version: str) -> int:
    """Save a ``label`` or ``skip`` action: one event row, and for labels one log line."""
    if action not in ("label", "skip"):
        raise ValueError(f"unknown annotation action {action!r}")
    p = passage_with_context(store_path, passage_id)
    if p is None:
        raise LookupError(f"passage {passage_id!r} is not in the store")
    labels = clean_labels(labels or {}) if action == "label" else {}
    created = now()
    with db.engine.begin() as c:
        res = c.execute(ev.insert().values(passage_id=passage_id, user_id=user["id"], user_name=user["name"],
                                           action=action, labels=json.dumps(labels), created=created,
                                           model_version=model_version))
        eid = int(res.inserted_primary_key[0])
    if action == "label":
        annolog.append(annotations_dir, _log_record(p, eid, "label", labels, user["name"], created, model_version))
    return eid


def _log_record(p: dict[str, Any], eid: int, event: str, labels: dict[str, list[str]], annotator: str,
                created: str, model_version: str, retracts: str | None = None) -> dict[str, Any]:
    return {"id": f"app-e{eid}", "event": event, "passage_id": p["passage_id"], "doc_id": p["doc_id"],
            "text": p["text"], "lang": p["lang"], "source": f"store:{p['source']}", "url": p["url"],
            "labels": labels, "doc_label": None, "annotator": annotator, "time": created,
            "model_version": model_version, "retracts": retracts, "written_for_project": False, "split": None}


def undo(db: AppDB, store_path: Path, annotations_dir: Path, user: dict[str, Any], model_version: str) -> dict[str, Any] | None:
    """Retract this user's last live label or skip; returns the retracted event, or None."""
    with db.engine.begin() as c:
        live = _live_events(c).subquery()
        last = c.execute(select(live).where(live.c.user_id == user["id"]).order_by(live.c.id.desc())
                         .limit(1)).mappings().first()
        if last is None:
            return None
        created = now()
        res = c.execute(ev.insert().values(passage_id=last["passage_id"], user_id=user["id"],
                                           user_name=user["name"], action="undo", labels="{}",
                                           target_id=last["id"], created=created, model_version=model_version))
        uid = int(res.inserted_primary_key[0])
        c.execute(assignments.update().where(assignments.c.passage_id == last["passage_id"],
                                             assignments.c.user_id == user["id"]).values(assigned=now()))
    if last["action"] == "label":
        p = passage_with_context(store_path, last["passage_id"])
        if p is not None:
            annolog.append(annotations_dir, _log_record(p, uid, "retract", {}, user["name"], created,
                                                        model_version, retracts=f"app-e{last['id']}"))
    return dict(last)


def live_labels(db: AppDB) -> dict[str, dict[str, dict[str, list[str]]]]:
    """passage_id -> annotator -> labels, from live label events (latest per annotator)."""
    out: dict[str, dict[str, dict[str, list[str]]]] = defaultdict(dict)
    with db.engine.connect() as c:
        live = _live_events(c).subquery()
        for r in c.execute(select(live).where(live.c.action == "label").order_by(live.c.id)).mappings():
            out[r["passage_id"]][r["user_name"]] = json.loads(r["labels"])
    return dict(out)


def adjudications(db: AppDB) -> dict[str, dict[str, Any]]:
    """passage_id -> the latest adjudication event."""
    out: dict[str, dict[str, Any]] = {}
    with db.engine.connect() as c:
        for r in c.execute(select(ev).where(ev.c.action == "adjudicate").order_by(ev.c.id)).mappings():
            out[r["passage_id"]] = {**dict(r), "labels": json.loads(r["labels"])}
    return out


def adjudicate(db: AppDB, store_path: Path, annotations_dir: Path, admin: dict[str, Any], passage_id: str,
               labels: dict[str, list[str]], note: str, model_version: str) -> int:
    """An admin's resolution of a conflict; the raw labels stay untouched."""
    p = passage_with_context(store_path, passage_id)
    if p is None:
        raise LookupError(f"passage {passage_id!r} is not in the store")
    labels = clean_labels(labels)
    created = now()
    with db.engine.begin() as c:
        res = c.execute(ev.insert().values(passage_id=passage_id, user_id=admin["id"], user_name=admin["name"],
                                           action="adjudicate", labels=json.dumps(labels), created=created,
                                           model_version=model_version, note=note[:2000]))
        eid = int(res.inserted_primary_key[0])
    rec = _log_record(p, eid, "adjudicate", labels, admin["name"], created, model_version)
    rec["note"] = note[:2000]
    annolog.append(annotations_dir, rec)
    return eid


def stats(db: AppDB, user: dict[str, Any] | None = None) -> dict[str, int]:
    with db.engine.connect() as c:
        live = _live_events(c).subquery()
        q = select(func.count()).select_from(live).where(live.c.action == "label")
        total = c.execute(select(func.count()).select_from(queue_items)).scalar_one()
        labelled = c.execute(select(func.count(func.distinct(live.c.passage_id))).where(live.c.action == "label")).scalar_one()
        mine = c.execute(q.where(live.c.user_id == user["id"])).scalar_one() if user else 0
        skipped = c.execute(select(func.count()).select_from(live).where(
            live.c.action == "skip", live.c.user_id == user["id"])).scalar_one() if user else 0
    return {"queued": int(total), "labelled_passages": int(labelled), "mine": int(mine), "my_skipped": int(skipped)}
