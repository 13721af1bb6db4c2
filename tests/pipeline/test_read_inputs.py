"""iter_inputs: walking, sniffing and recording every bad input instead of raising."""
from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import pytest

from csei_nlp import config
from csei_nlp.pipeline.read import iter_inputs

PAGE = "<!DOCTYPE html><html lang='pl'><head><title>Klaster</title></head><body><p>Łomżyński klaster.</p></body></html>"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"


def by_name(items):
    return {Path(r.source).name + ("" if r.offset is None else f"@{r.offset}"): r for r in items}


@pytest.fixture()
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "crawl"
    (root / "b").mkdir(parents=True)
    (root / "a").mkdir()
    (root / "a" / "page.html").write_text(PAGE, "utf-8")
    (root / "a" / "index.php?id=3").write_text(PAGE, "utf-8")        # crawler mirror name
    (root / "a" / "about").write_bytes(b"  \n<!-- saved -->\n" + PAGE.encode())  # no extension
    (root / "a" / "page.xhtml").write_text(PAGE, "utf-8")
    (root / "a" / "notes.txt").write_bytes("Spółdzielnia socjalna".encode("cp1250"))
    (root / "a" / "readme.md").write_text("# Klaster\n\nTekst.", "utf-8")
    (root / "b" / "report.bin").write_bytes(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
    (root / "b" / "logo.html").write_bytes(PNG)                     # binary junk named .html
    (root / "b" / "empty.html").write_bytes(b"")
    (root / "b" / "image.png").write_bytes(PNG)
    (root / "b" / "page.html.gz").write_bytes(gzip.compress(PAGE.encode("utf-8")))
    return root


def test_walk_sniff_and_statuses(tree, cfg):
    items = list(iter_inputs([tree], cfg))
    got = by_name(items)
    assert got["page.html"].media == "html" and got["page.html"].status == "ok"
    assert isinstance(got["page.html"].data, bytes)
    assert got["index.php?id=3"].media == "html"
    assert got["about"].media == "html"
    assert got["page.xhtml"].media == "html"
    assert got["notes.txt"].media == "text" and got["notes.txt"].data == "Spółdzielnia socjalna"
    assert got["readme.md"].media == "markdown"
    assert got["report.bin"].media == "pdf"                          # magic bytes beat the extension
    assert (got["logo.html"].status, got["logo.html"].reason) == ("failed", "binary")
    assert (got["empty.html"].status, got["empty.html"].reason) == ("skipped", "empty")
    assert (got["image.png"].status, got["image.png"].reason) == ("skipped", "unsupported_type")
    assert got["page.html.gz"].media == "html" and got["page.html.gz"].data == PAGE.encode()
    for r in items:
        if r.status != "ok":
            assert r.detail.startswith(r.source), r.detail               # the sentence names the file


def test_order_is_sorted_and_deterministic(tree, cfg):
    first = [r.source for r in iter_inputs([tree], cfg)]
    assert first == [r.source for r in iter_inputs([tree], cfg)]
    assert first == sorted(first, key=lambda s: Path(s).relative_to(tree).parts)


def test_missing_path_is_a_failed_input(tmp_path, cfg):
    items = list(iter_inputs([tmp_path / "nope", tmp_path / "nope.warc.gz"], cfg))
    assert [(r.status, r.reason) for r in items] == [("failed", "unreadable")] * 2
    assert "no such file" in items[0].detail


def test_too_large_is_checked_with_stat_not_read(tmp_path, cfg, monkeypatch):
    big = tmp_path / "big.html"
    with open(big, "wb") as fh:
        fh.write(b"<html><body>")
        fh.truncate(50_000_000)  # sparse: 50 MB on paper
    read_sizes = []
    real_read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read_sizes.append(self) or real_read_bytes(self))
    (r,) = iter_inputs([big], cfg)
    assert (r.status, r.reason) == ("skipped", "too_large")
    assert read_sizes == []
    cfg = config.merge(cfg, {"scan": {"max_bytes": 60_000_000}})
    (r,) = iter_inputs([big], cfg)
    assert r.status == "failed" and r.reason == "binary"  # NULs after the header: not text


