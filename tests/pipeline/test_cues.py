"""Cue matching on real-looking multilingual snippets: labels, exact offsets, inflection,
word boundaries, features and the coverage table."""
from __future__ import annotations

import numpy as np
import pytest

from csei_nlp import taxonomy
from csei_nlp.pipeline import cues
from csei_nlp.pipeline.cues import coverage as cue_coverage
from csei_nlp.types import Span


def _find(spans: list[Span], text: str, surface: str, family: str, label: str) -> Span:
    start = text.index(surface)
    for s in spans:
        if (s.start, s.end, s.family, s.label) == (start, start + len(surface), family, label):
            return s
    got = [(s.text, s.family, s.label) for s in spans]
    raise AssertionError(f"no {family}:{label} span on {surface!r}; got {got}")


CASES = [
    ("pl", "Od 2015 r. w spółdzielni socjalnej „Razem” pracuje sześć osób.", "spółdzielni socjalnej", "legal_form", "social_cooperative"),
    ("pl", "Łomżyński Klaster Ekonomii Społecznej zrzesza organizacje z regionu.", "Klaster", "self_designation", "cluster"),
    ("pl", "Partnerami są Urząd Miejski w Łomży i dwie fundacje.", "Urząd Miejski", "helix", "public_authority"),
    ("cs", "Členy klastru jsou sociální podniky z Vysočiny a Město Třebíč.", "sociální podniky", "legal_form", "social_enterprise"),
    ("cs", "Místní akční skupina podporuje venkovské obce.", "Místní akční skupina", "self_designation", "local_action_group"),
    ("sk", "Valné zhromaždenie združenia volí predstavenstvo.", "Valné zhromaždenie", "governance", "general_assembly"),
    ("sk", "Sieť spája registrované sociálne podniky z okresu.", "registrované sociálne podniky", "legal_form", "social_enterprise"),
    ("hu", "A hálózat tagjai a térség szociális szövetkezetek és civil szervezetek.", "szociális szövetkezetek", "legal_form", "social_cooperative"),
    ("hu", "A klaszter közgyűlése évente kétszer ülésezik.", "klaszter", "self_designation", "cluster"),
    ("ro", "Asociația colaborează cu Primăria Municipiului Bacău.", "Primăria", "helix", "public_authority"),
    ("ro", "Clusterul reunește întreprinderi sociale de inserție din județ.", "întreprinderi sociale de inserție", "legal_form", "wise"),
    ("ro", "Rețeaua sprijină cooperativele agricole.", "Rețeaua", "self_designation", "network"),
    ("bg", "Кооперативният клъстер обединява социални предприятия и общини.", "социални предприятия", "legal_form", "social_enterprise"),
    ("bg", "Общото събрание избира управителен съвет.", "управителен съвет", "governance", "board"),
    ("hr", "Klaster okuplja socijalne zadruge, udruge i Grad Dubrovnik.", "socijalne zadruge", "legal_form", "social_cooperative"),
    ("hr", "Potpisan je sporazum o suradnji s Hrvatskim zavodom za zapošljavanje.", "sporazum", "cooperation", "agreement"),
    ("sl", "V zadrugi sodelujejo društva in Občina Slovenske Konjice.", "Občina", "helix", "public_authority"),
    ("sl", "Lokalna akcijska skupina je izbrala nov projekt.", "Lokalna akcijska skupina", "self_designation", "local_action_group"),
    ("uk", "Громадська організація разом із соціальними підприємствами створила кластер.", "соціальними підприємствами", "legal_form", "social_enterprise"),
    ("uk", "Рішення ухвалюють загальні збори членів.", "загальні збори", "governance", "general_assembly"),
    ("lt", "Vietos veiklos grupė vienija savivaldybę, verslą ir bendruomenes.", "Vietos veiklos grupė", "self_designation", "local_action_group"),
    ("lt", "Socialinės įmonės įdarbina neįgaliuosius.", "neįgaliuosius", "social_mission", "disability"),
    ("lv", "Biedrība sadarbojas ar novada pašvaldību un uzņēmējiem.", "pašvaldību", "helix", "public_authority"),
    ("lv", "Sociālajiem uzņēmumiem palīdz vietējā rīcības grupa.", "Sociālajiem uzņēmumiem", "legal_form", "social_enterprise"),
    ("de", "Die Sozialgenossenschaft ist Mitglied im regionalen Netzwerk.", "Sozialgenossenschaft", "legal_form", "social_cooperative"),
    ("de", "Träger ist eine gGmbH aus Leipzig.", "gGmbH", "legal_form", "nonprofit_company"),
    ("fr", "Le pôle territorial de coopération économique réunit une SCIC et la mairie.", "SCIC", "legal_form", "social_cooperative"),
    ("fr", "Ce tiers-lieu accueille l'assemblée générale de l'association.", "tiers-lieu", "self_designation", "third_place"),
    ("it", "Il consorzio riunisce cooperative sociali di tipo B del territorio.", "cooperative sociali di tipo B", "legal_form", "social_cooperative"),
    ("es", "Las empresas de inserción del clúster comparten servicios.", "empresas de inserción", "legal_form", "wise"),
    ("sr", "Klaster socijalnog preduzetništva okuplja socijalna preduzeća iz Vojvodine.", "socijalna preduzeća", "legal_form", "social_enterprise"),
    ("sr", "Кластер социјалног предузетништва окупља социјална предузећа из Војводине.", "социјална предузећа", "legal_form", "social_enterprise"),
    ("sr", "Кластер је основан 2011. године.", "Кластер", "self_designation", "cluster"),
    ("en", "The partnership is governed on a one member, one vote basis.", "one member, one vote", "governance", "one_member_one_vote"),
]


