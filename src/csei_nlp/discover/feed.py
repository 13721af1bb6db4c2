"""A run's change report in three forms: ``new_candidates.csv``, ``digest.html`` and ``feed.xml``.

Why three: the CSV goes into a spreadsheet, the digest is read in a browser or
mailed, and the Atom feed lets an analyst subscribe in any feed reader and see
only what is new each week.  Feed entry ids are derived from (job, run, site,
change), so regenerating a run's feed never makes a reader show an entry twice.
The HTML is rendered with autoescaping: page titles and evidence come from the
open web and are untrusted.
"""
from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from typing import Any

import jinja2

from ..report.csvsafe import csv_text

CSV_FIELDS = ["change", "focus", "site", "name", "score", "prev_score", "rank", "country", "cee",
              "known", "known_name", "n_documents", "languages", "tags_innovation", "tags_helix",
              "tags_criteria", "url", "top_evidence", "top_evidence_url", "run_id"]

ATOM_NS = "http://www.w3.org/2005/Atom"
_NS = uuid.UUID("5b0f7c52-3d0e-4d59-9a43-8f1c2a6b7e11")  # this project's namespace for entry ids

HEADINGS = {"new": "New candidates", "rose": "Rose past the threshold",
            "fell": "Fell below the threshold", "disappeared": "Disappeared"}


def _fmt(v: Any) -> str:
    return "" if v is None else (f"{v:.4f}" if isinstance(v, float) else str(v))


def changes_csv(rows: list[dict[str, Any]], run_id: str) -> str:
    return csv_text((_csv_row(r, run_id) for r in rows), CSV_FIELDS)


def _csv_row(r: dict[str, Any], run_id: str) -> dict[str, Any]:
    tags = r.get("tags") or {}
    return {
        "change": r["change"], "focus": int(bool(r.get("focus"))), "site": r["site"],
        "name": r.get("name") or "", "score": _fmt(r.get("score")), "prev_score": _fmt(r.get("prev_score")),
        "rank": _fmt(r.get("rank")), "country": r.get("country") or "", "cee": int(bool(r.get("cee"))),
        "known": int(bool(r.get("known"))), "known_name": r.get("known_name") or "",
        "n_documents": _fmt(r.get("n_documents")), "languages": " ".join(r.get("languages") or []),
        "tags_innovation": " ".join(tags.get("innovation", [])), "tags_helix": " ".join(tags.get("helix", [])),
        "tags_criteria": " ".join(tags.get("criteria", [])), "url": (r.get("urls") or [""])[0] or "",
        "top_evidence": r.get("top_evidence") or "", "top_evidence_url": r.get("top_evidence_url") or "",
        "run_id": run_id,
    }


_DIGEST = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string("""\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ title }} - {{ run_id }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{border-bottom:1px solid #ddd;padding:.35rem;text-align:left;vertical-align:top}
.focus{background:#f3f8ee}.models{background:#fff6e0;padding:.5rem}.ev{color:#555;font-size:.9em}.tag{font-size:.8em;background:#eef;padding:0 .3em;margin-right:.2em;border-radius:3px}
</style>
</head>
<body>
<h1>{{ title }}</h1>
<p>Run <code>{{ run_id }}</code>, finished {{ finished }}. Threshold: score &ge; {{ "%.2f"|format(min_score) }}.
{{ counts.new }} new, {{ counts.rose }} rose, {{ counts.fell }} fell, {{ counts.disappeared }} disappeared.
{% if focus_label %}Focus ({{ focus_label }}) first, highlighted.{% endif %}</p>
{% if models.changed_since %}
<p class="models"><strong>The models changed</strong> since run <code>{{ models.changed_since.run }}</code>
(now trained {{ models.trained or "?" }} on data {{ (models.training_data_hash or "?")[:12] }};
before: trained {{ models.changed_since.trained or "?" }} on data {{ (models.changed_since.training_data_hash or "?")[:12] }}).
Every input was scored again with the new models, so some of the changes below come from the models, not from the web.</p>
{% endif %}
{% for kind, heading in headings.items() %}
<h2 id="{{ kind }}">{{ heading }} ({{ groups[kind]|length }})</h2>
{% if groups[kind] %}
<table>
<tr><th>site</th><th>score</th><th>country</th><th>languages</th><th>tags / evidence</th></tr>
{% for r in groups[kind] %}
<tr{% if r.focus %} class="focus"{% endif %}>
<td><a href="{{ r.link }}">{{ r.name or r.site }}</a><br><small>{{ r.site }}</small></td>
<td>{{ r.score_text }}</td>
<td>{{ r.country or "?" }}{% if r.cee %} (CEE){% endif %}</td>
<td>{{ (r.languages or [])|join(", ") }}</td>
<td>{% for fam, labels in (r.tags or {}).items() %}{% for l in labels %}<span class="tag">{{ l }}</span>{% endfor %}{% endfor %}
{% if r.top_evidence %}<div class="ev">&ldquo;{{ r.top_evidence }}&rdquo;</div>{% endif %}</td>
</tr>
{% endfor %}
</table>
{% else %}
<p>None.</p>
{% endif %}
{% endfor %}
</body>
</html>
""")


