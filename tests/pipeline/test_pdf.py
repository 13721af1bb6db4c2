"""PDF reading: statuses, reading order, clean-up, on real (generated) PDFs.

The fixtures come from tests/fixtures/pdf/make_fixtures.py, whose source text the
tests import, so expectations are compared with what was actually drawn.
"""
from __future__ import annotations

import importlib.util
import random
import re
from pathlib import Path

import pytest

from csei_nlp import config
from csei_nlp.errors import ConfigError
from csei_nlp.pipeline.extract.pdf import (
    ENGINES,
    PdfResult,
    dehyphenate,
    extract_pdf,
    normalize_text,
)

HERE = Path(__file__).resolve().parent
PDF_DIR = HERE.parent / "fixtures" / "pdf"
REPO = HERE.parents[1]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fx = _load(PDF_DIR / "make_fixtures.py", "pdf_fixture_source")


def read(name: str, cfg, engine: str = "pdfplumber", **pdf) -> PdfResult:
    cfg = config.merge(cfg, {"pdf": dict(engine=engine, **pdf)})
    path = PDF_DIR / name if "/" not in name else REPO / name
    return extract_pdf(path.read_bytes(), str(path), cfg)


def flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# --- good files ---------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_single_column_reads_every_page_with_central_european_letters(cfg, engine):
    r = read("single_column.pdf", cfg, engine)
    assert (r.status, r.reason) == ("ok", "")
    assert r.meta["n_pages"] == r.meta["pages_read"] == 3 and len(r.pages) == 3
    assert r.meta["columns_per_page"] == [1, 1, 1]
    assert "dobrovoľníci z okolitých obcí" in r.pages[1]
    assert "Ďalší krok je spoločná kuchyňa" in r.pages[1]
    # Lines of a single-column page keep their order.
    first = flat(r.pages[0])
    assert first.index("The Valley Makers Partnership brings") < first.index("Since 2019") < first.index(
        "Residents are invited"
    )
    assert r.meta["fffd_count"] == 0 and r.meta["cid_ratio"] == 0.0


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["two_column.pdf", "two_column_row_by_row.pdf"])
def test_two_column_page_reads_left_column_then_right(cfg, engine, name):
    r = read(name, cfg, engine)
    assert r.status == "ok"
    assert r.meta["columns_per_page"] == [2] and r.meta["columns_detected"] == 1
    text = flat(r.text)
    positions = []
    for sentence in fx.TWO_COLUMN_LEFT + fx.TWO_COLUMN_RIGHT:
        # Each sentence comes out whole: its lines are not interleaved with the other column.
        assert sentence in text, f"sentence broken up or missing: {sentence!r}"
        positions.append(text.index(sentence))
    assert positions == sorted(positions)
    assert text.startswith(fx.TWO_COLUMN_TITLE)
    assert text.rstrip().endswith(fx.TWO_COLUMN_FOOTER)


def test_plain_extractors_interleave_the_two_column_fixtures():
    """The fixtures reproduce the problem: pdfplumber's own text mixes the columns, and so
    does PDFium's when the content stream runs across the page."""
    import pdfplumber
    import pypdfium2 as pdfium

    with pdfplumber.open(PDF_DIR / "two_column.pdf") as pdf:
        naive = flat(pdf.pages[0].extract_text())
    assert fx.TWO_COLUMN_LEFT[0] not in naive
    doc = pdfium.PdfDocument(PDF_DIR / "two_column_row_by_row.pdf")
    naive = flat(doc[0].get_textpage().get_text_range())
    doc.close()
    assert fx.TWO_COLUMN_LEFT[0] not in naive


def test_report_tables_are_not_mistaken_for_columns(cfg, repo_dir):
    """The GECES excerpt has case-list tables (name, country, website): no page is split."""
    r = read("corpora/sample/reports/geces_csei_report_2021_excerpt.pdf", cfg)
    assert r.status == "ok" and r.meta["n_pages"] >= 15
    assert r.meta["columns_detected"] == 0
    assert r.pages[0].startswith("Source: European Commission, GECES sub-group report")
    assert "Clusters of Social and Ecological Innovation" in r.text


