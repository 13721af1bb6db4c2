"""The review app's routes, one Flask blueprint per audience.

auth.py      sign in and out, the home redirect, the health check
review.py    the analysts' ranking, candidate, document, overview and decision screens
annotate.py  the annotators' labelling loop, guidelines, agreement and adjudication
export.py    downloads (ranking, decisions, annotations) and the training-file export

Endpoints are named ``<blueprint>.<view>`` (``url_for('review.ranking')``);
every URL is the same as before the split.
"""
from __future__ import annotations

from flask import Flask

from . import annotate, auth, export, review

BLUEPRINTS = (auth.bp, review.bp, annotate.bp, export.bp)


def register(app: Flask) -> None:
    for bp in BLUEPRINTS:
        app.register_blueprint(bp)
