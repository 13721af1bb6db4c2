"""Evaluate the product on a labelled set of pages as published: ``csei eval --pages FILE``.

The figures that matter to a user are those on real pages as a crawl gives
them (menus, cookie text, third-party articles, agencies, federations), not
on the project's own written text.  This module scans such a set exactly as
``csei scan`` would (the same readers, extraction, tagging and ranking: it
calls :func:`csei_nlp.scan.run_scan` on the file) and scores:

* per page: ROC-AUC of ``candidate_prob`` and precision among the 10 highest
  pages (P@10), overall and per language;
* per candidate organisation: ROC-AUC of the candidate score and P@10, a
  candidate being positive when a positive page counts for it;
* the TF-IDF baseline trained on the project's annotations, on the same pages.

The input is JSONL with ``url``, ``text`` (or ``html``) and ``label`` (1 when
the page is about one specific CSEI, in its own words or a third party's);
``lang`` is optional and only used to group the figures (the scan detects
the language itself).  The labels never reach the scanner: it reads a copy
without them.
"""
from __future__ import annotations

import json
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from ..config import Config
from ..errors import CseiError
from .composite import roc_auc

TOP_K = 10


def precision_at(y: np.ndarray, p: np.ndarray, k: int = TOP_K) -> float | None:
    if len(y) == 0:
        return None
    order = np.argsort(-p, kind="stable")[:k]
    return round(float(np.mean(y[order])), 4)


def _read_labelled(path: Path) -> list[dict[str, Any]]:
    from .data import _fail, _read_jsonl

    rows = []
    for where, rec in _read_jsonl(path):
        if rec.get("label") not in (0, 1) or not (rec.get("text") or rec.get("html")):
            raise _fail(where, "each line needs 'label' 0/1 and a 'text' or 'html'")
        rows.append(rec)
    if not rows:
        raise CseiError(f"{path}: no labelled pages")
    return rows


def evaluate_pages(path: str | Path, cfg: Config, annotations_dir: str | Path | None = None,
                   with_baseline: bool = True) -> dict[str, Any]:
    """Scan the labelled pages in ``path`` and score pages and candidates (see the module docstring)."""
    from ..scan import run_scan

    path = Path(path)
    rows = _read_labelled(path)
    with tempfile.TemporaryDirectory(prefix="csei-eval-pages-") as tmp:
        inp = Path(tmp) / "pages.jsonl"
        with open(inp, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps({k: r[k] for k in ("url", "text", "html") if r.get(k)},
                                    ensure_ascii=False) + "\n")
        run_scan([inp], Path(tmp) / "out", cfg)
        docs = [json.loads(x) for x in (Path(tmp) / "out" / "documents.jsonl").read_text("utf-8").splitlines()]
        cands = [json.loads(x) for x in (Path(tmp) / "out" / "candidates.jsonl").read_text("utf-8").splitlines()
                 if x.strip()]
    by_line = {d["source"]["offset"]: d for d in docs}
    y, p, langs, keys, genres = [], [], [], [], []
    for i, r in enumerate(rows, 1):
        d = by_line.get(i) or {}
        y.append(int(r["label"]))
        p.append(float(d.get("candidate_prob") or 0.0))
        langs.append(r.get("lang") or d.get("lang") or "und")
        keys.append(d.get("counts_for") or d.get("site"))
        genres.append(r.get("genre") or "")
    y_a, p_a = np.array(y), np.array(p)
    report: dict[str, Any] = {
        "file": str(path), "n": len(rows), "n_pos": int(y_a.sum()),
        "page": {"roc_auc": roc_auc(y_a, p_a), "p_at_10": precision_at(y_a, p_a),
                 "top10": [{"url": rows[i].get("url"), "label": y[i], "p": p[i], "genre": genres[i]}
                           for i in np.argsort(-p_a, kind="stable")[:TOP_K]]},
        "per_language": {},
    }
    by_lang: dict[str, list[int]] = defaultdict(list)
    for i, lang in enumerate(langs):
        by_lang[lang].append(i)
    for lang, idx in sorted(by_lang.items()):
        ii = np.array(idx)
        report["per_language"][lang] = {"n": len(idx), "n_pos": int(y_a[ii].sum()),
                                        "roc_auc": roc_auc(y_a[ii], p_a[ii]),
                                        "mean_p_pos": _mean(p_a[ii][y_a[ii] == 1]),
                                        "mean_p_neg": _mean(p_a[ii][y_a[ii] == 0])}
    # candidates: positive when a positive page counts for them
    pos_keys = {k for k, yi in zip(keys, y) if yi and k}
    cy = np.array([1 if c["site"] in pos_keys else 0 for c in cands])
    cs = np.array([float(c["score"]) for c in cands])
    cand_sites = {c["site"] for c in cands}
    report["candidates"] = {"n": len(cands), "n_pos": int(cy.sum()), "roc_auc": roc_auc(cy, cs),
                            "p_at_10": precision_at(cy, cs),
                            "positive_pages_without_candidate": sum(1 for k in pos_keys if k not in cand_sites)}
    # Every organisation of the set, those without a candidate (topic pages, not embedded) at score 0:
    # the ranking's recall shows here, which the figure over candidates alone hides.
    by_site = {c["site"]: float(c["score"]) for c in cands}
    every = sorted({k for k in keys if k} | cand_sites)
    ay = np.array([1 if k in pos_keys else 0 for k in every])
    a_s = np.array([by_site.get(k, 0.0) for k in every])
    report["organisations"] = {"n": len(every), "n_pos": int(ay.sum()), "roc_auc": roc_auc(ay, a_s),
                               "p_at_10": precision_at(ay, a_s)}
    if with_baseline:
        report["baseline"] = _baseline(rows, y_a, cfg, annotations_dir)
    return report


