"""Site profiles -> ranked CSEI candidates with a transparent score.

The score is a weighted mean of components in [0, 1], weights in the
``[score]`` config section.  Each component answers one question an analyst
would ask, and carries a one-line explanation in the output:

classifier         How CSEI-like is the site's best page, per the document model?
criteria           How many of the four inclusion criteria does the site show?
helix              How many kinds of actors cooperate, with a social-economy core?
social_ecological  How strong are the social and ecological dimensions?
self_designation   Does the site call itself a cluster, hub, network, partnership ...?
territorial        Is it anchored in a place (territorial cues, geographic proximity)?
known_similarity   How close is its text to the report's known cases?

Candidates matched to the report's 70 known cases (by domain or fuzzy
name) are flagged ``known`` so the "new candidates" views can leave them out.
"""
from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from .aggregate import SiteProfile, build_profiles, name_from_titles
from .config import Config
from .country import infer_country, is_cee
from .paths import corpora_dir
from .pipeline.site import domain_of
from .store.sqlite import Store
from .taxonomy import FAMILIES

COMPONENTS: tuple[str, ...] = (
    "classifier", "criteria", "helix", "social_ecological", "self_designation", "territorial",
    "known_similarity",
)


def _saturate(count: float, half: float) -> float:
    """0 for none, 0.5 at ``half`` hits, approaching 1: more hits, less extra credit."""
    return 1.0 - math.exp(-math.log(2) * count / half) if count > 0 else 0.0


def components(prof: SiteProfile) -> dict[str, tuple[float, str]]:
    """Each component's value in [0, 1] with a one-line explanation."""
    lm = prof.label_max
    crit = lm.get("criteria", {})
    helix = lm.get("helix", {})
    inno = lm.get("innovation", {})
    out: dict[str, tuple[float, str]] = {}

    out["classifier"] = (prof.candidate_prob,
                         f"document model: best page scores {prof.candidate_prob:.2f}")

    crit_vals = [crit.get(c, 0.0) for c in FAMILIES["criteria"]]
    shown = [c for c in FAMILIES["criteria"] if crit.get(c, 0.0) >= 0.5]
    out["criteria"] = (sum(crit_vals) / len(crit_vals),
                       f"{len(shown)}/4 inclusion criteria shown" + (f" ({', '.join(shown)})" if shown else ""))

    actors = [h for h in FAMILIES["helix"] if helix.get(h, 0.0) >= 0.5]
    others = sorted((helix.get(h, 0.0) for h in FAMILIES["helix"] if h != "social_economy"), reverse=True)
    # Diversity: the three strongest partners beside the social economy; the core weighs half.
    diversity = sum(others[:3]) / 3
    core = helix.get("social_economy", 0.0)
    out["helix"] = (0.5 * core + 0.5 * diversity,
                    f"{len(actors)} actor types ({', '.join(actors) or 'none'}); "
                    f"social-economy core {core:.2f}")

    soc, eco = inno.get("social", 0.0), inno.get("ecological", 0.0)
    # Either dimension can carry a CSEI; both together count a little more.
    out["social_ecological"] = (0.7 * max(soc, eco) + 0.3 * min(soc, eco),
                                f"social {soc:.2f}, ecological {eco:.2f}")

    n_self = prof.cue_counts.get("self_designation", 0)
    terms = prof.cue_terms.get("self_designation")
    top = ", ".join(t for t, _ in terms.most_common(3)) if terms else ""
    out["self_designation"] = (_saturate(n_self, 2.0),
                               f"{n_self} self-designations" + (f" ({top})" if top else ""))

    n_terr = prof.cue_counts.get("territorial", 0)
    geo = crit.get("geographic_proximity", 0.0)
    out["territorial"] = (0.5 * _saturate(n_terr, 2.0) + 0.5 * geo,
                          f"{n_terr} territorial cues; geographic proximity {geo:.2f}")

    out["known_similarity"] = (prof.known_similarity,
                               f"similarity to the report's known cases {prof.known_similarity:.2f}")
    return out


