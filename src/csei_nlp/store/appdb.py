"""The review app's own tables, kept apart from the scan's store.

Why in ``store/``: every SQL statement of the package lives here; the web
layer (``csei_nlp.web``) only does HTTP and the annotation queue's policy
(``csei_nlp.annotate.queue``) calls :mod:`csei_nlp.store.queue`.

A rescan replaces the scan store's candidates; people's work (accounts,
decisions, annotation actions) must survive that, so it lives here: by
default in ``OUTDIR/app.sqlite`` (SQLite, WAL), or on a PostgreSQL server
named by ``[web] database_url`` for a team.  SQLAlchemy Core keeps one code
path for both.

Everything people do is appended, never updated: a decision, an annotation,
a skip, an undo, an adjudication are each one new row.  The current state
(latest decision of a site, live labels of a passage) is derived by query.
"""
from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import (Boolean, Column, Float, ForeignKey, Index, Integer, MetaData, String, Table,
                        Text, UniqueConstraint, create_engine, event, func, select)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from werkzeug.security import check_password_hash, generate_password_hash

from ..errors import ConfigError, CseiError

ROLES = ("admin", "analyst", "annotator")
DECISIONS = ("accept", "reject", "unsure")
APP_DB_FILENAME = "app.sqlite"

metadata = MetaData()


def _id() -> Column:
    return Column("id", Integer, primary_key=True, autoincrement=True)


def _user_id() -> Column:
    return Column("user_id", Integer, ForeignKey("app_users.id"), nullable=False)


def _passage_user_table(name: str, *columns: Any) -> Table:
    """A table whose rows each tie one user to one passage: id, passage_id, user_id, then ``columns``."""
    return Table(name, metadata, _id(), Column("passage_id", String(64), nullable=False), _user_id(), *columns)