def _mean(x: np.ndarray) -> float | None:
    return round(float(x.mean()), 4) if len(x) else None


def _baseline(rows: list[dict[str, Any]], y: np.ndarray, cfg: Config,
              annotations_dir: str | Path | None) -> dict[str, Any]:
    """TF-IDF on the project's training documents (train+dev), applied to the pages."""
    from ..paths import annotations_dir as default_annotations
    from . import baseline
    from .data import load_dataset
    from .splits import assign_splits, doc_split

    ds = load_dataset(annotations_dir or default_annotations(), cfg)
    splits = assign_splits(ds.docs)
    dsplit = doc_split(ds.docs, splits)
    texts = [" ".join(d.passages) for d in ds.docs]
    yd = np.array([d.is_csei for d in ds.docs])
    tr, dv = dsplit["train"] + dsplit["test"], dsplit["dev"]
    pages = [r.get("text") or "" for r in rows]
    p, _, _ = baseline.tfidf_binary([texts[i] for i in tr], yd[tr], [texts[i] for i in dv], yd[dv], pages)
    return {"page_roc_auc": roc_auc(y, p), "page_p_at_10": precision_at(y, p)}


def format_pages_report(rep: dict[str, Any]) -> str:
    f = lambda x: "–" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)  # noqa: E731
    lines = [f"Pages: {rep['n']} ({rep['n_pos']} about one specific CSEI), from {Path(rep['file']).name}", "",
             "| level | ROC-AUC | P@10 | n (pos) |", "|---|---|---|---|",
             f"| page (`candidate_prob`) | {f(rep['page']['roc_auc'])} | {f(rep['page']['p_at_10'])} | "
             f"{rep['n']} ({rep['n_pos']}) |",
             f"| candidate (score) | {f(rep['candidates']['roc_auc'])} | {f(rep['candidates']['p_at_10'])} | "
             f"{rep['candidates']['n']} ({rep['candidates']['n_pos']}) |",
             f"| every organisation (no candidate = 0) | {f(rep['organisations']['roc_auc'])} | "
             f"{f(rep['organisations']['p_at_10'])} | {rep['organisations']['n']} ({rep['organisations']['n_pos']}) |"]
    if "baseline" in rep:
        lines.append(f"| page, TF-IDF baseline | {f(rep['baseline']['page_roc_auc'])} | "
                     f"{f(rep['baseline']['page_p_at_10'])} | {rep['n']} ({rep['n_pos']}) |")
    lines += ["", "| lang | n (pos) | ROC-AUC | mean p positives | mean p negatives |", "|---|---|---|---|---|"]
    for lang, m in rep["per_language"].items():
        lines.append(f"| {lang} | {m['n']} ({m['n_pos']}) | {f(m['roc_auc'])} | {f(m['mean_p_pos'])} | "
                     f"{f(m['mean_p_neg'])} |")
    lines += ["", "Top 10 pages: " + ", ".join(f"{t['genre'] or '?'}={t['label']} ({t['p']:.2f})"
                                                for t in rep["page"]["top10"])]
    return "\n".join(lines) + "\n"
