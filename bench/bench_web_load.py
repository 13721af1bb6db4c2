"""The review app under load: p95 page times at 100k candidates and 1M documents, 20 concurrent users.

Builds a scan store the size of a large crawl (100,000 candidates, 1,000,000
documents, 40,000 passages for the annotation queue) in a scratch folder,
serves it with waitress exactly as ``csei serve`` does, and lets 20 users work
at once: 14 analysts page through the ranking with filters and open
candidates, 6 annotators label passages.  Reports p50/p95 per page kind and
whether the goal (p95 <= 300 ms on 2 cores) is met.

    python bench/bench_web_load.py [--candidates 100000 --documents 1000000 --users 20 --requests 40]

Writes ``bench/results/web_load.json``.  Timing only: nothing here is a test.
"""
from __future__ import annotations

import argparse
import http.cookiejar
import json
import random
import re
import statistics
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

GOAL_P95_MS = 300.0
PASSWORD = "load test password"
COUNTRIES = ["PL", "CZ", "SK", "HU", "RO", "BG", "LT", "LV", "EE", "SI", "HR", "DE", "FR", "IT", "ES", "NL"]
CEE = {"PL", "CZ", "SK", "HU", "RO", "BG", "LT", "LV", "EE", "SI", "HR"}
HELIX = ["social_economy", "business", "research_education", "public_authority", "civil_society"]


