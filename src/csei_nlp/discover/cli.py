"""Command line for discovery jobs: ``csei discover``, ``csei runs``, ``csei queries``, ``csei schedule``
and ``csei cc preview``.

Registered into the main ``csei`` parser by ``csei_nlp.cli``, which calls :func:`register`.
``discover`` follows cron/systemd conventions: silent on success unless
``--verbose``, one line on stderr otherwise, and distinct exit codes
(0 ok, 1 run failed, 2 configuration error, 3 locked by another run,
4 finished with failed inputs under ``--strict``).
"""
from __future__ import annotations

import argparse
import json
import sys

from ..cliargs import SubParsers, add_job, add_verbose


def _cmd_discover(args: argparse.Namespace) -> int:
    from .runner import run_job_file

    code, res = run_job_file(args.job, prog="csei discover", verbose=args.verbose, strict=args.strict,
                             engine=args.engine, address=args.address)
    if res is None:
        return code
    if res.exit_code:
        print(f"csei discover: run {res.run_id} {res.status}: {res.message}", file=sys.stderr)
    elif args.verbose:
        ch = res.counts.get("changes", {})
        print(f"run {res.run_id}: {len(res.new_files)} new or changed inputs in {len(res.shards)} shards; "
              f"{res.counts.get('candidates', 0)} candidates; "
              + ", ".join(f"{v} {k}" for k, v in ch.items()) + f"; report: {res.report_dir}")
    return res.exit_code


def _cmd_runs(args: argparse.Namespace) -> int:
    from .job import load_job
    from .state import StateDB

    job = load_job(args.job)
    if not (job.state_dir / "state.sqlite").exists():
        print(f"{job.name}: no runs yet (state folder {job.state_dir})")
        return 0
    st = StateDB(job.state_dir)
    try:
        runs = st.runs()[-args.limit:] if args.limit else st.runs()
    finally:
        st.close()
    if args.format == "jsonl":
        for r in runs:
            print(json.dumps(r, ensure_ascii=False, sort_keys=True))
        return 0
    print(f"{'run':<26} {'started':<25} {'status':<11} {'exit':>4} {'new':>5} {'cands':>6} "
          f"{'new/rose/fell/gone':>18} {'secs':>8}")
    for r in runs:
        c = r["counts"] or {}
        secs = "" if r["duration_s"] is None else f"{r['duration_s']:.1f}"
        ch = c.get("changes") or {}
        diff = "/".join(str(ch.get(k, "-")) for k in ("new", "rose", "fell", "disappeared"))
        print(f"{r['id']:<26} {r['started']:<25} {r['status'] + ('*' if r['resumed'] else ''):<11} "
              f"{'' if r['exit_code'] is None else r['exit_code']:>4} {c.get('new_or_changed', ''):>5} "
              f"{c.get('candidates', ''):>6} {diff:>18} "
              f"{secs:>8}")
    if any(r["resumed"] for r in runs):
        print("* resumed after an interruption")
    return 0


