"""The stopping hint: do more labels still move the dev metrics?

``csei train`` writes ``models/<family>.card.json`` with the dev macro-F1 and
the hash of the training data.  Each distinct training (by data hash) is one
point in a history the app keeps; when the last ``window`` trainings moved no
family's dev macro-F1 by more than ``min_delta``, labelling has plateaued and
the hint says so (annotators then do better work on the test sample or on
another language).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..taxonomy import FAMILIES

if TYPE_CHECKING:
    from ..store.appdb import AppDB

HISTORY_SETTING = "metric_history"  # where the app database keeps the history


def read_cards(models_dir: Path) -> dict[str, Any] | None:
    """One history point from the current cards, or None without (readable) cards."""
    point: dict[str, Any] = {"families": {}}
    for fam in FAMILIES:
        p = Path(models_dir) / f"{fam}.card.json"
        try:
            card = json.loads(p.read_text("utf-8"))
        except (OSError, ValueError):
            return None
        dev = (card.get("metrics") or {}).get("dev") or {}
        point["families"][fam] = dev.get("macro_f1")
        point["data_hash"] = card.get("training_data_hash")
        point["created"] = card.get("created")
    return point


def merge_history(history: list[dict[str, Any]], point: dict[str, Any] | None) -> list[dict[str, Any]]:
    if point is None or (history and history[-1].get("data_hash") == point.get("data_hash")):
        return history
    return history + [point]


def update_history(db: "AppDB", models_dir: Path) -> list[dict[str, Any]]:
    """The history kept in the app database, with the current cards' point added (and saved if new)."""
    stored = db.setting(HISTORY_SETTING)
    old = json.loads(stored) if stored else []
    hist = merge_history(old, read_cards(models_dir))
    if hist != old:
        db.set_setting(HISTORY_SETTING, json.dumps(hist))
    return hist


def stopping_hint(history: list[dict[str, Any]], window: int = 3, min_delta: float = 0.01) -> dict[str, Any]:
    """``{"stop": bool, "message": str, "deltas": {...}}`` from the training history."""
    if len(history) < window:
        return {"stop": False, "deltas": {},
                "message": f"{len(history)} training(s) recorded; the hint needs {window} to judge the trend."}
    recent = history[-window:]
    deltas = {}
    for fam in FAMILIES:
        vals = [p["families"].get(fam) for p in recent if p["families"].get(fam) is not None]
        deltas[fam] = round(max(vals) - min(vals), 4) if len(vals) >= 2 else None
    moving = [f for f, d in deltas.items() if d is not None and d > min_delta]
    if moving:
        return {"stop": False, "deltas": deltas,
                "message": "dev macro-F1 still moves for " + ", ".join(moving) + ": keep labelling."}
    return {"stop": True, "deltas": deltas,
            "message": f"dev macro-F1 moved by at most {min_delta} over the last {window} trainings: "
                       "more labels of this kind no longer help; label the test sample or another language."}
