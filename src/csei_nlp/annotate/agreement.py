"""Inter-annotator agreement per label, from blind double annotation.

Each label is a binary decision per (passage, annotator).  Cohen's kappa is
computed over passages that two annotators labelled (the first two, when there
are more); Krippendorff's alpha (nominal) uses every annotator and tolerates
missing ratings.  Both are written here (a few lines each) so that they run on
the app's data without extra dependencies; tests compare them with known values.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Sequence
from typing import Any

from ..taxonomy import FAMILIES


def cohen_kappa(a: Sequence[Hashable], b: Sequence[Hashable]) -> float | None:
    """Cohen's kappa of two raters' paired ratings; None when undefined (fewer than 2 items)."""
    if len(a) != len(b):
        raise ValueError("the two raters must rate the same items")
    n = len(a)
    if n < 2:
        return None
    po = sum(x == y for x, y in zip(a, b)) / n
    ca, cb = Counter(a), Counter(b)
    pe = sum(ca[k] * cb[k] for k in set(ca) | set(cb)) / (n * n)
    if pe == 1.0:
        return 1.0 if po == 1.0 else None  # both raters constant: agreement is trivial
    return (po - pe) / (1.0 - pe)


def krippendorff_alpha_nominal(units: Sequence[Sequence[Hashable | None]]) -> float | None:
    """Krippendorff's alpha for nominal data; ``units`` holds each unit's ratings (None = missing)."""
    coincid: Counter = Counter()
    for unit in units:
        vals = [v for v in unit if v is not None]
        m = len(vals)
        if m < 2:
            continue
        for i, x in enumerate(vals):
            for j, y in enumerate(vals):
                if i != j:
                    coincid[(x, y)] += 1.0 / (m - 1)
    n = sum(coincid.values())
    if n <= 1:
        return None
    marg: Counter = Counter()
    for (x, _), w in coincid.items():
        marg[x] += w
    do = sum(w for (x, y), w in coincid.items() if x != y)
    de = sum(marg[x] * marg[y] for x in marg for y in marg if x != y) / (n - 1)
    if de == 0:
        return 1.0 if do == 0 else None
    return 1.0 - do / de


def report(live: dict[str, dict[str, dict[str, list[str]]]]) -> dict[str, Any]:
    """Agreement per label over passages with two or more annotators, and the conflicts."""
    multi = {pid: by for pid, by in live.items() if len(by) >= 2}
    labels_out: dict[str, dict[str, Any]] = {}
    for fam, labs in FAMILIES.items():
        for lab in labs:
            pairs_a, pairs_b, units = [], [], []
            for by in multi.values():
                votes = [int(lab in v.get(fam, [])) for _, v in sorted(by.items())]
                units.append(votes)
                pairs_a.append(votes[0])
                pairs_b.append(votes[1])
            k = cohen_kappa(pairs_a, pairs_b)
            al = krippendorff_alpha_nominal(units)
            labels_out[f"{fam}:{lab}"] = {
                "family": fam, "label": lab, "n": len(units), "positives": sum(map(sum, units)),
                "kappa": None if k is None else round(k, 3), "alpha": None if al is None else round(al, 3),
                "agreement": round(sum(len(set(u)) == 1 for u in units) / len(units), 3) if units else None,
            }
    conflicts = sorted(pid for pid, by in multi.items()
                       if len({tuple((f, tuple(sorted(v.get(f, [])))) for f in FAMILIES) for v in by.values()}) > 1)
    return {"n_double": len(multi), "labels": labels_out, "conflicts": conflicts}
