"""The cue taxonomy: cue groups, the labels inside each, and what a legal form says about the helix.

A leaf of its own because the configuration (``[cascade]``), the term files,
the features and the training code all name these groups.
"""
from __future__ import annotations

from ...taxonomy import FAMILIES

# Cue groups and the labels inside each.  "helix" uses the taxonomy's helix labels.
CUE_GROUPS: dict[str, list[str]] = {
    "helix": list(FAMILIES["helix"]),
    "legal_form": [
        "social_cooperative", "cooperative", "social_enterprise", "wise", "nonprofit_company",
        "association", "foundation", "mutual",
    ],
    "self_designation": [
        "cluster", "pole", "hub", "network", "consortium", "alliance", "partnership",
        "ecosystem", "platform", "third_place", "local_action_group",
    ],
    "governance": ["general_assembly", "democratic", "one_member_one_vote", "membership", "board"],
    "cooperation": ["cooperation", "partners", "agreement", "pooling"],
    "territorial": ["local", "regional", "municipal", "rural"],
    "social_mission": [
        "social_economy", "inclusion", "work_integration", "disability", "vulnerable_groups",
        "social_innovation",
    ],
    "ecological_mission": [
        "circular_economy", "renewable_energy", "short_food_chain", "environment", "eco_building",
    ],
}

# A legal form also says which helix the organisation belongs to (GUIDELINES.md, helix rules).
LEGAL_FORM_HELIX: dict[str, str] = {
    "social_cooperative": "social_economy",
    "cooperative": "social_economy",
    "social_enterprise": "social_economy",
    "wise": "social_economy",
    "nonprofit_company": "social_economy",
    "mutual": "social_economy",
    "association": "civil_society",
    "foundation": "civil_society",
}

GROUPS: tuple[str, ...] = tuple(CUE_GROUPS)


# Which cue matches count as evidence for a model label: an analyst reading "geographic proximity"
# evidence should see place words highlighted, not every cue in the passage.
LABEL_SUPPORT: dict[str, tuple[str, ...]] = {
    "innovation:social": ("social_mission",),
    "innovation:ecological": ("ecological_mission",),
    "innovation:governance": ("governance",),
    "innovation:economic": ("cooperation", "legal_form"),
    "innovation:technological": (),
    "criteria:cooperating_group": ("cooperation", "self_designation"),
    "criteria:member_governance": ("governance",),
    "criteria:geographic_proximity": ("territorial",),
    "criteria:interconnection": ("cooperation", "helix"),
}


def supports(family: str, label: str, span: dict) -> bool:
    """Whether the cue match ``span`` (its ``family`` is the cue group) is evidence for ``family:label``."""
    group, cue = span.get("family"), span.get("label")
    if family == "helix":
        return (group == "helix" and cue == label) or (group == "legal_form" and LEGAL_FORM_HELIX.get(cue) == label)
    return group in LABEL_SUPPORT.get(f"{family}:{label}", ())
