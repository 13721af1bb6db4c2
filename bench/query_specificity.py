"""How specific are `csei queries`? The share of a list of URLs and page titles each query matches.

Two lists, built from what the repository and ../shared hold:

* background: URLs and <title>s of general web pages (trafilatura-eval, scrapinghub-aeb,
  warc-samples in ../shared/data): pages that are not CSEI.  A query that matches many of them
  would pull many useless pages from a crawl index.
* labelled: URLs and <title>s of the project's labelled pages (annotations/, corpora/sample, the
  dev pages in ../shared), CSEI or not.  Which of them a query set reaches, and how many of those
  are CSEI.  Caveat: the multi-word designations of the new queries come from the organisation
  names of annotations/, so this list is not independent of them.

    python bench/query_specificity.py [--ref main] [--out bench/results/queries.md]

``--ref`` also measures the query module of another git revision (the queries before a change).
"""
from __future__ import annotations

import argparse
import gzip
import html
import importlib.util
import json
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from csei_nlp.discover import queries as new_queries  # noqa: E402
from csei_nlp.discover.queries import match_table, query_phrases, scripts, specificity  # noqa: E402

SHARED = REPO.parent / "shared" / "data"
TITLE = re.compile(rb"<title[^>]*>(.*?)</title>", re.I | re.S)


def _title(raw: bytes) -> str:
    m = TITLE.search(raw)
    return html.unescape(" ".join(m.group(1).decode("utf-8", "replace").split())) if m else ""


def _jsonl(path: Path) -> list[dict]:
    return [json.loads(l) for l in path.read_text("utf-8").splitlines() if l.strip()] if path.is_file() else []


def background() -> list[str]:
    texts: list[str] = []
    for row in _jsonl(SHARED / "trafilatura-eval" / "gold.jsonl"):
        if str(row.get("url", "")).startswith("http"):
            texts.append(row["url"])
    gt = SHARED / "scrapinghub-aeb" / "ground-truth.json"
    if gt.is_file():
        texts += [v["url"] for v in json.loads(gt.read_text("utf-8")).values() if v.get("url")]
    man = SHARED / "warc-samples" / "manifest.json"
    if man.is_file():
        for f in json.loads(man.read_text("utf-8")).values():
            texts += [r["target_uri"] for r in f.get("records", []) if r.get("target_uri")]
    for folder in (SHARED / "trafilatura-eval" / "html", SHARED / "scrapinghub-aeb" / "html"):
        for p in sorted(folder.glob("*.html.gz")) if folder.is_dir() else []:
            if (t := _title(gzip.decompress(p.read_bytes()))):
                texts.append(t)
    return sorted(set(texts))


def labelled() -> dict[str, int]:
    """URL or title -> 1 when CSEI, 0 otherwise."""
    out: dict[str, int] = {}
    ann = REPO / "annotations"
    for f in sorted((ann / "webpages").glob("*.jsonl")):
        for r in _jsonl(f):
            out[r["url"]] = int(r.get("is_csei", 0))
    for r in _jsonl(ann / "published" / "pages.jsonl"):
        out[r["url"]] = int(r.get("label", 0))
    for base in (ann / "pages", SHARED / "csei-dev-pages"):
        for f in [base / "labels.jsonl", *sorted(base.glob("labels-*.jsonl"))]:
            for r in _jsonl(f):
                out[r["url"]] = int(r.get("is_csei", 0))
                page = base / r.get("file", "")
                if page.is_file() and (t := _title(page.read_bytes())):
                    out[t] = int(r.get("is_csei", 0))
    for r in _jsonl(REPO / "corpora" / "sample.manifest.jsonl"):
        if r.get("url"):
            out[r["url"]] = int(r.get("is_csei", 0))
    return out


