"""The model stages on the workers and on Ray (issue 11): every figure side by side in one run.

    python bench/bench_model_stages.py [--pages 200] [--sizes 1000,5000] [--skip ray,memory] [--name NAME]

1. workers: an uncached scan (``[embed] cache = false``, cascade off so that every
   page is embedded) with 1 and with 2 local workers, 1 model thread each: wall
   time, and the driver's own CPU time against the scan's total (driver plus
   workers, ``getrusage``).  The candidates of both runs must be equal.
2. Ray: the same scan on a ``ray.cluster_utils.Cluster`` of 1 node and of 2 nodes
   with 1 CPU each (cluster start-up not counted), and its overhead against the
   local 2-worker run.  Candidates must equal the local run's.  The nodes of such
   a cluster share the machine's cores, so the pair is run twice: as is, and with
   each node pinned to a core of its own (``_pin_nodes``).
3. memory: two corpus sizes, a shipped-settings scan (cascade on, cache on):
   peak RSS of the driver and of the workers.
4. GPU: ``bench_gpu.py`` (the pipeline's embedding path against the bare model's
   forward pass); it says so and skips when there is no CUDA device.

Each scan runs in its own process.  Results: ``bench/results/model_stages.json``
and ``.md``.  Read the ratios: they are measured in the same run on the same pages,
but a shared machine makes each of them noisy.
"""
from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
DATA = HERE / "data"
sys.path.insert(0, str(HERE))

UNCACHED = {"embed": {"cache": False}, "cascade": {"enabled": False}, "scan": {"model_threads": 1}}


def _candidates_digest(out: Path) -> str:
    rows = [{k: v for k, v in r.items() if k != "run_id"}
            for r in csv.DictReader((out / "candidates.csv").open(encoding="utf-8"))]
    return hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:16]


def _child(spec: dict) -> dict:
    """One scan in this (fresh) process: {wall, cpu of driver and workers, peak RSS, candidates digest}."""
    from csei_nlp import config
    from csei_nlp.scan import run_scan

    over = json.loads(json.dumps(spec.get("overrides", {})))
    over.setdefault("scan", {})["workers"] = spec["workers"]
    cfg = config.load(overrides=over)
    out = Path(spec["out"])
    cluster = None
    if spec["engine"] == "ray":
        import ray
        from ray.cluster_utils import Cluster

        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
        for _ in range(spec["nodes"] - 1):
            cluster.add_node(num_cpus=1)
        ray.init(address=cluster.address, log_to_driver=False, configure_logging=False)
        cluster.wait_for_nodes()
        if spec.get("pin"):
            _pin_nodes(cluster)
    self0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    tree0 = _descendants_cpu() if cluster is not None else {}
    a = time.perf_counter()
    s = run_scan([Path(spec["corpus"]) / "crawl"], out, cfg, engine=spec["engine"], fresh=True)
    wall = time.perf_counter() - a
    self1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    tree1 = _descendants_cpu() if cluster is not None else {}
    if cluster is not None:
        import ray

        ray.shutdown()
        cluster.shutdown()
    driver_cpu = (self1.ru_utime - self0.ru_utime) + (self1.ru_stime - self0.ru_stime)
    worker_cpu = (kids1.ru_utime - kids0.ru_utime) + (kids1.ru_stime - kids0.ru_stime)
    if cluster is not None:  # Ray's workers are the raylets' children, alive until shutdown: count them live
        worker_cpu = sum(t - tree0.get(pid, 0.0) for pid, t in tree1.items())
    run = json.loads((out / "run.json").read_text("utf-8"))
    return {"engine": spec["engine"], "workers": spec["workers"], "nodes": spec.get("nodes", 1),
            "docs": s.seen, "ok": s.ok, "wall_s": round(wall, 2), "docs_per_s": round(s.seen / wall, 2),
            "embedded_documents": run["models"].get("counts", {}).get("embedded_documents"),
            "embedded_passages": run["models"].get("counts", {}).get("embedded_passages"),
            "driver_cpu_s": round(driver_cpu, 2), "worker_cpu_s": round(worker_cpu, 2),
            "driver_cpu_share": round(driver_cpu / max(1e-9, driver_cpu + worker_cpu), 3),
            "driver_peak_rss_mb": round(self1.ru_maxrss / 1024, 1),
            "worker_peak_rss_mb": round(kids1.ru_maxrss / 1024, 1),
            "candidates": s.n_candidates, "candidates_digest": _candidates_digest(out)}


