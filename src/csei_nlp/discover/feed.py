"""A run's change report for machines: ``new_candidates.csv`` and the Atom feed ``feed.xml``.

Why both: the CSV goes into a spreadsheet, and the Atom feed lets an analyst
subscribe in any feed reader and see only what is new each week (the digest for
people is :mod:`csei_nlp.discover.digest`).  The feed keeps the rules of Atom
(RFC 4287) that readers rely on:

* entry ids are ``urn:uuid:`` URIs derived from (job, run, site, change), so
  regenerating a run's feed never makes a reader show an entry twice;
* every entry has a text ``content``; its ``alternate`` link is the candidate's
  web address, or, for a candidate without one (a folder of PDFs), the row of
  the run's digest (``../<run>/digest.html#...``, valid from both ``latest/``
  and ``<run>/``, the sibling folders the feed is written to);
* the feed's ``updated`` is the newest entry's, so a run that changed nothing
  writes the same feed, byte for byte;
* the ``self`` link is ``feed_url`` when the job sets one, else ``feed.xml``,
  a reference relative to the feed file itself.
"""
from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from typing import Any

from ..report.csvsafe import csv_text
from .digest import HEADINGS, anchor, web_link

CSV_FIELDS = ["change", "focus", "site", "name", "score", "prev_score", "rank", "country", "cee",
              "known", "known_name", "n_documents", "languages", "tags_innovation", "tags_helix",
              "tags_criteria", "url", "top_evidence", "top_evidence_url", "run_id"]

ATOM_NS = "http://www.w3.org/2005/Atom"
_NS = uuid.UUID("5b0f7c52-3d0e-4d59-9a43-8f1c2a6b7e11")  # this project's namespace for entry ids



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


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(text: str) -> str:
    """Crawled text without the characters XML 1.0 forbids (ElementTree would write them as they are)."""
    return _NOT_XML.sub("", text)


def entry_id(job: str, run_id: str, site: str, change: str) -> str:
    return "urn:uuid:" + str(uuid.uuid5(_NS, f"{job}\x1f{run_id}\x1f{site}\x1f{change}"))


def feed_updated(changes: list[dict[str, Any]], default: str) -> str:
    """The feed's ``updated``: its newest entry's time (``default`` for a feed without entries)."""
    return max((r["finished"] for r in changes), default=default)


def atom_feed(changes: list[dict[str, Any]], *, job: str, title: str, updated: str, feed_url: str = "") -> str:
    """Atom 1.0 over the changes of recent runs (newest first); one entry per change.

    ``updated`` is used only when there is no entry (see :func:`feed_updated`)."""
    ET.register_namespace("", ATOM_NS)
    q = lambda tag: f"{{{ATOM_NS}}}{tag}"  # noqa: E731
    feed = ET.Element(q("feed"))
    ET.SubElement(feed, q("id")).text = "urn:uuid:" + str(uuid.uuid5(_NS, f"feed\x1f{job}"))
    ET.SubElement(feed, q("title")).text = title
    ET.SubElement(feed, q("updated")).text = feed_updated(changes, updated)
    author = ET.SubElement(feed, q("author"))
    ET.SubElement(author, q("name")).text = f"csei discover ({job})"
    ET.SubElement(feed, q("generator")).text = "csei-nlp"
    ET.SubElement(feed, q("link"), rel="self", href=feed_url or "feed.xml", type="application/atom+xml")
    for r in changes:
        e = ET.SubElement(feed, q("entry"))
        ET.SubElement(e, q("id")).text = entry_id(job, r["run_id"], r["site"], r["change"])
        label = {"new": "New", "rose": "Rose", "fell": "Fell", "disappeared": "Disappeared"}[r["change"]]
        where = f" ({r['country']})" if r.get("country") else ""
        ET.SubElement(e, q("title")).text = _xml_text(f"{label}: {r.get('name') or r['site']}{where}")
        ET.SubElement(e, q("updated")).text = r["finished"]
        if web_link(r):
            ET.SubElement(e, q("link"), rel="alternate", href=web_link(r))
        else:  # no web address (a folder of PDFs): the candidate's row in that run's digest
            ET.SubElement(e, q("link"), rel="alternate", type="text/html",
                          href=f"../{r['run_id']}/digest.html#{anchor(r['change'], r['site'])}")
        for fam, labels in sorted((r.get("tags") or {}).items()):
            for lab in labels:
                ET.SubElement(e, q("category"), term=lab, scheme=f"urn:csei:{fam}")
        score = r.get("score") if r.get("score") is not None else r.get("prev_score")
        summary = (f"{r['site']}: {HEADINGS[r['change']].lower()} in run {r['run_id']}; score {score:.2f}"
                   + (f", was {r['prev_score']:.2f}" if r.get("prev_score") is not None and r["change"] != "new" else "")
                   + (f". Evidence: {r['top_evidence']}" if r.get("top_evidence") else ""))
        ET.SubElement(e, q("content"), type="text").text = _xml_text(summary)
    ET.indent(feed)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"
