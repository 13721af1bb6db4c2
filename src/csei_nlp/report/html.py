"""report.html: a self-contained page an analyst can open offline, of a bounded size.

No external assets: styles, the small filter script and the SVG charts are
inline.  All crawled text goes through Jinja's autoescaping or
:func:`highlight`, and links are only emitted for http(s) URLs, so nothing
from a crawled page can run in the analyst's browser.

A crawl yields tens of thousands of candidates, each with dozens of evidence
passages; a page listing them all would weigh hundreds of megabytes.  So the
page lists the best ``[report] top_n`` candidates with their best
``evidence_passages`` passages each (one passage once, with every label it
supports), while its charts and counts cover every candidate and the run's
documents; candidates.csv / candidates.jsonl hold the full list.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from ..config import ReportConfig
from ..taxonomy import FAMILIES
from . import charts
from .highlight import highlight

BINS = 10  # score histogram bins over [0, 1]
BAR_LIMIT = 20  # bars per chart; the rest are folded into one "other" bar, so the counts still add up

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


def evidence_passages(cand: dict[str, Any], k: int | None = None) -> list[dict[str, Any]]:
    """A candidate's evidence as passages, best first: each passage once, with the labels it supports.

    ``cand["evidence"]`` is ``{family: {label: [item, ...]}}`` and one passage
    often backs several labels.  Each returned passage is its first item plus
    ``supports`` (``[(family, label, prob), ...]``) and ``prob``, the best of
    them; ties keep the evidence's order.  ``k``: only the first ``k``.
    """
    by_passage: dict[tuple[Any, ...], dict[str, Any]] = {}
    for fam, labels in cand["evidence"].items():
        for label, items in labels.items():
            for e in items:
                key = (e.get("doc_id"), e.get("passage"), e.get("start"), e.get("end"))
                p = by_passage.setdefault(key, {**e, "supports": []})
                p["supports"].append((fam, label, e["prob"]))
                p["prob"] = max(p["prob"], e["prob"])
    ranked = sorted(by_passage.values(), key=lambda p: -p["prob"])
    return ranked if k is None else ranked[:k]


def _folded(counter: Counter, limit: int = BAR_LIMIT) -> list[tuple[str, int]]:
    """The ``limit`` largest counts, and the rest summed into one "other (n)" item."""
    items = counter.most_common()
    if len(items) <= limit:
        return items
    rest = items[limit - 1:]
    return items[:limit - 1] + [(f"other ({len(rest)})", sum(v for _, v in rest))]


def score_bins(scores: Iterable[float], n: int = BINS) -> list[int]:
    """How many scores fall in each of ``n`` equal bins over [0, 1] (1.0 in the last one)."""
    bins = [0] * n
    for s in scores:
        bins[min(n - 1, max(0, int(s * n)))] += 1
    return bins


def summary(cands: list[dict[str, Any]], shown: int) -> dict[str, Any]:
    """Counts over every candidate, for the report's header and summary card."""
    known = sum(1 for c in cands if c["known"])
    return {"candidates": len(cands), "shown": shown, "known": known, "new": len(cands) - known,
            "cee": sum(1 for c in cands if c["cee"]),
            "countries": len({c["country"] for c in cands if c["country"]}),
            "cutoff": cands[shown - 1]["score"] if 0 < shown < len(cands) else None}


def chart_svgs(cands: list[dict[str, Any]], manifest: dict[str, Any], cutoff: float | None,
               shown: int) -> list[tuple[str, Markup]]:
    """The report's charts as (title, SVG), each over every candidate (or every input of the run)."""
    def chart(title: str, items: list[tuple[str, int]]) -> tuple[str, Markup]:
        return title, charts.bars(items, title)

    marker = (cutoff, f"top {shown}: score ≥ {cutoff:.2f}") if cutoff is not None else None
    title = "Score distribution, all candidates"
    out = [(title, charts.histogram(score_bins(c["score"] for c in cands), title, marker=marker)),
           chart("Candidates by country", _folded(Counter(c["country"] or "unknown" for c in cands))),
           chart("Candidates by language of their pages",
                 _folded(Counter(lang for c in cands for lang in c.get("languages", []))))]
    for fam, labels in FAMILIES.items():
        tagged = Counter(t for c in cands for t in c["tags"].get(fam, []))
        out.append(chart(f"Candidates tagged: {fam}", [(label.replace("_", " "), tagged.get(label, 0))
                                                         for label in labels]))
    counts = manifest.get("counts", {})
    out.append(chart("Documents read, by language", _folded(Counter(counts.get("languages", {})))))
    not_read = Counter(counts.get("skipped_reasons", {})) + Counter(counts.get("failed_reasons", {}))
    if not_read:
        out.append(chart("Inputs skipped or failed, by reason", _folded(not_read)))
    return out


def render_report(cands: list[dict[str, Any]], manifest: dict[str, Any], cfg: ReportConfig) -> str:
    """The page: charts and counts over all ``cands``, the best ``cfg.top_n`` listed with their evidence."""
    ranked = sorted(cands, key=lambda c: c["rank"])
    listed = [{**c, "passages": evidence_passages(c, cfg.evidence_passages)} for c in ranked[:cfg.top_n]]
    totals = summary(ranked, len(listed))
    return _env().get_template("report.html.j2").render(
        cands=listed, manifest=manifest, totals=totals, report=cfg,
        charts=chart_svgs(ranked, manifest, totals["cutoff"], len(listed)),
        countries=sorted({c["country"] for c in listed if c["country"]}),
    )
