"""The bundled sample corpus (corpora/sample) and the bad-input fixtures are what they claim.

The sample is the first thing a user scans and the reference for checking the
ranking by eye, so its labels (manifest.jsonl) must match the files: languages,
charsets, html lang attributes, canonical URLs, which pages sit in the WARC. The
generated parts (WARC, JSONL, broken files) must be reproducible byte for byte.
"""
from __future__ import annotations

import codecs
import gzip
import importlib.util
import json
import re
import zipfile
from collections import Counter
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

import lxml.html
import pytest
from warcio.archiveiterator import ArchiveIterator

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "corpora" / "sample"
SRC = REPO / "corpora" / "tools" / "sample_src"
BAD = Path(__file__).resolve().parent / "fixtures" / "bad"

CEE_LANGS = {"pl", "cs", "sk", "hu", "ro", "bg", "hr", "sl", "lt", "lv", "et", "uk"}
KINDS = {"csei", "industrial_cluster", "single_se", "policy_page", "federation", "news_other"}
REQUIRED = ("id", "path", "url", "site", "lang", "html_lang", "charset", "charset_source",
            "kind", "is_csei", "org", "country", "cee")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def builder() -> ModuleType:
    return _load("build_sample", REPO / "corpora" / "tools" / "build_sample.py")


@pytest.fixture(scope="module")
def make_bad() -> ModuleType:
    return _load("make_bad", BAD / "make_bad.py")


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    return [json.loads(line) for line in (SAMPLE.parent / "sample.manifest.jsonl").read_text("utf-8").splitlines() if line]


@pytest.fixture(scope="module")
def pages(rows) -> list[dict]:
    """Manifest rows that are HTML pages (loose or in the WARC), not JSONL records."""
    return [r for r in rows if r["path"] != "jsonl/extracted.jsonl"]


def _page_bytes(row: dict) -> bytes:
    return (SAMPLE / row["path"]).read_bytes() if row["path"].startswith("web/") else (SRC / row["source"]).read_bytes()


def _main_text(html: str) -> str:
    doc = lxml.html.fromstring(html)
    for xp in ("//main", "//article", "//div[@id='content']"):
        found = doc.xpath(xp)
        if found:
            return " ".join(found[0].text_content().split())
    raise AssertionError("no <main>, <article> or div#content")


def _codec(name: str) -> str:
    return codecs.lookup(name).name


def test_manifest_rows_are_complete_and_consistent(rows):
    assert len(rows) >= 40
    for r in rows:
        missing = [k for k in REQUIRED if k not in r]
        assert not missing, f"{r.get('id')}: missing {missing}"
        assert r["kind"] in KINDS, r["id"]
        assert r["is_csei"] == (1 if r["kind"] == "csei" else 0), r["id"]
        assert r["cee"] == (r["lang"] in CEE_LANGS), r["id"]
        assert urlsplit(r["url"]).hostname.removeprefix("www.") == r["site"], r["id"]
    assert len({r["id"] for r in rows}) == len(rows)
    assert len({r["url"] for r in rows}) == len(rows)


def test_sample_covers_languages_and_hard_negatives(pages):
    langs = {r["lang"] for r in pages}
    assert len(langs) >= 12, sorted(langs)
    assert len(langs & CEE_LANGS) >= 6, sorted(langs & CEE_LANGS)
    for lang in langs:
        kinds = {r["kind"] for r in pages if r["lang"] == lang}
        assert "csei" in kinds and kinds - {"csei"}, f"{lang}: needs a positive and a hard negative, has {kinds}"
    # Every kind of hard negative is represented.
    assert {r["kind"] for r in pages} == KINDS
    # Some organisations have two pages on one site (about + members).
    per_site = Counter(r["site"] for r in pages if r["kind"] == "csei")
    assert sum(1 for n in per_site.values() if n >= 2) >= 4


def test_every_page_decodes_with_its_declared_charset(pages):
    legacy = Counter()
    for r in pages:
        data = _page_bytes(r)
        text = data.decode(r["charset"])  # strict: raises on a wrong label
        declared = re.search(rb"<meta[^>]+charset=[\"']?([\w-]+)", data, re.I)
        if "meta" in r["charset_source"]:
            assert declared, f"{r['id']}: manifest says meta charset, page has none"
            assert _codec(declared.group(1).decode()) == _codec(r["charset"]), r["id"]
        else:
            assert declared is None, f"{r['id']}: page declares a charset the manifest does not record"
        if _codec(r["charset"]) != "utf-8":
            legacy[_codec(r["charset"])] += 1
            with pytest.raises(UnicodeDecodeError):
                data.decode("utf-8")  # the label matters: these bytes are not UTF-8
            assert any(ord(ch) > 127 for ch in text), r["id"]
    assert set(legacy) >= {"cp1250", "cp1251", "cp1257", "iso8859-2"}, legacy