@pytest.mark.parametrize("lang,text,surface,family,label", CASES)
def test_match_label_and_offsets(lang, text, surface, family, label):
    spans = cues.match(text, lang)
    sp = _find(spans, text, surface, family, label)
    assert sp.kind == "cue" and sp.term
    for s in spans:
        assert text[s.start:s.end] == s.text


def test_matching_ignores_diacritics_and_case():
    text = "SPOLDZIELNIA SOCJALNA z Lomzy"  # typed without Polish letters
    spans = cues.match(text, "pl")
    _find(spans, text, "SPOLDZIELNIA SOCJALNA", "legal_form", "social_cooperative")


def test_romanian_cedilla_and_comma_forms_both_match():
    for text in ("Asociația și întreprinderile sociale", "Asociaţia şi întreprinderile sociale"):
        spans = cues.match(text, "ro")
        assert any(s.label == "social_enterprise" for s in spans), text


@pytest.mark.parametrize("lang,text,forbidden", [
    ("hu", "A szöveg a szövetségről szól.", "cooperative"),        # szöveg, not szövetkezet
    ("pl", "Klasztor w Łomży i firmament.", "cluster"),             # klasztor is a monastery
    ("sk", "My sme tu doma.", "business"),                          # 'sme' = 'we are', not SME
    ("en", "A time lag in the village pole vault.", "local_action_group"),
    ("en", "Uncooperativeness aside, the recluster failed.", "cooperative"),
    ("cs", "Kurz šití pro začátečníky.", "network"),                # šití folds like síti
])
def test_no_match_inside_other_words(lang, text, forbidden):
    labels = {s.label for s in cues.match(text, lang)}
    assert forbidden not in labels, cues.match(text, lang)


def test_longest_match_wins_within_group():
    text = "Spółdzielnia socjalna i spółdzielnia mieszkaniowa"
    spans = [s for s in cues.match(text, "pl") if s.family == "legal_form"]
    assert [(s.text, s.label) for s in spans] == [
        ("Spółdzielnia socjalna", "social_cooperative"), ("spółdzielnia", "cooperative")]


def test_unknown_language_uses_all_lists():
    text = "Klaster i szociális szövetkezet i социално предприятие"
    labels = {(s.text, s.label) for s in cues.match(text, None)}
    assert ("szociális szövetkezet", "social_cooperative") in labels
    assert ("социално предприятие", "social_enterprise") in labels
    assert {(s.text, s.label) for s in cues.match(text, "und")} == labels
    # a language without a cue file ("ru") also falls back to every list
    assert cues.resolve_languages("ru") == cues.resolve_languages(None)
    assert cues.resolve_languages("pl-PL") == ("en", "pl", "xx")
    assert set(cues.resolve_languages("hbs")) == {"bs", "en", "hr", "sr", "xx"}


def test_own_language_plus_english():
    text = "Klaster współpracuje z social enterprises."
    labels = {s.label for s in cues.match(text, "pl")}
    assert {"cluster", "social_enterprise"} <= labels