def score(comps: dict[str, tuple[float, str]], weights: dict[str, float], gate: float = 1.0) -> float:
    """The weighted mean of the components, times the organisation gate ``gate``.

    ``gate`` is the best ``site_gate`` of the pages that count for the candidate
    (:func:`csei_nlp.attach.topic_gate`).  Under a candidate model trained on
    written pages only it is their best subject probability: a candidate known
    only from pages about a topic cannot rank high, however much cluster
    vocabulary those pages use.  A model trained on pages as published answers
    that question itself (its card says ``subject_gate: false``), and the gate
    is soft, 0.8 to 1: on held-out real pages the full multiplication lowered the
    candidate ROC-AUC (models/REAL_PAGES.md).
    """
    total = sum(weights.get(c, 0.0) for c in COMPONENTS)
    mean = sum(weights.get(c, 0.0) * min(1.0, max(0.0, comps[c][0])) for c in COMPONENTS) / total
    return mean * min(1.0, max(0.0, gate))


@dataclass(frozen=True)
class KnownCase:
    name: str
    country: str
    website: str
    domain: str | None


@lru_cache(maxsize=4)
def load_known_cases(path: str = "") -> tuple[KnownCase, ...]:
    p = Path(path) if path else corpora_dir() / "known_csei.csv"
    if not p.exists():
        return ()
    out = []
    with open(p, newline="", encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            web = (row.get("website") or "").strip()
            domain = domain_of(web) if web else None
            out.append(KnownCase(row["name"].strip(), (row.get("country") or "").strip(), web, domain))
    return tuple(out)


def match_known(prof: SiteProfile, name: str, cases: tuple[KnownCase, ...],
                min_ratio: int) -> KnownCase | None:
    for c in cases:
        if c.domain and c.domain == prof.site:
            return c
    from rapidfuzz import fuzz

    if not name:
        return None
    best, best_ratio = None, 0.0
    for c in cases:
        r = fuzz.token_set_ratio(name.lower(), c.name.lower())
        if r > best_ratio:
            best, best_ratio = c, r
    return best if best_ratio >= min_ratio else None


def site_name(prof: SiteProfile) -> str:
    """A display name from the organisation's own page titles (``aggregate.name_from_titles``)."""
    return name_from_titles(prof.titles) or prof.site


def rank_profiles(profiles: dict[str, SiteProfile], cfg: Config) -> list[dict[str, Any]]:
    weights = cfg.score.weights()
    cases = load_known_cases(cfg.rank.known_cases)
    rows = []
    for prof in profiles.values():
        comps = components(prof)
        s = score(comps, weights, prof.gate)
        if s < cfg.rank.min_score:
            continue
        name = site_name(prof)
        guess = infer_country(prof.site, prof.text_sample, prof.lang)
        known = match_known(prof, name, cases, cfg.rank.fuzzy_name_min)
        tags = {fam: sorted(l for l, p in labels.items() if p >= 0.5)
                for fam, labels in prof.label_max.items()}
        rows.append({
            "site": prof.site,
            "name": name,
            "score": round(s, 4),
            "components": {c: round(comps[c][0], 4) for c in COMPONENTS},
            "explanations": {c: comps[c][1] for c in COMPONENTS},
            "subject_explanation": f"best page presents one organisation with p={prof.subject:.2f} "
                                   + (f"(score multiplied by {prof.gate:.2f})" if prof.gate < 1.0
                                      else "(the document model weighs this itself)")
                                   + "; pages: " + ", ".join(f"{n} {r}" for r, n in sorted(prof.roles.items())),
            "subject": round(prof.subject, 4),
            "roles": dict(sorted(prof.roles.items())),
            "third_party_sites": sorted(set(prof.third_party_sites)),
            "country": guess.country,
            "country_evidence": guess.evidence,
            "cee": bool(guess.country and is_cee(guess.country)),
            "known": known is not None,
            "known_name": known.name if known else None,
            "n_documents": len(prof.doc_ids),
            "languages": [l for l, _ in prof.languages.most_common()],
            "urls": prof.urls[:5],
            "tags": tags,
            "label_max": {f: {l: round(p, 4) for l, p in v.items()} for f, v in prof.label_max.items()},
            "evidence": prof.evidence(),
        })
    rows.sort(key=lambda r: (-r["score"], r["site"]))
    for i, r in enumerate(rows, 1):
        r["rank"] = i
    return rows


def rank_sites(store: Store, cfg: Config, tagging: Any) -> list[dict[str, Any]]:
    """Build profiles from the store and rank them."""
    return rank_profiles(build_profiles(store, tagging.thresholds), cfg)
