"""Cue spans -> a fixed-length feature vector for the classifiers (``FEATURE_NAMES``)."""
from __future__ import annotations

import math

import numpy as np

from ...types import Span
from .groups import CUE_GROUPS, LEGAL_FORM_HELIX

FEATURE_NAMES: list[str] = (
    [f"{g}:{lab}" for g, labs in CUE_GROUPS.items() for lab in labs]
    + [f"{g}:total" for g in CUE_GROUPS]
    + ["cues:per_100_tokens", "cues:group_share"]
)
_FEATURE_INDEX = {name: i for i, name in enumerate(FEATURE_NAMES)}


def cue_features(spans: list[Span], n_tokens: int | None = None) -> np.ndarray:
    """A fixed-length vector (``FEATURE_NAMES``): log1p counts per group:label and per
    group, cue density per 100 tokens (log1p) and the share of groups present.

    Legal forms also count towards the helix label they imply (``LEGAL_FORM_HELIX``).
    Spans of other kinds or unknown labels are ignored.
    """
    counts = np.zeros(len(FEATURE_NAMES), dtype=np.float64)
    n_cues = 0
    groups_seen: set[str] = set()
    for sp in spans:
        idx = _FEATURE_INDEX.get(f"{sp.family}:{sp.label}")
        if sp.kind != "cue" or idx is None:
            continue
        n_cues += 1
        groups_seen.add(sp.family)
        counts[idx] += 1
        counts[_FEATURE_INDEX[f"{sp.family}:total"]] += 1
        if sp.family == "legal_form" and sp.label in LEGAL_FORM_HELIX:
            counts[_FEATURE_INDEX[f"helix:{LEGAL_FORM_HELIX[sp.label]}"]] += 1
            counts[_FEATURE_INDEX["helix:total"]] += 1
            groups_seen.add("helix")
    vec = np.log1p(counts)
    if n_tokens and n_tokens > 0:
        vec[_FEATURE_INDEX["cues:per_100_tokens"]] = math.log1p(100.0 * n_cues / n_tokens)
    vec[_FEATURE_INDEX["cues:group_share"]] = len(groups_seen) / len(CUE_GROUPS)
    return vec.astype(np.float32)
