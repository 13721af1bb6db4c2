"""The annotation queue's queries: the passages it may offer, its rows, assignments and events.

Why here: every SQL statement of the package lives in ``store/``.  Which
passage comes next, how a batch is mixed and what counts as done is the
queue's policy, in :mod:`csei_nlp.annotate.queue`; it hands that policy to
these functions as callables, so each hand-out and each refill stays one
transaction under the queue lock.

Two databases are read: the scan store (``csei.sqlite``, read-only here) for
the passages, and the app database (:mod:`csei_nlp.store.appdb`) for the
queue, the assignments and the append-only annotation events.
"""
from __future__ import annotations

import json
import sqlite3
from collections import defaultdict
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select

from .appdb import AppDB, annotation_events as ev, assignments, now, queue_items, settings
from .wal import connect_wal

# (queued passage ids, last position, next batch number) -> the batch's rows
BatchPlan = Callable[[set[str], int, int], list[dict[str, Any]]]
# (queue items in order, this user's live action per passage, number of distinct labellers per
#  passage, passages others hold) -> the item to hand out, or None
Chooser = Callable[[list[Mapping[str, Any]], dict[str, str], dict[str, int], set[str]], "Mapping[str, Any] | None"]


# --- the scan store ---------------------------------------------------------------

def passage_pool(store_path: Path) -> list[tuple[Any, ...]]:
    """``(doc_id, idx, lang, labels, n_chars, site, source, offset, url)`` of every passage of
    an ok, non-duplicate document."""
    conn = connect_wal(store_path, timeout=30, read_only=True)
    try:
        return conn.execute(
            """SELECT p.doc_id, p.idx, p.lang, p.labels, length(p.text), d.site, d.source, d.offset, d.url
               FROM passages p JOIN documents d ON d.id = p.doc_id
               WHERE d.status = 'ok' AND d.dup_of IS NULL""").fetchall()
    finally:
        conn.close()


def passage_window(store_path: Path, doc_id: str, idx: int) -> tuple[dict[int, sqlite3.Row], sqlite3.Row | None]:
    """Passages ``idx - 1 .. idx + 1`` of the document (by index), and the document's row."""
    conn = connect_wal(store_path, timeout=30, read_only=True)
    conn.row_factory = sqlite3.Row
    try:
        rows = conn.execute("SELECT idx, text, lang, spans FROM passages WHERE doc_id=? AND idx BETWEEN ? AND ? "
                            "ORDER BY idx", (doc_id, idx - 1, idx + 1)).fetchall()
        doc = conn.execute("SELECT id, source, offset, url, site, title, lang FROM documents WHERE id=?",
                           (doc_id,)).fetchone()
    finally:
        conn.close()
    return {r["idx"]: r for r in rows}, doc


# --- the queue --------------------------------------------------------------------

def _live_events(*conds: Any) -> Any:
    """Label and skip events that no undo retracted."""
    undone = select(ev.c.target_id).where(ev.c.action == "undo", ev.c.target_id.is_not(None))
    return select(ev).where(ev.c.action.in_(("label", "skip")), ev.c.id.not_in(undone), *conds)


def _queue_lock(c: Any) -> None:
    """Serialise queue hand-outs (SQLite: BEGIN IMMEDIATE already does; PostgreSQL: row lock)."""
    if c.dialect.name == "postgresql":
        c.execute(select(settings.c.value).where(settings.c.key == "queue_lock").with_for_update())


def append_batch(db: AppDB, plan: BatchPlan) -> int:
    """Append the rows ``plan`` returns as one batch; returns how many.

    One transaction under the queue lock: two people refilling at once add one
    batch, not two clashing ones.
    """
    with db.engine.begin() as c:
        _queue_lock(c)
        queued = {r[0] for r in c.execute(select(queue_items.c.passage_id))}
        last = c.execute(select(func.max(queue_items.c.position), func.max(queue_items.c.batch))).first()
        rows = plan(queued, last[0] or 0, (last[1] or 0) + 1)
        if rows:
            c.execute(queue_items.insert(), rows)
        return len(rows)


def pick(db: AppDB, user_id: int, held_since: str, choose: Chooser) -> dict[str, Any] | None:
    """The item ``choose`` picks for this user, assigned to them; None when it picks none.

    Items other users were assigned at or after ``held_since`` count as held.
    One transaction under the queue lock.
    """
    with db.engine.begin() as c:
        _queue_lock(c)
        live = _live_events().subquery()
        mine = {r.passage_id: r.action for r in c.execute(
            select(live.c.passage_id, live.c.action).where(live.c.user_id == user_id).order_by(live.c.id))}
        labelled = dict(c.execute(select(live.c.passage_id, func.count(func.distinct(live.c.user_id)))
                                  .where(live.c.action == "label").group_by(live.c.passage_id)).all())
        held = {r[0] for r in c.execute(select(assignments.c.passage_id).where(
            and_(assignments.c.user_id != user_id, assignments.c.assigned >= held_since)))}
        items = c.execute(select(queue_items).order_by(queue_items.c.position)).mappings().all()
        best = choose(items, mine, labelled, held)
        if best is None:
            return None
        existing = c.execute(select(assignments.c.id).where(
            assignments.c.passage_id == best["passage_id"], assignments.c.user_id == user_id)).first()
        if existing:
            c.execute(assignments.update().where(assignments.c.id == existing[0]).values(assigned=now()))
        else:
            c.execute(assignments.insert().values(passage_id=best["passage_id"], user_id=user_id, assigned=now()))
        return dict(best)