@pytest.mark.parametrize("engine", ENGINES)
def test_sample_newsletter_columns_keep_slovak_paragraphs_whole(cfg, engine):
    tools = _load(REPO / "corpora" / "tools" / "make_pdfs.py", "sample_pdf_source")
    r = read("corpora/sample/reports/spravodajca_partnerstvo_dolna_luka.pdf", cfg, engine)
    assert r.status == "ok" and r.meta["columns_detected"] >= 1
    text = flat(r.text)
    paragraphs = [t for kind, t in tools.NEWSLETTER if kind == "p"]
    positions = [text.find(p) for p in paragraphs]
    assert -1 not in positions, [p[:40] for p, i in zip(paragraphs, positions) if i < 0]
    assert positions == sorted(positions)


# --- clean-up -----------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_line_end_hyphens_joined_or_kept_in_real_pdf(cfg, engine):
    r = read("single_column.pdf", cfg, engine)
    text = flat(r.text)
    assert "yearly innovation report" in text  # "innovation" occurs elsewhere
    assert "where the participation of tenants" in text  # "partici" is no word
    assert "local social-economy strategy" in text  # both parts are words
    assert "Táto spolupráca priniesla" in text  # "Spolupráca" occurs elsewhere
    assert "fördert Sozial- und Umweltinnovation" in text  # suspended hyphen
    assert r.meta["hyphens_joined"] == 3 and r.meta["hyphens_kept"] == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("new inno-\nvation here", "new innovation here"),
        ("the work-\nshop; a workshop", "the workshop; a workshop"),
        ("work and shop: the work-\nshop", "work and shop: the work-shop"),
        ("a well-known case, well-\nknown", "a well-known case, well-known"),
        ("Sozial-\nund Umweltinnovation", "Sozial- und Umweltinnovation"),
        ("sociálne-\na environmentálne", "sociálne- a environmentálne"),
        ("die EU-\nKommission", "die EU-Kommission"),
        ("COVID-\n19 crisis", "COVID-\n19 crisis"),
        ("left column ends inno-\n\nvation", "left column ends innovation"),
    ],
)
def test_dehyphenate_rules(text, expected):
    assert dehyphenate(text) == expected


def test_ligatures_in_the_pdf_come_out_as_letters(cfg):
    import pdfplumber

    with pdfplumber.open(PDF_DIR / "ligatures.pdf") as pdf:
        glyphs = {c["text"] for c in pdf.pages[0].chars}
    assert {"\ufb01", "\ufb02", "\ufb03"} <= glyphs  # the fixture really has ligature glyphs
    r = read("ligatures.pdf", cfg)
    assert "The financial office reflects on efficient financing" in r.text
    assert not re.search("[\ufb00-\ufb06]", r.text)


def test_normalize_text_touches_only_ligatures_accents_and_soft_hyphens():
    assert normalize_text("e\ufb03cient \ufb01rms") == "efficient firms"
    assert normalize_text("Z\u030cilina, c\u030casopis") == "Žilina, časopis"  # NFC
    assert normalize_text("innovation² ½ ™") == "innovation² ½ ™"  # no blanket NFKC
    assert normalize_text("Partner\u00adschaft und Ge\u00ad\nmeinde") == "Partnerschaft und Gemeinde"


# --- statuses -----------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_password_protected_pdf_is_encrypted(cfg, engine):
    r = read("encrypted.pdf", cfg, engine)
    assert (r.status, r.reason, r.text) == ("failed", "encrypted", "")
    assert "encrypted.pdf" in r.detail and "password" in r.detail


@pytest.mark.parametrize("engine", ENGINES)
def test_encryption_with_empty_user_password_opens(cfg, engine):
    r = read("encrypted_empty_user_password.pdf", cfg, engine)
    assert r.status == "ok" and "Valley Makers Partnership" in r.text