settings = Table(
    "app_settings", metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

users = Table(
    "app_users", metadata,
    _id(),
    Column("name", String(80), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("created", String(32), nullable=False),
    Column("active", Boolean, nullable=False, default=True),
)

# Server-side sessions: the signed cookie holds only a random id; signing out or disabling a user
# deletes the rows, so a cookie captured before that opens nothing afterwards.
sessions = Table(
    "app_sessions", metadata,
    Column("sid", String(64), primary_key=True),
    _user_id(),
    Column("created", String(32), nullable=False),
    Column("expires", String(32), nullable=False),
)

# Forms whose sign-in had ended when they were sent: kept for the same user to confirm after signing in
# again (never a password or CSRF token; the web layer decides what goes in), deleted when shown or expired.
drafts = Table(
    "app_drafts", metadata,
    Column("id", String(64), primary_key=True),
    _user_id(),
    Column("page", Text, nullable=False),  # the local URL of the page that holds the form
    Column("action", Text, nullable=False),  # the path the form was sent to
    Column("fields", Text, nullable=False),  # JSON: field name -> list of values
    Column("created", String(32), nullable=False),
    Column("expires", String(32), nullable=False),
)

decisions = Table(
    "app_decisions", metadata,
    _id(),
    Column("site", String(255), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("note", Text, nullable=False, default=""),
    _user_id(),
    Column("user_name", String(80), nullable=False),
    Column("created", String(32), nullable=False),
    Column("model_version", String(255), nullable=False, default=""),
    Column("run_id", String(64), nullable=False, default=""),
    Index("app_decisions_site", "site", "id"),
)

# The active-learning queue: which passages are offered, why, and in what order.
queue_items = Table(
    "app_queue", metadata,
    Column("passage_id", String(64), primary_key=True),
    Column("doc_id", String(64), nullable=False),
    Column("site", String(255), nullable=False, default=""),
    Column("lang", String(16), nullable=False, default="und"),
    Column("source", Text, nullable=False, default=""),
    Column("strategy", String(32), nullable=False),  # uncertainty:<family> | random
    Column("uncertainty", Float, nullable=False, default=0.0),
    Column("position", Integer, nullable=False),
    Column("overlap", Boolean, nullable=False, default=False),  # blind double annotation
    Column("batch", Integer, nullable=False, default=0),
    Column("created", String(32), nullable=False),
    Index("app_queue_position", "position"),
)

# Who is currently looking at which item, so two annotators are not shown the same
# single-annotation item at once.
assignments = _passage_user_table(
    "app_assignments",
    Column("assigned", String(32), nullable=False),
    UniqueConstraint("passage_id", "user_id", name="app_assignments_once"),
)

annotation_events = _passage_user_table(
    "app_annotation_events",
    Column("user_name", String(80), nullable=False),
    Column("action", String(16), nullable=False),  # label | skip | ignore | flag | undo | adjudicate
    Column("labels", Text, nullable=False, default="{}"),
    # the event an undo retracts, or the earlier label that a label corrects (an edit from "My labels")
    Column("target_id", Integer, nullable=True),
    Column("created", String(32), nullable=False),
    Column("model_version", String(255), nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),  # an annotator's comment, an adjudication's note
    Column("reason", String(32), nullable=True),  # why a flag: bad_text | not_passage | unsure
    # For later bias analysis: whether the model's suggestions were on screen when the labels were
    # given (NULL on events that give no labels), and which labels they suggested (JSON).
    Column("suggestions_shown", Boolean, nullable=True),
    Column("suggested", Text, nullable=True),
    # why the app kept the suggestions off this passage whatever the annotator chose (``overlap``: a
    # double-annotated item, where they would inflate agreement); NULL when it did not
    Column("suggestions_withheld", String(32), nullable=True),
    Index("app_events_user", "user_id", "id"),
    Index("app_events_passage", "passage_id", "id"),
)

# Columns added to a table after its first release: ``create_all`` makes missing tables, not missing
# columns, so an app database of an earlier version gets them by ALTER TABLE (all nullable).
_ADDED_COLUMNS = {annotation_events.name: ("reason", "suggestions_shown", "suggested", "suggestions_withheld")}


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def database_url(out_dir: str | Path, configured: str = "") -> str:
    """``configured`` if set, else the SQLite file beside the scan store."""
    if configured:
        return configured
    return f"sqlite:///{Path(out_dir).resolve() / APP_DB_FILENAME}"


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL, a busy timeout and IMMEDIATE transactions."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://"):]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    if not (url.startswith("sqlite") or url.startswith("postgresql+psycopg")):
        raise ConfigError(f"[web] database_url: unsupported database {url.split(':', 1)[0]!r}; "
                          "use sqlite:///PATH or postgresql://USER@HOST/DB")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # IMMEDIATE takes the write lock up front: two writers queue instead of one
            # failing with "database is locked" when it upgrades a read lock.
            conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


class AppDB:
    """The app's tables over one engine; every method is one transaction."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        try:
            metadata.create_all(self.engine)
        except Exception as exc:  # a wrong URL or an unreachable server: say which
            raise ConfigError(f"cannot open the app database {_redact(url)}: {exc.__class__.__name__}: "
                              f"{str(exc).splitlines()[0] if str(exc) else ''}") from None
        _add_missing_columns(self.engine)
        # The row that serialises queue hand-outs on PostgreSQL (SELECT ... FOR UPDATE).
        try:
            with self.engine.begin() as c:
                if c.execute(select(settings.c.key).where(settings.c.key == "queue_lock")).first() is None:
                    c.execute(settings.insert().values(key="queue_lock", value="1"))
        except IntegrityError:
            pass  # another process created it first

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def dispose(self) -> None:
        self.engine.dispose()

    # settings -------------------------------------------------------------
    def secret_key(self) -> str:
        """The session-signing key, generated once and kept in the database."""
        with self.engine.begin() as c:
            row = c.execute(select(settings.c.value).where(settings.c.key == "secret_key")).first()
            if row:
                return row[0]
            key = secrets.token_hex(32)
            c.execute(settings.insert().values(key="secret_key", value=key))
            return key

    def setting(self, key: str) -> str | None:
        """The stored value of ``key``, or None."""
        with self.engine.connect() as c:
            row = c.execute(select(settings.c.value).where(settings.c.key == key)).first()
        return row[0] if row else None

    def set_setting(self, key: str, value: str) -> None:
        """Store ``value`` under ``key`` (insert or replace)."""
        with self.engine.begin() as c:
            if c.execute(select(settings.c.key).where(settings.c.key == key)).first():
                c.execute(settings.update().where(settings.c.key == key).values(value=value))
            else:
                c.execute(settings.insert().values(key=key, value=value))

    # users ----------------------------------------------------------------
    def add_user(self, name: str, role: str, password: str) -> int:
        name = name.strip()
        if not name or len(name) > 80:
            raise CseiError("a user name must have 1 to 80 characters")
        if role not in ROLES:
            raise CseiError(f"unknown role {role!r}; roles: {', '.join(ROLES)}")
        if len(password) < 8:
            raise CseiError("a password must have at least 8 characters")
        try:
            with self.engine.begin() as c:
                res = c.execute(users.insert().values(
                    name=name, role=role, password_hash=generate_password_hash(password),
                    created=now(), active=True))
                return int(res.inserted_primary_key[0])
        except IntegrityError:
            raise CseiError(f"a user named {name!r} already exists") from None

    def authenticate(self, name: str, password: str) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(users).where(users.c.name == name.strip())).mappings().first()
        if row is None or not row["active"]:
            # Same work either way, so response time does not reveal which names exist.
            check_password_hash(_DUMMY_HASH, password)
            return None
        if not check_password_hash(row["password_hash"], password):
            return None
        return {"id": row["id"], "name": row["name"], "role": row["role"]}

    def user(self, user_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as c:
            row = c.execute(select(users.c.id, users.c.name, users.c.role, users.c.active)
                            .where(users.c.id == user_id)).mappings().first()
        return dict(row) if row and row["active"] else None

    def users(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(users.c.id, users.c.name, users.c.role, users.c.created, users.c.active)
                             .order_by(users.c.name)).mappings().all()
        return [dict(r) for r in rows]

    def set_password(self, user_id: int, password: str) -> None:
        """Change a password; every open session of the user ends (sign in again everywhere)."""
        if len(password) < 8:
            raise CseiError("a password must have at least 8 characters")
        with self.engine.begin() as c:
            c.execute(users.update().where(users.c.id == user_id)
                      .values(password_hash=generate_password_hash(password)))
            c.execute(sessions.delete().where(sessions.c.user_id == user_id))

    def set_active(self, name: str, active: bool) -> None:
        """Enable or disable an account by name; disabling ends its open sessions."""
        with self.engine.begin() as c:
            row = c.execute(select(users.c.id).where(users.c.name == name.strip())).first()
            if row is None:
                raise CseiError(f"no user named {name!r}")
            c.execute(users.update().where(users.c.id == row[0]).values(active=active))
            if not active:
                c.execute(sessions.delete().where(sessions.c.user_id == row[0]))

    # sessions -------------------------------------------------------------
    def open_session(self, user_id: int, lifetime_s: int) -> str:
        """A new session id for ``user_id``, valid for ``lifetime_s`` seconds."""
        sid = secrets.token_urlsafe(32)
        t = datetime.now(timezone.utc)
        with self.engine.begin() as c:
            c.execute(sessions.delete().where(sessions.c.expires < t.isoformat(timespec="microseconds")))
            c.execute(sessions.insert().values(
                sid=sid, user_id=user_id, created=t.isoformat(timespec="microseconds"),
                expires=(t + timedelta(seconds=lifetime_s)).isoformat(timespec="microseconds")))
        return sid

    def session_user(self, sid: str) -> dict[str, Any] | None:
        """The active user of a live session, or None (unknown, ended or expired)."""
        with self.engine.connect() as c:
            row = c.execute(select(users.c.id, users.c.name, users.c.role, users.c.active, sessions.c.expires,
                                   sessions.c.created)
                            .select_from(sessions.join(users, users.c.id == sessions.c.user_id))
                            .where(sessions.c.sid == sid)).mappings().first()
        if row is None or not row["active"] or row["expires"] < now():
            return None
        return {"id": row["id"], "name": row["name"], "role": row["role"], "active": row["active"],
                "session_started": row["created"]}

    def close_session(self, sid: str) -> None:
        with self.engine.begin() as c:
            c.execute(sessions.delete().where(sessions.c.sid == sid))

    # drafts ---------------------------------------------------------------
    def keep_draft(self, user_id: int, page: str, action: str, fields: dict[str, list[str]],
                   lifetime_s: int) -> str:
        """Keep a form sent after its sign-in ended; returns the draft's random id (expired drafts go)."""
        did = secrets.token_urlsafe(24)
        t = datetime.now(timezone.utc)
        with self.engine.begin() as c:
            c.execute(drafts.delete().where(drafts.c.expires < t.isoformat(timespec="microseconds")))
            c.execute(drafts.insert().values(
                id=did, user_id=user_id, page=page, action=action, fields=json.dumps(fields),
                created=t.isoformat(timespec="microseconds"),
                expires=(t + timedelta(seconds=lifetime_s)).isoformat(timespec="microseconds")))
        return did

    def draft(self, draft_id: str) -> dict[str, Any] | None:
        """A kept form that has not expired: user_id, page, action, fields; None otherwise."""
        with self.engine.connect() as c:
            row = c.execute(select(drafts).where(drafts.c.id == draft_id)).mappings().first()
        if row is None or row["expires"] < now():
            return None
        return {"id": row["id"], "user_id": row["user_id"], "page": row["page"], "action": row["action"],
                "fields": json.loads(row["fields"])}

    def drop_draft(self, draft_id: str) -> None:
        with self.engine.begin() as c:
            c.execute(drafts.delete().where(drafts.c.id == draft_id))

    # decisions ------------------------------------------------------------
    def add_decision(self, site: str, decision: str, note: str, user: dict[str, Any],
                     model_version: str, run_id: str) -> int:
        if decision not in DECISIONS:
            raise CseiError(f"unknown decision {decision!r}; one of {', '.join(DECISIONS)}")
        with self.engine.begin() as c:
            res = c.execute(decisions.insert().values(
                site=site, decision=decision, note=note[:4000], user_id=user["id"],
                user_name=user["name"], created=now(), model_version=model_version, run_id=run_id))
            return int(res.inserted_primary_key[0])

    def decision_history(self, site: str) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(decisions).where(decisions.c.site == site)
                             .order_by(decisions.c.id.desc())).mappings().all()
        return [dict(r) for r in rows]

    def decisions_by_id(self, ids: list[int]) -> list[dict[str, Any]]:
        """These decisions, oldest first (ids that do not exist are left out)."""
        out: list[dict[str, Any]] = []
        with self.engine.connect() as c:
            for i in range(0, len(ids), 500):  # well under the databases' bound-parameter limits
                out += [dict(r) for r in c.execute(select(decisions).where(decisions.c.id.in_(ids[i:i + 500])))
                        .mappings()]
        return sorted(out, key=lambda r: r["id"])

    def all_decisions(self) -> list[dict[str, Any]]:
        with self.engine.connect() as c:
            rows = c.execute(select(decisions).order_by(decisions.c.id)).mappings().all()
        return [dict(r) for r in rows]

    def latest_decisions(self) -> dict[str, dict[str, Any]]:
        """site -> its most recent decision."""
        last = select(decisions.c.site, func.max(decisions.c.id).label("mid")).group_by(decisions.c.site).subquery()
        with self.engine.connect() as c:
            rows = c.execute(select(decisions).join(last, decisions.c.id == last.c.mid)).mappings().all()
        return {r["site"]: dict(r) for r in rows}


