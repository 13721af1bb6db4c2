"""Cue matching cost relative to bare tokenization, side by side in one run.

    python bench/bench_cues.py [--repeat 3] [--out bench/results/cues.json]

For every annotated passage (annotations/passages) it times, in the same process,
(a) the spaCy blank tokenizer alone and (b) ``pipeline.cues.match`` (tokenizer +
norm folding + PhraseMatcher + stem index), per language, after one warm-up call
that builds the matchers.  It also times the one-off matcher build per language.
Report the ratio match/tokenize, not the absolute seconds.
"""
from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(REPO / "bench" / "results" / "cues.json"))
    args = ap.parse_args()

    from csei_nlp.pipeline import cues

    by_lang: dict[str, list[str]] = defaultdict(list)
    for path in sorted((REPO / "annotations" / "passages").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                by_lang[row["lang"]].append(row["text"])

    build, tok_s, match_s, chars, n_spans = {}, 0.0, 0.0, 0, 0
    for lang, texts in sorted(by_lang.items()):
        files = cues.resolve_languages(lang)
        t0 = time.perf_counter()
        m = cues.matcher._matcher(files)
        build[lang] = time.perf_counter() - t0
        for _ in range(args.repeat):
            for t in texts:
                t0 = time.perf_counter()
                m.nlp.make_doc(t)
                tok_s += time.perf_counter() - t0
                t0 = time.perf_counter()
                n_spans += len(cues.match(t, lang))
                match_s += time.perf_counter() - t0
                chars += len(t)
    res = {
        "languages": len(by_lang),
        "passages": sum(len(v) for v in by_lang.values()),
        "chars_per_pass": chars // args.repeat,
        "spans_per_pass": n_spans // args.repeat,
        "match_over_tokenize": round(match_s / tok_s, 2),
        "match_chars_per_s": round(chars / match_s),
        "build_s_median": round(sorted(build.values())[len(build) // 2], 3),
        "build_s_max": round(max(build.values()), 3),
    }
    print(json.dumps(res, indent=2))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(res, indent=2) + "\n", "utf-8")


if __name__ == "__main__":
    main()