def _pin_nodes(cluster) -> None:
    """Give each node of a ``Cluster`` one core of its own, as "a node of 1 CPU" means.

    Without it, a 1-node cluster on a 2-core machine is not a 1-CPU node: its processing tasks (1 CPU)
    and its embedding actor (0 CPU, so that it fits beside them) run at once on both cores, and the
    1 -> 2 nodes ratio measures nothing.  Every process of node i (its raylet, the head's daemons and the
    workers already started) is pinned to core i; workers started later inherit the raylet's core.
    The driver is not pinned.
    """
    import psutil  # Ray brings it (ray/thirdparty_files)

    cores = sorted(os.sched_getaffinity(0))
    nodes = cluster.list_all_nodes()
    if len(nodes) > len(cores):
        raise RuntimeError(f"{len(nodes)} nodes but {len(cores)} cores: cannot give each node its own core")
    for core, node in zip(cores, nodes):
        for infos in node.all_processes.values():
            for info in infos:
                try:
                    proc = psutil.Process(info.process.pid)
                    for p in [proc, *proc.children(recursive=True)]:
                        p.cpu_affinity([core])
                except psutil.Error:
                    continue


def _descendants_cpu() -> dict[int, float]:
    """{pid: user + system CPU seconds} of every live process below this one (Ray's daemons and workers)."""
    import psutil  # Ray brings it (ray/thirdparty_files)

    out = {}
    for p in psutil.Process().children(recursive=True):
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        out[p.pid] = t.user + t.system
    return out


def scan(corpus: Path, engine: str, workers: int, nodes: int = 1, overrides: dict | None = None,
         pin: bool = False) -> dict:
    out = DATA / f"ms-{corpus.name}-{engine}-{workers}w-{nodes}n{'-pinned' if pin else ''}"
    spec = {"corpus": str(corpus), "engine": engine, "workers": workers, "nodes": nodes,
            "overrides": overrides or {}, "out": str(out), "pin": pin}
    r = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                       env={**os.environ, "RAY_AUTH_MODE": "disabled"})
    if r.returncode != 0:
        raise RuntimeError(f"scan child failed: {r.stderr[-3000:]}")
    res = json.loads(r.stdout.strip().splitlines()[-1])
    print(f"  {engine} workers={workers} nodes={nodes}: {res['wall_s']} s, driver CPU share "
          f"{res['driver_cpu_share']}", file=sys.stderr)
    return res


def synth(n: int) -> Path:
    from synth import generate

    out = DATA / f"synth-{n}"
    if not (out / "truth.jsonl").is_file():
        generate(n, out, seed=0)
    return out


def gpu() -> dict:
    r = subprocess.run([sys.executable, str(HERE / "bench_gpu.py"), "--pipeline"], capture_output=True, text=True)
    tail = r.stdout.strip().splitlines()
    try:
        return json.loads(tail[-1]) if tail else {"error": r.stderr[-500:]}
    except json.JSONDecodeError:
        return {"error": r.stdout[-500:] + r.stderr[-500:]}


