"""Extraction quality and speed on trafilatura's multilingual eval subset, side by side.

Runs, on the same pages in one process: (a) our path - decode_html + extract_html
(consent filter, table cleanup) - and (b) plain ``trafilatura.extract`` on the raw
bytes with the same favor setting. Prints snippet precision/recall/F1 as in
trafilatura's eval (``with`` snippets found = TP, ``without`` found = FP) and the
time ratio. Usage: python bench/extract_eval.py [--every N] [--shared PATH]
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from csei_nlp import config  # noqa: E402
from csei_nlp.pipeline.extract.html import ExtractionError, extract_html  # noqa: E402
from csei_nlp.pipeline.read.charset import decode_html  # noqa: E402


def norm(s: str) -> str:
    return " ".join(s.split())


def score(pages: list[tuple[dict, str]]) -> dict[str, float]:
    tp = fn = fp = tn = 0
    for gold, text in pages:
        t = norm(text)
        for s in gold.get("with", []):
            if norm(s) in t:
                tp += 1
            else:
                fn += 1
        for s in gold.get("without", []):
            if norm(s) in t:
                fp += 1
            else:
                tn += 1
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fn": fn, "fp": fp, "tn": tn}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--every", type=int, default=1, help="use every N-th page")
    ap.add_argument("--shared", default=os.environ.get("CSEI_SHARED", str(Path(__file__).resolve().parents[2] / "shared")))
    args = ap.parse_args()
    import trafilatura

    root = Path(args.shared) / "data" / "trafilatura-eval"
    golds = [json.loads(line) for line in (root / "gold.jsonl").open(encoding="utf-8")][:: args.every]
    cfg = config.load()
    ours, base = [], []
    t_ours = t_base = 0.0
    for g in golds:
        data = gzip.decompress((root / g["local_file"]).read_bytes())
        url = None if g["url"].startswith("hard::") else g["url"]
        t0 = time.perf_counter()
        try:
            html, _ = decode_html(data)
            text = extract_html(html, url, cfg).text
        except ExtractionError:
            text = ""
        t1 = time.perf_counter()
        b = trafilatura.extract(data, url=url, favor_precision=True, deduplicate=False, include_comments=False) or ""
        t2 = time.perf_counter()
        t_ours += t1 - t0
        t_base += t2 - t1
        ours.append((g, text))
        base.append((g, b))
    so, sb = score(ours), score(base)
    print(f"pages: {len(golds)}")
    for name, s in (("ours (decode_html + extract_html)", so), ("trafilatura.extract(bytes)", sb)):
        print(f"{name:36s} P={s['precision']:.3f} R={s['recall']:.3f} F1={s['f1']:.3f}  "
              f"(tp={s['tp']} fn={s['fn']} fp={s['fp']})")
    print(f"time: ours {t_ours:.1f}s, baseline {t_base:.1f}s, ratio ours/baseline = {t_ours / t_base:.2f}")


if __name__ == "__main__":
    main()
