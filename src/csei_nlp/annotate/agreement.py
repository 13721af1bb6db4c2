"""Inter-annotator agreement per label, from blind double annotation.

Each label is a binary decision per (passage, annotator).  Cohen's kappa
(scikit-learn's ``cohen_kappa_score``) is computed for every pair of
annotators over the passages both of them labelled; a label's ``kappa`` is the
mean of its defined pairwise values (Light's kappa) and ``pairs`` lists each
pair.  Krippendorff's alpha (nominal, the ``krippendorff`` package) uses every
annotator at once and tolerates missing ratings.

Both statistics are undefined when the ratings leave no room for chance
agreement (a label nobody used, or everybody used on every passage): then they
are None, shown as "–", never a made-up 1.0.
"""
from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from ..taxonomy import FAMILIES


def _defined(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters' paired ratings (scikit-learn).

    None when undefined: fewer than 2 items, or a single category in all
    ratings (expected agreement 1), where scikit-learn returns nan.
    """
    from sklearn.metrics import cohen_kappa_score

    if len(a) != len(b):
        raise ValueError("the two raters must rate the same items")
    cats = sorted(set(a) | set(b), key=repr)
    if len(a) < 2 or len(cats) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _defined(cohen_kappa_score(list(a), list(b), labels=cats))


def krippendorff_alpha_nominal(units: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Krippendorff's alpha for nominal data (``krippendorff`` package).

    ``units`` holds each unit's ratings, one slot per rater (None = missing).
    None when undefined: no unit rated twice, or a single category overall.
    """
    import krippendorff

    cats = sorted({v for u in units for v in u if v is not None}, key=repr)
    if len(cats) < 2 or not any(sum(v is not None for v in u) >= 2 for u in units):
        return None
    code = {c: i for i, c in enumerate(cats)}
    width = max(len(u) for u in units)
    data = np.full((width, len(units)), np.nan)
    for j, u in enumerate(units):
        for i, v in enumerate(u):
            if v is not None:
                data[i, j] = code[v]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _defined(krippendorff.alpha(reliability_data=data, value_domain=list(range(len(cats))),
                                               level_of_measurement="nominal"))
        except ValueError:
            return None


def _r(x: float | None) -> float | None:
    return None if x is None else round(x, 3)


def report(live: dict[str, dict[str, dict[str, list[str]]]]) -> dict[str, Any]:
    """Agreement per label over passages with two or more annotators, and the conflicts.

    Per label: ``n`` passages, ``positives`` votes, raw ``agreement`` (share of
    passages where all annotators agree), ``kappa`` (mean pairwise Cohen's
    kappa, None when no pair has a defined value), ``pairs`` (``"a|b"`` ->
    ``{"n", "kappa"}`` for every pair of annotators that share passages) and
    ``alpha`` (Krippendorff's, all annotators).
    """
    multi = {pid: by for pid, by in live.items() if len(by) >= 2}
    annotators = sorted({a for by in multi.values() for a in by})
    pairs = [(x, y) for x, y in itertools.combinations(annotators, 2)
             if any(x in by and y in by for by in multi.values())]
    labels_out: dict[str, dict[str, Any]] = {}
    for fam, labs in FAMILIES.items():
        for lab in labs:
            votes = {pid: {a: int(lab in v.get(fam, [])) for a, v in by.items()} for pid, by in multi.items()}
            units = [[vs.get(a) for a in annotators] for vs in votes.values()]
            by_pair: dict[str, dict[str, Any]] = {}
            defined: list[float] = []
            for x, y in pairs:
                shared = [vs for vs in votes.values() if x in vs and y in vs]
                k = cohen_kappa([vs[x] for vs in shared], [vs[y] for vs in shared])
                by_pair[f"{x}|{y}"] = {"n": len(shared), "kappa": _r(k)}
                if k is not None:
                    defined.append(k)
            labels_out[f"{fam}:{lab}"] = {
                "family": fam, "label": lab, "n": len(units),
                "positives": sum(sum(vs.values()) for vs in votes.values()),
                "kappa": _r(float(np.mean(defined))) if defined else None,
                "pairs": by_pair,
                "alpha": _r(krippendorff_alpha_nominal(units)),
                "agreement": round(sum(len(set(vs.values())) == 1 for vs in votes.values()) / len(units), 3)
                if units else None,
            }
    conflicts = sorted(pid for pid, by in multi.items()
                       if len({tuple((f, tuple(sorted(v.get(f, [])))) for f in FAMILIES) for v in by.values()}) > 1)
    return {"n_double": len(multi), "annotators": annotators, "labels": labels_out, "conflicts": conflicts}