def test_long_text_offsets_across_chunks(monkeypatch):
    monkeypatch.setattr(cues.matcher, "MAX_CHUNK_CHARS", 64)
    filler = "Lorem ipsum dolor sit amet. " * 20
    text = filler + "\nSpółdzielnia socjalna działa lokalnie.\n" + filler + "klaster"
    spans = cues.match(text, "pl")
    _find(spans, text, "Spółdzielnia socjalna", "legal_form", "social_cooperative")
    last = [s for s in spans if s.label == "cluster"]
    assert last and text[last[0].start:last[0].end] == "klaster"


def test_empty_text():
    assert cues.match("", "pl") == []
    assert cues.match("   \n ", None) == []


def test_every_language_has_terms_in_every_group():
    counts = cue_coverage.coverage_counts()
    for lang in taxonomy.CUE_LANGUAGES:
        assert lang in counts, f"no cue file for {lang}"
        empty = [g for g, n in counts[lang].items() if n == 0]
        assert not empty, f"{lang}: no terms for {empty}"


def test_all_terms_compile_per_language():
    # building every matcher validates every file (stems, labels) and tokenizes every term
    for lang in cues.available_languages():
        m = cues.matcher._matcher(cues.resolve_languages(lang))
        assert len(m.keys) + sum(len(v) for v in m.prefix_first.values()) > 50


def test_bad_term_is_rejected():
    with pytest.raises(ValueError, match="shorter than"):
        cues.terms._validate_term("pl", "helix", "business", "fi*")
    with pytest.raises(ValueError, match="mixes"):
        cues.terms._validate_term("pl", "helix", "business", "=ABC*")


def test_cue_features():
    text = "Klaster zrzesza spółdzielnie socjalne, stowarzyszenia i gminy regionu."
    spans = cues.match(text, "pl")
    vec = cues.cue_features(spans, n_tokens=9)
    assert vec.shape == (len(cues.FEATURE_NAMES),) and vec.dtype == np.float32
    idx = {n: i for i, n in enumerate(cues.FEATURE_NAMES)}
    assert vec[idx["self_designation:cluster"]] == pytest.approx(np.log1p(1))
    # legal forms count toward the helix they imply
    assert vec[idx["helix:social_economy"]] > 0 and vec[idx["helix:civil_society"]] > 0
    assert vec[idx["helix:public_authority"]] > 0
    assert vec[idx["cues:per_100_tokens"]] > 0
    assert 0 < vec[idx["cues:group_share"]] <= 1
    assert not cues.cue_features([], 100).any()
    more = cues.cue_features(spans + spans, n_tokens=9)
    assert more[idx["legal_form:total"]] > vec[idx["legal_form:total"]]


def test_coverage_doc_is_current(repo_dir):
    table = cue_coverage.coverage_table()
    for lang in taxonomy.CUE_LANGUAGES:
        assert f"| {lang} |" in table
    doc = (repo_dir / "docs" / "cue_coverage.md").read_text("utf-8")
    assert doc == table, "docs/cue_coverage.md is stale: python -m csei_nlp.pipeline.cues --coverage docs/cue_coverage.md"


def test_dev_pages_positive_pages_show_more_cue_groups(shared_dir):
    """On the labelled dev pages, CSEI pages cover more cue groups than hard negatives."""
    import json

    import lxml.html

    root = shared_dir / "data" / "csei-dev-pages"
    pos, neg = [], []
    for name in ("labels-cee.jsonl", "labels-west.jsonl"):
        for line in (root / name).read_text("utf-8").splitlines():
            r = json.loads(line)
            raw = (root / r["file"]).read_bytes().decode(r.get("encoding", "utf-8"), errors="replace")
            doc = lxml.html.fromstring(raw)
            for bad in doc.xpath("//script|//style"):
                bad.drop_tree()
            text = doc.text_content()
            spans = cues.match(text, r["lang"])
            assert all(text[s.start:s.end] == s.text for s in spans)
            share = cues.cue_features(spans)[cues.FEATURE_NAMES.index("cues:group_share")]
            (pos if r["is_csei"] else neg).append(share)
    assert len(pos) == 44 and len(neg) == 44
    assert np.mean(pos) > np.mean(neg) + 0.05
