"""Discovery from Common Crawl: range reads, scanning, and index queries, on local data.

    python bench/bench_cc.py [--copies 10] [--rows 1000000] [--out bench/results/cc.json]

1. fetch: the mini Common Crawl of the tests (tests/discover/minicc.py), each sample page
   ``--copies`` times, served by the tests' Range-honouring HTTP server on 127.0.0.1; records/s
   and MB/s fetched by exact byte range (no rate limit) at 1, 4 and 16 requests in flight, and
   from a local folder prefix;
2. scan: records/s of ``csei scan`` over the WARC file the fetch wrote (no classification,
   langdetect, 1 and 2 workers);
3. index: a synthetic index of ``--rows`` rows in Common Crawl's schema (generated here, never
   committed; 8 Parquet files), and the time of a job's selection (CEE TLDs, self-designation URL
   terms, languages), of its preview summary and of a host-expansion query; the bytes of the columns
   a selection reads next to the index's size.

Loopback has no network latency: the fetch figures are the client's ceiling, not what
data.commoncrawl.org gives (see docs/discover.md for the real-crawl figures to expect).
Results: bench/results/cc.json and bench/results/cc.md.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(REPO / "tests" / "discover"))

CEE = ["pl", "cz", "sk", "hu", "ro", "bg", "hr", "si", "lt", "lv", "ee", "ua", "rs"]
OTHER = ["com", "org", "de", "fr", "it", "es", "nl", "eu", "net", "uk", "at", "be", "se", "pt", "info"]
LANGS = {"pl": "pol", "cz": "ces", "sk": "slk", "hu": "hun", "ro": "ron", "bg": "bul", "hr": "hrv", "si": "slv",
         "lt": "lit", "lv": "lav", "ee": "est", "ua": "ukr", "rs": "srp", "de": "deu", "fr": "fra", "it": "ita",
         "es": "spa", "nl": "nld", "at": "deu", "be": "fra", "se": "swe", "pt": "por"}
WORDS = ["news", "kontakt", "produkty", "aktualnosci", "o-nas", "blog", "sklep", "oferta", "galeria", "projekty",
         "klaster", "czlonkowie", "partnerzy", "spoldzielnia-socjalna", "wydarzenia", "praca", "cennik", "en",
         "index", "about", "members", "partnerstvo", "halozat", "klaszter", "kategoria", "produkt", "2026", "2025"]



def bench_fetch(copies: int, work: Path) -> dict:
    import minicc
    from csei_nlp.discover.commoncrawl.fetch import FetchSettings, fetch_all
    from csei_nlp.discover.commoncrawl.step import write_warc
    from csei_nlp.store.ccindex import CCIndex, IndexFilter

    n_pages = len(list(minicc.SAMPLE_WEB.rglob("*.html"))) * copies
    cc = minicc.build(work / "cc", pages_per_file=max(1, n_pages // 2), copies=copies)
    with CCIndex([cc.index_glob]) as ix:
        recs = [r for r in ix.select(IndexFilter()) if "archiv.html" not in r.url]  # no faults here
    nbytes = sum(r.length for r in recs)
    out: dict = {"records": len(recs), "bytes": nbytes, "fetch": []}
    with minicc.Server(cc.root) as server:
        for conc in (1, 4, 16):
            t = time.perf_counter()
            got = list(fetch_all(server.url, recs, FetchSettings(concurrency=conc, requests_per_s=0)))
            dt = time.perf_counter() - t
            assert all(g.ok for g in got) and len(server.log) % len(recs) == 0
            out["fetch"].append({"source": "http 127.0.0.1", "concurrency": conc, "seconds": round(dt, 3),
                                 "records_per_s": round(len(recs) / dt, 1), "mb_per_s": round(nbytes / dt / 1e6, 2)})
    t = time.perf_counter()
    got = list(fetch_all(str(cc.root), recs, FetchSettings(concurrency=4, requests_per_s=0)))
    dt = time.perf_counter() - t
    out["fetch"].append({"source": "local folder", "concurrency": 4, "seconds": round(dt, 3),
                         "records_per_s": round(len(recs) / dt, 1), "mb_per_s": round(nbytes / dt / 1e6, 2)})
    warc = work / "fetched.warc.gz"
    write_warc(warc, got, {"software": "bench_cc"})
    out["warc"] = str(warc)
    return out


def bench_scan(warc: str, n: int, work: Path) -> list[dict]:
    from csei_nlp import config
    from csei_nlp.scan import run_scan

    rows = []
    for workers in (1, 2):
        cfg = config.load(overrides={"classify": {"enabled": False}, "language": {"backend": "langdetect"},
                                     "scan": {"workers": workers}})
        t = time.perf_counter()
        s = run_scan([warc], work / f"scan-{workers}", cfg)
        dt = time.perf_counter() - t
        rows.append({"workers": workers, "seconds": round(dt, 1), "ok": s.ok,
                     "records_per_s": round(s.ok / dt, 2)})
    return rows


def synth_index(folder: Path, rows: int, files: int = 8, seed: int = 0) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    import minicc

    rnd = random.Random(seed)
    schema = minicc.index_schema()
    tlds = CEE * 2 + OTHER  # CEE TLDs are about half of the rows
    hosts = [(f"site{i}.{rnd.choice(tlds)}") for i in range(rows // 20)]
    per = rows // files
    folder.mkdir(parents=True, exist_ok=True)
    for f in range(files):
        host = [rnd.choice(hosts) for _ in range(per)]
        path = ["/" + "/".join(rnd.choices(WORDS, k=rnd.randint(1, 3))) + rnd.choice(["", ".html", "/", ".pdf"])
                for _ in range(per)]
        tld = [h.rsplit(".", 1)[1] for h in host]
        status = [rnd.choices([200, 301, 404, 304], [88, 6, 4, 2])[0] for _ in range(per)]
        mime = [rnd.choices(["text/html", "application/pdf", "image/jpeg", "application/xhtml+xml", "text/plain"],
                            [80, 4, 8, 4, 4])[0] for _ in range(per)]
        langs = [LANGS.get(t, "eng") + ("" if rnd.random() < 0.7 else ",eng") for t in tld]
        # the index is sorted by SURT key, so a host's rows (and a TLD's) sit together, as in Common Crawl
        order = sorted(range(per), key=lambda i: (tld[i], host[i], path[i]))
        cols = {
            "url_surtkey": [f"{tld[i]},{host[i].split('.')[0]}){path[i]}" for i in order],
            "url": [f"https://{host[i]}{path[i]}" for i in order],
            "url_host_name": [host[i] for i in order], "url_host_tld": [tld[i] for i in order],
            "url_host_registered_domain": [host[i] for i in order], "url_protocol": ["https"] * per,
            "url_port": [None] * per, "url_path": [path[i] for i in order], "url_query": [None] * per,
            "fetch_time": [None] * per, "fetch_status": [status[i] for i in order], "fetch_redirect": [None] * per,
            "content_digest": [None] * per, "content_mime_type": [mime[i] for i in order],
            "content_mime_detected": [mime[i] for i in order], "content_charset": ["UTF-8"] * per,
            "content_languages": [langs[i] for i in order], "content_truncated": [None] * per,
            "warc_filename": [f"crawl-data/CC-MAIN-2026-40/segments/x/warc/f-{f:05d}-{i % 64:03d}.warc.gz"
                              for i in order],
            "warc_record_offset": [i * 20000 for i in order],
            "warc_record_length": [rnd.randint(2000, 60000) for _ in order],
            "warc_segment": ["x"] * per,
        }
        pq.write_table(pa.table(cols, schema=schema), folder / f"part-{f:05d}.c000.gz.parquet",
                       compression="gzip", row_group_size=32768)


def bench_index(rows: int, work: Path) -> dict:
    from csei_nlp.discover.commoncrawl.select import expansion_pattern, term_patterns
    from csei_nlp.discover.job import CommonCrawlSection
    from csei_nlp.discover.queries import cee_languages
    from csei_nlp.store.ccindex import CCIndex, IndexFilter, columns_bytes

    folder = work / "index"
    t = time.perf_counter()
    synth_index(folder, rows)
    gen = time.perf_counter() - t
    patterns = term_patterns(["self_designation"], list(cee_languages()))
    pattern = "|".join(patterns)
    cc = CommonCrawlSection(index=[str(folder)])
    out: dict = {"rows": rows, "generate_s": round(gen, 1), "n_url_patterns": len(patterns),
                 "max_records": cc.max_records, "queries": []}
    filters = {
        "CEE TLDs": IndexFilter(tlds=tuple(CEE)),
        "CEE TLDs + self-designation URL terms": IndexFilter(tlds=tuple(CEE), url_pattern=pattern),
        "CEE TLDs + URL terms + languages pol,ces,slk": IndexFilter(tlds=tuple(CEE), url_pattern=pattern,
                                                                   languages=("pol", "ces", "slk")),
        f"CEE TLDs, first {cc.max_records:,} (max_records)": IndexFilter(tlds=tuple(CEE), limit=cc.max_records),
    }
    with CCIndex([str(folder)]) as ix:
        used, total = columns_bytes(ix.files)
        out.update({"index_bytes": total, "selection_columns_bytes": used})
        for name, f in filters.items():
            best, n = 1e9, 0
            for _ in range(3):
                t = time.perf_counter()
                n = len(ix.select(f))
                best = min(best, time.perf_counter() - t)
            t = time.perf_counter()
            summ = ix.summary(f)
            s_dt = time.perf_counter() - t
            out["queries"].append({"filter": name, "selected": n, "select_s": round(best, 3),
                                   "preview_s": round(s_dt, 3), "bytes_to_fetch": summ["bytes"]})
        sites = sorted({r.site for r in ix.select(IndexFilter(tlds=("pl",), limit=200))})
        t = time.perf_counter()
        more = ix.host_pages(sites, 10, expansion_pattern())
        out["expansion"] = {"sites": len(sites), "per_host": 10, "records": len(more),
                            "seconds": round(time.perf_counter() - t, 3)}
    return out


def _md(res: dict) -> str:
    f, s, ix = res["fetch"], res["scan"], res["index"]
    lines = [f"# Common Crawl input: fetch, scan, index ({res['date']}, {res['machine']})", "",
             f"Mini crawl: {f['records']} records, {f['bytes'] / 1e6:.1f} MB, served on 127.0.0.1 "
             "(no network latency: the client's ceiling).", "",
             "| source | in flight | seconds | records/s | MB/s |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {r['source']} | {r['concurrency']} | {r['seconds']} | {r['records_per_s']} | {r['mb_per_s']} |"
              for r in f["fetch"]]
    lines += ["", "Scan of the fetched WARC (`csei scan`, no classification, langdetect):", "",
              "| workers | seconds | records ok | records/s |", "|---:|---:|---:|---:|"]
    lines += [f"| {r['workers']} | {r['seconds']} | {r['ok']} | {r['records_per_s']} |" for r in s]
    lines += ["", f"Synthetic index: {ix['rows']:,} rows, 8 Parquet files, {ix['index_bytes'] / 1e6:.1f} MB; "
              f"a selection reads at most {ix['selection_columns_bytes'] / 1e6:.1f} MB of it (its columns); "
              f"self-designation terms of the CEE languages: {ix['n_url_patterns']} URL patterns.", "",
              "| filter | selected | select (best of 3) | preview | bytes to fetch |", "|---|---:|---:|---:|---:|"]
    lines += [f"| {q['filter']} | {q['selected']:,} | {q['select_s']} s | {q['preview_s']} s | "
              f"{q['bytes_to_fetch'] / 1e9:.2f} GB |" for q in ix["queries"]]
    e = ix["expansion"]
    lines += ["", f"Host expansion query: {e['sites']} sites, up to {e['per_host']} pages each: {e['records']} "
              f"records in {e['seconds']} s.", ""]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=10, help="times each sample page is in the mini crawl")
    ap.add_argument("--rows", type=int, default=1_000_000, help="rows of the synthetic index")
    ap.add_argument("--out", default=str(HERE / "results" / "cc.json"))
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-cc-"))
    try:
        fetch = bench_fetch(args.copies, work)
        scan = bench_scan(fetch.pop("warc"), fetch["records"], work)
        index = bench_index(args.rows, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    res = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
           "fetch": fetch, "scan": scan, "index": index}
    Path(args.out).write_text(json.dumps(res, indent=1) + "\n", "utf-8")
    Path(args.out).with_suffix(".md").write_text(_md(res), "utf-8")
    print(_md(res))


if __name__ == "__main__":
    main()
