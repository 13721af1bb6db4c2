"""Helpers for the discovery-job tests: a small corpus built from corpora/sample and job files."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from lxml import etree

REPO = Path(__file__).resolve().parents[2]
SAMPLE_WEB = REPO / "corpora" / "sample" / "web"
SAMPLE_REPORTS = REPO / "corpora" / "sample" / "reports"
KILLER = Path(__file__).resolve().parent / "kill_at.py"

# Sites of the sample corpus used as "already known" and as "planted new" inputs.
BATCH1 = ["klaster-borylipiny.pl", "gruenes-wiesenthal.de"]
BATCH2 = ["ptce-orvane.fr", "klaster-hornarieka.sk"]


def add_sites(corpus: Path, sites: list[str]) -> list[str]:
    """Copy sample sites into ``corpus``; return the copied files (absolute, sorted)."""
    out = []
    for s in sites:
        shutil.copytree(SAMPLE_WEB / s, corpus / s, dirs_exist_ok=True)
        out += [str(p.resolve()) for p in (corpus / s).rglob("*.html")]
    return sorted(out)


def write_job(folder: Path, *, shard_size: int = 2, min_score: float = 0.0, classify: bool = False,
              extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "corpus").mkdir(exist_ok=True)
    job = folder / "job.toml"
    job.write_text(f"""
[job]
name = "test-job"
state = "state"
shard_size = {shard_size}
[inputs]
paths = ["corpus/**/*.html"]
forget_missing = true
[focus]
cee = true
[thresholds]
min_score = {min_score}
[report]
dir = "reports"
[config.classify]
enabled = {"true" if classify else "false"}
[config.language]
backend = "langdetect"
[config.scan]
workers = 1
{extra}
""", "utf-8")
    return job


ATOM_NS = "http://www.w3.org/2005/Atom"
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S+$")  # an absolute URI: scheme ":" something (RFC 3986)


def _rfc3339(text: str | None) -> datetime:
    assert text and re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$", text), text
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def atom_entries(data: bytes) -> tuple[etree._Element, list[etree._Element]]:
    """Parse an Atom feed with lxml and assert the RFC 4287 rules readers rely on; return (feed, entries).

    Feed: one id (an absolute URI), title and updated (RFC 3339), an author, a self link.
    Each entry: one id (absolute URI, unique in the feed), title and updated, a content element or an
    alternate link (we require content, and an alternate link with an href). Feed updated = newest entry."""
    root = etree.fromstring(data)
    a = {"a": ATOM_NS}
    assert root.tag == f"{{{ATOM_NS}}}feed"
    for tag in ("id", "title", "updated"):
        assert len(root.xpath(f"a:{tag}", namespaces=a)) == 1, tag
    assert _URI.match(root.findtext(f"{{{ATOM_NS}}}id"))
    feed_updated = _rfc3339(root.findtext(f"{{{ATOM_NS}}}updated"))
    assert root.xpath("a:author/a:name/text()", namespaces=a)
    assert root.xpath("a:link[@rel='self']/@href", namespaces=a)
    entries = root.xpath("a:entry", namespaces=a)
    ids = []
    for e in entries:
        for tag in ("id", "title", "updated", "content"):
            assert len(e.xpath(f"a:{tag}", namespaces=a)) == 1, (tag, etree.tostring(e))
            assert (e.findtext(f"{{{ATOM_NS}}}{tag}") or "").strip(), tag
        ids.append(e.findtext(f"{{{ATOM_NS}}}id"))
        assert _URI.match(ids[-1])
        assert _rfc3339(e.findtext(f"{{{ATOM_NS}}}updated")) <= feed_updated
        alternates = e.xpath("a:link[@rel='alternate']/@href", namespaces=a)
        assert len(alternates) == 1 and alternates[0].strip()
    assert len(set(ids)) == len(ids)
    if entries:
        assert feed_updated == max(_rfc3339(e.findtext(f"{{{ATOM_NS}}}updated")) for e in entries)
    return root, entries


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    # not "-m csei_nlp.cli": run as __main__ that module would be a second copy without the plugins
    return subprocess.run([sys.executable, "-c", "import sys; from csei_nlp.cli import main; sys.exit(main())", *args], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ))


@pytest.fixture(scope="session")
def helpers():
    class H:
        add_sites = staticmethod(add_sites)
        write_job = staticmethod(write_job)
        run_cli = staticmethod(run_cli)
        atom_entries = staticmethod(atom_entries)
        killer = KILLER
        sample_reports = SAMPLE_REPORTS
        batch1, batch2 = BATCH1, BATCH2

    return H
