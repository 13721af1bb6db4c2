"""report.html: a self-contained page an analyst can open offline.

No external assets: styles, the small filter script and the SVG charts are
inline.  All crawled text goes through Jinja's autoescaping or
:func:`highlight`, and links are only emitted for http(s) URLs, so nothing
from a crawled page can run in the analyst's browser.
"""
from __future__ import annotations

from collections import Counter
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from ..taxonomy import FAMILIES
from .highlight import highlight

_ENV: Environment | None = None


def _env() -> Environment:
    global _ENV
    if _ENV is None:
        _ENV = Environment(loader=PackageLoader("csei_nlp.report", "templates"),
                           autoescape=select_autoescape(["html", "j2"]), trim_blocks=True,
                           lstrip_blocks=True)
        _ENV.filters["highlight"] = lambda ev: highlight(ev["text"], ev.get("spans", []))
        _ENV.filters["safe_url"] = safe_url
    return _ENV


def safe_url(url: str | None) -> str | None:
    """Only http(s) URLs become links; anything else (javascript:, data:) is shown as text."""
    if url and url.lower().startswith(("http://", "https://")):
        return url
    return None


def bars(counter: Counter, limit: int = 30) -> list[dict[str, Any]]:
    items = counter.most_common(limit)
    top = max((v for _, v in items), default=1) or 1
    return [{"label": k, "value": v, "width": round(100 * v / top, 1)} for k, v in items]


def chart_data(cands: list[dict[str, Any]]) -> dict[str, Any]:
    by_country = Counter((c["country"] or "unknown") for c in cands)
    hist = Counter(min(9, int(c["score"] * 10)) for c in cands)
    score_bins = Counter({f"{b / 10:.1f}–{(b + 1) / 10:.1f}": hist.get(b, 0) for b in range(10)})
    labels = {fam: Counter() for fam in FAMILIES}
    for c in cands:
        for fam, tags in c["tags"].items():
            labels.setdefault(fam, Counter()).update(tags)
    return {
        "country": bars(by_country),
        "score": [{"label": k, "value": v, "width": round(100 * v / (max(hist.values(), default=1) or 1), 1)}
                  for k, v in score_bins.items()],
        "labels": {fam: bars(Counter({l: labels[fam].get(l, 0) for l in FAMILIES[fam]}))
                   for fam in FAMILIES},
    }


def render_report(cands: list[dict[str, Any]], manifest: dict[str, Any]) -> str:
    countries = sorted({c["country"] for c in cands if c["country"]})
    return _env().get_template("report.html.j2").render(
        cands=cands, manifest=manifest, charts=chart_data(cands), countries=countries,
        families=FAMILIES,
    )
