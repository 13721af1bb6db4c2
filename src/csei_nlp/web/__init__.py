"""web: ``csei serve``, the review and annotation app; HTTP only (routes, forms, pages).

app.py         the app factory and what every request shares (CSRF, headers, error pages)
common.py      app state, the request's catalog, the signed-in user, the role guard
blueprints/    the routes: auth, review, annotate, export
cli.py         the ``serve``, ``users`` and ``annotations`` subcommands

State lives in ``csei_nlp.store``; annotation logic in ``csei_nlp.annotate``; the overview's
SVG charts are ``csei_nlp.report.charts``, shared with report.html.
"""
