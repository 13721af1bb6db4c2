"""The WSGI entry point, for running the app on a server of one's choice.

``csei serve`` runs the app on waitress.  Teams that already run gunicorn,
uWSGI or waitress behind a reverse proxy point them here instead; the scan
folder and the config come from the environment, since a WSGI server passes
no command-line arguments through:

    CSEI_DB=out/crawl CSEI_CONFIG=prod.toml gunicorn -w 4 'csei_nlp.web.wsgi:create_from_env()'
    CSEI_DB=out/crawl waitress-serve --call csei_nlp.web.wsgi:create_from_env

``CSEI_DB`` is the ``csei scan`` output folder; ``CSEI_CONFIG`` an optional
TOML file (``[web] database_url`` for PostgreSQL with several workers,
``proxy_hops`` and ``secure_cookies`` behind a TLS-terminating proxy).
"""
from __future__ import annotations

import os

from flask import Flask

from ..errors import ConfigError


def create_from_env() -> Flask:
    """The app over ``$CSEI_DB`` with the config in ``$CSEI_CONFIG`` (optional)."""
    from .. import config
    from .app import create_app

    db = os.environ.get("CSEI_DB", "").strip()
    if not db:
        raise ConfigError("CSEI_DB is not set: point it at a `csei scan` output folder (the one holding csei.sqlite)")
    return create_app(db, config.load(os.environ.get("CSEI_CONFIG") or None))