# --- events -----------------------------------------------------------------------

def add_event(db: AppDB, passage_id: str, user: Mapping[str, Any], action: str, labels: dict[str, list[str]],
              created: str, model_version: str, note: str = "") -> int:
    """Append one annotation event (label, skip, adjudicate); returns its id."""
    with db.engine.begin() as c:
        res = c.execute(ev.insert().values(passage_id=passage_id, user_id=user["id"], user_name=user["name"],
                                           action=action, labels=json.dumps(labels), created=created,
                                           model_version=model_version, note=note))
        return int(res.inserted_primary_key[0])


class NotOffered(LookupError):
    """A label or skip for a passage the queue never handed to this user."""


def record_action(db: AppDB, passage_id: str, user: Mapping[str, Any], action: str,
                  labels: dict[str, list[str]], created: str, model_version: str) -> tuple[int, bool]:
    """A user's label or skip of a passage offered to them, once: returns (event id, whether it is new).

    In one transaction: the passage must have been assigned to this user
    (else :class:`NotOffered`: a forged id, or a passage another tab never
    showed), and a second answer for a passage the user already answered (a
    double submit, two tabs) returns the first one instead of adding another.
    """
    with db.engine.begin() as c:
        _queue_lock(c)
        offered = c.execute(select(assignments.c.id).where(
            assignments.c.passage_id == passage_id, assignments.c.user_id == user["id"])).first()
        if offered is None:
            raise NotOffered(f"passage {passage_id!r} was not offered to {user['name']!r}")
        live = _live_events().subquery()
        done = c.execute(select(live.c.id).where(live.c.passage_id == passage_id, live.c.user_id == user["id"])
                         .order_by(live.c.id.desc()).limit(1)).first()
        if done is not None:
            return int(done[0]), False
        res = c.execute(ev.insert().values(passage_id=passage_id, user_id=user["id"], user_name=user["name"],
                                           action=action, labels=json.dumps(labels), created=created,
                                           model_version=model_version, note=""))
        return int(res.inserted_primary_key[0]), True


def undo_last(db: AppDB, user: Mapping[str, Any], created: str,
              model_version: str) -> tuple[dict[str, Any], int] | None:
    """Retract this user's last live label or skip with an ``undo`` event, and renew their
    assignment of it; returns (the retracted event, the undo event's id), or None."""
    with db.engine.begin() as c:
        live = _live_events().subquery()
        last = c.execute(select(live).where(live.c.user_id == user["id"]).order_by(live.c.id.desc())
                         .limit(1)).mappings().first()
        if last is None:
            return None
        res = c.execute(ev.insert().values(passage_id=last["passage_id"], user_id=user["id"],
                                           user_name=user["name"], action="undo", labels="{}",
                                           target_id=last["id"], created=created, model_version=model_version))
        uid = int(res.inserted_primary_key[0])
        c.execute(assignments.update().where(assignments.c.passage_id == last["passage_id"],
                                             assignments.c.user_id == user["id"]).values(assigned=now()))
    return dict(last), uid


def retracted_labels(db: AppDB, user_id: int, passage_id: str) -> dict[str, list[str]] | None:
    """The labels of this user's latest undone label of this passage (what undo should bring back), or None."""
    with db.engine.connect() as c:
        undone = select(ev.c.target_id).where(ev.c.action == "undo", ev.c.user_id == user_id,
                                              ev.c.target_id.is_not(None))
        row = c.execute(select(ev.c.labels).where(ev.c.id.in_(undone), ev.c.passage_id == passage_id,
                                                  ev.c.action == "label")
                        .order_by(ev.c.id.desc()).limit(1)).first()
    return json.loads(row[0]) if row else None


def live_labels(db: AppDB) -> dict[str, dict[str, dict[str, list[str]]]]:
    """passage_id -> annotator -> labels, from live label events (latest per annotator)."""
    out: dict[str, dict[str, dict[str, list[str]]]] = defaultdict(dict)
    with db.engine.connect() as c:
        live = _live_events().subquery()
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


def stats(db: AppDB, user: Mapping[str, Any] | None = None) -> dict[str, int]:
    """Queue size, passages labelled by anyone, and this user's labels and skips (in all, and since
    ``user["session_started"]`` when given: the current sign-in)."""
    with db.engine.connect() as c:
        live = _live_events().subquery()
        q = select(func.count()).select_from(live).where(live.c.action == "label")
        total = c.execute(select(func.count()).select_from(queue_items)).scalar_one()
        labelled = c.execute(select(func.count(func.distinct(live.c.passage_id))).where(live.c.action == "label")).scalar_one()
        mine = c.execute(q.where(live.c.user_id == user["id"])).scalar_one() if user else 0
        skipped = c.execute(select(func.count()).select_from(live).where(
            live.c.action == "skip", live.c.user_id == user["id"])).scalar_one() if user else 0
        since = (user or {}).get("session_started")
        session_n = c.execute(q.where(live.c.user_id == user["id"], live.c.created >= since)).scalar_one() \
            if user and since else 0
    return {"queued": int(total), "labelled_passages": int(labelled), "mine": int(mine), "my_skipped": int(skipped),
            "mine_this_session": int(session_n)}
