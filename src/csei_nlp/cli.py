"""The ``csei`` command line: a thin layer over the library.

Library errors a user can act on (:class:`CseiError`) become one clean line
on stderr and exit code 2; nothing here holds pipeline logic.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .cliargs import SubParsers, add_config
from .errors import CseiError

EXIT_OK, EXIT_FAILED_INPUTS, EXIT_USAGE = 0, 1, 2


def _cmd_scan(args: argparse.Namespace) -> int:
    from . import config
    from .scan import run_scan

    overrides: dict = {}
    if args.workers is not None:
        overrides.setdefault("scan", {})["workers"] = args.workers
    if args.no_classify:
        overrides.setdefault("classify", {})["enabled"] = False
    if args.lang_backend:
        overrides.setdefault("language", {})["backend"] = args.lang_backend
    if args.top is not None:
        overrides.setdefault("report", {})["top_n"] = args.top
    cfg = config.load(args.config, overrides)
    summary = run_scan(args.paths, args.out, cfg, progress=not args.quiet and sys.stderr.isatty() or args.progress,
                       engine=args.engine, address=args.address, fresh=args.fresh)
    if not args.quiet:
        print(summary.render())
    if args.strict and summary.failed:
        return EXIT_FAILED_INPUTS
    return EXIT_OK


def _log_progress(logger: str) -> None:
    """Show a long command's progress lines (INFO on ``logger``) on stderr."""
    import logging

    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    lg = logging.getLogger(logger)
    lg.addHandler(handler)
    lg.setLevel(logging.INFO)


def _cmd_train(args: argparse.Namespace) -> int:
    from . import config
    from .train import train_all, format_report
    from .train.feedback import data_change, format_changes, load_cards, metric_changes

    cfg = config.load(args.config)
    ann, models = _data_dirs(args, cfg)
    before = load_cards(models)
    _log_progress("csei_nlp.train")
    print(f"csei train: annotations {ann} -> models {models}", file=sys.stderr)
    report = train_all(ann, models, cfg)
    print(format_report(report))
    if report.get("previous_models"):
        print(f"\nThe previous models are kept in {report['previous_models']}; "
              f"`csei models rollback` restores them.")
    after = load_cards(models)
    print("\n## Change per label since the previous models (dev split)\n")
    print(data_change(before, after) + "\n")
    print(format_changes(metric_changes(before, after)))
    return EXIT_OK


def _cmd_eval(args: argparse.Namespace) -> int:
    from . import config
    from .train import evaluate_all, format_report

    cfg = config.load(args.config, {"classify": {"models_dir": str(args.models)}} if args.models else None,
                      overrides_origin="--models")
    ann, models = _data_dirs(args, cfg)
    if args.pages:
        from .train.pages_eval import evaluate_pages, format_pages_report

        report = evaluate_pages(args.pages, cfg, ann)
        text = format_pages_report(report)
    else:
        report = evaluate_all(ann, models, cfg)
        text = format_report(report)
    print(text)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        (out / "eval.json").write_text(json.dumps(report, indent=2, ensure_ascii=False), "utf-8")
        (out / "eval.md").write_text(text, "utf-8")
    return EXIT_OK


def _cmd_models(args: argparse.Namespace) -> int:
    from . import config
    from .train import release

    _, models = _data_dirs(args, config.load(args.config))
    if args.action == "rollback":
        source = release.rollback(models, args.name)
        print(f"restored the models kept in {source} into {models}; the replaced set is kept too "
              f"(`csei models list`)")
        return EXIT_OK
    kept = release.history(models)
    print(f"models in {models}; {len(kept)} earlier set(s) kept in {models / release.HISTORY}")
    for k in kept:
        print(f"  {k['name']}  data {str(k.get('training_data_hash') or '?')[:12]}  trained {k.get('created') or '?'}")
    return EXIT_OK


