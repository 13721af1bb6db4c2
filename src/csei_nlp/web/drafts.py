"""A form sent after its sign-in ended: kept, sign in again, and it is back in the form to send again.

Why: a sign-in ends while someone types (after 12 hours, signing out in
another tab, a password change, an admin disabling the account).  The write
must still be refused, but what was typed must not be lost.  So a write whose
session is gone, yet whose CSRF token matches this browser's cookie (the form
came from this app in this browser), has its fields kept server-side
(``app_drafts``), bound to the user the cookie last belonged to; the browser
goes to the sign-in page with a ``next`` that leads back to the page holding
the form.  After signing in as that same user, the page shows the fields again
(``static/app.js`` fills the form in) and the user sends it again: nothing is
submitted on their behalf.

What is never kept: the CSRF token, passwords (whole forms such as the
password change opt out), and anything over the size limits below.  The kept
text is user-typed: it reaches the page only through Jinja's escaping, as a
JSON attribute the script reads with ``JSON.parse`` and writes with ``.value``.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from flask import g, request, session

from ..store.appdb import AppDB

#: how long a kept form waits for its user to sign in again
DRAFT_LIFETIME_S = 3600
#: fields never kept, whatever the form
SECRET_FIELDS = frozenset({"csrf_token", "password", "old", "new", "again"})
MAX_VALUES = 200  # values kept of one form
MAX_VALUE_CHARS = 10_000  # per value (a note holds at most 4,000)
MAX_TOTAL_CHARS = 64 * 1024  # all names and values of one form together
MAX_URL_CHARS = 2000


def local_path(url: str | None) -> str | None:
    """``url`` if it is a path on this site (``/...``), else None: the only kind of ``next`` followed.

    Why so strict: ``//evil.example`` and ``/\\evil.example`` are other hosts to
    a browser, and browsers drop tabs and newlines from URLs, so ``/\\t/evil``
    becomes ``//evil``; none of these, no scheme, no host, no control characters.
    """
    if not url or len(url) > MAX_URL_CHARS or not url.startswith("/") or url.startswith("//"):
        return None
    if "\\" in url or any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url):
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme or parts.netloc:
        return None
    return url


def referrer_path() -> str | None:
    """The page the request came from, as a local path, when it is a page of this host."""
    ref = request.referrer or ""
    try:
        parts = urlsplit(ref)
    except ValueError:
        return None
    if not ref or parts.netloc != request.host or parts.scheme not in ("http", "https"):
        return None
    return local_path(parts.path + (f"?{parts.query}" if parts.query else ""))


def form_fields(form: Any) -> dict[str, list[str]] | None:
    """The fields of ``form`` worth keeping (secrets left out); None when the form is over the limits."""
    out: dict[str, list[str]] = {}
    n = total = 0
    for name in form:
        if name in SECRET_FIELDS or len(name) > 100:
            continue
        values = [str(v) for v in form.getlist(name)]
        n += len(values)
        total += len(name) + sum(len(v) for v in values)
        if n > MAX_VALUES or total > MAX_TOTAL_CHARS or any(len(v) > MAX_VALUE_CHARS for v in values):
            return None
        out[name] = values
    return out


def keep(db: AppDB, page: str, keep_form: bool = True) -> bool:
    """Keep the request's form for the cookie's last user, to be shown again on ``page``; True if kept."""
    uid = session.get("uid")
    fields = form_fields(request.form) if keep_form else None
    old = session.pop("draft", None)
    if isinstance(old, str):
        db.drop_draft(old)  # one kept form per browser: the latest
    if not isinstance(uid, int) or not fields:
        return False
    session["draft"] = db.keep_draft(uid, page, request.path, fields, DRAFT_LIFETIME_S)
    return True


def carry_over(db: AppDB, draft_id: Any, user_id: int) -> None:
    """After signing in: keep the browser's kept form if it belongs to this user, else delete it."""
    if not isinstance(draft_id, str):
        return
    d = db.draft(draft_id)
    if d is not None and d["user_id"] == user_id:
        session["draft"] = draft_id
    else:
        db.drop_draft(draft_id)  # another user signed in here: they never see it


def take(db: AppDB, user: dict[str, Any] | None) -> dict[str, Any] | None:
    """The kept form to show on this page (then deleted), or None.

    Called while rendering (a context processor), so once per request; a kept
    form waits while its user visits other pages first, until it expires.
    """
    if "draft_shown" in g:
        return g.draft_shown
    g.draft_shown = None
    draft_id = session.get("draft")
    if not isinstance(draft_id, str) or user is None or request.method != "GET":
        return None
    d = db.draft(draft_id)
    if d is None or d["user_id"] != user["id"]:
        session.pop("draft", None)
        db.drop_draft(draft_id)
        return None
    if unquote(urlsplit(d["page"]).path) != request.path:
        return None
    session.pop("draft", None)
    db.drop_draft(draft_id)
    g.draft_shown = d
    return d
