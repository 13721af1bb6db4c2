"""Country inference from TLD, addresses, names and language, on real-looking snippets."""
from __future__ import annotations

import pytest

from csei_nlp.country import CountryGuess, country_from_tld, infer_country, is_cee


@pytest.mark.parametrize("site,expected", [
    ("http://klasterspoleczny.lomza.pl/o-klastrze/", "PL"),
    ("https://www.cedra.hr/klaster/", "HR"),
    ("www.crns.org.uk", "GB"),
    ("kaspev.net", None),
    ("https://cluster.coop", None),
    ("https://example.eu/", None),
    ("", None),
    (None, None),
    ("not a url at all", None),
    ("http://[::1", None),
])
def test_tld(site, expected):
    assert country_from_tld(site) == expected


@pytest.mark.parametrize("lang,text,expected", [
    ("pl", "Stowarzyszenie „Razem”, ul. Długa 5, 18-400 Łomża, tel. +48 86 215 00 00", "PL"),
    ("cs", "Sociální družstvo Dílna, Karlovo nám. 1, 674 01 Třebíč", "CZ"),
    ("sk", "Občianske združenie, Hlavná 12, 080 01 Prešov", "SK"),
    ("hu", "Egyesület, H-4024 Debrecen, Piac utca 20.", "HU"),
    ("ro", "Asociația, Str. Mărășești 1, 600093 Bacău, România", "RO"),
    ("bg", "Кооперативен клъстер, ул. Раковски 99, 1000 София, тел. +359 2 000 0000", "BG"),
    ("hr", "Udruga CEDRA, Ulica 3, HR-20000 Dubrovnik", "HR"),
    ("sl", "Zadruga, Mestni trg 1, SI-3210 Slovenske Konjice", "SI"),
    ("lt", "Pasvalio r. VVG, Vytauto Didžiojo a. 1, LT-39143 Pasvalys", "LT"),
    ("lv", "Biedrība, Rīgas iela 2, Līvāni, LV-5316", "LV"),
    ("uk", "ГО «Тепле місто», м. Івано-Франківськ, тел. +380 342 00 00 00", "UA"),
    ("sr", "Klaster, Bulevar oslobođenja 1, 21000 Novi Sad, Srbija", "RS"),
    ("sr", "Кластер, Булевар ослобођења 1, 21000 Нови Сад", "RS"),
    ("de", "Verein, Hauptstraße 1, D-04109 Leipzig, Deutschland", "DE"),
    ("fr", "Pôle, 12 rue de la Paix, 21000 Dijon, France", "FR"),
])
def test_addresses_without_site(lang, text, expected):
    g = infer_country(None, [text], lang)
    assert g.country == expected, g
    assert g.confidence > 0.3 and g.evidence
    assert all(e.endswith(f"-> {expected}") for e in g.evidence)


def test_tld_and_text_agree_gives_high_confidence():
    g = infer_country("https://klasterspoleczny.lomza.pl", ["Klaster, 18-400 Łomża, +48 86 000 00 00"], "pl")
    assert g.country == "PL" and g.confidence > 0.9
    only_tld = infer_country("https://klasterspoleczny.lomza.pl", [], None)
    assert only_tld.country == "PL" and only_tld.confidence < g.confidence


def test_language_alone_is_a_weak_prior():
    sl = infer_country(None, ["Zadruga povezuje društva in podjetja."], "sl")
    assert sl.country == "SI" and 0 < sl.confidence < 0.5
    en = infer_country(None, ["The cooperative brings together local groups."], "en")
    assert en == CountryGuess(None, 0.0, [], {})
    de = infer_country(None, ["Die Genossenschaft arbeitet mit Vereinen."], "de")
    assert de.country is None  # German points to four countries


def test_text_outweighs_generic_tld_and_wrong_language():
    g = infer_country("https://cluster.coop", ["Кооперативен клъстер, гр. Пловдив, България"], "en")
    assert g.country == "BG"


def test_swedish_postcode_is_not_slovak():
    g = infer_country(None, ["Föreningen, Storgatan 1, 826 80 Söderhamn"], "sv")
    assert g.country == "SE"


def test_conflicting_evidence_lowers_confidence():
    clear = infer_country(None, ["Stowarzyszenie, 18-400 Łomża, +48 86 000 00 00"], "pl")
    mixed = infer_country(None, ["Stowarzyszenie, 18-400 Łomża, +48 86 000 00 00",
                                 "Partnerem jest Verein aus Leipzig, Deutschland."], "pl")
    assert mixed.country == "PL" and mixed.confidence < clear.confidence
    assert mixed.scores["DE"] > 0


def test_bad_inputs_do_not_crash():
    assert infer_country(None, [], None).country is None
    assert infer_country("", ["", None], "und").country is None  # type: ignore[list-item]
    assert infer_country("http://[::1", ["x" * 300_000], "zz").country is None


def test_is_cee_reexported():
    assert is_cee("UA") and not is_cee("FR")


def test_dev_pages_country_accuracy(shared_dir):
    """The 88 labelled dev pages (22 languages): country from site + page text + language."""
    import json

    import lxml.html

    root = shared_dir / "data" / "csei-dev-pages"
    n = with_site = text_only = 0
    for name in ("labels-cee.jsonl", "labels-west.jsonl"):
        for line in (root / name).read_text("utf-8").splitlines():
            r = json.loads(line)
            raw = (root / r["file"]).read_bytes().decode(r.get("encoding", "utf-8"), errors="replace")
            doc = lxml.html.fromstring(raw)
            for bad in doc.xpath("//script|//style"):
                bad.drop_tree()
            text = doc.text_content()
            n += 1
            with_site += infer_country(r["site"], [text], r["lang"]).country == r["country"]
            text_only += infer_country(None, [text], r["lang"]).country == r["country"]
    assert n == 88
    assert with_site / n >= 0.95  # measured 86/88
    assert text_only / n >= 0.88  # measured 82/88
