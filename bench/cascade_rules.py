"""Cascade rules compared side by side: what each keeps, on four sets of documents.

    python bench/cascade_rules.py [--pages 1000] [--labelled PAGES.jsonl ...]

Every document goes through the worker (``pipeline.process.process``) once; each
rule is then ``pipeline.tag.cascade_reason`` with different ``[cascade]``
settings.  The sets:

- ``eval+``/``eval-``: the evaluation set of run_all.py (annotated documents and
  labelled dev pages), candidates and others.  Candidate recall must stay >= 99%.
- ``passage+``: each annotated candidate passage on its own, a stress test for
  short candidate pages (the 200-character minimum is waived here).
- ``synth-``: the synthetic crawl's ordinary pages (bench/synth.py).
- ``web-``: the pages of the shared trafilatura evaluation set (blogs, news,
  shops in many languages): real ordinary web pages, none of them a CSEI.
- ``real+``/``real-``: with ``--labelled``, labelled pages as published (JSONL of
  ``url``, ``text`` and ``label`` 0/1, the format of ``csei train --add-pages``),
  kept outside the repository because their text belongs to their publishers.

The share of ``synth-`` and ``web-`` kept is the share embedded for nothing.
Writes bench/results/cascade_rules.md.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ANCHORS = ["helix", "legal_form", "self_designation"]
NOT_TERRITORIAL = ["helix", "legal_form", "self_designation", "governance", "cooperation",
                   "social_mission", "ecological_mission"]
RULES: dict[str, dict] = {
    "1 cue hit (old default)": {"min_cue_groups": 1, "anchor_groups": []},
    "2 groups, any (default)": {"min_cue_groups": 2, "anchor_groups": []},
    "2 groups, one of helix/legal_form/self_designation": {"min_cue_groups": 2, "anchor_groups": ANCHORS},
    "3 groups, any": {"min_cue_groups": 3, "anchor_groups": []},
}


def _docs(pages: int, labelled: list[Path]):
    import run_all

    from csei_nlp.pipeline.process import process
    from csei_nlp.pipeline.read import iter_inputs
    from csei_nlp.types import RawInput

    cfg = run_all._cfg()
    for doc_id, raw, is_csei, _kind in run_all.eval_documents():
        yield ("eval+" if is_csei else "eval-"), process(raw, cfg)
    corpus = run_all.synth(pages)
    truth = {json.loads(l)["url"]: json.loads(l)["candidate"]
             for l in (corpus / "truth.jsonl").read_text("utf-8").splitlines()}
    for raw in iter_inputs([corpus / "crawl"], cfg):
        yield ("synth+" if truth.get(raw.url) else "synth-"), process(raw, cfg)
    shared = Path(os.environ.get("CSEI_SHARED", HERE.parent.parent / "shared")) / "data" / "trafilatura-eval"
    if (shared / "gold.jsonl").is_file():
        for line in (shared / "gold.jsonl").open(encoding="utf-8"):
            g = json.loads(line)
            url = None if g["url"].startswith("hard::") else g["url"]
            data = gzip.decompress((shared / g["local_file"]).read_bytes())
            yield "web-", process(RawInput(source=g["id"], media="html", data=data, url=url), cfg)
    from csei_nlp.pipeline.read.jsonl import iter_jsonl

    for path in labelled:
        lines = path.read_text("utf-8").splitlines()
        for raw in iter_jsonl(path, cfg):
            rec = json.loads(lines[int(raw.offset or 1) - 1])
            if rec.get("label") in (0, 1):
                yield ("real+" if rec["label"] else "real-"), process(raw, cfg)
    for path in sorted((HERE.parent / "annotations" / "passages").glob("*.jsonl")):
        for line in path.read_text("utf-8").splitlines():
            r = json.loads(line) if line.strip() else None
            if r and r["doc_label"]["is_csei"]:
                yield "passage+", process(RawInput(source=r["id"], media="text", data=r["text"],
                                                   lang_hint=r["lang"]), cfg)


def main() -> int:
    from csei_nlp import config
    from csei_nlp.pipeline.tag import cascade_reason

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--labelled", type=Path, nargs="*", default=[],
                    help="JSONL files of labelled real pages (url, text, label)")
    args = ap.parse_args()
    docs = list(_docs(args.pages, args.labelled))
    sets = ["eval+", "eval-", "passage+", "synth+", "synth-", "web-"] + (["real+", "real-"] if args.labelled else [])
    totals = {s: sum(1 for k, _ in docs if k == s) for s in sets}
    lines = ["# Cascade rules side by side", "", "Command: `python bench/cascade_rules.py "
             + " ".join(sys.argv[1:]) + "`; kept / total per set (see the script's docstring).", "",
             "| rule | " + " | ".join(sets) + " |", "|---|" + "---:|" * len(sets)]
    for name, over in RULES.items():
        cfg = config.load(overrides={"cascade": over})
        short = config.load(overrides={"cascade": {**over, "min_chars": 0}})
        kept = dict.fromkeys(sets, 0)
        for k, d in docs:
            if d.status == "ok" and not cascade_reason(d, short if k == "passage+" else cfg):
                kept[k] += 1
        lines.append(f"| {name} | " + " | ".join(
            f"{kept[s]}/{totals[s]} ({kept[s] / max(1, totals[s]):.1%})" for s in sets) + " |")
    text = "\n".join(lines) + "\n"
    (HERE / "results" / "cascade_rules.md").write_text(text, "utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