def _cmd_pages(args: argparse.Namespace) -> int:
    from . import config
    from .train import published

    cfg = config.load(args.config)
    ann, _ = _data_dirs(args, cfg)
    if args.action == "add":
        if not args.file or not args.set:
            raise CseiError("csei pages add needs FILE and --set NAME")
        res = published.add_pages(args.file, ann, cfg, args.set)
        print(res.render())
        print(f"stored in {published.folder(ann)}; run `csei train` to use them")
        return EXIT_OK
    pub = published.read(ann)
    print(published.summary(pub) if pub is not None else f"no pages as published in {published.folder(ann)}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The ``csei`` parser: this module's commands, then each command module's ``register``."""
    from .discover import cli as discover_cli
    from .web import cli as web_cli

    p = argparse.ArgumentParser(
        prog="csei",
        description="Find Clusters of Social and Ecological Innovation (CSEI) in crawled web pages "
                    "and PDF reports, in every EU language.",
    )
    p.add_argument("--version", action="version", version=f"csei-nlp {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for register in (register_core, web_cli.register, discover_cli.register):
        register(sub)
    return p


def _add_data_dirs(p: argparse.ArgumentParser, models_help: str, annotations: bool = True) -> None:
    if annotations:
        p.add_argument("--annotations", metavar="DIR",
                       help="annotations folder (default: [web] annotations_dir, else $CSEI_HOME/annotations, "
                            "else the project's annotations/)")
    p.add_argument("--models", metavar="DIR",
                   help=f"{models_help} (default: [classify] models_dir, else $CSEI_HOME/models, "
                        f"else the project's models/)")
    add_config(p)


def _data_dirs(args: argparse.Namespace, cfg: Any) -> tuple[Path, Path]:
    """(annotations, models): the flag, else the configured folder, else the project folder."""
    from .paths import annotations_dir, models_dir

    ann = Path(args.annotations) if getattr(args, "annotations", None) else annotations_dir(cfg.web.annotations_dir)
    models = Path(args.models) if args.models else models_dir(cfg.classify.models_dir)
    return ann, models


def register_core(sub: SubParsers) -> None:
    """``csei scan``, ``csei train``, ``csei eval`` and ``csei models``."""
    s = sub.add_parser("scan", help="read files, folders and WARCs; extract, tag and rank candidates",
                       description="Scan inputs into OUTDIR: documents.jsonl/parquet, failures.jsonl, "
                                   "candidates.csv/jsonl, report.html, run.json and csei.sqlite.")
    s.add_argument("paths", nargs="+", metavar="PATH", help="files or folders (walked recursively)")
    s.add_argument("--out", required=True, metavar="OUTDIR", help="output folder (created if missing)")
    s.add_argument("--workers", type=int, metavar="N", help="worker processes (default: config [scan] workers)")
    add_config(s, help="TOML file overriding the shipped defaults")
    s.add_argument("--strict", action="store_true", help="exit 1 if any input failed")
    s.add_argument("--no-classify", action="store_true", help="skip embedding and classification")
    s.add_argument("--lang-backend", choices=["langdetect", "lingua"], help="language identifier")
    s.add_argument("--top", type=int, metavar="N",
                   help="report.html lists the N best candidates; its charts and counts cover all of them, "
                        "candidates.csv/jsonl list all (default: config [report] top_n)")
    s.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="executor: local process pool (default) or a Ray cluster")
    s.add_argument("--address", metavar="ADDR",
                   help="Ray cluster address (ray://head:10001 or head:6379); default $RAY_ADDRESS or a local instance")
    s.add_argument("--quiet", action="store_true", help="print nothing on success")
    s.add_argument("--progress", action="store_true",
                   help="show the progress bars (documents read, embedded, classified) even when not on a terminal")
    s.add_argument("--fresh", action="store_true",
                   help="process every input again, ignoring the result shards an earlier scan left in OUTDIR "
                        "(by default a scan with the same inputs and settings resumes from them)")
    s.set_defaults(func=_cmd_scan)

    t = sub.add_parser("train", help="rebuild the classifiers in models/ from annotations/",
                       description="Train one calibrated multi-label model per family and the document "
                                   "candidate model; report the metric change per label.")
    _add_data_dirs(t, models_help="where models are written")
    t.set_defaults(func=_cmd_train)

    e = sub.add_parser("eval", help="evaluate the models on the held-out test split",
                       description="Per label, per family, per language (CEE separately), cross-lingual, "
                                   "and the TF-IDF baseline side by side.")
    _add_data_dirs(e, models_help="models folder")
    e.add_argument("--out", metavar="DIR", help="also write eval.json and eval.md here")
    e.add_argument("--pages", metavar="FILE",
                   help="instead: scan a labelled JSONL of pages as published (url, text, label 0/1, "
                        "optional lang) and report page and candidate ROC-AUC, P@10, per language, "
                        "and the TF-IDF baseline")
    e.set_defaults(func=_cmd_eval)

    g = sub.add_parser("pages", help="keep labelled pages as published as training data (vectors, no text)",
                       description="`add FILE --set NAME` reads a JSONL of labelled pages as published (url, text "
                                   "or html, label 1 when the page is about one specific CSEI, optional genre, org), "
                                   "processes each page as `csei scan` would and keeps only its passage vectors and "
                                   "cue counts in ANNOTATIONS/published/; the text stays with you. `csei train` "
                                   "then trains the candidate model on them. `list` shows what is kept.")
    g.add_argument("action", choices=["add", "list"], help="add a labelled JSONL, or list the kept pages")
    g.add_argument("file", nargs="?", metavar="FILE", help="with add: the labelled JSONL")
    g.add_argument("--set", metavar="NAME", help="with add: the set's name (pages collected together; "
                                                 "training scores each set with a model that never saw it)")
    _add_data_dirs(g, models_help="models folder")
    g.set_defaults(func=_cmd_pages)

    m = sub.add_parser("models", help="list the model sets `csei train` kept, or roll back to one",
                       description="Every `csei train` keeps the models it replaces in MODELS/.history/. "
                                   "`list` shows them; `rollback [NAME]` restores one (default: the newest), "
                                   "keeping the set it replaces.")
    m.add_argument("action", choices=["list", "rollback"], help="list the kept sets, or restore one")
    m.add_argument("name", nargs="?", help="with rollback: the kept set to restore (see `csei models list`)")
    _add_data_dirs(m, models_help="models folder", annotations=False)
    m.set_defaults(func=_cmd_models)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CseiError as exc:
        print(f"csei: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("csei: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
