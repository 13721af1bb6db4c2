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
        rows = conn.execute("SELECT idx, text, lang, spans, labels FROM passages WHERE doc_id=? AND idx BETWEEN ? "
                            "AND ? ORDER BY idx", (doc_id, idx - 1, idx + 1)).fetchall()
        doc = conn.execute("SELECT id, source, offset, url, site, title, lang FROM documents WHERE id=?",
                           (doc_id,)).fetchone()
    finally:
        conn.close()
    return {r["idx"]: r for r in rows}, doc


def passage_texts(store_path: Path, keys: list[tuple[str, int]]) -> dict[tuple[str, int], str]:
    """``(doc_id, idx) -> text`` of these passages (those no longer in the store are missing)."""
    if not keys:
        return {}
    conn = connect_wal(store_path, timeout=30, read_only=True)
    try:
        out: dict[tuple[str, int], str] = {}
        for i in range(0, len(keys), 200):  # well under SQLite's bound-parameter limit
            chunk = keys[i:i + 200]
            values = ",".join("(?,?)" for _ in chunk)
            params = [v for k in chunk for v in k]
            for doc_id, idx, text in conn.execute(
                    f"SELECT doc_id, idx, text FROM passages WHERE (doc_id, idx) IN (VALUES {values})", params):
                out[(doc_id, int(idx))] = text
        return out
    finally:
        conn.close()


# --- the queue --------------------------------------------------------------------

#: what an annotator does with an offered passage; an undo retracts the latest of them
LIVE_ACTIONS = ("label", "skip", "ignore", "flag")
#: the actions that answer a passage for good (it leaves that annotator's queue); a skip only defers it
ANSWERS = ("label", "ignore", "flag")
#: an assignment time before any real one: the passage is no longer held by that annotator
RELEASED = "1970-01-01T00:00:00.000000+00:00"


def _live_events(*conds: Any) -> Any:
    """Label, skip, ignore and flag events that no undo retracted."""
    undone = select(ev.c.target_id).where(ev.c.action == "undo", ev.c.target_id.is_not(None))
    return select(ev).where(ev.c.action.in_(LIVE_ACTIONS), ev.c.id.not_in(undone), *conds)


def _latest_live(c: Any, passage_id: str, user_id: int) -> Mapping[str, Any] | None:
    """This user's latest live event on this passage: where they stand with it now."""
    live = _live_events().subquery()
    return c.execute(select(live).where(live.c.passage_id == passage_id, live.c.user_id == user_id)
                     .order_by(live.c.id.desc()).limit(1)).mappings().first()


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


def is_overlap(db: AppDB, passage_id: str) -> bool:
    """Whether this passage is a queue item marked for blind double annotation."""
    with db.engine.connect() as c:
        return bool(c.execute(select(queue_items.c.overlap).where(queue_items.c.passage_id == passage_id)
                              .limit(1)).scalar())


def pick(db: AppDB, user_id: int, held_since: str, choose: Chooser) -> dict[str, Any] | None:
    """The item ``choose`` picks for this user, assigned to them; None when it picks none.

    Items other users were assigned at or after ``held_since`` count as held.
    One transaction under the queue lock.
    """
    with db.engine.begin() as c:
        _queue_lock(c)
        live = _live_events().subquery()
        mine, latest = {}, {}
        for r in c.execute(select(live.c.id, live.c.passage_id, live.c.action).where(live.c.user_id == user_id)
                           .order_by(live.c.id)):
            mine[r.passage_id], latest[r.passage_id] = r.action, r.id
        # a passage whose answer was just undone comes back in its place, even if it was once skipped
        for pid, undo_id in c.execute(select(ev.c.passage_id, func.max(ev.c.id)).where(
                ev.c.user_id == user_id, ev.c.action == "undo").group_by(ev.c.passage_id)):
            if mine.get(pid) == "skip" and undo_id > latest[pid]:
                del mine[pid]
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


class NotAnswered(LookupError):
    """An edit of a passage this user has no live answer of (a label, flag or ignore; never given, or undone)."""


def _suggestion_values(suggested: dict[str, list[str]] | None, labelled: bool,
                       withheld: str | None = None) -> dict[str, Any]:
    """The suggestion columns: NULL on events without labels; else shown or not, what the model suggested,
    and why they were withheld (if they were)."""
    if not labelled:
        return {"suggestions_shown": None, "suggested": None, "suggestions_withheld": None}
    return {"suggestions_shown": suggested is not None,
            "suggested": json.dumps(suggested) if suggested is not None else None,
            "suggestions_withheld": withheld}