def test_html_lang_attribute_and_head_metadata_match_manifest(pages):
    for r in pages:
        doc = lxml.html.fromstring(_page_bytes(r).decode(r["charset"]))
        assert doc.get("lang") == r["html_lang"], r["id"]
        assert doc.xpath("string(//link[@rel='canonical']/@href)") == r["url"], r["id"]
        assert doc.xpath("string(//meta[@property='og:url']/@content)") == r["url"], r["id"]
        assert doc.xpath("string(//title)").strip(), r["id"]
        assert doc.xpath("string(//meta[@name='description']/@content)").strip(), r["id"]
    wrong = [r["id"] for r in pages if r["html_lang"] and r["html_lang"].split("-")[0] != r["lang"]]
    absent = [r["id"] for r in pages if not r["html_lang"]]
    assert len(wrong) >= 2 and len(absent) >= 2, (wrong, absent)


def test_main_content_length_and_language_labels(pages):
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    for r in pages:
        main = _main_text(_page_bytes(r).decode(r["charset"]))
        n_words = len(main.split())
        assert 120 <= n_words <= 320, f"{r['id']}: {n_words} words of main content"
        assert detect(main) == r["lang"], f"{r['id']}: main text does not read as {r['lang']}"
    mixed = [r for r in pages if r.get("mixed")]
    assert mixed, "expected at least one mixed-language page"
    for r in mixed:
        paragraphs = lxml.html.fromstring(_page_bytes(r).decode(r["charset"])).xpath("//main//p")
        found = {detect(p.text_content()) for p in paragraphs if len(p.text_content()) > 200}
        assert set(r["mixed"]) <= found, (r["id"], found)


def test_loose_pages_are_labelled_grouped_by_site_and_not_in_the_warc(builder, rows):
    builder.validate(rows)  # raises SampleError naming the file otherwise
    loose = [r for r in rows if r["path"].startswith("web/")]
    packed = [r for r in rows if r["path"] == "crawl/sample.warc.gz"]
    for r in loose:
        assert r["path"].split("/")[1] == r["site"], r["id"]
    assert not {r["url"] for r in loose} & {r["url"] for r in packed}
    # About a third of the pages are packed into the WARC.
    assert len(loose) + len(packed) >= 40
    assert 0.25 <= len(packed) / (len(loose) + len(packed)) <= 0.4


def test_warc_has_expected_records_and_payloads(rows):
    packed = {r["url"]: r for r in rows if r["path"] == "crawl/sample.warc.gz"}
    types: Counter = Counter()
    responses: dict[str, str] = {}
    statuses: dict[str, str] = {}
    revisits, metadata = [], []
    with open(SAMPLE / "crawl" / "sample.warc.gz", "rb") as fh:
        for rec in ArchiveIterator(fh):
            types[rec.rec_type] += 1
            uri = rec.rec_headers.get_header("WARC-Target-URI")
            if rec.rec_type == "response":
                statuses[uri] = rec.http_headers.get_statuscode()
                responses[rec.rec_headers.get_header("WARC-Record-ID")] = uri
                body = rec.content_stream().read()
                if statuses[uri] != "200":
                    continue
                row = packed[uri]
                assert body == (SRC / row["source"]).read_bytes(), uri
                ctype = rec.http_headers.get_header("Content-Type")
                m = re.search(r"charset=([\w-]+)", ctype)
                assert (m.group(1) if m else None) == row["http_charset"], uri
                body.decode(row["http_charset"] or row["charset"])
            elif rec.rec_type == "revisit":
                revisits.append(rec.rec_headers.get_header("WARC-Refers-To-Target-URI"))
            elif rec.rec_type == "metadata":
                metadata.append(rec.rec_headers.get_header("WARC-Concurrent-To"))
    n = len(packed)
    assert types == Counter(warcinfo=1, request=n + 1, response=n + 1, revisit=1, metadata=1)
    assert {u for u, s in statuses.items() if s == "200"} == set(packed)
    assert sorted(s for s in statuses.values() if s != "200") == ["404"]
    assert revisits[0] in packed and metadata[0] in responses