def _cmd_queries(args: argparse.Namespace) -> int:
    from .queries import build_queries, export

    langs = [l.strip().lower() for part in (args.lang or []) for l in part.split(",") if l.strip()]
    rows = list(build_queries(langs or None, max_per_lang=args.max_per_lang))
    text = export(rows, args.format)
    if args.out:
        with open(args.out, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
    return 0


def _cmd_cc(args: argparse.Namespace) -> int:
    from ..errors import ConfigError
    from .commoncrawl.step import preview, render_preview
    from .job import load_job

    job = load_job(args.job)
    if job.commoncrawl is None:
        raise ConfigError(f"{job.path}: the job has no [inputs.commoncrawl] table")
    p = preview(job, samples=args.samples)
    if args.format == "json":
        print(json.dumps(p, ensure_ascii=False, indent=1))
    else:
        sys.stdout.write(render_preview(job, p))
    return 0


def _cmd_schedule(args: argparse.Namespace) -> int:
    from .schedule import make_scheduler

    sched = make_scheduler(args.job, args.cron, run_now=args.run_now, once=args.once, verbose=args.verbose)
    if args.verbose:
        for j in sched.get_jobs():
            print(f"scheduled {j.name}: {j.trigger}", file=sys.stderr)
    try:
        sched.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    codes = [v for v in getattr(sched, "csei_results", {}).values() if isinstance(v, int)]
    return max(codes, default=0)


def register(sub: SubParsers) -> None:
    """``csei discover``, ``csei runs``, ``csei queries`` and ``csei schedule``."""
    d = sub.add_parser("discover", help="run a scheduled discovery job once (incremental, resumable)",
                       description="Process the job's new or changed inputs, rank the cumulative store and "
                                   "report what changed since the last run. Exit codes: 0 ok, 1 run failed, "
                                   "2 configuration error, 3 another run holds the lock, 4 inputs failed "
                                   "(with --strict).")
    add_job(d)
    add_verbose(d, help="log each step to stderr and a summary to stdout")
    d.add_argument("--strict", action="store_true", help="exit 4 when some inputs failed")
    d.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="where Common Crawl records are fetched and shards scanned: this machine (default) "
                        "or a Ray cluster (many concurrent range reads per task)")
    d.add_argument("--address", metavar="ADDR",
                   help="Ray cluster address (ray://head:10001 or head:6379); default $RAY_ADDRESS or a local instance")
    d.set_defaults(func=_cmd_discover)

    c = sub.add_parser("cc", help="Common Crawl input of a discovery job: preview its selection",
                       description="`preview` queries the job's Common Crawl index with its [inputs.commoncrawl] "
                                   "filters and shows what the next run would fetch, without fetching anything: "
                                   "counts by TLD, language and MIME type, bytes to fetch, sample URLs.")
    cc_sub = c.add_subparsers(dest="cc_command", required=True, metavar="ACTION")
    pv = cc_sub.add_parser("preview", help="show the selection without fetching",
                           description="Counts by TLD and language, bytes to fetch and sample URLs of the records "
                                       "the next `csei discover` run would fetch (already fetched ones left out).")
    add_job(pv)
    pv.add_argument("--samples", type=int, default=10, metavar="N", help="sample URLs to show (default 10)")
    pv.add_argument("--format", choices=["text", "json"], default="text", help="output format (default text)")
    pv.set_defaults(func=_cmd_cc)

    r = sub.add_parser("runs", help="list the run history of a discovery job")
    add_job(r)
    r.add_argument("--format", choices=["table", "jsonl"], default="table", help="output format (default table)")
    r.add_argument("--limit", type=int, default=0, metavar="N", help="only the last N runs")
    r.set_defaults(func=_cmd_runs)

    q = sub.add_parser("queries", help="export multilingual search queries built from the cue lists",
                       description="Quoted search queries per language (CEE languages first), each row "
                                   "naming its language, for a search engine or a crawler's seed search.")
    q.add_argument("--lang", action="append", metavar="xx[,yy]", help="only these languages (repeatable)")
    q.add_argument("--format", choices=["csv", "jsonl"], default="csv", help="output format (default csv)")
    q.add_argument("--max-per-lang", type=int, default=40, metavar="N", help="queries per language (default 40)")
    q.add_argument("--out", metavar="FILE", help="write here instead of stdout")
    q.set_defaults(func=_cmd_queries)

    s = sub.add_parser("schedule", help="run discovery jobs in-process on cron schedules (APScheduler)")
    add_job(s, repeat=True)
    s.add_argument("--cron", metavar="EXPR", help='cron expression for every job, e.g. "0 3 * * 1" '
                                                   "(default: each job's [schedule] cron)")
    s.add_argument("--run-now", action="store_true", help="also run each job once right away")
    s.add_argument("--once", action="store_true", help="exit after the first run of every job")
    add_verbose(s, help="print a line per run, also on success")
    s.set_defaults(func=_cmd_schedule)

