"""A run's digest: what changed, said once (:func:`build_digest`), written twice (HTML and Markdown).

Why one content and two renderers: the HTML digest is read in a browser, the
Markdown one is mailed as plain text (it reads as text without a renderer),
and both must say the same things.  Every sentence of substance is decided in
:func:`build_digest`: the counts, the rows of each kind of change, whether the
models changed since the previous finished run (their content hashes differ)
and how many inputs were therefore scored again, and the score moves that did
not cross the threshold (counts and the largest ones), so that a week in which
every score moved a little is visible rather than silent.

Crawled text (names, evidence) is untrusted: the HTML is autoescaped and the
Markdown escapes the characters that would make it markup.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import jinja2

HEADINGS = {"new": "New candidates", "rose": "Rose past the threshold",
            "fell": "Fell below the threshold", "disappeared": "Disappeared"}


@dataclass(frozen=True)
class Digest:
    """Everything a digest says; the renderers only lay it out."""

    title: str
    run_id: str
    finished: str
    min_score: float
    focus_label: str
    counts: dict[str, int]
    groups: dict[str, list[dict[str, Any]]]
    models_note: str = ""  # a paragraph when the models changed since the previous run, else ""
    models_changed: list[str] = field(default_factory=list)  # model files added, removed or changed
    moves: dict[str, Any] = field(default_factory=dict)  # diff.score_moves
    moves_note: str = ""

    @property
    def summary(self) -> str:
        c = self.counts
        return f"{c['new']} new, {c['rose']} rose, {c['fell']} fell, {c['disappeared']} disappeared."


def web_link(r: dict[str, Any]) -> str:
    """The candidate's first web address, or "" (a local path is never a link)."""
    url = (r.get("urls") or [None])[0] or r.get("top_evidence_url") or ""
    return url if url.startswith(("http://", "https://")) else ""


def anchor(change: str, site: str) -> str:
    """The id of a change's row in digest.html (the feed links entries without a web address there)."""
    return "c-" + hashlib.sha256(f"{change}\x1f{site}".encode()).hexdigest()[:12]


def score_text(r: dict[str, Any]) -> str:
    s, p = r.get("score"), r.get("prev_score")
    if r["change"] == "disappeared":
        return f"was {p:.2f}"
    if p is not None and r["change"] in ("rose", "fell"):
        return f"{p:.2f} -> {s:.2f}"
    return f"{s:.2f}"


def _models_note(models: dict[str, Any], rescored: int, inputs: int) -> tuple[str, list[str]]:
    before = models.get("changed_since")
    if not before:
        return "", []
    old, new = before.get("files"), models.get("files")
    # a run recorded by an older version has no per-file hashes: then only the fingerprint is compared
    changed = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k)) if old and new else []
    if rescored >= inputs:
        scored = f"Every input ({inputs}) was scored again with the new models"
    else:
        scored = f"{rescored} of {inputs} inputs were scored again with the new models"
    note = (f"Since run {before['run']}, the model set {before.get('models') or '?'} "
            f"(trained {before.get('trained') or '?'} on data {(before.get('training_data_hash') or '?')[:12]}) "
            f"was replaced by {models.get('models') or '?'} (trained {models.get('trained') or '?'} on data "
            f"{(models.get('training_data_hash') or '?')[:12]}). {scored}, so some of the changes below come "
            "from the models, not from the web.")
    return note, changed


def _moves_note(moves: dict[str, Any]) -> str:
    if not moves.get("compared"):
        return "No candidate of the previous run to compare scores with."
    if not moves.get("moved"):
        return f"No other score moved: {moves['compared']} candidates of both runs kept their scores."
    return (f"{moves['moved']} of the {moves['compared']} candidates of both runs moved without crossing the "
            f"threshold: {moves['up']} up, {moves['down']} down ({moves['listed_moved']} listed, "
            f"{moves['unlisted_moved']} below the threshold). The largest moves:")


def build_digest(rows: list[dict[str, Any]], *, title: str, run_id: str, finished: str, min_score: float,
                 focus_label: str, models: dict[str, Any] | None = None, moves: dict[str, Any] | None = None,
                 rescored: int = 0, inputs: int = 0) -> Digest:
    """The digest of one run: ``rows`` from :func:`diff.diff_candidates`, ``moves`` from
    :func:`diff.score_moves`, ``models`` as the runner records them (``changed_since`` when they
    changed), ``rescored`` of ``inputs`` input files processed in this run."""
    groups: dict[str, list[dict[str, Any]]] = {k: [] for k in HEADINGS}
    for r in rows:
        groups[r["change"]].append({**r, "link": web_link(r), "score_text": score_text(r),
                                    "anchor": anchor(r["change"], r["site"])})
    note, changed = _models_note(models or {}, rescored, inputs)
    moves = moves or {}
    return Digest(title=title, run_id=run_id, finished=finished, min_score=min_score, focus_label=focus_label,
                  counts={k: len(v) for k, v in groups.items()}, groups=groups, models_note=note,
                  models_changed=changed, moves=moves, moves_note=_moves_note(moves))


