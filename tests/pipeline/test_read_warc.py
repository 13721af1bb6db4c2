"""WARC/ARC reading: record types, statuses, lenient bodies, truncation, bad gzip layouts."""
from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from csei_nlp import config
from csei_nlp.pipeline.read import iter_inputs
from csei_nlp.pipeline.read.warc import decode_body, iter_warc

PAGE = ("<html lang='cs'><head><meta charset='windows-1250'><title>Družstvo</title></head>"
        "<body><p>Sociální družstvo v Třebíči zaměstnává lidi se znevýhodněním.</p></body></html>").encode("cp1250")
PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"


def _response(w, url, body, status="200 OK", ctype="text/html; charset=windows-1250", extra=()):
    headers = StatusAndHeaders(status, [("Content-Type", ctype), *extra], protocol="HTTP/1.1")
    rec = w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=headers,
                               warc_headers_dict={"WARC-Date": "2024-05-14T10:00:00Z"})
    w.write_record(rec)


def write_warc(path: Path, gz: bool = True) -> None:
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gz)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "test"}))
        req = StatusAndHeaders("GET / HTTP/1.1", [("Host", "druzstvo.example.cz")], is_http_request=True)
        w.write_record(w.create_warc_record("https://druzstvo.example.cz/", "request", http_headers=req))
        _response(w, "https://druzstvo.example.cz/", PAGE)
        _response(w, "https://druzstvo.example.cz/missing", b"<html>gone</html>", status="404 Not Found")
        _response(w, "https://druzstvo.example.cz/vyrocni-zprava.pdf", PDF, ctype="application/pdf")
        _response(w, "https://druzstvo.example.cz/logo.png", b"\x89PNG....", ctype="image/png")
        gz_body = gzip.compress(PAGE)
        chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(gz_body), gz_body)
        _response(w, "https://druzstvo.example.cz/chunked", chunked,
                  extra=[("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")])
        _response(w, "https://druzstvo.example.cz/liar", PAGE, extra=[("Content-Encoding", "gzip")])
        w.write_record(w.create_revisit_record("https://druzstvo.example.cz/", digest="sha1:AAAA",
                                               refers_to_uri="https://druzstvo.example.cz/",
                                               refers_to_date="2024-05-14T10:00:00Z"))
        meta = w.create_warc_record("https://druzstvo.example.cz/", "metadata", payload=io.BytesIO(b"via: x\r\n"),
                                    warc_content_type="application/warc-fields")
        w.write_record(meta)
        res = w.create_warc_record("https://druzstvo.example.cz/o-nas", "resource", payload=io.BytesIO(PAGE),
                                   warc_content_type="text/html; charset=windows-1250")
        w.write_record(res)


@pytest.mark.parametrize("gz", [True, False])
def test_record_types_and_statuses(tmp_path, cfg, gz):
    path = tmp_path / ("crawl.warc.gz" if gz else "crawl")  # no extension: sniffed by "WARC/"
    write_warc(path, gz=gz)
    items = list(iter_inputs([path], cfg))
    got = [(r.status, r.reason or r.media, r.url) for r in items]
    assert got == [
        ("skipped", "warcinfo", None),
        ("skipped", "request_record", "https://druzstvo.example.cz/"),
        ("ok", "html", "https://druzstvo.example.cz/"),
        ("skipped", "non_200", "https://druzstvo.example.cz/missing"),
        ("ok", "pdf", "https://druzstvo.example.cz/vyrocni-zprava.pdf"),
        ("skipped", "unsupported_type", "https://druzstvo.example.cz/logo.png"),
        ("ok", "html", "https://druzstvo.example.cz/chunked"),
        ("ok", "html", "https://druzstvo.example.cz/liar"),
        ("skipped", "revisit", "https://druzstvo.example.cz/"),
        ("skipped", "metadata_record", "https://druzstvo.example.cz/"),
        ("ok", "html", "https://druzstvo.example.cz/o-nas"),
    ]
    html = items[2]
    assert html.data == PAGE and html.http_charset == "windows-1250"
    assert html.fetch_date == "2024-05-14T10:00:00Z"
    assert items[4].data == PDF
    assert items[6].data == PAGE                       # de-chunked, then gunzipped
    assert items[7].data == PAGE and items[7].meta["decode_notes"]  # mislabelled gzip kept as is
    assert items[10].data == PAGE and items[10].http_charset == "windows-1250"
    offsets = [r.offset for r in items]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    # The offsets point at the records: warcio can seek to them.
    from warcio.archiveiterator import ArchiveIterator

    with open(path, "rb") as fh:
        fh.seek(html.offset)
        rec = next(iter(ArchiveIterator(fh)))
        assert rec.rec_headers.get_header("WARC-Target-URI") == html.url


