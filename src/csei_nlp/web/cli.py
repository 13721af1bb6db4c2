"""The ``csei serve``, ``csei users`` and ``csei annotations`` subcommands.

Registered into the main parser by ``csei_nlp.cli``, which calls :func:`register`.  Flask and
SQLAlchemy are imported only when one of these commands runs.
"""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from ..cliargs import SubParsers, add_config, add_db
from ..errors import CseiError


def _cmd_serve(args: argparse.Namespace) -> int:
    from waitress import serve

    from .. import config
    from .app import create_app

    cfg = config.load(args.config)
    app = create_app(args.db, cfg)
    threads = args.threads or cfg.web.threads
    print(f"csei serve: http://{args.host}:{args.port}/  (store {Path(args.db) / 'csei.sqlite'}, "
          f"app database {app.extensions['csei'].db.engine.url.render_as_string(hide_password=True)}; "
          f"waitress, {threads} threads)", file=sys.stderr)
    serve(app, host=args.host, port=args.port, threads=threads, ident="csei-nlp")
    return 0


def _cmd_users_add(args: argparse.Namespace) -> int:
    from .. import config
    from ..store.appdb import AppDB, database_url

    cfg = config.load(args.config)
    password = args.password
    if password is None:
        if not sys.stdin.isatty():
            raise CseiError("no --password given and no terminal to ask on")
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise CseiError("the two passwords differ")
    db = AppDB(database_url(args.db, cfg.web.database_url))
    try:
        uid = db.add_user(args.name, args.role, password)
    finally:
        db.dispose()
    print(f"user {args.name!r} ({args.role}) created with id {uid}")
    return 0


def _cmd_users_list(args: argparse.Namespace) -> int:
    from .. import config
    from ..store.appdb import AppDB, database_url

    cfg = config.load(args.config)
    db = AppDB(database_url(args.db, cfg.web.database_url))
    for u in db.users():
        print(f"{u['name']}\t{u['role']}\t{u['created']}\t{'active' if u['active'] else 'disabled'}")
    db.dispose()
    return 0


def _cmd_users_active(args: argparse.Namespace) -> int:
    from .. import config
    from ..store.appdb import AppDB, database_url

    cfg = config.load(args.config)
    db = AppDB(database_url(args.db, cfg.web.database_url))
    try:
        db.set_active(args.name, args.users_command == "enable")
    finally:
        db.dispose()
    print(f"user {args.name!r} {args.users_command}d" + (" (signed out everywhere)" if args.users_command == "disable" else ""))
    return 0


def _cmd_annotations(args: argparse.Namespace) -> int:
    import json

    from ..annotate import formats, log as annolog
    from ..paths import annotations_dir

    ann = Path(args.annotations or annotations_dir())
    if args.action == "export":
        recs = annolog.current_labels(ann)  # corrected labels replace what they correct
        formats.write(recs, args.file, args.format)
        print(f"wrote {len(recs)} annotation(s) to {args.file} ({args.format})")
    elif args.action == "import":
        recs = formats.read(args.file, args.format)
        for r in recs:
            annolog.append(ann, {**r, "event": "import", "source": r["source"], "split": None,
                                 "written_for_project": False, "retracts": None})
        print(f"imported {len(recs)} annotation(s) from {args.file} into {annolog.log_dir(ann)}")
    else:  # resolve
        out = annolog.resolve(ann)
        Path(args.file).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in out), "utf-8")
        print(f"wrote {len(out)} resolved passage record(s) to {args.file}")
    return 0


def register(sub: SubParsers) -> None:
    """``csei serve``, ``csei users`` and ``csei annotations``."""
    from ..store.appdb import ROLES

    s = sub.add_parser("serve", help="the review and annotation web app over a scan's OUTDIR",
                       description="Serve the analysts' ranking review and the annotators' labelling queue "
                                   "on waitress, a production WSGI server. Behind a reverse proxy, set "
                                   "[web] proxy_hops and secure_cookies; for gunicorn or another server use "
                                   "the WSGI factory csei_nlp.web.wsgi:create_from_env (see docs/web.md).")
    add_db(s, help="a `csei scan` output folder")
    s.add_argument("--host", default="127.0.0.1", help="interface to listen on (default 127.0.0.1: this machine only)")
    s.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    s.add_argument("--threads", type=int, metavar="N", help="worker threads (default: [web] threads)")
    add_config(s, help="TOML config ([web] database_url, secure_cookies ...)")
    s.set_defaults(func=_cmd_serve)

    u = sub.add_parser("users", help="manage the web app's accounts")
    usub = u.add_subparsers(dest="users_command", metavar="ACTION")
    usub.required = True
    a = usub.add_parser("add", help="create an account (asks for the password unless --password)")
    a.add_argument("name", help="login name")
    a.add_argument("--role", required=True, choices=ROLES, help="what the account may do")
    add_db(a)
    a.add_argument("--password", metavar="PW", help="password (prompted for when left out; avoid it in shell history)")
    add_config(a, help="TOML config ([web] database_url ...)")
    a.set_defaults(func=_cmd_users_add)
    ls = usub.add_parser("list", help="list accounts")
    add_db(ls)
    add_config(ls, help="TOML config ([web] database_url ...)")
    ls.set_defaults(func=_cmd_users_list)
    for action, what in (("disable", "disable an account and end its sessions (its labels stay)"),
                         ("enable", "enable a disabled account")):
        d = usub.add_parser(action, help=what)
        d.add_argument("name", help="login name")
        add_db(d)
        add_config(d, help="TOML config ([web] database_url ...)")
        d.set_defaults(func=_cmd_users_active)

    n = sub.add_parser("annotations", help="export/import annotations (Label Studio, Prodigy JSONL); resolve the log")
    n.add_argument("action", choices=["export", "import", "resolve"], help="export the log, import a file, or write resolved labels")
    n.add_argument("file", metavar="FILE", help="file to write (export, resolve) or read (import)")
    n.add_argument("--format", choices=["labelstudio", "prodigy"], default="labelstudio", help="Label Studio JSON or Prodigy/Argilla-style JSONL (default labelstudio)")
    n.add_argument("--annotations", metavar="DIR", help="annotations folder (default: the project's)")
    n.set_defaults(func=_cmd_annotations)
