"""Keep the models a training run replaces, and put them back on request.

``csei train`` overwrites the models a scan loads.  A retraining on a bad
batch of labels must not cost the models that worked: before anything is
written, the current set (model files, cards, EVAL.md) is copied into
``<models>/.history/<UTC time>/``, and ``csei models rollback`` restores one.
A rollback first keeps the set it replaces, so it can itself be undone.
Only the newest ``KEEP`` sets are kept.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ConfigError

HISTORY = ".history"
KEEP = 10
# what makes a model set: the files `csei train` writes
PATTERNS = ("*.skops", "*.card.json", "EVAL.md", "REAL_PAGES.md")


def model_files(models_dir: Path) -> list[Path]:
    """The files of the model set in ``models_dir``, sorted."""
    return sorted({p for pat in PATTERNS for p in Path(models_dir).glob(pat) if p.is_file()})


def describe(folder: str | Path) -> dict[str, Any]:
    """Name, model names, creation time and training-data hash of the model set in ``folder``."""
    return _summary(Path(folder))


def _summary(folder: Path) -> dict[str, Any]:
    """Creation time and training-data hash of a model set, read from its cards."""
    cards = sorted(folder.glob("*.card.json"))
    info: dict[str, Any] = {"path": str(folder), "name": folder.name, "models": [c.name[:-10] for c in cards]}
    for c in cards:
        try:
            card = json.loads(c.read_text("utf-8"))
        except (OSError, ValueError):
            continue
        info.setdefault("created", card.get("created"))
        info.setdefault("training_data_hash", card.get("training_data_hash"))
    return info


def snapshot(models_dir: str | Path, reason: str = "train") -> Path | None:
    """Copy the current model set into the history; None when there is nothing to keep."""
    models_dir = Path(models_dir)
    files = model_files(models_dir)
    if not files:
        return None
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S%fZ")
    dest = models_dir / HISTORY / f"{stamp}-{reason}"
    dest.mkdir(parents=True)
    for f in files:
        shutil.copy2(f, dest / f.name)
    _prune(models_dir / HISTORY)
    return dest


def history(models_dir: str | Path) -> list[dict[str, Any]]:
    """The kept model sets, newest first."""
    root = Path(models_dir) / HISTORY
    if not root.is_dir():
        return []
    return [_summary(d) for d in sorted((d for d in root.iterdir() if d.is_dir()), reverse=True)]


def rollback(models_dir: str | Path, name: str | None = None) -> Path:
    """Restore the kept set ``name`` (default: the newest) into ``models_dir``; returns its folder.

    The set being replaced is kept first (reason ``rollback``), so a rollback can be undone.
    """
    models_dir = Path(models_dir)
    kept = history(models_dir)
    if not kept:
        raise ConfigError(f"{models_dir}: no earlier models are kept in {HISTORY}/; nothing to roll back to")
    chosen = next((k for k in kept if k["name"] == name), None) if name else kept[0]
    if chosen is None:
        names = ", ".join(k["name"] for k in kept)
        raise ConfigError(f"{models_dir}: no kept model set named {name!r}; kept: {names}")
    source = Path(chosen["path"])
    snapshot(models_dir, reason="rollback")
    restore(models_dir, source)
    return source


def restore(models_dir: str | Path, source: str | Path) -> None:
    """Make ``models_dir`` hold exactly the model set kept in ``source``."""
    models_dir = Path(models_dir)
    for f in model_files(models_dir):
        f.unlink()
    for f in model_files(Path(source)):
        shutil.copy2(f, models_dir / f.name)


def _prune(root: Path) -> None:
    sets = sorted((d for d in root.iterdir() if d.is_dir()), reverse=True)
    for old in sets[KEEP:]:
        shutil.rmtree(old, ignore_errors=True)