def _link(r: dict[str, Any]) -> str:
    url = (r.get("urls") or [None])[0] or r.get("top_evidence_url") or ""
    # Only web links are made clickable; a local path or anything else is shown as text.
    return url if url.startswith(("http://", "https://")) else "#"


def _score_text(r: dict[str, Any]) -> str:
    s, p = r.get("score"), r.get("prev_score")
    if r["change"] == "disappeared":
        return f"was {p:.2f}"
    if p is not None and r["change"] in ("rose", "fell"):
        return f"{p:.2f} -> {s:.2f}"
    return f"{s:.2f}"


def digest_html(rows: list[dict[str, Any]], *, title: str, run_id: str, finished: str,
                min_score: float, focus_label: str, models: dict[str, Any] | None = None) -> str:
    groups: dict[str, list[dict[str, Any]]] = {k: [] for k in HEADINGS}
    for r in rows:
        groups[r["change"]].append({**r, "link": _link(r), "score_text": _score_text(r)})
    counts = {k: len(v) for k, v in groups.items()}
    return _DIGEST.render(title=title, run_id=run_id, finished=finished, min_score=min_score,
                          focus_label=focus_label, headings=HEADINGS, groups=groups, counts=counts,
                          models=models or {})


def entry_id(job: str, run_id: str, site: str, change: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(_NS, f"{job}\x1f{run_id}\x1f{site}\x1f{change}"))


def atom_feed(changes: list[dict[str, Any]], *, job: str, title: str, updated: str, feed_url: str = "") -> str:
    """Atom 1.0 over the changes of recent runs (newest first); one entry per change."""
    ET.register_namespace("", ATOM_NS)
    q = lambda tag: f"{{{ATOM_NS}}}{tag}"  # noqa: E731
    feed = ET.Element(q("feed"))
    ET.SubElement(feed, q("id")).text = "urn:uuid:" + str(uuid.uuid5(_NS, f"feed\x1f{job}"))
    ET.SubElement(feed, q("title")).text = title
    ET.SubElement(feed, q("updated")).text = updated
    author = ET.SubElement(feed, q("author"))
    ET.SubElement(author, q("name")).text = f"csei discover ({job})"
    ET.SubElement(feed, q("generator")).text = "csei-nlp"
    if feed_url:
        ET.SubElement(feed, q("link"), rel="self", href=feed_url, type="application/atom+xml")
    for r in changes:
        e = ET.SubElement(feed, q("entry"))
        ET.SubElement(e, q("id")).text = entry_id(job, r["run_id"], r["site"], r["change"])
        label = {"new": "New", "rose": "Rose", "fell": "Fell", "disappeared": "Disappeared"}[r["change"]]
        where = f" ({r['country']})" if r.get("country") else ""
        ET.SubElement(e, q("title")).text = f"{label}: {r.get('name') or r['site']}{where}"
        ET.SubElement(e, q("updated")).text = r["finished"]
        link = _link(r)
        if link != "#":
            ET.SubElement(e, q("link"), rel="alternate", href=link)
        for fam, labels in sorted((r.get("tags") or {}).items()):
            for lab in labels:
                ET.SubElement(e, q("category"), term=lab, scheme=f"urn:csei:{fam}")
        score = r.get("score") if r.get("score") is not None else r.get("prev_score")
        summary = (f"{r['site']}: {HEADINGS[r['change']].lower()} in run {r['run_id']}; score {score:.2f}"
                   + (f", was {r['prev_score']:.2f}" if r.get("prev_score") is not None and r["change"] != "new" else "")
                   + (f". Evidence: {r['top_evidence']}" if r.get("top_evidence") else ""))
        ET.SubElement(e, q("summary")).text = summary
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
