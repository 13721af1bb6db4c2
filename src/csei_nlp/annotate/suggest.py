"""Model suggestions on the annotation screen: the scan's label probabilities, pre-ticked.

When the scan ran with the classifiers, every passage in the store carries a
probability per label (``pipeline/tag.py``).  Showing them, with the labels at
or above the model card's threshold already ticked, saves annotators clicks on
the easy passages.  It can also anchor them on the model (automation bias), so:

* each annotator can turn suggestions off ("Show model suggestions"; kept in
  the app database per user, so it holds across sign-ins and devices), and a
  project can start everyone with them off (``[annotate] suggestions``);
* with suggestions off the screen shows neither ticks nor probabilities;
* every label event records whether suggestions were on screen and which
  labels they suggested (``suggestions_shown``/``suggested`` in the app
  database and the annotation log; pre-ticked on a fresh passage, while a
  passage brought back by an undo or reopened for a correction is ticked with
  the annotator's own answer), so labels given with and without them can be
  compared later.

Items of the blind double-annotation sample (the queue's ``overlap`` items,
labelled by two annotators to measure agreement) never show suggestions,
whatever the annotator chose: two annotators anchored on the same model
would agree with each other through it, and the agreement report would
measure the model, not the guidelines.  Their label events record
``suggestions_withheld: "overlap"`` (and ``suggestions_shown`` false).
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..taxonomy import FAMILIES

if TYPE_CHECKING:
    from ..store.appdb import AppDB

#: why suggestions were kept off a passage (the ``suggestions_withheld`` of its label events)
WITHHELD_OVERLAP = "overlap"
PREF_KEY = "annotate.suggestions.user.{}"  # app setting: "on" | "off"; absent: the configured default
DEFAULT_THRESHOLD = 0.5


def enabled(db: "AppDB", user_id: int, default: bool) -> bool:
    """Whether this user wants the model's suggestions (their own choice, else ``default``)."""
    value = db.setting(PREF_KEY.format(user_id))
    return default if value is None else value == "on"


def set_enabled(db: "AppDB", user_id: int, on: bool) -> None:
    db.set_setting(PREF_KEY.format(user_id), "on" if on else "off")


def withheld(overlap: bool) -> str | None:
    """Why suggestions must stay off a passage whatever the annotator chose, or None when they may show."""
    return WITHHELD_OVERLAP if overlap else None


def thresholds(models_dir: Path) -> dict[str, dict[str, float]]:
    """Per-label thresholds of the model cards in ``models_dir`` (0.5 without cards): what is pre-ticked."""
    from ..pipeline.tag import card_thresholds

    return card_thresholds(Path(models_dir))


def for_passage(probs: dict[str, dict[str, float]] | None,
                thr: dict[str, dict[str, float]] | None = None) -> dict[str, dict[str, Any]]:
    """``"family:label" -> {"p": probability, "on": pre-ticked}`` for every label the model scored;
    empty when the passage has no probabilities (no classifier at scan time, or the cascade skipped it)."""
    out: dict[str, dict[str, Any]] = {}
    for fam, labs in FAMILIES.items():
        scored = (probs or {}).get(fam) or {}
        for lab in labs:
            if lab not in scored:
                continue
            p = float(scored[lab])
            cut = ((thr or {}).get(fam) or {}).get(lab, DEFAULT_THRESHOLD)
            out[f"{fam}:{lab}"] = {"p": p, "on": p >= cut}
    return out


def ticked(suggestions: dict[str, dict[str, Any]]) -> dict[str, list[str]]:
    """The labels the suggestions pre-tick, per family (the shape of an event's labels)."""
    out: dict[str, list[str]] = {f: [] for f in FAMILIES}
    for key, s in suggestions.items():
        if s["on"]:
            fam, _, lab = key.partition(":")
            out[fam].append(lab)
    return {f: sorted(v) for f, v in out.items()}
