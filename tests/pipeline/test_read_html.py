"""Charset decoding of crawled pages: BOM, HTTP header, <meta>, html lang, detector."""
from __future__ import annotations

import codecs
import json

import pytest

from csei_nlp.pipeline.read.charset import decode_html, find_meta_charset, normalize_charset

CASES = json.loads((__import__("pathlib").Path(__file__).parents[1] / "fixtures/read/charsets.json").read_text("utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c["file"] for c in CASES])
def test_legacy_fixtures_decode_to_the_written_sentence(fixtures_dir, case):
    data = (fixtures_dir / "read" / case["file"]).read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text, enc = decode_html(data)
    assert case["sentence"] in text
    expected = {"cp1250": "windows-1250", "cp1251": "windows-1251", "cp1257": "windows-1257",
                "iso-8859-2": "iso-8859-2"}[case["bytes_encoding"]]
    assert enc == expected


def test_iso_8859_2_declared_but_windows_1250_bytes(fixtures_dir):
    # š/ź/„ ” sit at 0x80-0x9F in windows-1250 and are invisible controls in ISO-8859-2.
    data = (fixtures_dir / "read" / "pl_cp1250_declared_iso88592.html").read_bytes()
    assert b"iso-8859-2" in data
    text, enc = decode_html(data)
    assert enc == "windows-1250"
    assert "„Źródło”" in text
    assert not any("\x80" <= ch <= "\x9f" for ch in text)


def test_http_charset_wins_over_meta():
    body = "<html><head><meta charset='iso-8859-2'></head><body><p>Žluťoučký kůň úpěl ďábelské ódy.</p></body></html>"
    text, enc = decode_html(body.encode("cp1250"), http_charset="windows-1250")
    assert enc == "windows-1250"
    assert "Žluťoučký kůň" in text


def test_meta_after_long_head_is_found():
    script = "<script>" + "var x = 1;\n" * 800 + "</script>"  # ~8.8 KB before the declaration
    html = f"<html><head>{script}<meta charset=\"windows-1257\"><title>t</title></head><body><p>Ąžuolų ūkis</p></body></html>"
    data = html.encode("cp1257")
    assert data.index(b"charset") > 4096
    assert find_meta_charset(data) == "cp1257"
    text, enc = decode_html(data)
    assert enc == "windows-1257" and "Ąžuolų ūkis" in text


def test_meta_in_comment_is_ignored():
    html = "<html><head><!-- <meta charset=koi8-r> --><meta charset=utf-8></head><body>Łódź</body></html>"
    assert find_meta_charset(html.encode("utf-8")) == "utf-8"


def test_latin1_label_means_windows_1252():
    assert normalize_charset("ISO-8859-1") == "cp1252"
    assert normalize_charset("latin1") == "cp1252"
    assert normalize_charset("US-ASCII") == "cp1252"
    text, enc = decode_html("<p>Prix : 20 € – «bio»</p>".encode("cp1252"), http_charset="iso-8859-1")
    assert enc == "windows-1252" and "20 € – «bio»" in text


def test_unknown_label_falls_through_to_content():
    text, enc = decode_html("<p>Zażółć gęślą jaźń</p>".encode("utf-8"), http_charset="x-no-such-charset")
    assert enc == "utf-8" and "Zażółć" in text


def test_boms():
    for bom, codec, name in ((codecs.BOM_UTF8, "utf-8", "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16")):
        data = bom + "<html><body>Šťastná Česko</body></html>".encode(codec)
        text, enc = decode_html(data, http_charset="windows-1250")  # the BOM outranks the header
        assert enc == name
        assert text.startswith("<html>") and "Šťastná" in text


def test_declared_utf8_that_is_not_utf8_is_not_trusted_blindly():
    html = "<html lang='bg'><head><meta charset='utf-8'></head><body><p>Социалното предприятие работи с общината.</p></body></html>"
    text, enc = decode_html(html.encode("cp1251"))
    assert "Социалното предприятие" in text
    assert enc == "windows-1251"


def test_detector_without_any_declaration():
    sentence = "Социалното предприятие във Варна наема младежи, напуснали домовете за деца, и им помага да започнат работа."
    html = f"<html><body><p>{sentence}</p><p>{sentence}</p></body></html>"
    text, enc = decode_html(html.encode("cp1251"))
    assert sentence in text


def test_mojibake_is_repaired_only_when_clearly_broken():
    good = "Spółdzielnia socjalna z Białegostoku łączy gminę i szkołę zawodową."
    broken = good.encode("utf-8").decode("cp1252")
    text, enc = decode_html(f"<p>{broken}</p>".encode("utf-8"))
    assert good in text and enc == "utf-8+ftfy"
    text, enc = decode_html("<p>Ça va, Ãbout «Ω»</p>".encode("utf-8"))
    assert enc == "utf-8" and "Ãbout" in text


def test_never_raises_on_garbage():
    text, enc = decode_html(bytes(range(256)) * 10)
    assert isinstance(text, str) and enc


def test_shared_dev_pages_in_legacy_charsets(shared_dir):
    docs = shared_dir / "data" / "csei-dev-pages" / "docs"
    expect = {
        "cs-02.html": ("windows-1250", "družstvo"),
        "bg-02.html": ("windows-1251", "Социално"),
        "fr-02.html": ("windows-1252", "’"),
        "et-03.html": ("iso-8859-15", "ž"),
    }
    for name, (enc, needle) in expect.items():
        text, got = decode_html((docs / name).read_bytes())
        assert got == enc, name
        assert needle.lower() in text.lower(), name
