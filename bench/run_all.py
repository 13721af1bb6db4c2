"""Every scale-out figure of bench/README.md, side by side in one run.

    python bench/run_all.py [--pages 1000] [--sizes 500,1000] [--quick]   (make bench)

1. cascade recall on the evaluation set (annotation documents + dev pages);
2. documents/s per stage on a synthetic crawl (bench/synth.py), and the
   share of each stage in an uncached, cascade-free run;
3. cascade vs no cascade, end to end (from the stage costs of 2.);
4. scaling: 1 -> 2 local workers, Ray vs local, and two corpus sizes
   (time and peak memory), each scan in its own subprocess;
5. the teammates' library benchmarks (langid, pdf, embed), rerun unless --quick.

Results go to bench/results/scale.json and bench/results/scale.md.  Figures
depend on the machine and its load: read the ratios, which are measured in
the same run on the same data.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
DATA = HERE / "data"
sys.path.insert(0, str(HERE))


def _cfg(**over):
    from csei_nlp import config

    return config.load(overrides=over or None)


# ---------------------------------------------------------------- 1. cascade recall
def eval_documents() -> list[tuple[str, object, int, str]]:
    """(id, RawInput, is_csei, kind) for every annotated document and dev page."""
    from csei_nlp.types import RawInput

    docs: dict[str, dict] = {}
    for path in sorted((REPO / "annotations" / "passages").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            d = docs.setdefault(r["doc_id"], {"texts": [], "label": r["doc_label"], "lang": r["lang"]})
            d["texts"].append(r["text"])
    out = [(k, RawInput(source=f"annotations:{k}", media="text", data="\n\n".join(v["texts"]),
                        lang_hint=v["lang"]), int(v["label"]["is_csei"]), v["label"]["kind"])
           for k, v in docs.items()]
    pages = REPO / "annotations" / "pages"
    for line in (pages / "labels.jsonl").read_text("utf-8").splitlines():
        if line.strip():
            r = json.loads(line)
            f = pages / Path(r["file"]).name
            if f.is_file():
                out.append((r["id"], RawInput(source=str(f), media="html", data=f.read_bytes(), url=r.get("url")),
                            int(r["is_csei"]), r["kind"]))
    return out


def cascade_recall() -> dict:
    from csei_nlp.pipeline.process import process
    from csei_nlp.pipeline.tag import cascade_reason

    cfg = _cfg()
    kept = Counter()
    total = Counter()
    missed = []
    reasons = Counter()
    for doc_id, raw, is_csei, kind in eval_documents():
        doc = process(raw, cfg)
        reason = cascade_reason(doc, cfg) if doc.status == "ok" else f"{doc.status}: {doc.reason}"
        group = "candidate" if is_csei else "other"
        total[group] += 1
        if not reason:
            kept[group] += 1
        else:
            reasons[reason.split(" (")[0]] += 1
            if is_csei:
                missed.append({"id": doc_id, "lang": doc.lang, "reason": reason})
    return {"candidates": total["candidate"], "candidates_kept": kept["candidate"],
            "recall": round(kept["candidate"] / max(1, total["candidate"]), 4),
            "others": total["other"], "others_kept": kept["other"],
            "others_kept_share": round(kept["other"] / max(1, total["other"]), 4),
            "missed": missed, "skip_reasons": dict(reasons),
            "cascade": dataclasses.asdict(cfg.cascade)}


# ---------------------------------------------------------------- 2. stages
def stage_rates(corpus: Path, n_embed_docs: int) -> dict:
    """Per-stage cost in one process, warm (one document per language processed first)."""
    import numpy as np

    from csei_nlp.pipeline import cues, language, segment
    from csei_nlp.pipeline.extract.html import ExtractionError, extract_html
    from csei_nlp.pipeline.process import process
    from csei_nlp.pipeline.read import iter_inputs
    from csei_nlp.pipeline.read.charset import decode_html
    from csei_nlp.pipeline.tag import Tagging, cascade_reason
    from csei_nlp.rank import rank_sites
    from csei_nlp.store.sqlite import Store

    cfg = _cfg(embed={"cache": False})
    truth = {json.loads(l)["url"]: json.loads(l) for l in (corpus / "truth.jsonl").read_text("utf-8").splitlines()}
    t = defaultdict(float)
    t0 = time.perf_counter()
    raws = list(iter_inputs([corpus / "crawl"], cfg))
    t["read"] = time.perf_counter() - t0
    # warm-up: spaCy pipelines, cue matchers and lingua models load lazily, once per process and language
    seen: set[str] = set()
    t0 = time.perf_counter()
    for raw in raws:
        lang = truth[raw.url]["lang"]
        if lang not in seen:
            seen.add(lang)
            process(raw, cfg)
    warmup_s = time.perf_counter() - t0
    docs = []
    for raw in raws:
        a = time.perf_counter()
        html, _ = decode_html(raw.data, raw.http_charset)
        try:
            ext = extract_html(html, raw.url, cfg)
        except ExtractionError:
            continue
        b = time.perf_counter()
        lr = language.detect(ext.text, cfg, hint=ext.html_lang)
        c = time.perf_counter()
        segs = segment.segment(ext.text, lr.lang, cfg)
        d = time.perf_counter()
        cues.match(ext.text, lr.lang)
        e = time.perf_counter()
        t["extract"] += b - a
        t["language"] += c - b
        t["segment"] += d - c
        t["cues"] += e - d
        docs.append(segs)
    n = len(raws)
    # the full documents (for cascade, embedding and ranking), produced by the worker
    full = [process(r, cfg) for r in raws]
    chosen = [d for d in full if d.status == "ok" and not cascade_reason(d, cfg)]
    cand_urls = {u for u, r in truth.items() if r["candidate"]}
    kept_cand = sum(1 for d in chosen if d.url in cand_urls)
    tagging = Tagging.from_config(cfg)
    # embed + classify on a sample of documents with the cascade off: the uncached cost per document
    sample = [d for d in full if d.status == "ok"][:: max(1, n // n_embed_docs)][:n_embed_docs]
    cfg_off = _cfg(embed={"cache": False}, cascade={"enabled": False})
    tagging.cfg = cfg_off
    tagging.tag(sample[:2])  # warm-up: model load and the known-case anchors (embedded once per run)
    tagging.timings = {"embed_s": 0.0, "classify_s": 0.0}
    n_pass = sum(len(d.passages) for d in sample)
    tagging.tag(sample)
    tagging.cfg = cfg
    embed_per_doc = tagging.timings["embed_s"] / len(sample)
    classify_per_doc = tagging.timings["classify_s"] / len(sample)
    # aggregate: store the documents, build site profiles and rank them
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        store.begin_run("bench", "", "", cfg, "")
        a = time.perf_counter()
        store.put_documents(full, "bench")
        rank_sites(store, cfg, tagging)
        t["aggregate"] = time.perf_counter() - a
        store.close()
    per_doc = {k: v / n for k, v in t.items()}
    per_doc["embed"] = embed_per_doc
    per_doc["classify"] = classify_per_doc
    order = ["read", "extract", "language", "segment", "cues", "embed", "classify", "aggregate"]
    total = sum(per_doc[k] for k in order)
    cheap = total - per_doc["embed"] - per_doc["classify"]
    share_chosen = len(chosen) / n
    cascade_total = cheap + share_chosen * (per_doc["embed"] + per_doc["classify"])
    return {
        "pages": n, "languages": len(seen), "warmup_s": round(warmup_s, 2),
        "embed_sample_docs": len(sample), "embed_sample_passages": n_pass,
        "embedder": tagging.embedder.id,
        "stages": {k: {"docs_per_s": round(1 / per_doc[k], 2) if per_doc[k] else None,
                       "ms_per_doc": round(1000 * per_doc[k], 3),
                       "share": round(per_doc[k] / total, 4)} for k in order},
        "non_embedding_share": round(1 - (per_doc["embed"] + per_doc["classify"]) / total, 4),
        "non_embedding_share_excl_classify": round(cheap / total, 4),
        "cascade": {"embedded_share": round(share_chosen, 4),
                    "synthetic_candidates": len(cand_urls), "synthetic_candidates_kept": kept_cand,
                    "synthetic_recall": round(kept_cand / max(1, len(cand_urls)), 4),
                    "ms_per_doc_no_cascade": round(1000 * total, 2),
                    "ms_per_doc_cascade": round(1000 * cascade_total, 2),
                    "speedup": round(total / cascade_total, 2)},
        "passages_per_doc": round(float(np.mean([len(d.passages) for d in full if d.status == "ok"])), 2),
    }


# ---------------------------------------------------------------- 4. scaling (child processes)
def _scan_child(corpus: str, engine: str, workers: int) -> dict:
    """One `--no-classify` scan; time excludes starting Ray (reported apart)."""
    from csei_nlp.scan import run_scan

    cfg = _cfg(classify={"enabled": False}, scan={"workers": workers})
    init_s = 0.0
    if engine == "ray":
        import ray

        a = time.perf_counter()
        ray.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        init_s = time.perf_counter() - a
    out = DATA / f"out-{engine}-{workers}-{Path(corpus).name}"
    a = time.perf_counter()
    s = run_scan([Path(corpus) / "crawl"], out, cfg, engine=engine)
    wall = time.perf_counter() - a
    if engine == "ray":
        import ray

        ray.shutdown()
    return {"engine": engine, "workers": workers, "docs": s.seen, "ok": s.ok, "wall_s": round(wall, 2),
            "docs_per_s": round(s.seen / wall, 2), "ray_init_s": round(init_s, 2),
            "driver_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
            "worker_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)}


def scan(corpus: Path, engine: str, workers: int) -> dict:
    r = subprocess.run([sys.executable, __file__, "--child", json.dumps([str(corpus), engine, workers])],
                       capture_output=True, text=True, env={**os.environ, "RAY_AUTH_MODE": "disabled"})
    if r.returncode != 0:
        raise RuntimeError(f"scan child failed: {r.stderr[-2000:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def synth(n: int) -> Path:
    from synth import generate

    out = DATA / f"synth-{n}"
    if not (out / "truth.jsonl").is_file():
        generate(n, out, seed=0)
    return out


# ---------------------------------------------------------------- 5. library choices
def trafilatura_modes(every: int = 2) -> dict:
    """trafilatura default vs fast mode through extract_html, on the shared multilingual eval set.

    Quality is snippet P/R/F1 as in bench/extract_eval.py (whose ``score`` this reuses);
    the two modes alternate page by page so machine load affects them alike.
    """
    import gzip

    from extract_eval import score

    from csei_nlp.pipeline.extract.html import ExtractionError, extract_html
    from csei_nlp.pipeline.read.charset import decode_html

    shared = Path(os.environ.get("CSEI_SHARED", REPO.parent / "shared")) / "data" / "trafilatura-eval"
    if not (shared / "gold.jsonl").is_file():
        return {"skipped": f"{shared} absent"}
    golds = [json.loads(l) for l in (shared / "gold.jsonl").open(encoding="utf-8")][::every]
    cfgs = {"default": _cfg(), "fast": _cfg(extract={"fast": True})}
    texts = {k: [] for k in cfgs}
    secs = {k: 0.0 for k in cfgs}
    for g in golds:
        data = gzip.decompress((shared / g["local_file"]).read_bytes())
        url = None if g["url"].startswith("hard::") else g["url"]
        html, _ = decode_html(data)
        for k, c in cfgs.items():
            a = time.perf_counter()
            try:
                text = extract_html(html, url, c).text
            except ExtractionError:
                text = ""
            secs[k] += time.perf_counter() - a
            texts[k].append((g, text))
    out = {"pages": len(golds)}
    for k in cfgs:
        sc = score(texts[k])
        out[k] = {"pages_per_s": round(len(golds) / secs[k], 2), "precision": round(sc["precision"], 3),
                  "recall": round(sc["recall"], 3), "f1": round(sc["f1"], 3)}
    out["fast_speedup"] = round(secs["default"] / secs["fast"], 2)
    return out


# ---------------------------------------------------------------- 6. teammates' benches
def library_benches() -> dict:
    runs = {"langid": [HERE / "bench_langid.py", "--limit", "100"], "pdf": [HERE / "bench_pdf.py"],
            "embed": [HERE / "bench_embed.py", "--n", "48"]}
    out = {}
    for name, cmd in runs.items():
        a = time.perf_counter()
        r = subprocess.run([sys.executable, *map(str, cmd)], capture_output=True, text=True)
        out[name] = {"rc": r.returncode, "wall_s": round(time.perf_counter() - a, 1), "tail": r.stdout[-1500:]}
    return out


def render(res: dict) -> str:
    st = res["stages"]
    lines = [f"# Scale-out figures ({res['date']}, {res['machine']})", "",
             f"Command: `{res['command']}`", "",
             "## Cascade recall on the evaluation set", "",
             f"- candidate documents kept: {res['recall']['candidates_kept']}/{res['recall']['candidates']} "
             f"= **{res['recall']['recall']:.3f}**",
             f"- other documents kept (embedded anyway): {res['recall']['others_kept']}/{res['recall']['others']} "
             f"= {res['recall']['others_kept_share']:.3f}",
             f"- missed: {res['recall']['missed']}", "",
             f"## Stages ({st['pages']} synthetic pages, {st['languages']} languages, one process, warm)", "",
             f"Warm-up (models loaded once per process and language): {st['warmup_s']} s. "
             f"Embedder {st['embedder']}, uncached, on {st['embed_sample_docs']} documents "
             f"({st['embed_sample_passages']} passages).", "",
             "| stage | docs/s | ms/doc | share of an uncached run without cascade |", "|---|---:|---:|---:|"]
    for k, v in st["stages"].items():
        lines.append(f"| {k} | {v['docs_per_s']} | {v['ms_per_doc']} | {100 * v['share']:.1f}% |")
    c = st["cascade"]
    lines += ["", f"Non-embedding stages (everything but embed + classify): **{100 * st['non_embedding_share']:.1f}%**.",
              "", "## Cascade vs no cascade", "",
              f"- embedded share of synthetic pages: {c['embedded_share']:.3f}; synthetic candidates kept "
              f"{c['synthetic_candidates_kept']}/{c['synthetic_candidates']}",
              f"- ms/doc without cascade {c['ms_per_doc_no_cascade']}, with cascade {c['ms_per_doc_cascade']}: "
              f"**{c['speedup']}x**", "", "## Scaling (`csei scan --no-classify`, each in its own process)", "",
              "| corpus | engine | workers | docs | wall s (best) | all rounds s | docs/s | driver peak MB | worker peak MB | ray init s |",
              "|---|---|---:|---:|---:|---|---:|---:|---:|---:|"]
    for r in res["scans"]:
        lines.append(f"| {r['corpus']} | {r['engine']} | {r['workers']} | {r['docs']} | {r['wall_s']} | {r['rounds_wall_s']} | "
                     f"{r['docs_per_s']} | {r['driver_peak_rss_mb']} | {r['worker_peak_rss_mb']} | {r['ray_init_s']} |")
    lines += ["", "Ratios: " + ", ".join(f"{k} {v}" for k, v in res["ratios"].items()), ""]
    tr = res.get("trafilatura", {})
    if "fast" in tr:
        lines += ["## trafilatura: default vs fast (shared eval set, snippet scores)", "",
                  "| mode | pages/s | precision | recall | F1 |", "|---|---:|---:|---:|---:|"]
        for k in ("default", "fast"):
            lines.append(f"| {k} | {tr[k]['pages_per_s']} | {tr[k]['precision']} | {tr[k]['recall']} | {tr[k]['f1']} |")
        lines += ["", f"fast / default speed: {tr['fast_speedup']}x on {tr['pages']} pages", ""]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000, help="synthetic pages for stages and engine scaling")
    ap.add_argument("--sizes", default="1000,2000", help="two corpus sizes for the time/memory scaling")
    ap.add_argument("--embed-docs", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=2, help="rounds of the scaling scans (best kept)")
    ap.add_argument("--quick", action="store_true", help="skip the teammates' library benchmarks")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_scan_child(*json.loads(args.child))))
        return 0
    RESULTS.mkdir(exist_ok=True)
    DATA.mkdir(exist_ok=True)
    res: dict = {"date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} CPU, {platform.platform()}",
                 "command": "python bench/run_all.py " + " ".join(sys.argv[1:])}
    corpus = synth(args.pages)
    print("stages ...", file=sys.stderr)
    res["stages"] = stage_rates(corpus, args.embed_docs)  # first: its warm-up figure is a cold process's
    print("cascade recall ...", file=sys.stderr)
    res["recall"] = cascade_recall()
    print("scans ...", file=sys.stderr)
    small, large = (int(x) for x in args.sizes.split(","))
    plan = [(corpus, "local", 1), (corpus, "local", 2), (corpus, "ray", 2)]
    plan += [(synth(n), "local", 2) for n in (small, large) if synth(n) != corpus]
    # rounds interleave the configurations, and the best of the rounds is kept, so that
    # load from other processes on a shared machine hits every configuration alike
    rounds: dict[tuple, list[dict]] = {}
    for _ in range(args.repeat):
        for c, engine, workers in plan:
            r = scan(c, engine, workers)
            r["corpus"] = c.name
            rounds.setdefault((c.name, engine, workers), []).append(r)
    scans = []
    for key, rs in rounds.items():
        best = min(rs, key=lambda r: r["wall_s"])
        best["rounds_wall_s"] = [r["wall_s"] for r in rs]
        scans.append(best)
    size_runs = {n: next(s for s in scans if s["corpus"] == f"synth-{n}" and s["engine"] == "local"
                         and s["workers"] == 2) for n in (small, large)}
    res["scans"] = scans
    by = {(s["corpus"], s["engine"], s["workers"]): s for s in scans}
    l1, l2, r2 = by[(corpus.name, "local", 1)], by[(corpus.name, "local", 2)], by[(corpus.name, "ray", 2)]
    a, b = size_runs[small], size_runs[large]
    res["ratios"] = {
        "workers_1_to_2_speedup": round(l1["wall_s"] / l2["wall_s"], 2),
        "ray_overhead": round(r2["wall_s"] / l2["wall_s"] - 1, 3),
        f"time_{large}_over_{small}": round(b["wall_s"] / a["wall_s"], 2),
        "size_ratio": round(large / small, 2),
        f"driver_peak_rss_{large}_over_{small}": round(b["driver_peak_rss_mb"] / a["driver_peak_rss_mb"], 3),
        f"worker_peak_rss_{large}_over_{small}": round(b["worker_peak_rss_mb"] / a["worker_peak_rss_mb"], 3),
    }
    print("trafilatura fast vs default ...", file=sys.stderr)
    res["trafilatura"] = trafilatura_modes()
    if not args.quick:
        print("library benchmarks ...", file=sys.stderr)
        res["library"] = library_benches()
    (RESULTS / "scale.json").write_text(json.dumps(res, indent=2, ensure_ascii=False), "utf-8")
    (RESULTS / "scale.md").write_text(render(res), "utf-8")
    print(render(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