def _add_missing_columns(engine: Engine) -> None:
    """Give an app database made by an earlier version the columns added since (see ``_ADDED_COLUMNS``)."""
    from sqlalchemy import inspect
    from sqlalchemy.exc import DBAPIError

    insp = inspect(engine)
    for table_name, names in _ADDED_COLUMNS.items():
        have = {c["name"] for c in insp.get_columns(table_name)}
        table = metadata.tables[table_name]
        for name in names:
            if name in have:
                continue
            col_type = table.c[name].type.compile(dialect=engine.dialect)
            try:
                with engine.begin() as c:
                    c.exec_driver_sql(f'ALTER TABLE {table_name} ADD COLUMN {name} {col_type}')
            except DBAPIError:
                # another process added it first; anything else shows at the check below
                pass
        missing = set(names) - {c["name"] for c in inspect(engine).get_columns(table_name)}
        if missing:
            raise ConfigError(f"the app database's {table_name} lacks column(s) {sorted(missing)} and they "
                              "could not be added")


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        cred, host = rest.rsplit("@", 1)
        return f"{scheme}://{cred.split(':', 1)[0]}:***@{host}"
    return url


_DUMMY_HASH = generate_password_hash("not-a-real-password")


def loads(text: str | None) -> Any:
    return json.loads(text) if text else {}
