"""The fixed label ids of csei-nlp, their definitions, and the country sets.

Every other module (annotation, classifiers, ranking, reports) refers to labels
by the ids defined here, so they are a contract: renaming one invalidates
trained models and stored annotations.  The one-line definitions paraphrase
the 2021 GECES report "Clusters of Social and Ecological Innovation in the
European Union, perspectives and experiences" (European Commission, CC-BY 4.0);
the section or table each comes from is given in ``Label.source``.

Countries are ISO 3166-1 alpha-2 codes, plus ``XK`` for Kosovo (the user-assigned
code used by the EU) and ``GB`` for the United Kingdom.
"""
from __future__ import annotations

from dataclasses import dataclass

FAMILIES: dict[str, list[str]] = {
    "innovation": ["economic", "social", "technological", "governance", "ecological"],
    "helix": ["social_economy", "business", "research_education", "public_authority", "civil_society"],
    "criteria": ["cooperating_group", "member_governance", "geographic_proximity", "interconnection"],
}


@dataclass(frozen=True, slots=True)
class Label:
    id: str
    family: str
    definition: str
    source: str  # where in the GECES 2021 report the definition comes from


_DEFS: dict[str, tuple[str, str]] = {
    # innovation dimensions: report section 5, Tables 22-26
    "economic": (
        "New economic models rooted in the territory's own organisations and resources: "
        "new activities and business models, stronger market position, pooled and diversified income.",
        "§5.1, Table 23",
    ),
    "social": (
        "New ways of meeting social needs through cooperation: eco-social intervention models, "
        "community empowerment, jobs for vulnerable groups, fairer access to resources.",
        "§5.2, Table 24",
    ),
    "technological": (
        "The cluster as a test bed for new technology: joint development, shared investment, "
        "technology transfer between members (fablabs, shared engineering).",
        "§5 and Table 22; Executive summary",
    ),
    "governance": (
        "New ways of steering a collective: inclusive multi-sector decision making, participation "
        "of target groups, transparency, democratic leadership, cooperation instead of competition.",
        "§5.3, Table 25",
    ),
    "ecological": (
        "Environmental change made concrete: eco-building, recycling and circular economy, "
        "ecological business models, cross-border cooperation for environmental aims.",
        "§5.4, Table 26",
    ),
    # quadruple helix: report §2 (concept) and §4.2, Table 8
    "social_economy": (
        "Social economy entities: cooperatives, social enterprises, work-integration enterprises, "
        "mutuals and their unions; the core membership of a CSEI.",
        "§2 (CSEI definition); §4.2, Table 8 'Social economy enterprises'",
    ),
    "business": (
        "Mainstream for-profit enterprises (SMEs and large companies) and their chambers or networks.",
        "§2; §4.2, Table 8 'Traditional enterprises'",
    ),
    "research_education": (
        "Research, education and training institutions: universities, institutes, schools, "
        "vocational training centres.",
        "§2; §4.2, Table 8 'Research & innovation institutions'",
    ),
    "public_authority": (
        "Public authorities at local, regional or national level: municipalities, regions, "
        "ministries, public agencies and services.",
        "§2; §4.2, Table 8 'Public authorities'; §4.4, Table 12",
    ),
    "civil_society": (
        "Civil society organisations: associations, NGOs, foundations, community and citizen "
        "groups, often informal partners of the cluster.",
        "§2 (quadruple helix); §4.2 (civil society organisations)",
    ),
    # inclusion criteria: report §3
    "cooperating_group": (
        "A group of entities that cooperate, preferably from several sectors "
        "(social economy, business, government, research).",
        "§3, inclusion criterion 1",
    ),
    "member_governance": (
        "The member entities themselves govern the cluster, not a separate third entity.",
        "§3, inclusion criterion 2",
    ),
    "geographic_proximity": (
        "Anchored in a territory: local or regional scope (national only for small countries).",
        "§3, inclusion criterion 3",
    ),
    "interconnection": (
        "Significant exchanges among members that go beyond each member's own ambition.",
        "§3, inclusion criterion 4",
    ),
}