def build_store(out: Path, n_cands: int, n_docs: int, n_passage_docs: int, seed: int = 7) -> None:
    """A scan store of the given size, written straight into the tables the scan fills."""
    from csei_nlp.store.sqlite import Store

    rnd = random.Random(seed)
    store = Store(out)
    conn = store.conn
    rows = []
    for i in range(n_cands):
        c = COUNTRIES[i % len(COUNTRIES)]
        tags = {"helix": rnd.sample(HELIX, rnd.randint(0, 3)), "innovation": ["social"] if i % 2 else [],
                "criteria": ["cooperating_group"] if i % 3 == 0 else []}
        evidence = {"helix": {h: [{"doc_id": f"d{i:07d}", "passage": 0, "text": "Klaster spółdzielni socjalnych "
                                   "i gminy prowadzi wspólne projekty.", "prob": 0.8, "spans": [],
                                   "url": f"https://site{i:06d}.example/", "source": "crawl.warc.gz"}]
                              for h in tags["helix"]}}
        rows.append((f"site{i:06d}.example", i + 1, round(1 - i / n_cands, 6),
                     json.dumps({"classifier": 0.5, "criteria": 0.4}), c, int(c in CEE), int(i % 97 == 0), None,
                     max(1, n_docs // n_cands), json.dumps([c.lower()]), json.dumps(tags), json.dumps(evidence),
                     f"Cluster {i:06d}", "load", json.dumps({})))
    conn.executemany("INSERT INTO candidates VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)
    conn.commit()
    text = ("Klaster ekonomii społecznej zrzesza spółdzielnie socjalne, fundacje, gminę i uczelnię. "
            "Wspólnie prowadzimy pralnię, catering i warsztaty dla mieszkańców powiatu. ") * 3
    batch = []
    for j in range(n_docs):
        site = f"site{j % n_cands:06d}.example"
        meta = json.dumps({"candidate": site, "role": "self", "subject_prob": 0.7})
        batch.append((f"d{j:07d}", "crawl.warc.gz", j, "html", "ok", None, None, f"https://{site}/p{j}", site,
                      None, f"Page {j}", None, None, "pl", "pl", None, None,
                      text if j < n_passage_docs else "", len(text), 2 if j < n_passage_docs else 0,
                      None, None, None, "{}", "{}", meta, "load"))
        if len(batch) == 50_000:
            conn.executemany("INSERT INTO documents VALUES (" + ",".join("?" * 27) + ")", batch)
            batch = []
    if batch:
        conn.executemany("INSERT INTO documents VALUES (" + ",".join("?" * 27) + ")", batch)
    half = len(text) // 2
    conn.executemany('INSERT INTO passages (doc_id, idx, start, "end", text, lang, n_tokens, labels, spans) '
                     "VALUES (?,?,?,?,?,?,?,?,?)",
                     [(f"d{j:07d}", k, k * half, (k + 1) * half, text[k * half:(k + 1) * half], "pl", 40, "{}", "[]")
                      for j in range(n_passage_docs) for k in (0, 1)])
    conn.execute("INSERT INTO runs (id, started, status, version) VALUES ('load', '2026-12-01', 'ok', 'bench')")
    conn.commit()
    store.close()


class User:
    def __init__(self, base: str, name: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        page = self.get("/login")[1]
        tok = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        self.post("/login", {"name": name, "password": PASSWORD, "csrf_token": tok})
        self.tok = re.search(r'name="csrf_token" value="([^"]+)"', self.get("/guidelines")[1]).group(1)

    def get(self, path: str) -> tuple[float, str]:
        t = time.perf_counter()
        with self.opener.open(self.base + path, timeout=60) as r:
            body = r.read().decode()
        return (time.perf_counter() - t) * 1000, body

    def post(self, path: str, data: dict) -> tuple[float, str]:
        t = time.perf_counter()
        with self.opener.open(self.base + path, urllib.parse.urlencode(data, doseq=True).encode(), timeout=60) as r:
            body = r.read().decode()
        return (time.perf_counter() - t) * 1000, body


def analyst(base: str, name: str, n: int, n_cands: int, times: dict, errors: list, seed: int,
            think: float) -> None:
    rnd = random.Random(seed)
    try:
        u = User(base, name)
        filters = ["", "cee=1", "country=PL", "tag=helix:business", "min_score=0.5&max_score=0.9", "q=Cluster%2001",
                   "decision=pending", "sort=name", "cee=1&tag=helix:social_economy"]
        for i in range(n):
            time.sleep(rnd.uniform(0, 2 * think))  # reading the page before the next click
            if i % 2 == 0:
                ms, _ = u.get("/ranking?" + rnd.choice(filters))
                times["ranking"].append(ms)
            else:
                site = f"site{rnd.randrange(n_cands):06d}.example"
                ms, _ = u.get(f"/candidate/{site}?cee=1")
                times["candidate"].append(ms)
    except Exception as exc:  # collected and reported
        errors.append(f"{name}: {type(exc).__name__}: {exc}")


def annotator(base: str, name: str, n: int, times: dict, errors: list, think: float) -> None:
    rnd = random.Random(name)
    try:
        u = User(base, name)
        for _ in range(n):
            time.sleep(rnd.uniform(0, 2 * think))
            ms, page = u.get("/annotate")
            times["annotate"].append(ms)
            m = re.search(r'name="passage_id" value="([^"]+)"', page)
            if not m:
                break
            ms, _ = u.post("/annotate", {"csrf_token": u.tok, "passage_id": m.group(1), "action": "label",
                                         "label": ["innovation:social", "helix:social_economy"]})
            times["annotate_save"].append(ms)
    except Exception as exc:  # collected and reported
        errors.append(f"{name}: {type(exc).__name__}: {exc}")


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else (values[0] if values else float("nan"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--candidates", type=int, default=100_000)
    ap.add_argument("--documents", type=int, default=1_000_000)
    ap.add_argument("--passage-docs", type=int, default=20_000)
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--requests", type=int, default=40, help="pages per user")
    ap.add_argument("--threads", type=int, default=8, help="waitress threads")
    ap.add_argument("--think", type=float, default=0.0,
                    help="mean seconds a user reads a page before the next request (0: back to back, a stress test)")
    args = ap.parse_args()

    from waitress.server import create_server

    from csei_nlp import config
    from csei_nlp.web.app import create_app

    with tempfile.TemporaryDirectory(prefix="csei-load-") as tmp:
        out = Path(tmp)
        t0 = time.perf_counter()
        build_store(out, args.candidates, args.documents, args.passage_docs)
        build_s = time.perf_counter() - t0
        cfg = config.load(overrides={"classify": {"enabled": False}})
        t0 = time.perf_counter()
        app = create_app(out, cfg, annotations_dir=out / "annotations", models_dir=out / "no-models")
        prepare_s = time.perf_counter() - t0
        db = app.extensions["csei"].db
        n_annot = max(1, args.users * 3 // 10)
        names = [(f"analyst{i}", "analyst") for i in range(args.users - n_annot)] + \
                [(f"annotator{i}", "annotator") for i in range(n_annot)]
        for name, role in names:
            db.add_user(name, role, PASSWORD)
        server = create_server(app, host="127.0.0.1", port=0, threads=args.threads)
        base = f"http://127.0.0.1:{server.effective_port}"
        threading.Thread(target=server.run, daemon=True).start()

        times: dict[str, list[float]] = {"ranking": [], "candidate": [], "annotate": [], "annotate_save": []}
        errors: list[str] = []
        workers = [threading.Thread(target=analyst if role == "analyst" else annotator,
                                    args=((base, name, args.requests, args.candidates, times, errors, i, args.think)
                                          if role == "analyst" else
                                          (base, name, args.requests // 2, times, errors, args.think)))
                   for i, (name, role) in enumerate(names)]
        t0 = time.perf_counter()
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        wall = time.perf_counter() - t0
        server.close()
        db.dispose()

    result = {"candidates": args.candidates, "documents": args.documents, "users": args.users,
              "think_s": args.think,
              "waitress_threads": args.threads, "build_store_s": round(build_s, 1),
              "app_start_s": round(prepare_s, 1), "wall_s": round(wall, 1), "errors": errors,
              "pages": {k: {"n": len(v), "p50_ms": round(pct(v, 50), 1), "p95_ms": round(pct(v, 95), 1),
                            "goal_met": pct(v, 95) <= GOAL_P95_MS} for k, v in times.items() if v}}
    out_file = REPO / "bench" / "results" / f"web_load_think{args.think:g}.json"
    out_file.parent.mkdir(parents=True, exist_ok=True)
    out_file.write_text(json.dumps(result, indent=2) + "\n", "utf-8")
    print(f"{args.candidates:,} candidates, {args.documents:,} documents, {args.users} concurrent users, "
          f"think time {args.think:g} s "
          f"(store built in {build_s:.0f} s, app ready in {prepare_s:.1f} s)")
    print(f"| page | requests | p50 ms | p95 ms | p95 <= {GOAL_P95_MS:.0f} ms |")
    print("|---|---|---|---|---|")
    for k, m in result["pages"].items():
        print(f"| {k} | {m['n']} | {m['p50_ms']} | {m['p95_ms']} | {'yes' if m['goal_met'] else 'NO'} |")
    if errors:
        print(f"{len(errors)} errors: {errors[:3]}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