def record_action(db: AppDB, passage_id: str, user: Mapping[str, Any], action: str,
                  labels: dict[str, list[str]], created: str, model_version: str, *, note: str = "",
                  reason: str | None = None, suggested: dict[str, list[str]] | None = None,
                  withheld: str | None = None) -> tuple[int, bool]:
    """A user's label, skip, ignore or flag of a passage offered to them, once: returns (event id, whether
    it is new).

    In one transaction: the passage must have been assigned to this user
    (else :class:`NotOffered`: a forged id, or a passage another tab never
    showed), and a second answer for a passage the user already answered (a
    double submit, two tabs) returns the first one instead of adding another.
    A skip only defers a passage: labelling, ignoring or flagging it when it
    comes back is a new answer.  An ignore or flag releases the assignment at
    once, so another annotator may take a passage this one set aside.
    ``suggested`` is the labels the model suggested on the page (None: suggestions not shown);
    ``withheld`` why the app kept them off the page (see :mod:`csei_nlp.annotate.suggest`).
    """
    with db.engine.begin() as c:
        _queue_lock(c)
        offered = c.execute(select(assignments.c.id).where(
            assignments.c.passage_id == passage_id, assignments.c.user_id == user["id"])).first()
        if offered is None:
            raise NotOffered(f"passage {passage_id!r} was not offered to {user['name']!r}")
        done = _latest_live(c, passage_id, user["id"])
        if done is not None and (done["action"] in ANSWERS or action == "skip"):
            return int(done["id"]), False
        res = c.execute(ev.insert().values(passage_id=passage_id, user_id=user["id"], user_name=user["name"],
                                           action=action, labels=json.dumps(labels), created=created,
                                           model_version=model_version, note=note, reason=reason,
                                           **_suggestion_values(suggested, action == "label", withheld)))
        if action in ("ignore", "flag"):
            c.execute(assignments.update().where(assignments.c.id == offered[0]).values(assigned=RELEASED))
        return int(res.inserted_primary_key[0]), True


def record_edit(db: AppDB, passage_id: str, user: Mapping[str, Any], labels: dict[str, list[str]],
                created: str, model_version: str, *, note: str = "",
                suggested: dict[str, list[str]] | None = None,
                withheld: str | None = None) -> tuple[int, dict[str, Any], bool]:
    """A user's corrected labels of a passage they answered: returns (event id, the answer it replaces,
    whether it is new).

    The log stays append-only: the correction is a new ``label`` event whose
    ``target_id`` names the answer it replaces (a label, or a flag or ignore
    the annotator now labels instead), and an annotator's latest live answer
    is their answer everywhere.  In one transaction: the user's current
    answer for the passage must be a live label, flag or ignore (else
    :class:`NotAnswered`), and a correction of a label that changes nothing
    (the same labels and no comment: a double submit) adds no event.
    """
    with db.engine.begin() as c:
        _queue_lock(c)
        prev = _latest_live(c, passage_id, user["id"])
        if prev is None or prev["action"] not in ANSWERS:
            raise NotAnswered(f"{user['name']!r} has no answer of passage {passage_id!r} to correct")
        prev = {**dict(prev), "labels": json.loads(prev["labels"])}
        if prev["action"] == "label" and prev["labels"] == labels and not note:
            return int(prev["id"]), prev, False
        res = c.execute(ev.insert().values(passage_id=passage_id, user_id=user["id"], user_name=user["name"],
                                           action="label", labels=json.dumps(labels), target_id=prev["id"],
                                           created=created, model_version=model_version, note=note,
                                           **_suggestion_values(suggested, True, withheld)))
        return int(res.inserted_primary_key[0]), prev, True


def current_answer(db: AppDB, user_id: int, passage_id: str) -> dict[str, Any] | None:
    """This user's current answer of this passage: their latest live label, flag or ignore event (labels
    decoded), or None (never answered, undone, or only skipped)."""
    with db.engine.connect() as c:
        row = _latest_live(c, passage_id, user_id)
    if row is None or row["action"] not in ANSWERS:
        return None
    return {**dict(row), "labels": json.loads(row["labels"])}


