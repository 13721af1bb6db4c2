"""Page chrome (menus, language switchers, cookie text) is removed from exported text, content stays."""
from __future__ import annotations

from csei_nlp import config
from csei_nlp.pipeline.extract.chrome import is_language_switcher, strip_chrome
from csei_nlp.pipeline.process import process
from csei_nlp.types import RawInput

CONTENT = (
    "O nas\n"
    "Klaster Ekonomii Społecznej Doliny Bobru łączy spółdzielnie socjalne, lokalne firmy, gminę Lwówek "
    "i szkołę zawodową, które razem prowadzą pralnię, catering i warsztat naprawczy.\n"
    "Członkowie:\n"
    "Spółdzielnia Socjalna Nad Bobrem – catering\n"
    "Gmina Lwówek Śląski\n"
    "Zespół Szkół Zawodowych w Lwówku Śląskim\n"
    "O wspólnych inwestycjach decyduje walne zgromadzenie, w którym każdy członek ma jeden głos.\n"
    "ul. Szkolna 4, 59-600 Lwówek Śląski"
)
CHROME = (
    "Ta strona używa plików cookies. Korzystając ze strony wyrażasz zgodę na ich używanie "
    "zgodnie z polityką prywatności.\nAkceptuję\n"
    "Strona główna\nO klastrze\nCzłonkowie\nAktualności\nKontakt\nPL | EN | DE\n"
)


def test_leading_menu_switcher_and_cookie_text_go_content_stays():
    r = strip_chrome(CHROME + CONTENT)
    assert r.text == CONTENT
    assert "PL | EN | DE" in r.removed and "Aktualności" in r.removed
    assert any("cookies" in line for line in r.removed)


def test_a_members_list_inside_the_page_is_content():
    r = strip_chrome(CONTENT)
    assert r.text == CONTENT and r.removed == []


def test_a_page_that_is_all_short_lines_is_kept_as_it_came():
    text = "Start\nO nas\nKontakt\nTel. 123 456 789"
    assert strip_chrome(text).text == text


def test_language_switchers():
    assert is_language_switcher("EN | PL | DE")
    assert is_language_switcher("English Polski Deutsch")
    assert not is_language_switcher("Gmina Lwówek")


def test_scanned_text_is_the_same_with_or_without_chrome():
    cfg = config.load()
    plain = process(RawInput(source="a.jsonl", offset=1, media="text", data=CONTENT), cfg)
    noisy = process(RawInput(source="a.jsonl", offset=2, media="text", data=CHROME + CONTENT), cfg)
    assert plain.status == noisy.status == "ok"
    assert noisy.text == plain.text
    assert [p.text for p in noisy.passages] == [p.text for p in plain.passages]
    assert noisy.meta["chrome_lines_removed"] >= 8
