"""How much a page is about one named thing: its focus features, for the page models.

Why: the hardest mistakes of the candidate model on real pages are pages that
use the whole vocabulary of a cluster (social economy, municipality,
cooperation, territory) without being about one: a magazine's round-up, a
policy page, a federation's news.  A page about one cluster keeps naming it
("Klaster X", "PTCE Y", "the X partnership"); a topic page names many bodies,
or none.  Capitalised words are how every Latin, Greek and Cyrillic script
marks a name, so their share, the weight of the most repeated one and their
variety say how focused a page is, in any of those languages.  Added to the
candidate model's features they raised its out-of-fold ROC-AUC on the labelled
pages as published from 0.829 to 0.838 (models/REAL_PAGES.md).

The features read the texts of the passages a scan embeds, which training on
written pages, ``csei pages add`` and the scanner all have, so they are the
same numbers in all three.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

FOCUS_FEATURES: list[str] = [
    "focus_name_share",      # log share of capitalised words (len > 2) among all words
    "focus_top_name",        # log1p(count of the most repeated capitalised word)
    "focus_top_name_share",  # that count / all capitalised words
    "focus_name_variety",    # distinct capitalised words / all capitalised words
    "focus_words",           # log1p(words)
]

_WORD = re.compile(r"\w+")


def focus_features(texts: Sequence[str]) -> np.ndarray:
    """The :data:`FOCUS_FEATURES` of a page made of ``texts`` (its embedded passages), float32."""
    words = [w for t in texts for w in _WORD.findall(t)]
    names = [w for w in words if len(w) > 2 and w[0].isupper()]
    counts = Counter(names)
    top = counts.most_common(1)[0][1] if counts else 0
    n_names = max(1, len(names))
    return np.array([
        np.log1p(len(names)) - np.log1p(max(1, len(words))),
        np.log1p(top),
        top / n_names,
        len(counts) / n_names,
        np.log1p(len(words)),
    ], dtype=np.float32)


__all__ = ["FOCUS_FEATURES", "focus_features"]