def test_symlinks(tmp_path, cfg):
    root = tmp_path / "site"
    root.mkdir()
    (root / "real.html").write_text(PAGE, "utf-8")
    (root / "link.html").symlink_to(root / "real.html")
    (root / "broken.html").symlink_to(root / "gone.html")
    (root / "loop").symlink_to(root)
    items = by_name(iter_inputs([root], cfg))
    assert (items["link.html"].status, items["link.html"].reason) == ("skipped", "symlink")
    assert items["broken.html"].reason == "symlink"
    cfg = config.merge(cfg, {"scan": {"follow_symlinks": True}})
    items = list(iter_inputs([root], cfg))
    named = by_name(items)
    assert named["link.html"].media == "html" and named["link.html"].status == "ok"
    assert (named["broken.html"].status, named["broken.html"].reason) == ("failed", "unreadable")
    assert len([r for r in items if Path(r.source).name == "real.html"]) == 1  # loop not re-entered


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read files without permission")
def test_unreadable_file(tmp_path, cfg):
    f = tmp_path / "secret.html"
    f.write_text(PAGE, "utf-8")
    f.chmod(0)
    try:
        (r,) = iter_inputs([f], cfg)
        assert (r.status, r.reason) == ("failed", "unreadable")
    finally:
        f.chmod(0o644)


def test_jsonl_lines(tmp_path, cfg):
    lines = [
        json.dumps({"url": "https://coop.example.hr/o-nama", "lang": "hr",
                    "html": "<html><head><meta charset='windows-1250'></head><body><p>Zadruga</p></body></html>"}),
        "",
        "{not json",
        json.dumps({"text": "Sdružení rodičů a školy.", "url": "https://skola.example.cz/"}),
        json.dumps(["a list"]),
        json.dumps({"title": "no body"}),
        json.dumps({"text": "   "}),
    ]
    for name, opener in (("pages.jsonl", open), ("pages.jsonl.gz", gzip.open)):
        path = tmp_path / name
        with opener(path, "wt", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        items = list(iter_inputs([path], cfg))
        assert [r.offset for r in items] == [1, 3, 4, 5, 6, 7]
        html, bad, text, lst, nobody, blank = items
        assert html.media == "html" and html.http_charset == "utf-8" and html.lang_hint == "hr"
        assert html.url == "https://coop.example.hr/o-nama" and isinstance(html.data, bytes)
        assert (bad.status, bad.reason) == ("failed", "bad_json") and "line 3" in bad.detail
        assert text.media == "text" and text.data == "Sdružení rodičů a školy."
        assert (lst.status, lst.reason) == ("failed", "bad_record")
        assert (nobody.status, nobody.reason) == ("failed", "bad_record")
        assert (blank.status, blank.reason) == ("skipped", "empty")
        assert html.source_ref.endswith(f"{name}@1")


def test_jsonl_line_over_max_bytes_is_skipped(tmp_path, cfg):
    cfg = config.merge(cfg, {"scan": {"max_bytes": 1000}})
    path = tmp_path / "big.jsonl"
    path.write_text(json.dumps({"text": "x" * 5000}) + "\n" + json.dumps({"text": "small"}) + "\n", "utf-8")
    big, small = iter_inputs([path], cfg)
    assert (big.status, big.reason, big.offset) == ("skipped", "too_large", 1)
    assert small.data == "small" and small.offset == 2


def test_truncated_jsonl_gz(tmp_path, cfg):
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(("\n".join(json.dumps({"text": f"line {i} " * 20}) for i in range(200)) + "\n").encode())
    path.write_bytes(data[: len(data) // 2])
    items = list(iter_inputs([path], cfg))
    assert items[-1].status == "failed" and items[-1].reason == "truncated"
    assert all(r.status == "ok" for r in items[:-1]) and len(items) > 1


def test_permission_error_becomes_unreadable(tmp_path, cfg, monkeypatch):
    # Runs also as root (where chmod 0 does not stop reads): the OS error is simulated.
    import csei_nlp.pipeline.read as read_mod

    f = tmp_path / "page.html"
    f.write_text(PAGE, "utf-8")

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(read_mod, "open", deny, raising=False)
    (r,) = iter_inputs([f], cfg)
    assert (r.status, r.reason) == ("failed", "unreadable")
    assert "Permission denied" in r.detail and str(f) in r.detail


def test_jsonl_without_pages_is_one_skip(tmp_path, cfg):
    path = tmp_path / "labels.jsonl"
    path.write_text("\n".join(json.dumps({"id": f"p{i}", "is_csei": i % 2}) for i in range(250)) + "\n", "utf-8")
    (r,) = iter_inputs([path], cfg)
    assert (r.status, r.reason) == ("skipped", "unsupported_type")
    assert "label or manifest" in r.detail
    # A page export whose first lines are bad still reports each line.
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text("\n".join([json.dumps({"id": 1}), json.dumps({"text": "Zadruga u Splitu."})]) + "\n", "utf-8")
    items = list(iter_inputs([mixed], cfg))
    assert [(r.offset, r.status) for r in items] == [(1, "failed"), (2, "ok")]