LABELS: dict[str, Label] = {
    lab: Label(lab, fam, *_DEFS[lab]) for fam, labs in FAMILIES.items() for lab in labs
}

CSEI_DEFINITION_SOURCE = "GECES sub-group on CSEI, European Commission 2021, §2 (CC-BY 4.0)"


def family_of(label: str) -> str:
    """The family of a label id; ``KeyError`` for an unknown id."""
    return LABELS[label].family


def definition(label: str) -> str:
    return LABELS[label].definition


# --- countries ---------------------------------------------------------------

EU_COUNTRIES: frozenset[str] = frozenset(
    "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split()
)
CEE_EU: frozenset[str] = frozenset("PL CZ SK HU RO BG HR SI LT LV EE".split())
EU_NEIGHBOURHOOD: frozenset[str] = frozenset("UA RS BA MK AL MD ME XK GE".split())
CEE_COUNTRIES: frozenset[str] = CEE_EU | EU_NEIGHBOURHOOD

COUNTRY_NAMES: dict[str, str] = {
    "AD": "Andorra",
    "AT": "Austria", "BE": "Belgium", "BG": "Bulgaria", "HR": "Croatia", "CY": "Cyprus",
    "CZ": "Czechia", "DK": "Denmark", "EE": "Estonia", "FI": "Finland", "FR": "France",
    "DE": "Germany", "GR": "Greece", "HU": "Hungary", "IE": "Ireland", "IT": "Italy",
    "LV": "Latvia", "LT": "Lithuania", "LU": "Luxembourg", "MT": "Malta", "NL": "Netherlands",
    "PL": "Poland", "PT": "Portugal", "RO": "Romania", "SK": "Slovakia", "SI": "Slovenia",
    "ES": "Spain", "SE": "Sweden", "UA": "Ukraine", "RS": "Serbia", "BA": "Bosnia and Herzegovina",
    "MK": "North Macedonia", "AL": "Albania", "MD": "Moldova", "ME": "Montenegro", "XK": "Kosovo",
    "GE": "Georgia", "GB": "United Kingdom", "CH": "Switzerland", "NO": "Norway",
}

# Languages this project has cue lists for, and where they are (official) national
# languages.  The first country is the main one; "en" is deliberately not tied to a country
# when inferring it (see country.py).
LANGUAGE_COUNTRIES: dict[str, list[str]] = {
    "bg": ["BG"], "cs": ["CZ"], "da": ["DK"], "de": ["DE", "AT", "LU", "BE"],
    "el": ["GR", "CY"], "en": ["IE", "MT", "GB"], "es": ["ES"], "et": ["EE"], "fi": ["FI"],
    "fr": ["FR", "BE", "LU"], "ga": ["IE"], "hr": ["HR", "BA"], "hu": ["HU"], "it": ["IT"],
    "lt": ["LT"], "lv": ["LV"], "mt": ["MT"], "nl": ["NL", "BE"], "pl": ["PL"],
    "pt": ["PT"], "ro": ["RO", "MD"], "sk": ["SK"], "sl": ["SI"], "sv": ["SE", "FI"],
    "uk": ["UA"], "sr": ["RS", "BA", "ME"], "bs": ["BA"], "mk": ["MK"], "sq": ["AL", "XK", "MK"],
    "ka": ["GE"], "cnr": ["ME"], "ca": ["ES", "AD"], "eu": ["ES"], "gl": ["ES"],
}

# The languages with a cue list (resources/cues/<lang>.json); "xx" holds language-independent
# acronyms and is not a language.
CUE_LANGUAGES: tuple[str, ...] = (
    "bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu", "it", "lt",
    "lv", "mt", "nl", "pl", "pt", "ro", "sk", "sl", "sv", "uk", "sr", "bs", "mk", "sq", "ca", "eu", "gl",
)


def is_cee(country: str | None) -> bool:
    """True for the Central/Eastern EU members and the EU neighbourhood countries."""
    return bool(country) and country.upper() in CEE_COUNTRIES


def is_eu(country: str | None) -> bool:
    return bool(country) and country.upper() in EU_COUNTRIES