def test_build_is_deterministic_and_matches_committed_files(builder, tmp_path):
    first = builder.build(out_dir=tmp_path / "a")
    second = builder.build(out_dir=tmp_path / "b")
    assert first == second and len(first) >= 7
    for rel in first:
        a = (tmp_path / "a" / rel).read_bytes()
        assert a == (tmp_path / "b" / rel).read_bytes(), rel
        committed = (SAMPLE / rel).read_bytes()
        if rel.endswith(".gz") and a != committed:
            # Say which half differs: the content, or only the deflate encoding.
            same_content = _gunzip_lenient(a) == _gunzip_lenient(committed)
            pytest.fail(f"{rel} differs from the committed file "
                        f"({'only the gzip encoding' if same_content else 'the content'}); "
                        "run corpora/tools/build_sample.py")
        assert a == committed, f"{rel} is out of date; run corpora/tools/build_sample.py"


def _gunzip_lenient(data: bytes) -> bytes:
    import zlib

    out, rest = b"", data
    while rest:
        d = zlib.decompressobj(31)
        out += d.decompress(rest)
        if not d.eof:
            break
        rest = d.unused_data
    return out


def test_build_refuses_an_unlabelled_page(builder, tmp_path):
    import shutil

    sample = tmp_path / "sample"
    shutil.copytree(SAMPLE / "web", sample / "web")
    shutil.copy(SAMPLE.parent / "sample.manifest.jsonl", tmp_path / "sample.manifest.jsonl")
    stray = sample / "web" / "example.pl" / "index.html"
    stray.parent.mkdir()
    stray.write_text("<html><body>stray</body></html>")
    with pytest.raises(builder.SampleError, match="example.pl/index.html"):
        builder.build(sample_dir=sample, out_dir=tmp_path / "out")


def test_broken_inputs(rows):
    broken = SAMPLE / "broken"
    assert (broken / "empty-page.html").stat().st_size == 0
    blob = (broken / "image-saved-as-page.html").read_bytes()
    assert b"\x00" in blob[:64]
    with pytest.raises(UnicodeDecodeError):
        blob.decode("utf-8")
    cut = (broken / "truncated-crawl.warc.gz").read_bytes()
    with pytest.raises(EOFError):
        gzip.decompress(cut)
    partial = _gunzip_lenient(cut)
    declared = [int(m) for m in re.findall(rb"\r\nContent-Length: (\d+)\r\n", partial)]
    assert b"WARC-Type: response" in partial and len(partial) < sum(declared)
    assert zipfile.is_zipfile(broken / "meeting-minutes-2023.docx")
    assert (broken / "logo.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_jsonl_records(rows):
    lines = (SAMPLE / "jsonl" / "extracted.jsonl").read_text("utf-8").splitlines()
    recs = [json.loads(line) for line in lines]
    labelled = {r["line"]: r for r in rows if r["path"] == "jsonl/extracted.jsonl"}
    assert len(recs) == len(labelled) == 4
    shapes = Counter(tuple(sorted(rec)) for rec in recs)
    assert shapes == Counter({("lang", "text", "url"): 3, ("html", "url"): 1})
    for i, rec in enumerate(recs, 1):
        assert rec["url"] == labelled[i]["url"]
        if "lang" in rec:
            assert rec["lang"] == labelled[i]["lang"] and len(rec["text"].split()) >= 100


def test_bad_fixtures_are_up_to_date_and_bad_in_the_stated_way(make_bad, tmp_path):
    built = make_bad.build()
    for name, data in built.items():
        assert (BAD / name).read_bytes() == data, f"{name} out of date; run tests/fixtures/bad/make_bad.py"
    czech = (BAD / "cs-cp1250-nometa.html").read_bytes()
    assert b"charset" not in czech.lower() and not czech.startswith(codecs.BOM_UTF8)
    with pytest.raises(UnicodeDecodeError):
        czech.decode("utf-8")
    assert "Žďárek" in czech.decode("windows-1250")
    assert "Žďárek" not in czech.decode("iso-8859-2")
    for name in ("truncated.warc.gz", "truncated-in-header.warc.gz"):
        with pytest.raises(EOFError):
            gzip.decompress((BAD / name).read_bytes())
    assert (BAD / "empty.html").stat().st_size == 0
    assert b"\x00" in (BAD / "binary.html").read_bytes()[:32]
    huge = make_bad.write_huge_html(tmp_path / "huge.html", 3_000_000)
    assert huge.stat().st_size >= 3_000_000
    assert huge.read_bytes()[-15:] == b"</body></html>\n"
