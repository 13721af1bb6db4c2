"""Cost of page-chrome removal (pipeline/extract/chrome.py) in the per-document worker.

    python bench/bench_chrome.py [--rounds 5]

The written web pages (annotations/webpages) go through ``process`` with
``[extract] strip_chrome`` on and off, interleaved round by round so that
machine noise hits both alike; the figure to read is the ratio of the two
medians.  Writes bench/results/chrome.md.
"""
from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from csei_nlp import config
from csei_nlp.pipeline.process import process
from csei_nlp.types import RawInput

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    pages = [json.loads(line) for f in sorted((HERE.parent / "annotations" / "webpages").glob("*.jsonl"))
             for line in f.read_text("utf-8").splitlines() if line.strip()]
    raws = [RawInput(source="bench.jsonl", offset=i, media="text", data=p["text"], url=p["url"])
            for i, p in enumerate(pages, 1)]
    cfgs = {flag: config.load(overrides={"extract": {"strip_chrome": flag}}) for flag in (True, False)}
    for flag in cfgs:  # warm-up: spaCy tokenizers, lingua models
        for r in raws[:50]:
            process(r, cfgs[flag])
    times: dict[bool, list[float]] = {True: [], False: []}
    removed = 0
    for _ in range(args.rounds):
        for flag in (True, False):
            t0 = time.perf_counter()
            docs = [process(r, cfgs[flag]) for r in raws]
            times[flag].append(time.perf_counter() - t0)
            if flag:
                removed = sum(d.meta.get("chrome_lines_removed", 0) for d in docs)
    on, off = statistics.median(times[True]), statistics.median(times[False])
    text = (f"# Page-chrome removal: cost in the worker\n\n{len(raws)} written web pages through `process`, "
            f"{args.rounds} interleaved rounds, median seconds per round.\n\n"
            f"| strip_chrome | s/round | pages/s |\n|---|---|---|\n"
            f"| on | {on:.2f} | {len(raws) / on:.0f} |\n| off | {off:.2f} | {len(raws) / off:.0f} |\n\n"
            f"Ratio on/off: **{on / off:.3f}**. Lines removed per round: {removed} "
            f"({removed / len(raws):.1f} per page).\n")
    (HERE / "results" / "chrome.md").write_text(text, "utf-8")
    print(text)


if __name__ == "__main__":
    main()