def test_record_over_max_bytes_is_skipped(tmp_path, cfg):
    path = tmp_path / "c.warc.gz"
    write_warc(path)
    cfg = config.merge(cfg, {"scan": {"max_bytes": len(PAGE) // 2}})
    reasons = [r.reason for r in iter_warc(path, cfg) if r.url and "o-nas" in r.url]
    assert reasons == ["too_large"]


def test_truncated_gz_yields_good_records_then_one_failure(tmp_path, cfg):
    path = tmp_path / "c.warc.gz"
    write_warc(path)
    full = list(iter_warc(path, cfg))
    data = path.read_bytes()
    cut_at = full[6].offset + 40  # inside the gzip member of the chunked response
    cut = tmp_path / "cut.warc.gz"
    cut.write_bytes(data[:cut_at])
    items = list(iter_warc(cut, cfg))
    assert [(r.status, r.reason) for r in items[:6]] == [(r.status, r.reason) for r in full[:6]]
    assert len(items) == 7
    last = items[-1]
    assert (last.status, last.reason) == ("failed", "truncated")
    assert str(cut) in last.detail


def test_whole_file_gzip_is_read(tmp_path, cfg):
    plain = tmp_path / "plain.warc"
    write_warc(plain, gz=False)
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    a = [(r.status, r.reason, r.url, r.data) for r in iter_warc(plain, cfg)]
    items = list(iter_warc(whole, cfg))
    assert [(r.status, r.reason, r.url, r.data) for r in items] == a
    assert any("one gzip stream" in r.meta.get("recovered", "") for r in items)


def test_not_a_warc(tmp_path, cfg):
    path = tmp_path / "fake.warc"
    path.write_bytes(b"this is not an archive\n" * 10)
    items = list(iter_warc(path, cfg))
    assert items and items[-1].status == "failed" and items[-1].reason == "corrupt"


def test_decode_body_brotli_and_deflate():
    brotli = pytest.importorskip("brotli")
    body, notes = decode_body(brotli.compress(PAGE), None, "br", 10_000)
    assert body == PAGE and notes == []
    raw_deflate = zlib.compressobj(wbits=-15)
    deflated = raw_deflate.compress(PAGE) + raw_deflate.flush()
    body, notes = decode_body(deflated, None, "deflate", 10_000)
    assert body == PAGE
    body, notes = decode_body(b"not chunked at all", "chunked", None, 10_000)
    assert body == b"not chunked at all" and notes


def _manifest(shared_dir):
    return json.loads((shared_dir / "data" / "warc-samples" / "manifest.json").read_text("utf-8"))


def test_shared_samples_match_manifest(shared_dir, cfg):
    """Every record the manifest lists comes back once (as ok or with a reason)."""
    root = shared_dir / "data" / "warc-samples"
    simple = ["warcio/example.warc.gz", "warcio/example.warc", "warcio/example-resource.warc.gz",
              "warcio/example-iana.org-chunked.warc", "warcio/post-test.warc.gz", "warcio/example-digest.warc",
              "resiliparse/warcfile.warc.gz", "resiliparse/clueweb-quirk.warc.gz",
              "resiliparse/block-sized-records.warc.gz", "warcio/example-bad-non-chunked.warc.gz"]
    manifest = _manifest(shared_dir)
    reason_of = {"warcinfo": "warcinfo", "request": "request_record", "metadata": "metadata_record",
                 "revisit": "revisit", "unknown": "unsupported_type"}
    for name in simple:
        items = list(iter_warc(root / name, cfg))
        expected = manifest[name]["record_type_counts"]
        assert len(items) == sum(expected.values()), name
        for rtype, n in expected.items():
            if rtype in reason_of:
                assert sum(1 for r in items if r.reason == reason_of[rtype]) == n, (name, rtype)
        assert not any(r.status == "failed" for r in items), name
        for r, m in zip((r for r in items if r.meta.get("warc_type") == "response"),
                        (m for m in manifest[name]["records"] if m["type"] == "response")):
            assert r.url == m["target_uri"], name
            if m.get("http_content_type") == "text/html" and m["http_status_line"].startswith("HTTP/1.1 200"):
                assert r.media == "html" and r.status == "ok" and r.data, name


def test_shared_truncated_and_misaligned(shared_dir, cfg):
    root = shared_dir / "data" / "warc-samples"
    clipped = list(iter_warc(root / "resiliparse/clipped.warc.gz", cfg))
    assert [(r.status, r.reason) for r in clipped] == [("failed", "truncated")]
    assert "88275" in clipped[0].detail
    trunc = list(iter_warc(root / "warcio/example-trunc.warc", cfg))
    assert [r.reason for r in trunc if r.status == "failed"] == ["malformed"]
    assert any(r.media == "html" and r.status == "ok" for r in trunc)
    wrong = list(iter_warc(root / "warcio/example-wrong-chunks.warc.gz", cfg))
    assert [(r.status, r.media, r.reason) for r in wrong] == [("ok", "html", ""), ("skipped", "unknown", "request_record")]
    assert b"Example Domain" in wrong[0].data
    arc = list(iter_warc(root / "warcio/example.arc.gz", cfg))
    assert [(r.status, r.media, r.url) for r in arc][-1] == ("ok", "html", "http://example.com/")


def test_cut_inside_record_headers_is_reported(cfg, fixtures_dir):
    """A .warc.gz cut inside the last record's WARC headers: earlier records kept, the cut reported."""
    from csei_nlp.pipeline.read.warc import iter_warc

    path = fixtures_dir / "bad" / "truncated-in-header.warc.gz"
    raws = list(iter_warc(path, cfg))
    assert raws, "records before the cut must still be yielded"
    assert raws[-1].status == "failed" and raws[-1].reason == "truncated"
    assert str(path) in raws[-1].detail
    assert sum(r.reason == "truncated" for r in raws) == 1