def answers_of_user(db: AppDB, user_id: int, before: int | None, limit: int) -> tuple[list[dict[str, Any]], int]:
    """One page of the passages this user answered (labelled, flagged or ignored), newest answer first,
    and how many there are in all.

    Each row is the user's current answer event of the passage (a correction,
    or a label given instead of a flag, moves it to the top) with
    ``first_created``, when they first answered it.  Keyset paging:
    ``before`` is the event id the previous page ended at.
    """
    live = _live_events(ev.c.user_id == user_id, ev.c.action.in_(ANSWERS)).subquery()
    latest = select(live.c.passage_id, func.max(live.c.id).label("mid"),
                    func.min(live.c.created).label("first_created")).group_by(live.c.passage_id)
    if before is not None:
        latest = latest.having(func.max(live.c.id) < before)
    latest = latest.subquery()
    with db.engine.connect() as c:
        rows = c.execute(select(ev, latest.c.first_created).join(latest, ev.c.id == latest.c.mid)
                         .order_by(ev.c.id.desc()).limit(limit)).mappings().all()
        total = c.execute(select(func.count(func.distinct(live.c.passage_id)))).scalar_one()
    return [{**dict(r), "labels": json.loads(r["labels"])} for r in rows], int(total)


def flags_and_comments(db: AppDB, passage_id: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Live flags, and live answers with a comment, newest first (of one passage when given).

    A flag its annotator has since replaced with a label (from "My labels") is left out: they no
    longer stand by it."""
    live = _live_events().subquery()
    relabels = _live_events(ev.c.action == "label", ev.c.target_id.is_not(None)).subquery()
    replaced = select(relabels.c.target_id)
    q = select(live).where((live.c.action == "flag") | (live.c.note != ""),
                           ~((live.c.action == "flag") & live.c.id.in_(replaced)))
    if passage_id is not None:
        q = q.where(live.c.passage_id == passage_id)
    with db.engine.connect() as c:
        rows = c.execute(q.order_by(live.c.id.desc()).limit(limit)).mappings().all()
    return [{**dict(r), "labels": json.loads(r["labels"])} for r in rows]


def undo_last(db: AppDB, user: Mapping[str, Any], created: str,
              model_version: str) -> tuple[dict[str, Any], int] | None:
    """Retract this user's last live label or skip with an ``undo`` event, and renew their
    assignment of it; returns (the retracted event, the undo event's id), or None.

    When the undo brings back a flag or ignore (it retracted the label given instead of one, from
    "My labels"), the passage stays released to others, as the flag or ignore left it."""
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
        back = _latest_live(c, last["passage_id"], user["id"])
        held = RELEASED if back is not None and back["action"] in ("ignore", "flag") else now()
        c.execute(assignments.update().where(assignments.c.passage_id == last["passage_id"],
                                             assignments.c.user_id == user["id"]).values(assigned=held))
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
    """Queue size, passages labelled by anyone, and this user's labelled, skipped and set-aside
    (ignored or flagged) passages; labelled also since ``user["session_started"]`` when given (the
    current sign-in; corrections of earlier labels do not count there)."""
    with db.engine.connect() as c:
        live = _live_events().subquery()
        passages = select(func.count(func.distinct(live.c.passage_id)))
        total = c.execute(select(func.count()).select_from(queue_items)).scalar_one()
        labelled = c.execute(passages.where(live.c.action == "label")).scalar_one()
        out = {"queued": int(total), "labelled_passages": int(labelled), "mine": 0, "my_skipped": 0,
               "my_set_aside": 0, "mine_this_session": 0}
        if not user:
            return out
        mine = live.c.user_id == user["id"]
        out["mine"] = int(c.execute(passages.where(mine, live.c.action == "label")).scalar_one())
        # where each of their passages stands: their latest live event on it
        latest = select(func.max(live.c.id)).where(mine).group_by(live.c.passage_id)
        for action, n in c.execute(select(ev.c.action, func.count()).where(ev.c.id.in_(latest))
                                   .group_by(ev.c.action)):
            if action == "skip":
                out["my_skipped"] = int(n)
            elif action in ("ignore", "flag"):
                out["my_set_aside"] += int(n)
        since = user.get("session_started")
        if since:
            out["mine_this_session"] = int(c.execute(passages.where(
                mine, live.c.action == "label", live.c.target_id.is_(None), live.c.created >= since)).scalar_one())
    return out
