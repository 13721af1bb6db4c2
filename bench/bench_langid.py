"""Benchmark the language-identification backends side by side, in one run.

Runs ``csei_nlp.pipeline.language.detect`` (the production path: paragraph
split, no hints, ``min_chars`` lowered to 1) with each backend over the shared Lingua test
sentences (/work/shared/data/lingua-langid/langid_test.tsv, 29 languages) and
writes accuracy per language, macro accuracy, the confusion inside the close
groups (cs/sk, hr/sr/bs, bg/mk/ru/uk) and throughput to bench/results/langid.md.

    python bench/bench_langid.py [--shared DIR] [--kinds sentences,word-pairs] [--limit N]
"""
from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

from csei_nlp import config
from csei_nlp.pipeline import language

HERE = Path(__file__).resolve().parent
LANGDETECT_MISSING = frozenset({"bs", "sr", "ga"})
GROUPS = (("cs", "sk"), ("hr", "sr", "bs"), ("bg", "mk", "ru", "uk"))
# min_chars = 1: every item reaches the detector (the shipped 20 would turn most
# word pairs into "und" and measure the cut-off, not the backend).
CONFIGS = (
    ("langdetect", {"backend": "langdetect", "min_chars": 1}),
    ("lingua", {"backend": "lingua", "min_chars": 1}),
    ("lingua-low", {"backend": "lingua", "low_accuracy": True, "min_chars": 1}),
)


def _shared_default() -> Path:
    env = os.environ.get("CSEI_SHARED")
    return Path(env) if env else HERE.parent.parent / "shared"


def load_rows(path: Path, kinds: set[str], limit: int) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    seen: Counter[tuple[str, str]] = Counter()
    with path.open(encoding="utf-8", newline="") as fh:
        for rec in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            key = (rec["lang"], rec["kind"])
            if rec["kind"] in kinds and (limit <= 0 or seen[key] < limit):
                seen[key] += 1
                rows.append((rec["lang"], rec["kind"], rec["text"]))
    return rows


def run_all(rows: list[tuple[str, str, str]], block: int = 200) -> dict[str, dict]:
    """Every backend on every row; the backends take turns block by block, so
    that a busy machine slows them alike and the speed ratio stays fair."""
    cfgs = {name: config.load(overrides={"language": ov}) for name, ov in CONFIGS}
    res: dict[str, dict] = {}
    for name, cfg in cfgs.items():
        # Warm-up: one item per language, so that lazily loaded models are not timed.
        t0 = time.perf_counter()
        for text in {lang: text for lang, _, text in rows}.values():
            language.detect(text, cfg)
        res[name] = {"preds": [], "load_s": time.perf_counter() - t0, "elapsed": 0.0}
    for i in range(0, len(rows), block):
        part = rows[i : i + block]
        for name, cfg in cfgs.items():
            t0 = time.perf_counter()
            res[name]["preds"].extend(language.detect(text, cfg).lang for _, _, text in part)
            res[name]["elapsed"] += time.perf_counter() - t0
    for r in res.values():
        r["rate"] = len(rows) / r["elapsed"]
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shared", type=Path, default=_shared_default())
    ap.add_argument("--kinds", default="sentences,word-pairs")
    ap.add_argument("--limit", type=int, default=0, help="items per language and kind (0 = all)")
    ap.add_argument("--out", type=Path, default=HERE / "results" / "langid.md")
    args = ap.parse_args(argv)
    tsv = args.shared / "data" / "lingua-langid" / "langid_test.tsv"
    if not tsv.is_file():
        print(f"{tsv}: not found (pass --shared)", file=sys.stderr)
        return 2
    kinds = [k for k in args.kinds.split(",") if k]
    rows = load_rows(tsv, set(kinds), args.limit)
    langs = sorted({r[0] for r in rows})
    results = run_all(rows)
    names = [n for n, _ in CONFIGS]

    def acc(name: str, kind: str) -> dict[str, float]:
        hit: Counter[str] = Counter()
        tot: Counter[str] = Counter()
        for (gold, k, _), pred in zip(rows, results[name]["preds"]):
            if k == kind:
                tot[gold] += 1
                hit[gold] += pred == gold
        return {lang: hit[lang] / tot[lang] for lang in tot}

    out: list[str] = [
        "# Language identification: langdetect vs lingua",
        "",
        f"Data: `{tsv.name}` (Lingua test data, Leipzig corpora), {len(langs)} languages, "
        f"kinds {', '.join(kinds)}, {len(rows)} items; all backends on the same items in one run, "
        "through `language.detect` with the shipped defaults except `min_chars = 1` (no hints). "
        "langdetect has no model for bs, sr, ga: the second macro line leaves them out.",
        f"Machine: {os.cpu_count()} CPU cores. Command: `python bench/bench_langid.py"
        + (f" --kinds {args.kinds}" if args.kinds != "sentences,word-pairs" else "")
        + (f" --limit {args.limit}" if args.limit else "")
        + "`.",
        "",
        "## Throughput",
        "",
        "Backends take turns on blocks of 200 items, so machine load affects them alike.",
        "",
        "| backend | items/s | relative to langdetect | warm-up (model load) s |",
        "|---|---:|---:|---:|",
    ]
    base = results["langdetect"]["rate"]
    for n in names:
        r = results[n]
        out.append(f"| {n} | {r['rate']:.0f} | {r['rate'] / base:.2f}x | {r['load_s']:.2f} |")
    for kind in kinds:
        table = {n: acc(n, kind) for n in names}
        out += ["", f"## Accuracy on {kind}", "", "| lang | " + " | ".join(names) + " |",
                "|---|" + "---:|" * len(names)]
        for lang in langs:
            out.append(f"| {lang} | " + " | ".join(f"{table[n].get(lang, 0):.3f}" for n in names) + " |")
        out.append("| **macro** | " + " | ".join(
            f"**{sum(table[n].values()) / len(table[n]):.3f}**" for n in names) + " |")
        common = [lang for lang in langs if lang not in LANGDETECT_MISSING]
        out.append(f"| macro without {', '.join(sorted(LANGDETECT_MISSING))} | " + " | ".join(
            f"{sum(table[n][lang] for lang in common) / len(common):.3f}" for n in names) + " |")
    sentence_kind = "sentences" if "sentences" in kinds else kinds[0]
    out += ["", f"## Confusion inside the close groups ({sentence_kind}; rows gold, columns predicted)"]
    for n in names:
        conf: dict[str, Counter[str]] = defaultdict(Counter)
        for (gold, k, _), pred in zip(rows, results[n]["preds"]):
            if k == sentence_kind:
                conf[gold][pred] += 1
        for group in GROUPS:
            cols = list(group) + ["other"]
            out += ["", f"**{n}**, {'/'.join(group)}", "", "| gold \\ pred | " + " | ".join(cols) + " |",
                    "|---|" + "---:|" * len(cols)]
            for gold in group:
                c = conf[gold]
                other = sum(v for p, v in c.items() if p not in group)
                out.append(f"| {gold} | " + " | ".join(str(c[p]) for p in group) + f" | {other} |")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(out) + "\n", encoding="utf-8")
    print("\n".join(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