def _old_module(ref: str):
    src = subprocess.run(["git", "-C", str(REPO), "show", f"{ref}:src/csei_nlp/discover/queries.py"],
                         check=True, capture_output=True, text=True).stdout
    tmp = Path(tempfile.mkdtemp()) / "old_queries.py"
    tmp.write_text(src, "utf-8")
    spec = importlib.util.spec_from_file_location("csei_nlp.discover._old_queries", tmp)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _usability(qs: list[str]) -> dict[str, int]:
    def short(q: str) -> bool:  # a word under 4 letters that is not inside a multi-word quoted phrase
        return any(len(p) == 1 and len(p[0].rstrip("*")) < 4 for p in query_phrases(q))

    return {"queries": len(qs), "with *": sum("*" in q for q in qs), "short word alone": sum(map(short, qs)),
            "mixed scripts": sum(len(scripts(q)) > 1 for q in qs)}


def pages() -> dict[str, int]:
    """Text of each labelled annotated page (annotations/webpages) -> 1 when CSEI."""
    out: dict[str, int] = {}
    for f in sorted((REPO / "annotations" / "webpages").glob("*.jsonl")):
        for r in _jsonl(f):
            out[r["text"]] = int(r.get("is_csei", 0))
    return out


def measure(qs: list[str], bg: list[str], lab: dict[str, int], pages: dict[str, int]) -> dict[str, float]:
    out: dict[str, float] = dict(_usability(qs))
    for mode, require_all in (("all phrases", True), ("any phrase", False)):
        hits = match_table(qs, bg, require_all=require_all)
        shares = [len(h) / len(bg) for h in hits.values()]
        out[f"background URLs/titles, {mode}: mean share per query %"] = 100 * statistics.mean(shares)
        out[f"background URLs/titles, {mode}: largest share of one query %"] = 100 * max(shares)
        out[f"background URLs/titles, {mode}: share matched by the set %"] = \
            100 * len({i for h in hits.values() for i in h}) / len(bg)
    texts = list(lab)
    reached = {i for h in match_table(qs, texts).values() for i in h}
    out["labelled URLs/titles reached by the set"] = len(reached)
    out["labelled URLs/titles: of them CSEI"] = sum(lab[texts[i]] for i in reached)
    ptexts = list(pages)
    phits = match_table(qs, ptexts)
    reached = {i for h in phits.values() for i in h}
    out["annotated pages: mean share per query %"] = 100 * statistics.mean(len(h) / len(ptexts) for h in phits.values())
    out["annotated pages reached by the set"] = len(reached)
    out["annotated pages: of them CSEI"] = sum(pages[ptexts[i]] for i in reached)
    hit_csei = [sum(pages[ptexts[i]] for i in h) / len(h) for h in phits.values() if h]
    out["mean CSEI share of a matching query's pages %"] = 100 * statistics.mean(hit_csei) if hit_csei else 0.0
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ref", help="also measure the queries of this git revision")
    ap.add_argument("--out", type=Path, help="write the Markdown table here")
    args = ap.parse_args()
    bg, lab, pg = background(), labelled(), pages()
    sets = {"now": [r["query"] for r in new_queries.build_queries()]}
    if args.ref:
        sets[args.ref] = [r["query"] for r in _old_module(args.ref).build_queries()]
    results = {name: measure(qs, bg, lab, pg) for name, qs in sets.items()}
    keys = list(next(iter(results.values())))
    lines = [f"background: {len(bg)} URLs and titles; labelled: {len(lab)} URLs and titles "
             f"({sum(lab.values())} CSEI); annotated pages: {len(pg)} ({sum(pg.values())} CSEI)", "", "| | " + " | ".join(results) + " |",
             "|---|" + "---:|" * len(results)]
    for k in keys:
        lines.append(f"| {k} | " + " | ".join(f"{v[k]:.2f}" if isinstance(v[k], float) else str(v[k])
                                             for v in results.values()) + " |")
    top = sorted(specificity(sets["now"], bg, require_all=False).items(), key=lambda x: -x[1])[:5]
    lines += ["", "least specific queries now (share of background URLs/titles with any phrase): "
              + "; ".join(f"{q} {100 * s:.2f}%" for q, s in top)]
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text, "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
