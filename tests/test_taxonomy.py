"""The label ids and country sets are a contract for models, annotations and reports."""
from __future__ import annotations

import re

from csei_nlp import taxonomy, types


def test_families_are_the_fixed_ids():
    assert taxonomy.FAMILIES == {
        "innovation": ["economic", "social", "technological", "governance", "ecological"],
        "helix": ["social_economy", "business", "research_education", "public_authority", "civil_society"],
        "criteria": ["cooperating_group", "member_governance", "geographic_proximity", "interconnection"],
    }
    assert tuple(taxonomy.FAMILIES) == types.FAMILIES


def test_every_label_has_a_definition_with_a_report_reference():
    all_ids = [lab for labs in taxonomy.FAMILIES.values() for lab in labs]
    assert len(all_ids) == len(set(all_ids)) == len(taxonomy.LABELS)
    for lab in all_ids:
        entry = taxonomy.LABELS[lab]
        assert taxonomy.family_of(lab) == entry.family
        assert len(entry.definition.split()) >= 8, lab
        assert re.search(r"§\d", entry.source), lab


def test_guidelines_cover_every_label(repo_dir):
    text = (repo_dir / "annotations" / "GUIDELINES.md").read_text("utf-8")
    for lab in taxonomy.LABELS:
        assert f"#### `{lab}`" in text, f"GUIDELINES.md has no section for {lab}"
    assert "CC-BY 4.0" in text


def test_cee_set():
    assert taxonomy.CEE_COUNTRIES == frozenset(
        "PL CZ SK HU RO BG HR SI LT LV EE UA RS BA MK AL MD ME XK GE".split())
    assert taxonomy.CEE_EU <= taxonomy.EU_COUNTRIES
    assert not (taxonomy.EU_NEIGHBOURHOOD & taxonomy.EU_COUNTRIES)
    assert len(taxonomy.EU_COUNTRIES) == 27
    assert taxonomy.is_cee("pl") and taxonomy.is_cee("XK")
    assert not taxonomy.is_cee("DE") and not taxonomy.is_cee(None) and not taxonomy.is_cee("")


def test_language_map_uses_known_countries():
    for lang, countries in taxonomy.LANGUAGE_COUNTRIES.items():
        assert countries, lang
        for c in countries:
            assert c in taxonomy.COUNTRY_NAMES, (lang, c)
    for lang in taxonomy.CUE_LANGUAGES:
        assert lang in taxonomy.LANGUAGE_COUNTRIES
    assert len(taxonomy.CUE_LANGUAGES) == 32