_HTML = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True).from_string("""\
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ d.title }} - {{ d.run_id }}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{border-bottom:1px solid #ddd;padding:.35rem;text-align:left;vertical-align:top}
.focus{background:#f3f8ee}.models{background:#fff6e0;padding:.5rem}.ev{color:#555;font-size:.9em}.tag{font-size:.8em;background:#eef;padding:0 .3em;margin-right:.2em;border-radius:3px}
</style>
</head>
<body>
<h1>{{ d.title }}</h1>
<p>Run <code>{{ d.run_id }}</code>, finished {{ d.finished }}. Threshold: score &ge; {{ "%.2f"|format(d.min_score) }}.
{{ d.summary }}
{% if d.focus_label %}Focus ({{ d.focus_label }}) first, highlighted.{% endif %}</p>
{% if d.models_note %}
<p class="models" id="models"><strong>The models changed.</strong> {{ d.models_note }}
{% if d.models_changed %}Changed model files: {{ d.models_changed|join(", ") }}.{% endif %}</p>
{% endif %}
{% for kind, heading in headings.items() %}
<h2 id="{{ kind }}">{{ heading }} ({{ d.groups[kind]|length }})</h2>
{% if d.groups[kind] %}
<table>
<tr><th>site</th><th>score</th><th>country</th><th>languages</th><th>tags / evidence</th></tr>
{% for r in d.groups[kind] %}
<tr id="{{ r.anchor }}"{% if r.focus %} class="focus"{% endif %}>
<td>{% if r.link %}<a href="{{ r.link }}">{{ r.name or r.site }}</a>{% else %}{{ r.name or r.site }}{% endif %}<br><small>{{ r.site }}</small></td>
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
<h2 id="moves">Score moves that did not cross the threshold ({{ d.moves.moved or 0 }})</h2>
<p>{{ d.moves_note }}</p>
{% if d.moves.largest %}
<table>
<tr><th>site</th><th>before</th><th>now</th><th>change</th><th>side</th></tr>
{% for m in d.moves.largest %}
<tr><td>{{ m.name or m.site }}<br><small>{{ m.site }}</small></td><td>{{ "%.4f"|format(m.prev_score) }}</td>
<td>{{ "%.4f"|format(m.score) }}</td><td>{{ "%+.4f"|format(m.delta) }}</td><td>{{ "listed" if m.listed else "below" }}</td></tr>
{% endfor %}
</table>
{% endif %}
</body>
</html>
""")


def digest_html(d: Digest) -> str:
    return _HTML.render(d=d, headings=HEADINGS)


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]<>()#+!|~])")


def md(text: Any) -> str:
    """Untrusted text as one line of Markdown that renders as the same text (no links, no HTML)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _safe_url(url: str) -> str:
    return url.replace(" ", "%20").replace("<", "%3C").replace(">", "%3E")


def digest_markdown(d: Digest) -> str:
    """The digest as Markdown for mail: plain text that also renders well."""
    out = [f"# {md(d.title)}", "",
           f"Run {d.run_id}, finished {d.finished}. Threshold: score >= {d.min_score:.2f}.", d.summary]
    if d.focus_label:
        out.append(f"Focus ({md(d.focus_label)}) first, marked (focus).")
    if d.models_note:
        out += ["", f"**The models changed.** {d.models_note}"]
        if d.models_changed:
            out.append(f"Changed model files: {', '.join(md(m) for m in d.models_changed)}.")
    for kind, heading in HEADINGS.items():
        rows = d.groups[kind]
        out += ["", f"## {heading} ({len(rows)})", ""]
        if not rows:
            out.append("None.")
        for r in rows:
            where = (r.get("country") or "?") + (" (CEE)" if r.get("cee") else "")
            langs = ", ".join(r.get("languages") or [])
            name = md(r.get("name") or r["site"])
            line = f"- **{name}** ({md(r['site'])}): {r['score_text']}, {where}" + (f", {langs}" if langs else "")
            out.append(line + (" (focus)" if r.get("focus") else ""))
            if r["link"]:
                out.append(f"  <{_safe_url(r['link'])}>")
            tags = [l for labels in (r.get("tags") or {}).values() for l in labels]
            if tags:
                out.append(f"  tags: {', '.join(md(t) for t in tags)}")
            if r.get("top_evidence"):
                out.append(f"  > {md(r['top_evidence'])}")
    out += ["", f"## Score moves that did not cross the threshold ({d.moves.get('moved', 0)})", "", d.moves_note]
    if d.moves.get("largest"):
        out += ["", "| site | before | now | change | side |", "|---|---:|---:|---:|---|"]
        for m in d.moves["largest"]:
            out.append(f"| {md(m['site'])} | {m['prev_score']:.4f} | {m['score']:.4f} | {m['delta']:+.4f} | "
                       f"{'listed' if m['listed'] else 'below'} |")
    return "\n".join(out) + "\n"