@pytest.mark.parametrize("engine", ENGINES)
def test_scanned_pdf_has_no_text_layer(cfg, engine):
    r = read("scanned.pdf", cfg, engine)
    assert (r.status, r.reason) == ("failed", "no_text_layer")
    assert r.meta["n_pages"] == 1 and "OCR" in r.detail


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("name", ["truncated.pdf", "corpora/sample/broken/spravodajca_truncated.pdf"])
def test_truncated_download_is_reported(cfg, engine, name):
    r = read(name, cfg, engine)
    assert (r.status, r.reason) == ("failed", "truncated")
    assert Path(name).name in r.detail and "%%EOF" in r.detail


@pytest.mark.parametrize("engine", ENGINES)
def test_garbage_after_header_and_non_pdf_are_corrupt(cfg, engine):
    assert read("garbage_after_header.pdf", cfg, engine).reason == "corrupt"
    c = config.merge(cfg, {"pdf": {"engine": engine}})
    r = extract_pdf(b"<!doctype html><html><body>Not found</body></html>", "page.pdf", c)
    assert (r.status, r.reason) == ("failed", "corrupt") and "page.pdf: not a PDF" in r.detail
    r = extract_pdf(b"", "empty.pdf", c)
    assert (r.status, r.reason) == ("skipped", "empty")


def test_cid_garbage_page_is_unextractable(cfg):
    r = read("cid_garbage.pdf", cfg)
    assert (r.status, r.reason) == ("failed", "cid_garbage")
    assert r.meta["cid_pages"] == [1] and r.meta["cid_ratio"] > 0.9


def test_cid_garbage_page_is_dropped_from_a_mixed_file(cfg):
    r = read("cid_mixed.pdf", cfg)
    assert r.status == "ok" and r.meta["cid_pages"] == [2]
    assert r.pages[1] == "" and "(cid:" not in r.text
    assert "Valley Makers Partnership" in r.pages[0]
    # A looser threshold accepts the page as text (the garbage tokens are removed).
    assert read("cid_mixed.pdf", cfg, max_cid_ratio=1.0).meta["cid_pages"] == []


@pytest.mark.parametrize("engine", ENGINES)
def test_page_cap_is_recorded(cfg, engine):
    r = read("single_column.pdf", cfg, engine, max_pages=1)
    assert r.status == "ok" and len(r.pages) == 1
    assert (r.meta["pages_read"], r.meta["truncated_pages"], r.meta["capped"]) == (1, 2, True)
    assert "first 1 of 3 pages" in r.detail
    assert "Sociálna ekonomika" not in r.text


def test_wall_clock_limit_stops_reading(cfg):
    r = read("single_column.pdf", cfg, timeout_s=1e-9)
    assert (r.status, r.reason, r.text) == ("failed", "timeout", "")
    assert "stopped after 1 of 3 pages" in r.detail
    assert len(r.pages) == 1 and "Valley Makers" in r.pages[0]


@pytest.mark.parametrize("engine", ENGINES)
def test_damaged_bytes_never_raise(cfg, engine):
    rng = random.Random(3)
    good = (PDF_DIR / "two_column.pdf").read_bytes()
    variants = [good[:n] for n in (9, 200, len(good) // 2, len(good) - 10)]
    for _ in range(12):
        data = bytearray(good)
        for _ in range(40):
            data[rng.randrange(len(data))] = rng.randrange(256)
        variants.append(bytes(data))
    for data in variants:
        r = read_bytes(data, cfg, engine)
        assert isinstance(r, PdfResult)
        assert r.status in ("ok", "failed", "skipped")
        assert r.status == "ok" or (r.reason and "damaged.pdf" in r.detail)


def read_bytes(data: bytes, cfg, engine: str) -> PdfResult:
    c = config.merge(cfg, {"pdf": {"engine": engine}})
    return extract_pdf(data, "damaged.pdf", c)


# --- configuration ------------------------------------------------------------------------


def test_bad_pdf_configuration_fails_fast(cfg):
    with pytest.raises(ConfigError, match="engine"):
        config.load(overrides={"pdf": {"engine": "tesseract"}})
    with pytest.raises(ConfigError, match="max_pages"):
        config.merge(cfg, {"pdf": {"max_pages": 0}})
    with pytest.raises(ConfigError, match="max_cid_ratio"):
        config.merge(cfg, {"pdf": {"max_cid_ratio": 1.5}})