def render(res: dict) -> str:
    lines = [f"# Model stages on workers and Ray ({res['date']}, {res['machine']})", "",
             f"Command: `{res['command']}`", "", "| run | pages | wall s | pages/s | driver CPU s | worker CPU s "
             "| driver share | driver peak MB | worker peak MB | candidates | digest |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for name, r in res["runs"].items():
        lines.append(f"| {name} | {r['docs']} | {r['wall_s']} | {r['docs_per_s']} | {r['driver_cpu_s']} | "
                     f"{r['worker_cpu_s']} | {r['driver_cpu_share']} | {r['driver_peak_rss_mb']} | "
                     f"{r['worker_peak_rss_mb']} | {r['candidates']} | {r['candidates_digest']} |")
    lines += ["", "| goal | measured | met? |", "|---|---|---|"]
    for g in res["goals"]:
        lines.append(f"| {g['goal']} | {g['measured']} | {'yes' if g['met'] else '**no**'} |")
    if res.get("gpu"):
        lines += ["", "GPU: `" + json.dumps(res["gpu"]) + "`"]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=200, help="synthetic pages of the uncached worker and Ray scans")
    ap.add_argument("--sizes", default="1000,5000", help="two corpus sizes for the memory figure (10000,100000 "
                                                        "for the issue's goal)")
    ap.add_argument("--skip", default="", help="comma-separated: workers, ray, unpinned (the Ray pair without "
                                               "pinning), memory, gpu")
    ap.add_argument("--name", default="model_stages", help="results file name (bench/results/NAME.json, .md)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(json.loads(args.child))))
        return 0
    skip = set(filter(None, args.skip.split(",")))
    RESULTS.mkdir(exist_ok=True)
    DATA.mkdir(exist_ok=True)
    res: dict = {"date": time.strftime("%Y-%m-%d"), "machine": f"{os.cpu_count()} CPU, {platform.platform()}",
                 "command": "python bench/bench_model_stages.py " + " ".join(sys.argv[1:]), "runs": {}, "goals": []}
    runs, goals = res["runs"], res["goals"]
    corpus = synth(args.pages)
    if "workers" not in skip or "ray" not in skip:
        print("uncached scans, local ...", file=sys.stderr)
        runs["local 1 worker"] = scan(corpus, "local", 1, overrides=UNCACHED)
        runs["local 2 workers"] = scan(corpus, "local", 2, overrides=UNCACHED)
        l1, l2 = runs["local 1 worker"], runs["local 2 workers"]
        speed = l1["wall_s"] / l2["wall_s"]
        goals.append({"goal": "uncached scan, 1 -> 2 workers, 1 model thread each: >= 1.7x",
                      "measured": f"{speed:.2f}x ({l1['wall_s']} s vs {l2['wall_s']} s, {l1['docs']} pages, "
                                  f"{l2['embedded_passages']} passages embedded)", "met": speed >= 1.7})
        goals.append({"goal": "uncached scan, --workers 2: driver CPU <= 25% of the scan's CPU",
                      "measured": f"{100 * l2['driver_cpu_share']:.1f}% ({l2['driver_cpu_s']} s of "
                                  f"{l2['driver_cpu_s'] + l2['worker_cpu_s']:.1f} s)",
                      "met": l2["driver_cpu_share"] <= 0.25})
        same = l1["candidates_digest"] == l2["candidates_digest"]
        goals.append({"goal": "candidates of 2 workers = 1 worker's", "measured": "equal" if same else "DIFFER",
                      "met": same})
    if "ray" not in skip:
        print("uncached scans, Ray ...", file=sys.stderr)
        if "unpinned" not in skip:
            runs["ray 1 node"] = scan(corpus, "ray", 1, nodes=1, overrides=UNCACHED)
            runs["ray 2 nodes"] = scan(corpus, "ray", 2, nodes=2, overrides=UNCACHED)
        pinned = len(os.sched_getaffinity(0)) >= 2
        if pinned:  # each node on a core of its own: a node of 1 CPU uses one core (see _pin_nodes)
            runs["ray 1 node, pinned"] = scan(corpus, "ray", 1, nodes=1, overrides=UNCACHED, pin=True)
            runs["ray 2 nodes, pinned"] = scan(corpus, "ray", 2, nodes=2, overrides=UNCACHED, pin=True)
        l2 = runs["local 2 workers"]
        r2 = runs.get("ray 2 nodes") or runs["ray 2 nodes, pinned"]
        over = r2["wall_s"] / l2["wall_s"] - 1
        if "ray 1 node" in runs:
            r1 = runs["ray 1 node"]
            speed = r1["wall_s"] / r2["wall_s"]
            goals.append({"goal": "Ray, 1 node -> 2 nodes of 1 CPU each (nodes share the machine's cores): >= 1.7x",
                          "measured": f"{speed:.2f}x ({r1['wall_s']} s vs {r2['wall_s']} s)", "met": speed >= 1.7})
        if pinned:
            p1, p2 = runs["ray 1 node, pinned"], runs["ray 2 nodes, pinned"]
            ps = p1["wall_s"] / p2["wall_s"]
            goals.append({"goal": "Ray, 1 node -> 2 nodes of 1 CPU each, each node pinned to a core of its own: "
                                  ">= 1.7x", "measured": f"{ps:.2f}x ({p1['wall_s']} s vs {p2['wall_s']} s)",
                          "met": ps >= 1.7})
        goals.append({"goal": "Ray (2 nodes) overhead vs local (2 workers): <= 15%",
                      "measured": f"{100 * over:+.1f}% ({r2['wall_s']} s vs {l2['wall_s']} s)", "met": over <= 0.15})
        digests = {r["candidates_digest"] for k, r in runs.items() if k.startswith("ray")}
        same = digests == {l2["candidates_digest"]}
        goals.append({"goal": "Ray candidates = local's", "measured": "equal" if same else "DIFFER", "met": same})
    if "memory" not in skip:
        small, large = (int(x) for x in args.sizes.split(","))
        print(f"memory, {small} and {large} pages ...", file=sys.stderr)
        a = runs[f"{small} pages"] = scan(synth(small), "local", 2)
        b = runs[f"{large} pages"] = scan(synth(large), "local", 2)
        dr, wr = b["driver_peak_rss_mb"] / a["driver_peak_rss_mb"], b["worker_peak_rss_mb"] / a["worker_peak_rss_mb"]
        goals.append({"goal": f"{small} -> {large} pages: peak memory <= 1.2x",
                      "measured": f"driver {dr:.2f}x ({a['driver_peak_rss_mb']} -> {b['driver_peak_rss_mb']} MB), "
                                  f"workers {wr:.2f}x; time {b['wall_s'] / a['wall_s']:.2f}x for "
                                  f"{large / small:.0f}x pages", "met": max(dr, wr) <= 1.2})
    if "gpu" not in skip:
        res["gpu"] = gpu()
        g = res["gpu"]
        if "pipeline_over_bare" in g:
            goals.append({"goal": "GPU embedding path >= 50% of the bare model's forward pass",
                          "measured": f"{100 * g['pipeline_over_bare']:.0f}%", "met": g["pipeline_over_bare"] >= 0.5})
    (RESULTS / f"{args.name}.json").write_text(json.dumps(res, indent=2), "utf-8")
    (RESULTS / f"{args.name}.md").write_text(render(res), "utf-8")
    print(render(res))
    return 0


if __name__ == "__main__":
    sys.exit(main())
