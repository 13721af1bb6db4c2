"""The multilingual consent filter: banners go, content that mentions cookies stays."""
from __future__ import annotations

import pytest

from csei_nlp.pipeline.extract.consent import filter_consent, is_button_line, is_consent_text

# Banner sentences written for these tests, one or more per language.
BANNERS = {
    "en": "We use cookies to give you the best experience on our website.",
    "pl": "Ta strona korzysta z plików cookie. Korzystając z serwisu, wyrażasz zgodę na ich użycie.",
    "pl2": "Akceptuję pliki cookie i politykę prywatności.",
    "cs": "Tento web používá soubory cookie. Pokračováním souhlasíte s jejich použitím.",
    "sk": "Naša stránka používa cookies, aby sme vám uľahčili prehliadanie.",
    "hu": "A weboldal sütiket használ. A böngészés folytatásával hozzájárul a sütik használatához.",
    "de": "Diese Website verwendet Cookies. Mit der Nutzung stimmen Sie der Datenschutzerklärung zu.",
    "fr": "Ce site utilise des cookies pour mesurer l'audience. Vous pouvez les accepter ou les refuser.",
    "es": "Utilizamos cookies propias y de terceros para mejorar tu experiencia de navegación.",
    "it": "Questo sito utilizza cookie tecnici e, previo consenso, cookie di profilazione.",
    "pt": "Este sítio utiliza cookies para melhorar a sua experiência. Ao continuar, aceita a sua utilização.",
    "nl": "Wij gebruiken cookies om onze website te verbeteren. Gaat u akkoord?",
    "da": "Vi bruger cookies for at give dig en bedre oplevelse af hjemmesiden.",
    "sv": "Vi använder kakor för att webbplatsen ska fungera bra. Godkänn eller läs mer.",
    "fi": "Käytämme evästeitä parantaaksemme sivuston käyttökokemusta. Hyväksy evästeet jatkaaksesi.",
    "et": "See veebileht kasutab küpsiseid. Jätkates nõustute küpsiste kasutamisega.",
    "lv": "Šī vietne izmanto sīkdatnes, lai uzlabotu lietošanas pieredzi. Turpinot jūs piekrītat.",
    "lt": "Ši svetainė naudoja slapukus. Naršydami toliau sutinkate su slapukų naudojimu.",
    "ro": "Acest site folosește cookie-uri. Continuarea navigării înseamnă acceptarea lor.",
    "bg": "Този сайт използва бисквитки, за да подобри вашето преживяване.",
    "hr": "Ova stranica koristi kolačiće. Nastavkom pregledavanja prihvaćate njihovu upotrebu.",
    "sr": "Овај сајт користи колачиће да би вам пружио боље искуство.",
    "sl": "Spletna stran uporablja piškotke. Z nadaljnjo uporabo se strinjate z njihovo rabo.",
    "el": "Αυτός ο ιστότοπος χρησιμοποιεί cookies για να βελτιώσει την εμπειρία σας.",
    "uk": "Ми використовуємо файли cookie, щоб сайт працював краще.",
    "mk": "Оваа веб-страница користи колачиња. Со продолжување се согласувате.",
    "sq": "Kjo faqe përdor cookies për t'ju ofruar përvojën më të mirë.",
    "mt": "Dan is-sit juża l-cookies. Jekk tkompli, inti taċċetta l-kunsens.",
    "ga": "Úsáideann an suíomh seo fianáin. Glac leo chun leanúint ar aghaidh.",
}

CONTENT = [
    "Our bakery employs young people leaving care; our oatmeal cookies are sold in twelve shops in Gdańsk.",
    "Spółdzielnia piecze ciasteczka owsiane i zatrudnia osoby z niepełnosprawnościami.",
    "Members meet every month to decide together how the surplus is used in the region.",
    "Die Genossenschaft betreibt eine Bäckerei; die Kekse werden in Schulen verkauft.",
]


@pytest.mark.parametrize("lang", sorted(BANNERS))
def test_banner_sentences_are_found(lang):
    assert is_consent_text(BANNERS[lang]), lang


@pytest.mark.parametrize("text", CONTENT)
def test_content_is_kept(text):
    assert not is_consent_text(text)
    assert filter_consent(text).text == text


def test_long_privacy_paragraph_is_content():
    long = ("The cooperative explains in its privacy policy how cookies and personal data are handled. " * 10).strip()
    assert not is_consent_text(long)


def test_filter_removes_banner_and_adjacent_buttons_only():
    text = "\n".join([
        BANNERS["hu"],
        "Elfogadom",
        "Beállítások",
        "Kik vagyunk?",
        "A szövetkezet 2018-ban jött létre, tagjai közösen működtetik a helyi pékséget és a piacot.",
        "OK",  # far from any banner: content of some list, kept
    ])
    res = filter_consent(text)
    assert res.removed == [BANNERS["hu"], "Elfogadom", "Beállítások"]
    assert res.text.startswith("Kik vagyunk?") and res.text.endswith("OK")
    assert 0.3 < res.banner_share < 0.7


def test_buttons_across_languages():
    for b in ("Alle akzeptieren", "Rozumiem", "Souhlasím", "Elfogadom", "Погоджуюсь", "Accetto", "J'accepte", "Nur notwendige"):
        assert is_button_line(b), b
    assert not is_button_line("Spółdzielnia socjalna")


def test_nothing_to_remove():
    res = filter_consent("Prvi odstavek.\n\nDrugi odstavek.")
    assert res.removed == [] and res.banner_share == 0.0 and res.text == "Prvi odstavek.\n\nDrugi odstavek."
